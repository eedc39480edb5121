"""Parse qbXML documents into typed models, eagerly or streaming.

Safety first: input is parsed by lxml with entity resolution, DTD loading and network access
all off, and any document with a DOCTYPE (the only place entities can be declared) is refused
before parsing, so entity expansion ("billion laughs") and external entities (XXE) can't
happen. An optional byte limit bounds what is read.

Parsing is lenient where QuickBooks is: unknown elements are kept in ``unknown_elements``,
unknown enum values are kept as plain strings, and messages outside the message set are kept
on the document. Values that cannot be what their element says (``<Amount>abc</Amount>``)
raise `QbxmlParseError` naming the element.

Speed: each class gets one closure that walks an element's children with a dict lookup per
child and fills the instance ``__dict__`` directly (the models are frozen; the checks their
constructor runs are for values coming from code, not from a parser that already typed them).
Where the C extension ``_speedups`` is built, it does the same walk over lxml's tree without a
Python object per element, and hands anything out of the ordinary back to these closures
(see "the C walk" below). `loads` goes one step further where it can: the extension reads the
whole document through libxml2's SAX interface (the same parser lxml runs, with the same
options) and builds the records from its events without building a tree at all, declining
anything out of the ordinary to the tree and the walk (`_read_in_c`). The cyclic garbage
collector is paused while a document is turned into objects, because every new object would
otherwise make it rescan the growing result; and the C roads take each finished record out of
its sight, since an immutable record of text, numbers, dates and records can hold no cycle
(see make_record in the extension).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gc
import io
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any, NamedTuple

from lxml import etree

from qbprocore.qbxml._config import ParseConfig
from qbprocore.qbxml._document import QBXMLDocument
from qbprocore.qbxml._errors import QbxmlParseError, QbxmlSecurityError
from qbprocore.qbxml._meta import ClassSpec, QbxmlEnum, QbxmlModel, UnknownElement
from qbprocore.qbxml._prolog import doctype_in_prolog

__all__ = ["iterparse", "loads", "parse_element"]

Builder = Callable[[etree._Element], Any]

_new = object.__new__
_setattr = object.__setattr__
_BOOLS = {"true": True, "false": False, "1": True, "0": False, "True": True, "False": False}
_DATETIME_PARTIAL = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:T(\d{1,2})(?::(\d{1,2})(?::(\d{1,2}))?)?"
    r"([+-]\d{1,2}:\d{2})?)?$"
)
_MSGS_TAGS = frozenset({"QBXMLMsgsRq", "QBXMLMsgsRs"})
_PLAIN_TEXT_KINDS = frozenset({"STR", "ID", "GUID", "DURATION"})
_KIND_NAMES = {
    "BOOL": "boolean",
    "INT": "integer",
    "DATE": "date",
    "DATETIME": "date-time",
    "AMT": "amount",
    "PRICE": "price",
    "QUAN": "quantity",
    "PERCENT": "percentage",
    "FLOAT": "number",
}


def _bad_value(el: etree._Element, kind: str) -> QbxmlParseError:
    path = el.getroottree().getpath(el)
    return QbxmlParseError(
        f"{path}: {el.text!r} is not a valid {_KIND_NAMES.get(kind, kind)}", path=path
    )


def _parse_datetime(text: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        # qbXML allows shortened forms ("2024-01-02", "2024-01-02T10"); fill in zeros.
        m = _DATETIME_PARTIAL.match(text)
        if m is None:
            raise
        y, mo, d, h, mi, s, off = m.groups()
        tz = None
        if off:
            sign = -1 if off[0] == "-" else 1
            hh, mm = off[1:].split(":")
            tz = datetime.timezone(sign * datetime.timedelta(hours=int(hh), minutes=int(mm)))
        return datetime.datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=tz
        )


def _scalar_text_converter(kind: str, enum: type[QbxmlEnum] | None) -> Callable[[str], Any]:
    """Text -> value for one scalar kind (raises ValueError/KeyError/InvalidOperation)."""
    if kind in ("STR", "ID", "GUID", "DURATION"):
        return str
    if kind == "ENUM":
        if enum is None:
            return str
        members = enum._value2member_map_
        # Unknown values are kept as plain strings: QuickBooks sends values the schema lacks.
        return lambda t: members.get(t, t)
    if kind == "BOOL":
        return _BOOLS.__getitem__
    if kind == "INT":
        return int
    if kind == "DATE":
        return datetime.date.fromisoformat
    if kind == "DATETIME":
        return _parse_datetime
    return _to_decimal


def _to_decimal(text: str) -> Decimal:
    # Decimal accepts "NaN" and "Infinity"; an amount can't be either.
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(text)
    return value


_READ_TEXT, _READ_CONVERTED, _READ_RECORD = 0, 1, 2


def _fast_converter(kind: str, enum: type[QbxmlEnum] | None) -> Callable[[str], Any]:
    """The C-level converter for the common case; `_convert_slowly` handles the rest."""
    if kind == "DATETIME":
        return datetime.datetime.fromisoformat
    return _scalar_text_converter(kind, enum)


def _convert_slowly(el: etree._Element, kind: str, text: str) -> Any:
    """Convert what the fast path refused: shortened date-times, or else a clear error."""
    if kind == "DATETIME":
        try:
            return _parse_datetime(text)
        except ValueError:
            pass
    raise _bad_value(el, kind)


def unknown_element(el: etree._Element) -> UnknownElement:
    """Copy an element the schema does not describe into an `UnknownElement`."""
    return UnknownElement(
        tag=str(el.tag),
        text=el.text,
        attributes=tuple((str(k), str(v)) for k, v in el.attrib.items()),
        children=tuple(unknown_element(c) for c in el if isinstance(c.tag, str)),
    )


def _read_attributes(
    el: etree._Element,
    handlers: dict[str, tuple[str, Callable[[str], Any], str]],
    values: dict[str, Any],
) -> None:
    for key, raw in el.attrib.items():
        handler = handlers.get(str(key))
        if handler is not None:
            attr, convert, kind = handler
            try:
                values[attr] = convert(str(raw))
            except (ValueError, KeyError, InvalidOperation):
                path = el.getroottree().getpath(el)
                raise QbxmlParseError(
                    f"{path}/@{key!s}: {raw!r} is not a valid {_KIND_NAMES.get(kind, kind)}",
                    path=path,
                ) from None


class _Child(NamedTuple):
    """How one child element of a record is read: the one table both walks follow."""

    attr: str  # the field it fills
    how: int  # _READ_TEXT, _READ_CONVERTED or _READ_RECORD
    is_list: bool
    kind: str
    enum: type[QbxmlEnum] | None
    record: ClassSpec | None  # the nested record's spec (_READ_RECORD)


def _children(spec: ClassSpec) -> dict[str, _Child]:
    """Each child element of a ``spec`` record, keyed by its tag, in schema order.

    Text kinds are stored as read; other scalars are converted; class-valued fields are
    nested records (a repeated choice has one tag per class). A later field with the same
    tag wins.
    """
    children: dict[str, _Child] = {}
    for f in spec.fields:
        if f.classes:
            for tag, sub in zip(f.tags, f.classes, strict=True):
                children[tag] = _Child(f.attr, _READ_RECORD, f.is_list, f.kind, None, sub.__qbxml__)
        else:
            how = _READ_TEXT if f.kind in _PLAIN_TEXT_KINDS else _READ_CONVERTED
            children[f.tags[0]] = _Child(f.attr, how, f.is_list, f.kind, f.enum, None)
    return children


def _defaults(spec: ClassSpec) -> dict[str, Any]:
    """A new record's ``__dict__`` before any child is read: every field unset or empty."""
    defaults: dict[str, Any] = {a.attr: None for a in spec.attributes}
    defaults.update({f.attr: () if f.is_list else None for f in spec.fields})
    defaults["unknown_elements"] = ()
    return defaults


_Handler = tuple[str, int, Callable[[Any], Any], bool, str]


def _child_handlers(spec: ClassSpec) -> dict[Any, _Handler]:
    """How the Python builder reads each child element of a ``spec`` record, by its tag.

    Each entry: field name, how to read it (as text, converted, or as a nested record), the
    converter or builder, repeats?, kind. Keys are typed loosely because lookups use whatever
    lxml reports as a tag (comments and PIs have a function there). Text is read and
    converted inline by the builder: a Python call per leaf element adds up over a large
    response.
    """
    handlers: dict[Any, _Handler] = {}
    for tag, c in _children(spec).items():
        if c.record is not None:
            read: Callable[[Any], Any] = _builder(c.record)
        elif c.how == _READ_TEXT:
            read = str
        else:
            read = _fast_converter(c.kind, c.enum)
        handlers[tag] = (c.attr, c.how, read, c.is_list, c.kind)
    return handlers


def _read_child(child: etree._Element, handler: _Handler, values: dict[str, Any]) -> None:
    name, how, convert, is_list, kind = handler
    value: Any
    if how == _READ_TEXT:
        value = child.text
        if value is None:
            value = ""  # an empty element is an empty string (it clears the field)
    elif how == _READ_CONVERTED:
        text = child.text
        if text is None:
            value = None  # empty: not set
        else:
            try:
                value = convert(text)
            except (ValueError, KeyError, InvalidOperation):
                value = _convert_slowly(child, kind, text)
    else:
        value = convert(child)
    if is_list:
        if value is not None:
            items = values[name]
            if items:
                items.append(value)
            else:
                values[name] = [value]  # a tuple once the record is read: see `_builder`
    else:
        values[name] = value


def _builder(spec: ClassSpec) -> Builder:
    cached = spec.cache.get("parse")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    cls = spec.cls
    # Registered before the children are built so that a recursive shape terminates.
    spec.cache["parse"] = lambda el: build(el)  # noqa: PLW0108 - build is defined below
    handlers = _child_handlers(spec)
    attr_handlers: dict[str, tuple[str, Callable[[str], Any], str]] = {
        a.name: (a.attr, _scalar_text_converter(a.kind, a.enum), a.kind) for a in spec.attributes
    }
    defaults = _defaults(spec)
    list_fields = tuple(f.attr for f in spec.fields if f.is_list)
    get = handlers.get
    text_get = {tag: h[0] for tag, h in handlers.items() if h[1] == _READ_TEXT and not h[3]}.get

    def build(el: etree._Element) -> Any:
        values = defaults.copy()
        if attr_handlers and el.attrib:
            _read_attributes(el, attr_handlers, values)
        for child in el:
            tag: object = child.tag
            # The common case first: a single text element, stored as is.
            text_field = text_get(tag)
            if text_field is not None:
                text = child.text
                values[text_field] = "" if text is None else text  # empty clears the field
                continue
            h = get(tag)
            if h is not None:
                _read_child(child, h, values)
            elif isinstance(tag, str):  # comments and PIs are not content
                values["unknown_elements"] += (unknown_element(child),)
        for name in list_fields:
            items = values[name]
            if items.__class__ is list:  # read into a list, kept as a tuple
                values[name] = tuple(items)
        obj = _new(cls)
        _setattr(obj, "__dict__", values)
        return obj

    index = _c_index(spec)
    if index is None:
        spec.cache["parse"] = build
        return build

    plan = _compiled_c_plan()

    def build_in_c(el: etree._Element) -> Any:
        if _c_enabled:
            try:
                return plan.build(index, el)
            except _speedups.Fallback:
                pass  # something only the Python builder reads: let it
        return build(el)

    spec.cache["parse"] = build_in_c
    return build_in_c


# -- the C walk --------------------------------------------------------------------------------
#
# `_speedups` (a C extension, built when the package is installed with a C compiler at hand)
# walks the tree lxml built without making a Python object per element, which is most of what
# the builders above spend their time on. It follows the same handler table as `_builder`,
# compiled once into a `Plan`; on anything out of the ordinary it raises `Fallback` and the
# Python builder takes that element, so both give the same objects and the same errors.
# QBPROCORE_PURE_PYTHON=1 in the environment turns it off.

_speedups: Any
try:
    if os.environ.get("QBPROCORE_PURE_PYTHON"):
        raise ImportError("QBPROCORE_PURE_PYTHON is set")
    from qbprocore.qbxml import _speedups
except ImportError:  # no C compiler at install time: the Python builders do all the work
    _speedups = None

#: The scalar kinds as the C walk numbers them (text kinds are 0).
_C_KINDS = {
    "ENUM": 1,
    "BOOL": 2,
    "INT": 3,
    "DATE": 4,
    "DATETIME": 5,
    "AMT": 6,
    "PRICE": 6,
    "QUAN": 6,
    "PERCENT": 6,
    "FLOAT": 6,
}
_c_enabled = _speedups is not None  # see use_speedups
# Whole documents read through libxml2's SAX interface, without a tree (see `_read_in_c`):
# where the extension found libxml2's functions. Tests switch it off to compare the roads.
_sax_enabled = _c_enabled and bool(_speedups.HAVE_SAX)
_c_compiled: Any = None  # the compiled Plan
_c_messages: tuple[dict[str, int], dict[str, int]] = ({}, {})  # message tag -> spec number


def speedups_enabled() -> bool:
    """Whether `loads` and `iterparse` build records in C.

    The C extension (``qbprocore.qbxml._speedups``) is built when the package is installed
    with a C compiler at hand; ``QBPROCORE_PURE_PYTHON=1`` in the environment switches it
    off. Results are the same either way; only the speed differs.

    Returns:
        True when the extension is built and in use.
    """
    return _c_enabled


def use_speedups(enabled: bool) -> None:
    """Switch the C extension (the walk, and `loads`' SAX road) on or off for this process."""
    global _c_enabled  # noqa: PLW0603 - one switch for the process
    if enabled and _speedups is None:
        raise RuntimeError("qbprocore.qbxml._speedups is not built in this installation")
    _c_enabled = enabled


def _c_kind(kind: str) -> int:
    return 0 if kind in _PLAIN_TEXT_KINDS else _C_KINDS[kind]


def _c_spec(spec: ClassSpec, index: dict[int, int]) -> tuple[Any, ...]:
    """One model class for the C walk, from the same table the Python builder reads."""
    fields = tuple(
        (
            tag,
            c.attr,
            c.how,
            _c_kind(c.kind) if c.record is None else 0,
            c.is_list,
            None if c.enum is None else dict(c.enum._value2member_map_),
            -1 if c.record is None else index[id(c.record)],
        )
        for tag, c in _children(spec).items()
    )
    attributes = {  # by name: a later attribute with the same name wins, as in the builder
        a.name: (
            a.name,
            a.attr,
            _READ_CONVERTED,
            _c_kind(a.kind),
            False,
            None if a.enum is None else dict(a.enum._value2member_map_),
            -1,
        )
        for a in spec.attributes
    }
    lists = tuple(f.attr for f in spec.fields if f.is_list)
    return (spec.cls, _defaults(spec), lists, fields, tuple(attributes.values()))


def _compiled_c_plan() -> Any:
    """Compile every model class reachable from the message set, once."""
    global _c_compiled  # noqa: PLW0603 - compiled once, on first parse
    if _c_compiled is None:
        from qbprocore.qbxml._models import REQUEST_TYPES, RESPONSE_TYPES

        order: list[ClassSpec] = []
        index: dict[int, int] = {}  # id(spec) -> position (specs are not hashable)
        pending = [cls.__qbxml__ for cls in (*REQUEST_TYPES, *RESPONSE_TYPES)]
        while pending:
            spec = pending.pop()
            if id(spec) not in index:
                index[id(spec)] = len(order)
                order.append(spec)
                pending.extend(sub.__qbxml__ for f in spec.fields for sub in f.classes)
        _c_compiled = _speedups.Plan(
            tuple(_c_spec(spec, index) for spec in order),
            datetime.date.fromisoformat,
            datetime.datetime.fromisoformat,
            Decimal,
        )
        for spec in order:
            spec.cache["c_index"] = index[id(spec)]
        # The messages each message set holds, as `_Plan.by_container` has them.
        _c_messages[0].update({c.__qbxml__.tag: index[id(c.__qbxml__)] for c in REQUEST_TYPES})
        _c_messages[1].update({c.__qbxml__.tag: index[id(c.__qbxml__)] for c in RESPONSE_TYPES})
    return _c_compiled


def _read_in_c(raw: bytes) -> QBXMLDocument | None:
    """The document read through libxml2's SAX interface, or None to read it with lxml.

    The extension reads the document with the parser lxml uses (the same libxml2, the same
    options) and builds the records from its events, with no tree in between. It declines
    anything out of the ordinary (any parser error or warning, a DOCTYPE, a namespace, an
    element the schema doesn't describe, a value that doesn't convert ...): then lxml and the
    walk read the document, and give the same result or the same error.
    """
    plan = _compiled_c_plan()
    read = plan.parse(raw, *_c_messages)
    if read is None:
        return None
    tag, on_error, messages, pi = read
    version = None if pi is None else _pi_version(pi)
    if tag == "QBXMLMsgsRq":
        return QBXMLDocument(kind="request", version=version, on_error=on_error, requests=messages)
    return QBXMLDocument(kind="response", version=version, responses=messages)


def _pi_version(text: str) -> str | None:
    """The version pseudo-attribute of a ``<?qbxml?>`` with this text, as lxml reads it."""
    if len(text) > 200:
        return _pi_version_of(text)
    return _pi_version_memo(text)


def _pi_version_of(text: str) -> str | None:
    return etree.ProcessingInstruction("qbxml", text).get("version")


_pi_version_memo = functools.lru_cache(maxsize=64)(_pi_version_of)


def _c_index(spec: ClassSpec) -> int | None:
    """The number of ``spec`` in the C plan, or None when there is no C walk for it."""
    if _speedups is None:
        return None
    _compiled_c_plan()
    index: int | None = spec.cache.get("c_index")
    return index


def parse_element(el: etree._Element, cls: type[QbxmlModel]) -> QbxmlModel:
    """Build a ``cls`` instance from an lxml element (for hosts that hold a tree already)."""
    result: QbxmlModel = _builder(cls.__qbxml__)(el)
    return result


# -- input handling ----------------------------------------------------------------------------

_local = threading.local()
_ENCODING_DECL = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])([^\"']*)\2")


def _parser() -> etree.XMLParser:
    # lxml parsers are not safe to share between threads; each thread keeps its own.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def _check_encoding(head: bytes) -> None:
    """Refuse UTF-16/32 input: the DTD check below reads bytes as ASCII-compatible text."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4]:
        raise QbxmlParseError(
            "qbXML must be in an ASCII-compatible encoding (UTF-8, windows-1252 or ISO-8859-1);"
            " this input looks like UTF-16 or UTF-32: decode it and pass the str to loads()"
        )


def _check_no_dtd(data: bytes) -> None:
    """Refuse any DOCTYPE or entity declaration, wherever it stands.

    qbXML never has one. Markup can't appear literally in character data, so outside
    comments and CDATA (which QuickBooks doesn't write either) these bytes can only be a
    declaration; refusing on sight is simpler and stronger than finding where the prolog ends.
    (Used on streamed chunks; `loads` reads only the prolog, see `doctype_in_prolog`.)
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _doctype_refused()


def _doctype_refused() -> QbxmlSecurityError:
    return QbxmlSecurityError(
        "refusing a qbXML document with a DOCTYPE: DTDs and entity declarations are not"
        " part of qbXML and could expand entities or reach the network"
    )


def _to_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        # Text has already been decoded; re-encode as UTF-8 and say so in the declaration.
        try:
            encoded = data.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: no XML character at all
            raise QbxmlParseError(f"not well-formed XML: {exc.reason} at {exc.start}") from None
        # match(), not sub(): sub() would try the anchored pattern at every byte of a large
        # document before giving up.
        declared = _ENCODING_DECL.match(encoded)
        if declared is None or declared.group(3).lower() == b"utf-8":
            return encoded  # (a document of many pages is not copied again to say so)
        return b"".join((declared.group(1), b'"utf-8"', encoded[declared.end() :]))
    return bytes(data)


def _limit_error(limit: int) -> QbxmlSecurityError:
    return QbxmlSecurityError(f"qbXML input is larger than the limit of {limit} bytes")


def _qbxml_version(root: etree._Element) -> str | None:
    for node in root.itersiblings(preceding=True):
        if isinstance(node, etree._ProcessingInstruction) and node.target == "qbxml":
            return node.get("version")
    return None


class _Plan:
    """What to build at which end tag, for every message of the message set."""

    def __init__(self) -> None:
        from qbprocore.qbxml._models import REQUEST_TYPES, RESPONSE_TYPES

        # Builders of the messages each container may hold: a *Rs inside QBXMLMsgsRq is not
        # a request, so it is kept as an unknown element, not built as if it belonged there.
        self.by_container: dict[str, dict[str, Builder]] = {"QBXMLMsgsRq": {}, "QBXMLMsgsRs": {}}
        # (message tag, child tag) -> field name, builder, repeats?
        self.children: dict[tuple[str, str], tuple[str, Builder, bool]] = {}
        for container, types in (("QBXMLMsgsRq", REQUEST_TYPES), ("QBXMLMsgsRs", RESPONSE_TYPES)):
            for cls in types:
                spec = cls.__qbxml__
                self.by_container[container][spec.tag] = _builder(spec)
                for f in spec.fields:
                    for tag, sub in zip(f.tags, f.classes, strict=False):
                        self.children[(spec.tag, tag)] = (
                            f.attr,
                            _builder(sub.__qbxml__),
                            f.is_list,
                        )
        self.tags = sorted(
            {
                *_MSGS_TAGS,
                *(t for builders in self.by_container.values() for t in builders),
                *(t for _, t in self.children),
            }
        )


_plan: _Plan | None = None


def _get_plan() -> _Plan:
    global _plan  # noqa: PLW0603 - built once, on first parse
    if _plan is None:
        _plan = _Plan()
    return _plan


# Events of the incremental parse: a record finished inside a message, a message finished, or
# the message set finished (with what was left in it: messages outside the message set).
_RECORD, _MESSAGE, _MSGS = 0, 1, 2


def _events(
    stream: IO[bytes], cfg: ParseConfig, plan: _Plan
) -> Iterator[tuple[int, Any, Any, Any]]:
    """Parse incrementally, building each record as soon as its end tag is read.

    Records (the class-valued children of a message: ``VendorRet``, ``BillAdd`` …) are built
    and then removed from the tree, and so is each finished message, so the tree never holds
    more than one record and memory stays flat however large the document. (For documents
    that fit in memory, `loads` parses the whole tree first: lxml's one-shot parser is
    faster than its incremental one.)
    """
    events = etree.iterparse(
        _GuardedReader(stream, cfg.max_bytes),
        events=("end",),
        tag=plan.tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    children = plan.children
    by_container = plan.by_container
    checked = False
    try:
        for _event, el in events:
            if not checked:
                # A DOCTYPE comes before the first element, so it is known by the first event.
                # The byte scan misses one in an encoding whose markup is not ASCII (UTF-7):
                # refuse here, before any record is handed out, not after the last one.
                checked = True
                if getattr(el.getroottree().docinfo, "doctype", ""):
                    raise QbxmlSecurityError("refusing a qbXML document with a DOCTYPE")
            parent = el.getparent()
            if parent is None:
                continue
            tag = el.tag
            parent_tag = parent.tag
            child = children.get((parent_tag, tag))
            if child is not None:
                grandparent = parent.getparent()
                if grandparent is None or grandparent.tag not in _MSGS_TAGS:
                    continue  # the same tags deeper down: part of an enclosing record
                name, build, is_list = child
                yield _RECORD, name, is_list, build(el)
                el.clear(keep_tail=False)
                parent.remove(el)
            elif parent_tag in _MSGS_TAGS and tag in by_container[parent_tag]:
                yield _MESSAGE, tag, None, by_container[parent_tag][tag](el)
                el.clear(keep_tail=False)
                parent.remove(el)
            elif tag in _MSGS_TAGS:
                left = tuple(unknown_element(c) for c in el if isinstance(c.tag, str))
                yield _MSGS, tag, dict(el.attrib), left
                el.clear(keep_tail=False)
        root = events.root
    except etree.XMLSyntaxError as exc:
        raise QbxmlParseError(f"not well-formed XML: {exc}") from None
    if root is None or root.tag != "QBXML":
        found = "nothing" if root is None else f"<{root.tag}>"
        raise QbxmlParseError(f"expected a <QBXML> root element, found {found}", path="/")
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise QbxmlSecurityError("refusing a qbXML document with a DOCTYPE")
    yield _MSGS, "QBXML", _qbxml_version(root), None


def loads(data: bytes | str, *, config: ParseConfig | None = None) -> QBXMLDocument:
    """Parse a complete qbXML document (requests or responses) into typed objects.

    Args:
        data: The document, as bytes (UTF-8, windows-1252 or ISO-8859-1, as declared) or str.
        config: Parsing options (size limit).

    Returns:
        The document, whose ``requests`` or ``responses`` hold typed messages.

    Raises:
        QbxmlSecurityError: a DOCTYPE/entity declaration, or input over ``config.max_bytes``.
        QbxmlParseError: input that is not well-formed, not qbXML, or has invalid values.

    Examples:
        >>> from qbprocore import qbxml
        >>> doc = qbxml.loads(b'<?qbxml version="13.0"?><QBXML><QBXMLMsgsRs>'
        ...     b'<VendorQueryRs requestID="1" statusCode="1" statusSeverity="Info"/>'
        ...     b'</QBXMLMsgsRs></QBXML>')
        >>> doc.responses[0].is_no_match
        True
    """
    cfg = config or ParseConfig()
    raw = _to_bytes(data)
    if cfg.max_bytes is not None and len(raw) > cfg.max_bytes:
        raise _limit_error(cfg.max_bytes)
    _check_encoding(raw)
    if doctype_in_prolog(raw):
        raise _doctype_refused()
    if _sax_enabled and _c_enabled:
        with _collector_paused():
            read = _read_in_c(raw)
        if read is not None:
            return read
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise QbxmlParseError(f"not well-formed XML: {exc}") from None
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise QbxmlSecurityError("refusing a qbXML document with a DOCTYPE")
    if root.tag != "QBXML":
        raise QbxmlParseError(f"expected a <QBXML> root element, found <{root.tag}>", path="/")
    plan = _get_plan()
    with _collector_paused():
        for msgs in root:
            if msgs.tag in _MSGS_TAGS:
                return _document(msgs, _qbxml_version(root), plan)
    raise QbxmlParseError("the document has neither <QBXMLMsgsRq> nor <QBXMLMsgsRs>", path="/QBXML")


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic collector while objects are made (see the module docstring)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _document(msgs: etree._Element, version: str | None, plan: _Plan) -> QBXMLDocument:
    messages: list[Any] = []
    unknown: list[UnknownElement] = []
    for el in msgs:
        tag: object = el.tag
        if not isinstance(tag, str):  # a comment or processing instruction
            continue
        build = plan.by_container[str(msgs.tag)].get(tag)
        if build is None:
            unknown.append(unknown_element(el))
        else:
            messages.append(build(el))
    if msgs.tag == "QBXMLMsgsRq":
        return QBXMLDocument(
            kind="request",
            version=version,
            on_error=msgs.get("onError"),
            requests=messages,
            unknown_elements=tuple(unknown),
        )
    return QBXMLDocument(
        kind="response", version=version, responses=messages, unknown_elements=tuple(unknown)
    )


class _GuardedReader:
    """A file-like wrapper that enforces the byte limit and refuses DTDs as bytes arrive."""

    def __init__(self, raw: IO[bytes], limit: int | None) -> None:
        self.raw = raw
        self.limit = limit
        self.total = 0
        self.carry = b""  # the end of the previous chunk, so a split "<!DOCTYPE" is seen

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.total += len(chunk)
        if self.limit is not None and self.total > self.limit:
            raise _limit_error(self.limit)
        if not self.total - len(chunk):  # the first bytes of the input
            _check_encoding(chunk)
        _check_no_dtd(self.carry + chunk)
        self.carry = chunk[-8:]
        return chunk


def iterparse(
    source: bytes | str | os.PathLike[str] | IO[bytes],
    *,
    records: Iterable[str] | None = None,
    config: ParseConfig | None = None,
) -> Iterator[QbxmlModel]:
    """Stream typed records out of a (large) qbXML document with flat memory.

    Each record (``VendorRet``, ``BillRet`` …: any class-valued child of a message) is yielded
    as soon as its end tag is read and then dropped from the tree. After a message's records,
    the message itself is yielded (status, ``requestID``, iterator attributes) with its record
    fields left empty, since those were already streamed.

    Args:
        source: A file path (``str`` or path-like), a binary file object, or the document as
            bytes. Unlike `loads`, a ``str`` is a path, not a document.
        records: Only yield records with these tags (e.g. ``["BillRet"]``); messages are
            always yielded.
        config: Parsing options (size limit, applied to the bytes read).

    Raises:
        QbxmlSecurityError: a DOCTYPE/entity declaration, or input over ``config.max_bytes``.
        QbxmlParseError: input that is not well-formed or has invalid values.
    """
    cfg = config or ParseConfig()
    if isinstance(source, str) and source.lstrip().startswith("<"):
        # A str is a path here (as for lxml.etree.iterparse); say so rather than fail to open
        # a "file" named after the document.
        raise QbxmlParseError(
            "iterparse() takes a file path, a binary file or bytes; this str looks like a"
            " document: pass data.encode() or use loads()"
        )
    if isinstance(source, (bytes, bytearray, memoryview)):
        stream: IO[bytes] = io.BytesIO(bytes(source))
        close = False
    elif isinstance(source, (str, os.PathLike)):
        stream = open(source, "rb")  # noqa: SIM115 - closed in the finally below
        close = True
    else:
        stream = source
        close = False
    wanted = set(records) if records is not None else None
    try:
        for event, _a, _b, obj in _events(stream, cfg, _get_plan()):
            if event == _MESSAGE or (
                event == _RECORD
                and (
                    wanted is None or type(obj).__qbxml__.tag in wanted or _tag_wanted(obj, wanted)
                )
            ):
                yield obj
    finally:
        if close:
            stream.close()


def _tag_wanted(obj: QbxmlModel, wanted: set[str]) -> bool:
    # A shared class (Ref, Address) is named after its first element; match its class name too.
    return type(obj).__name__ in wanted
