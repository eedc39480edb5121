"""Fuzz target (b): `qbxml.loads` and `qbxml.iterparse` on any input.

Inputs: random bytes and text (lone surrogates included), and valid documents built from
the models (every message type, filled by the conformance filler) then mutated — in the
tree (values replaced by hostile text, elements reordered, dropped, duplicated, renamed,
nested deeply, attributes garbled) and as bytes (cut, flipped, hostile fragments spliced
in: DOCTYPE, entity bombs, XXE, other encodings) — sometimes under a small
``ParseConfig(max_bytes=…)``.

What must hold: each call returns a document (or records) or raises a `QbxmlError`
subclass; never lxml's errors, ``ValueError``, ``KeyError``, ``RecursionError`` …. A DOCTYPE
is always refused as `QbxmlSecurityError` (or as not well-formed when the bytes around it
are broken first), `iterparse` hands out no record of a document it then refuses for a
DOCTYPE, and input over the byte limit is refused as `QbxmlSecurityError`.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from qbprocore import qbxml
from tests.qbxml import _fill

from ._fuzz import LARGE_INPUTS_OK, Counter, fuzz_settings

MESSAGE_TYPES = [*qbxml.REQUEST_TYPES, *qbxml.RESPONSE_TYPES]

HOSTILE_TEXT = [
    "",
    " ",
    "abc",
    "NaN",
    "Infinity",
    "-0",
    "1e999999999",
    "9" * 5000,
    "0x10",
    "+5",
    "1,000.00",
    "2024-02-30",
    "2024-01-02T25:61:00",
    "2024-01-02T10:00:00+99:00",
    "9999-12-31T23:59:59-23:59",
    "0000-00-00",
    "true ",
    "TRUE",
    "\u00e9\u4e2d",
    "{80000001-1234}",
]
HOSTILE_BYTES = [
    b'<!DOCTYPE QBXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE QBXML SYSTEM "http://127.0.0.1:9/x.dtd">',
    b'<!DOCTYPE QBXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b"<!ENTITY x 'y'>",
    b"&x;",
    b"&#0;",
    b"&#xD800;",
    b"<![CDATA[<QBXML>]]>",
    b"<?qbxml version='99.0'?>",
    b"<!-- c -->",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x80\x81\xfe",
    b'<?xml version="1.0" encoding="UTF-7"?>',
    b'<?xml version="1.0" encoding="windows-1252"?>',
    b'<?xml version="1.0" encoding="nope"?>',
    b"</QBXMLMsgsRs>",
    b"<QBXMLMsgsRq>",
    b"<U>" * 400 + b"</U>" * 400,
]


@functools.cache
def seed(index: int, variant: int) -> bytes:
    """A valid document: message type ``index`` filled as variant ``variant``."""
    cls = MESSAGE_TYPES[index]
    return qbxml.dumps(_fill.Filler().build(cls, variant))


@st.composite
def tree_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    root = etree.fromstring(data)
    elements = list(root.iter())
    for _ in range(draw(st.integers(1, 4))):
        el = draw(st.sampled_from(elements))
        parent = el.getparent()
        op = draw(st.sampled_from(["text", "attr", "swap", "drop", "dup", "rename", "nest"]))
        if op == "text":
            el.text = draw(st.sampled_from(HOSTILE_TEXT))
        elif op == "attr":
            name = draw(st.sampled_from(["requestID", "statusCode", "iterator", "onError", "x"]))
            el.set(name, draw(st.sampled_from(HOSTILE_TEXT)))
        elif op == "swap" and parent is not None and len(parent) > 1:
            i, j = draw(st.integers(0, len(parent) - 1)), draw(st.integers(0, len(parent) - 1))
            children = list(parent)
            children[i], children[j] = children[j], children[i]
            parent[:] = children
        elif op == "drop" and parent is not None:
            parent.remove(el)
        elif op == "dup" and parent is not None:
            parent.insert(parent.index(el), copy.deepcopy(el))
        elif op == "rename":
            el.tag = draw(st.sampled_from([e.tag for e in elements] + ["Unknown", "QBXML"]))
        elif op == "nest":
            deep = etree.SubElement(el, "Deep")
            for _level in range(draw(st.integers(1, 250))):
                deep = etree.SubElement(deep, "Deep")
        elements = list(root.iter())
    head = data.split(b"<QBXML>", 1)[0]
    return head + etree.tostring(root)


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["cut", "flip", "splice", "drop"]))
        if op == "cut":
            data = data[:at]
        elif op == "flip" and data:
            i = min(at, len(data) - 1)
            data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
        elif op == "splice":
            data = data[:at] + draw(st.sampled_from(HOSTILE_BYTES)) + data[at:]
        else:
            data = data[:at] + data[at + draw(st.integers(1, 60)) :]
    return data


@st.composite
def documents(draw: st.DrawFn) -> bytes | str:
    kind = draw(st.sampled_from(["bytes", "text", "valid", "tree", "bytes-mut", "both"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "text":
        return draw(st.text(st.characters(codec=None), max_size=200))
    data = seed(draw(st.integers(0, len(MESSAGE_TYPES) - 1)), draw(st.integers(0, 3)))
    if kind in ("tree", "both"):
        data = draw(tree_mutation(data))
    if kind in ("bytes-mut", "both"):
        data = draw(byte_mutation(data))
    if draw(st.integers(0, 5)) == 0:
        return data.decode("latin-1")  # loads() takes str too
    return data


def _parse_both(data: bytes | str, config: qbxml.ParseConfig | None) -> tuple[str, str]:
    outcomes = []
    try:
        qbxml.loads(data, config=config)
        outcomes.append("ok")
    except qbxml.QbxmlError as exc:
        outcomes.append(type(exc).__name__)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    yielded: list[Any] = []
    try:
        yielded.extend(qbxml.iterparse(raw, config=config))
        outcomes.append("ok")
    except qbxml.QbxmlSecurityError as exc:
        # A declaration in the prolog, or one the byte scan cannot see (another encoding), is
        # refused before any record. Declaration bytes later in the document are garbage in
        # the middle of the stream: records before them may already have been handed out,
        # as before any other error further down a streamed document.
        prolog = raw.split(b"<QBXML", 1)[0]
        hidden = b"<!DOCTYPE" not in raw and b"<!ENTITY" not in raw
        if "DOCTYPE" in str(exc) and (hidden or b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog):
            assert yielded == [], "records handed out from a document refused for its DOCTYPE"
        outcomes.append(type(exc).__name__)
    except qbxml.QbxmlError as exc:
        outcomes.append(type(exc).__name__)
    return outcomes[0], outcomes[1]


COUNTER = Counter("qbxml-parser")


@fuzz_settings(normal=400)
@given(
    data=documents(),
    limit=st.one_of(st.none(), st.none(), st.integers(0, 20_000)),
)
def fuzz_qbxml(data: bytes | str, limit: int | None) -> None:
    config = qbxml.ParseConfig(max_bytes=limit) if limit is not None else None
    loads_outcome, _iter_outcome = _parse_both(data, config)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if limit is not None and len(raw) > limit and isinstance(data, bytes):
        assert loads_outcome == "QbxmlSecurityError", loads_outcome
    COUNTER.saw(f"loads {loads_outcome}")


@LARGE_INPUTS_OK
def test_qbxml_parsers_raise_only_qbxml_errors_for_any_input() -> None:
    """Random and mutated documents end in a result or a QbxmlError, never anything else."""
    fuzz_qbxml()
    COUNTER.report()
    assert COUNTER.inputs > 0


def test_doctype_in_utf7_is_refused_by_iterparse_before_any_record() -> None:
    """Regression: the byte scan cannot see ``+ADw-!DOCTYPE`` (UTF-7 for ``<!DOCTYPE``);
    iterparse used to yield every record and refuse only at the end of the document."""
    body = (
        '<!DOCTYPE QBXML [<!ENTITY x "y">]><QBXML><QBXMLMsgsRs><VendorQueryRs requestID="1"'
        ' statusCode="0" statusSeverity="Info"><VendorRet><ListID>1</ListID><Name>a</Name>'
        "</VendorRet></VendorQueryRs></QBXMLMsgsRs></QBXML>"
    )
    utf7 = body.encode("utf-7").replace(b"<", b"+ADw-")
    data = b'<?xml version="1.0" encoding="UTF-7"?>' + utf7
    assert b"<!DOCTYPE" not in data
    yielded: list[Any] = []
    with pytest.raises(qbxml.QbxmlSecurityError, match="DOCTYPE"):
        yielded.extend(qbxml.iterparse(data))
    assert yielded == []
    with pytest.raises(qbxml.QbxmlSecurityError, match="DOCTYPE"):
        qbxml.loads(data)


def test_text_with_a_lone_surrogate_is_a_parse_error_not_a_unicode_error() -> None:
    """Regression: ``loads(str)`` let ``UnicodeEncodeError`` escape for a lone surrogate."""
    with pytest.raises(qbxml.QbxmlParseError, match="surrogate"):
        qbxml.loads("<QBXML>\ud800</QBXML>")


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<QBXML><QBXMLMsgsRs>&c;</QBXMLMsgsRs></QBXML>"
)


def test_entity_bomb_is_refused_as_a_security_error_by_loads() -> None:
    with pytest.raises(qbxml.QbxmlSecurityError, match="DOCTYPE"):
        qbxml.loads(BOMB)


def test_entity_bomb_is_refused_as_a_security_error_by_iterparse() -> None:
    with pytest.raises(qbxml.QbxmlSecurityError, match="DOCTYPE"):
        list(qbxml.iterparse(BOMB))


def test_input_over_the_byte_limit_is_refused_by_loads() -> None:
    data = seed(0, 0)
    with pytest.raises(qbxml.QbxmlSecurityError, match="limit"):
        qbxml.loads(data, config=qbxml.ParseConfig(max_bytes=len(data) - 1))


def test_input_over_the_byte_limit_is_refused_by_iterparse() -> None:
    data = seed(0, 0)
    with pytest.raises(qbxml.QbxmlSecurityError, match="limit"):
        list(qbxml.iterparse(data, config=qbxml.ParseConfig(max_bytes=len(data) - 1)))
