"""SOAP 1.1 codec for the Web Connector's calls, on lxml, kept apart from the session.

Decoding is tolerant where the Web Connector and its imitators vary, and strict where
safety is at stake:

- any envelope prefix (``soap:``, ``s:``, ``SOAP-ENV:`` or a default namespace) is accepted;
  elements are matched by namespace and local name, never by prefix;
- the operation element may come with or without the ``http://developer.intuit.com/``
  namespace (some test clients drop it); parameters are matched by local name;
- a missing or ``xsi:nil`` parameter reads as ``""`` (the WSDL makes them all optional);
- a DOCTYPE or entity declaration anywhere refuses the whole body (entity expansion is how
  XML bombs and file disclosure work), and entities are never resolved.

Encoding always writes every result element, including empty strings (``<string></string>``):
the Web Connector reads ``authenticate``'s array by position, so a dropped empty element
shifts the meaning of the rest — a bug several SOAP frameworks had.

A SOAP fault is produced only for a body that is not a usable envelope (`SoapFaultError`);
everything that is a well-formed call gets a normal answer, because a fault makes the Web
Connector retry the same call endlessly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from lxml import etree

from qbprocore._xmlchars import describe_illegal
from qbprocore.qbwc._errors import SoapFaultError
from qbprocore.qbwc._events import OPERATIONS, Event
from qbprocore.qbxml import _parse as _qbxml_parse

__all__ = [
    "INTUIT_NS",
    "SOAP_ENV_NS",
    "decode_call",
    "encode_fault",
    "encode_result",
    "operation_from_action",
]

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
"""SOAP 1.1 envelope namespace."""
SOAP12_ENV_NS = "http://www.w3.org/2003/05/soap-envelope"
INTUIT_NS = "http://developer.intuit.com/"
"""Namespace of the Web Connector's operations."""
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_ENVELOPE = f"{{{SOAP_ENV_NS}}}Envelope"
_BODY = f"{{{SOAP_ENV_NS}}}Body"
_NIL = f"{{{XSI_NS}}}nil"


def _parser() -> etree.XMLParser:
    # huge_tree: receiveResponseXML carries a whole qbXML document as one text node, which can
    # exceed libxml2's 10 MB default. Entities are never resolved and DTDs never loaded; DOCTYPEs
    # are refused before parsing (below), so huge_tree cannot be abused for entity expansion.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )


_PARSER = _parser()

# The long text of a body (receiveResponseXML's qbXML, escaped) is decoded by the C extension
# of qbprocore.qbxml where it is built: libxml2 reads each entity reference in such a text on
# its own, which makes that one text node cost more than parsing the qbXML it holds. See
# `_parse_body`. Without the extension (or with None here) lxml reads the whole body.
# (QBPROCORE_PURE_PYTHON=1 leaves the extension out here too.)
_char_data: Callable[[bytes, int], tuple[int, int, str] | None] | None = (
    None if _qbxml_parse._speedups is None else _qbxml_parse._speedups.char_data
)

# Bodies of the usual shape are read through libxml2's SAX interface by the same extension, with
# no tree (see `_read_in_c`); None where it is not built or finds no libxml2 functions in lxml.
_soap_call: Callable[[bytes], tuple[str, dict[str, str], str | None] | None] | None = (
    _qbxml_parse._speedups.soap_call
    if _qbxml_parse._speedups is not None and _qbxml_parse._speedups.HAVE_SAX
    else None
)

_LONG_TEXT = 4096
"""Texts shorter than this (bytes) are left to lxml: the detour costs more than it saves."""
_HUGE_TEXT = 1_000_000_000
"""libxml2's limit for one text node even with huge_tree (XML_MAX_HUGE_LENGTH): a body over
it is left to lxml, which refuses such a text, so the detour never accepts what lxml would not."""
_MARKS = ("qbprocore-long-text-1", "qbprocore-long-text-2")
"""Stand in for the long text, one in each of two parses of the rest of the body."""
_MARK_BYTES = tuple(mark.encode("ascii") for mark in _MARKS)


def operation_from_action(soap_action: str | None) -> str | None:
    """The operation named by a ``SOAPAction`` header, or ``None``.

    Tolerant of quoting and of the base URL: ``"http://developer.intuit.com/authenticate"``,
    ``http://developer.intuit.com/authenticate`` and ``authenticate`` all give
    ``"authenticate"``. Intuit's own WSDLs spell ``interactiveRejected``'s action as
    ``.../Rejected``, so that spelling is understood too. The body decides the operation; the
    header is only a cross-check.
    """
    if not soap_action:
        return None
    name = soap_action.strip().strip('"').strip("'").rstrip("/").rsplit("/", 1)[-1]
    if name == "Rejected":
        return "interactiveRejected"
    return name or None


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # comments and processing instructions have non-string tags
    return tag.rpartition("}")[2]


# xs:int as XML Schema writes it: optional sign, ASCII digits (Python's int() would also take
# "1_3", full-width digits and numbers of any size), surrounding whitespace allowed.
_XS_INT = re.compile(r"[ \t\r\n]*([+-]?[0-9]+)[ \t\r\n]*")
_XS_INT_RANGE = range(-(2**31), 2**31)


def _xs_int(raw: str, field: str, operation: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw)  # the usual case ("13"): plain ASCII digits, well within xs:int
    if not raw.strip(" \t\r\n"):
        return 0  # an empty element: not given
    match = _XS_INT.fullmatch(raw)
    # Leading zeros are allowed; more than ten digits after them is out of range anyway (and
    # int() of thousands of digits would raise instead of answering).
    digits = match.group(1).lstrip("+-").lstrip("0") if match else ""
    value = int(match.group(1)) if match and len(digits) <= 10 else None
    if value is None or value not in _XS_INT_RANGE:
        raise SoapFaultError(
            f"{field} must be an integer (xs:int), got {raw[:20]!r}", operation=operation
        )
    return value


def decode_call(body: bytes | str) -> Event:
    """Decode one SOAP request envelope into its call event.

    Args:
        body: The HTTP request body.

    Returns:
        The event for the operation in the body, e.g. `SendRequestXML`.

    Raises:
        SoapFaultError: the body is not well-formed XML, has a DOCTYPE, is not a SOAP 1.1
            envelope, has no operation in its Body, names an unknown operation, or gives a
            non-integer where the WSDL says ``int``.
    """
    try:
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    except UnicodeEncodeError as exc:  # a lone surrogate: no XML character at all
        raise SoapFaultError(f"the request body is not text XML can carry: {exc.reason}") from None
    found = _long_text(data)
    read = _read_in_c(data, found)
    name, values = read if read is not None else _read_with_lxml(data, found)
    cls = OPERATIONS.get(name)
    if cls is None:
        raise SoapFaultError(f"unknown operation {name!r}", operation=name)
    kwargs: dict[str, object] = {}
    for xml_name, attr in cls.params:
        raw = values.get(xml_name, "")
        if attr in ("major_version", "minor_version"):
            kwargs[attr] = _xs_int(raw, f"{name}.{xml_name}", name)
        else:
            kwargs[attr] = raw
    return cls(**kwargs)


LongText = tuple[int, int, str]
"""Where a body's long text starts and stops (bytes), and the text, as ``char_data`` finds it."""


def _long_text(data: bytes) -> LongText | None:
    """The body's long text, decoded by the extension, or None (none, or lxml must read it).

    A body shorter than `_LONG_TEXT` holds no text that long; one over `_HUGE_TEXT` is left
    to lxml, which refuses such a text.
    """
    if _char_data is None or not _LONG_TEXT <= len(data) <= _HUGE_TEXT:
        return None
    return _char_data(data, _LONG_TEXT)


def _read_in_c(data: bytes, found: LongText | None) -> tuple[str, dict[str, str]] | None:
    """The operation and its parameters read by the C extension, or None to read with lxml.

    ``soap_call`` reads a body of the usual shape through libxml2's SAX interface, with the
    options of `_PARSER`, and declines anything else (see its comment in ``_speedups.c``);
    lxml then reads the body and gives the same call or the fault it deserves. A body with a
    long text (``found``, from `_long_text`) is read as `_parse_body` reads it: the rest is read
    twice, with each of `_MARKS` in the text's place, which must be the text of the same
    parameter, and of no other, in a UTF-8 document.
    """
    if _soap_call is None:
        return None
    if found is None:
        if _declares(data):
            return None
        read = _soap_call(data)
        return None if read is None else (read[0], read[1])
    start, stop, text = found
    head, tail = data[:start], data[stop:]
    # UTF-8 by libxml2's detection (a first byte "<" and a second not NUL, or a UTF-8 byte
    # order mark) and by declaration: the text was decoded as UTF-8.
    if (
        _declares(head)
        or _declares(tail)
        or not ((head[:1] == b"<" and head[1:2] not in (b"", b"\0")) or head[:3] == b"\xef\xbb\xbf")
    ):
        return None
    first = _soap_call(b"".join((head, _MARK_BYTES[0], tail)))
    if first is None or (first[2] is not None and first[2].upper() != "UTF-8"):
        return None
    name, values, _encoding = first
    marked = [key for key, value in values.items() if value == _MARKS[0]]
    if len(marked) != 1:
        return None
    second = _soap_call(b"".join((head, _MARK_BYTES[1], tail)))
    if second is None or [key for key, value in second[1].items() if value == _MARKS[1]] != marked:
        return None
    values[marked[0]] = text
    return name, values


def _declares(data: bytes) -> bool:
    """Whether ``data`` spells a DOCTYPE or an entity declaration anywhere (then refused)."""
    return b"<!DOCTYPE" in data or b"<!ENTITY" in data


def _read_with_lxml(data: bytes, found: LongText | None) -> tuple[str, dict[str, str]]:
    """The operation and its parameters, read from lxml's tree of the body."""
    root, long_text = _parse_body(data, found)
    docinfo = root.getroottree().docinfo
    # getattr: lxml-stubs does not declare DocInfo.doctype, and types internalDTD as never None.
    internal_dtd: object = docinfo.internalDTD
    if getattr(docinfo, "doctype", "") or internal_dtd is not None:
        # The byte scan misses a DOCTYPE in another encoding (UTF-16); this does not.
        raise SoapFaultError("refusing a SOAP body with a DOCTYPE or entity declaration")
    if root.tag != _ENVELOPE:
        if root.tag == f"{{{SOAP12_ENV_NS}}}Envelope":
            raise SoapFaultError(
                "SOAP 1.2 envelopes are not supported; the Web Connector speaks SOAP 1.1",
                fault_code="VersionMismatch",
            )
        raise SoapFaultError(f"expected a SOAP 1.1 Envelope, got <{_local(root.tag)}>")
    body_el = next(root.iterchildren(_BODY), None)
    if body_el is None:
        raise SoapFaultError("the SOAP envelope has no Body")
    call = next((el for el in body_el if isinstance(el.tag, str)), None)
    if call is None:
        raise SoapFaultError("the SOAP Body names no operation")
    values: dict[str, str] = {}
    for child in call:
        local = _local(child.tag)
        if local and local not in values:
            text = child.text or ""
            if long_text is not None and text == _MARKS[0]:
                text = long_text  # the one element whose text is the marker: see _parse_body
            values[local] = "" if child.get(_NIL) in ("true", "1") else text
    return _local(call.tag), values


def _refuse_declarations(data: bytes) -> None:
    if _declares(data):
        raise SoapFaultError("refusing a SOAP body with a DOCTYPE or entity declaration")


def _parse_body(data: bytes, found: LongText | None) -> tuple[etree._Element, str | None]:
    """Parse a SOAP body: its root, and the long text that ``_MARKS[0]`` stands for, if any.

    A body with a long run of text (``found``, from `_long_text`) is parsed in two parts.
    `_char_data` finds the longest run
    of bytes between a ``>`` and the next ``<`` and decodes it as character data, or declines
    (anything but plain UTF-8 text, the five predefined entities and character references).
    lxml then parses the body twice, with each of `_MARKS` in the run's place. The run was
    character data, the whole text of one element, exactly when each parse finds its marker as
    the whole text of exactly one element, the same one in both, in a UTF-8 document:

    - text the rest of the body spells out (with character references, CDATA, an element
      split by a comment) is the same in both parses, so it cannot pass for both markers;
    - a marker that fell in a comment, a processing instruction or an attribute value is no
      element's text (and the body around it may not even be well-formed).

    Then the first parse's tree is the one the whole body gives, with the decoded text for the
    marker's. Otherwise lxml parses the whole body, as it always does without the extension.
    """
    if found is not None:
        start, stop, text = found
        head, tail = data[:start], data[stop:]
        # The run holds no "<", so a declaration in the body is whole in the head or the tail.
        _refuse_declarations(head)
        _refuse_declarations(tail)
        first = _marked(head, tail, _MARKS[0])
        second = _marked(head, tail, _MARKS[1]) if first is not None else None
        if first is not None and second is not None and first[1] == second[1]:
            return first[0], text
    else:
        _refuse_declarations(data)
    try:
        return etree.fromstring(data, _PARSER), None
    except etree.XMLSyntaxError as exc:
        raise SoapFaultError(f"the request body is not well-formed XML: {exc}") from None


def _marked(head: bytes, tail: bytes, mark: str) -> tuple[etree._Element, str] | None:
    """Parse ``head + mark + tail``: its root, and the path of its one element with text ``mark``.

    None when that is not well-formed, not UTF-8, or has no such element or more than one.
    """
    try:
        root = etree.fromstring(b"".join((head, mark.encode("ascii"), tail)), _PARSER)
    except etree.XMLSyntaxError:
        return None  # the whole body's parse names the error
    tree = root.getroottree()
    if (tree.docinfo.encoding or "").upper() != "UTF-8":
        return None
    paths = [tree.getpath(el) for el in root.iter() if el.text == mark]
    return (root, paths[0]) if len(paths) == 1 else None


def _envelope(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV_NS}}}Envelope", nsmap={"soap": SOAP_ENV_NS})
    body = etree.SubElement(env, f"{{{SOAP_ENV_NS}}}Body")
    body.append(payload)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def encode_result(operation: str, result: str | int | Sequence[str]) -> bytes:
    """Encode the answer to ``operation`` as a SOAP response envelope.

    Args:
        operation: The SOAP operation (``"authenticate"``).
        result: A ``str`` for most operations, an ``int`` for ``receiveResponseXML`` and a
            sequence of strings for ``authenticate``. Empty strings become empty elements.

    Raises:
        ValueError: ``result`` has the wrong type for ``operation``.
    """
    # Most answers repeat: receiveResponseXML's percentages, "" and "done", an iterator's
    # Continue request page after page. Those (an int, or a short str) are encoded once. Never
    # authenticate's array, which holds a ticket.
    if type(result) is int or (type(result) is str and len(result) <= _MEMO_CHARS):
        return _encode_memo(operation, result)
    return _encode(operation, result)


_MEMO_CHARS = 4096
"""Answers up to this long (characters) are kept by `_encode_memo`."""


def _encode(operation: str, result: str | int | Sequence[str]) -> bytes:
    cls = OPERATIONS.get(operation)
    if cls is None:
        raise ValueError(f"unknown operation {operation!r}")
    # A default namespace (prefix None) as in Intuit's samples; lxml-stubs types nsmap keys as str.
    nsmap = {None: INTUIT_NS}
    response = etree.Element(
        f"{{{INTUIT_NS}}}{operation}Response",
        nsmap=nsmap,  # type: ignore[arg-type]
    )
    out = etree.SubElement(response, f"{{{INTUIT_NS}}}{operation}Result")
    if cls.result == "array":
        if isinstance(result, (str, int)):
            raise ValueError(f"{operation} answers a sequence of strings, got {result!r}")
        for item in result:
            _set_text(etree.SubElement(out, f"{{{INTUIT_NS}}}string"), str(item), operation)
    elif cls.result == "int":
        if not isinstance(result, int) or isinstance(result, bool):
            raise ValueError(f"{operation} answers an integer, got {result!r}")
        out.text = str(result)
    else:
        if not isinstance(result, str):
            raise ValueError(f"{operation} answers a string, got {result!r}")
        _set_text(out, result, operation)  # "" still writes <...Result></...Result>
    return _envelope(response)


_encode_memo = functools.lru_cache(maxsize=256)(_encode)


def _set_text(element: etree._Element, text: str, operation: str) -> None:
    try:
        element.text = text
    except ValueError:  # lxml refuses what XML cannot carry; say what, and where
        bad = describe_illegal(text)
        raise ValueError(f"{operation}'s answer has characters XML cannot carry: {bad}") from None


def encode_fault(error: SoapFaultError) -> bytes:
    """Encode a SOAP 1.1 fault for a malformed request (sent with HTTP status 500)."""
    fault = etree.Element(f"{{{SOAP_ENV_NS}}}Fault")
    # faultcode is a QName in the envelope namespace; the "soap" prefix is declared on it.
    etree.SubElement(fault, "faultcode").text = f"soap:{error.fault_code}"
    etree.SubElement(fault, "faultstring").text = str(error)
    return _envelope(fault)
