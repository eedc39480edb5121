"""The long text of a SOAP body, decoded by the C extension: always what lxml reads, or declined.

`qbprocore.qbwc._soap._parse_body` hands the longest run of text in a body (receiveResponseXML's
escaped qbXML) to ``qbprocore.qbxml._speedups.char_data`` and lets lxml parse the rest with a
marker in its place. These tests hold both halves to lxml's reading of the whole body: the
decoder must give lxml's text or decline, and the envelope must decode to the same event (or
the same fault) either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from qbprocore import qbwc
from qbprocore.qbwc import _soap

_speedups = pytest.importorskip(
    "qbprocore.qbxml._speedups", reason="the C extension is not built in this install"
)
char_data = _speedups.char_data

# Pieces of character data, well- and ill-formed: entities and character references of every
# kind, line ends, characters XML forbids, bytes that are not UTF-8, "]]>".
PIECES = [
    b"a",
    b"Vendor 00001",
    b" ",
    "é".encode(),
    "\u20ac".encode(),
    "\U0001f600".encode(),
    b"&lt;",
    b"&gt;",
    b"&amp;",
    b"&quot;",
    b"&apos;",
    b"&#65;",
    b"&#x41;",
    b"&#X41;",
    b"&#0065;",
    b"&#233;",
    b"&#x1F600;",
    b"&#xd;",
    b"&#13;",
    b"&#9;",
    b"&#0;",
    b"&#1;",
    b"&#xD800;",
    b"&#xFFFE;",
    b"&#x110000;",
    b"&#99999999999;",
    b"&#;",
    b"&#x;",
    b"&#65",
    b"&lt",
    b"&",
    b"&foo;",
    b"&LT;",
    b">",
    b"]",
    b"]]",
    b"]]>",
    b"\r",
    b"\r\n",
    b"\n",
    b"\t",
    b"\x01",
    b"\x1f",
    b"\x7f",
    b"\xef\xbf\xbe",
    b"\xef\xbf\xbf",
    b"\xef\xbf\xbd",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc3",
    b"\xff",
    b"\xc0\xaf",
]
RAW_TEXT = st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join)


def lxml_text(raw: bytes) -> str | None:
    """What lxml reads as the text of ``<a>raw</a>``, or None where it refuses the document."""
    try:
        return etree.fromstring(b"<a>" + raw + b"</a>", _soap._PARSER).text or ""
    except etree.XMLSyntaxError:
        return None


@settings(max_examples=600)
@given(raw=RAW_TEXT)
@example(raw=b"a&#xd;\r\nb\rc")
@example(raw=b"x]]>y")
@example(raw=b"&#x10FFFF;&#xE000;&#xFFFD;&#x20;")
def test_char_data_reads_what_lxml_reads_or_declines(raw: bytes) -> None:
    found = char_data(b"<a>" + raw + b"</a>", 1)
    expected = lxml_text(raw)
    if found is not None:
        assert found == (3, 3 + len(raw), expected)
    assert expected is not None or found is None


@pytest.mark.parametrize(
    "raw",
    [
        b"plain text",
        b"&lt;QBXML&gt;&lt;Name&gt;Smith &amp; Sons&lt;/Name&gt;&lt;/QBXML&gt;",
        b"&quot;quoted&quot; &apos;too&apos; &#233;t&#xE9; \xc3\xa9",
        b"line\r\nends\rand\nmore\ttabs",
    ],
)
def test_ordinary_texts_are_not_declined(raw: bytes) -> None:
    found = char_data(b"<a>" + raw + b"</a>", 1)
    assert found is not None
    assert found[2] == lxml_text(raw)


@pytest.mark.parametrize("piece", PIECES[2:], ids=repr)
def test_char_data_finds_each_piece_at_every_place_in_a_run_of_plain_bytes(piece: bytes) -> None:
    # Plain bytes are copied several at a time: a piece needing a closer look must be seen
    # wherever it falls among them (the first byte of a block, the last, past the last block).
    for before in range(17):
        for after in (0, 1, 7, 8, 9):
            raw = b"p" * before + piece + b"q" * after
            found = char_data(b"<a>" + raw + b"</a>", 1)
            assert (found[2] if found else None) == lxml_text(raw), raw


def test_char_data_takes_the_longest_run_and_respects_the_minimum() -> None:
    data = b"<a>short</a><b>the longest run &amp; here</b><c>mid run</c>"
    start, stop, text = char_data(data, 1)
    assert data[start:stop] == b"the longest run &amp; here"
    assert text == "the longest run & here"
    assert char_data(data, stop - start) is not None
    assert char_data(data, stop - start + 1) is None
    assert char_data(b"<a/>", 0) is None  # no text at all
    assert char_data(b"no markup here", 1) is None


def test_char_data_wants_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        char_data("<a>text</a>", 1)
    with pytest.raises(TypeError):
        char_data(b"<a>text</a>")


# -- whole envelopes: the same event, or the same fault, with and without the detour -----------


def decode_both(body: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    """decode_call's result (or fault message) with the detour and without, and whether the
    detour was taken.

    "With the detour" is checked twice: through lxml's tree of the rest of the body, and
    through the extension's SAX reader (`_soap._read_in_c`), both with every text long
    enough to take it, and the reader with the usual threshold too. All must agree; "without"
    is lxml alone, with neither the detour nor the reader.
    """

    def outcome() -> object:
        try:
            return qbwc.decode_call(body)
        except qbwc.SoapFaultError as exc:
            return ("fault", exc.fault_code, str(exc))

    read = outcome()
    with monkeypatch.context() as m:
        m.setattr(_soap, "_LONG_TEXT", 1)
        read_split = outcome()
        m.setattr(_soap, "_soap_call", None)
        fast = outcome()
        try:
            took = _soap._parse_body(body, _soap._long_text(body))[1] is not None
        except qbwc.SoapFaultError:
            took = False
    with monkeypatch.context() as m:
        m.setattr(_soap, "_char_data", None)
        m.setattr(_soap, "_soap_call", None)
        slow = outcome()
    assert read == slow, "the SAX reader, usual threshold"
    assert read_split == slow, "the SAX reader, every text split off"
    return fast, slow, took


def receive(
    response: bytes, *, head: bytes = b"", around: tuple[bytes, bytes] = (b"", b"")
) -> bytes:
    return (
        head + b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b'<receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>T</ticket>'
        + around[0]
        + b"<response>"
        + response
        + b"</response>"
        + around[1]
        + b"<hresult></hresult><message></message></receiveResponseXML></soap:Body></soap:Envelope>"
    )


@settings(max_examples=300)
@given(raw=RAW_TEXT)
def test_envelopes_decode_the_same_either_way(raw: bytes) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow, _ = decode_both(receive(raw), monkeypatch)
    assert fast == slow


# Bytes to splice into a body: markup that changes what the long run is, and its neighbours.
FRAGMENTS = [
    b"<!-- c -->",
    b"<![CDATA[x]]>",
    b"<?pi x?>",
    b"<!-- c >",
    b" -->",
    b"<![CDATA[ >",
    b"]]>",
    b"<?pi >",
    b"?>",
    b'<y a="x>',
    b"<x>",
    b"</x>",
    b"</response>",
    b"<response>",
    b'<y a="',
    b'"/>',
    b"<",
    b">",
    b'"',
    b"&foo;",
    b"&#0;",
    b"\xff",
    b"\r",
    b"\x00",
    *(mark.encode() for mark in _soap._MARKS),
    # The first marker spelled out otherwise: it must not pass for the real one.
    b"&#113;bprocore-long-text-1",
    b"qbprocore<![CDATA[-long-text-1]]>",
    b"qbprocore<!-- -->-long-text-1",
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b"<!DOCTYPE x>",
    b'xsi:nil="true"',
]
EDITS = st.lists(
    st.tuples(
        st.sampled_from(["cut", "flip", "splice", "drop"]),
        st.integers(0, 10**6),
        st.integers(0, 255),
        st.sampled_from(FRAGMENTS),
    ),
    max_size=3,
)


@settings(max_examples=1000)
@given(raw=RAW_TEXT, edits=EDITS)
def test_mutated_envelopes_decode_the_same_either_way(
    raw: bytes, edits: list[tuple[str, int, int, bytes]]
) -> None:
    body = receive(raw)
    for kind, where, byte, fragment in edits:
        at = where % (len(body) + 1)
        if kind == "cut":
            body = body[:at]
        elif kind == "flip" and body:
            i = min(at, len(body) - 1)
            body = body[:i] + bytes([byte]) + body[i + 1 :]
        elif kind == "splice":
            body = body[:at] + fragment + body[at:]
        else:
            body = body[:at] + body[at + 1 + byte % 40 :]
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow, _ = decode_both(body, monkeypatch)
    assert fast == slow


LONG = b"&lt;QBXML&gt;" + b"&lt;Name&gt;Smith &amp; Sons&lt;/Name&gt;" * 200 + b"&lt;/QBXML&gt;"

# Bodies where the longest run is not (only) an element's text, or the document is not UTF-8:
# each must come out exactly as lxml reads the whole body.
TRICKY = {
    "plain": (receive(LONG), True),
    "declared utf-8": (receive(LONG, head=b'<?xml version="1.0" encoding="UTF-8"?>'), True),
    "utf-8 bom": (receive(LONG, head=b"\xef\xbb\xbf"), True),
    "in a comment": (receive(b"x", around=(b"<!-- a >" + LONG + b" -->", b"")), False),
    "after a comment": (receive(b"<!-- c -->" + LONG), True),
    "text before a comment": (receive(b"ab<!-- c -->" + LONG), False),
    "in cdata": (receive(b"<![CDATA[ x >" + LONG + b" ]]>"), False),
    "cdata after": (receive(LONG + b"<![CDATA[tail]]>"), False),
    "in a processing instruction": (receive(b"<?pi x >" + LONG + b" ?>"), False),
    "in an attribute": (receive(b"x", around=(b'<extra a="b>' + LONG + b'"/>', b"")), False),
    "as a tail": (receive(b"x", around=(b"", LONG)), False),
    "nil response": (
        receive(LONG).replace(
            b"<response>",
            b'<response xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        ),
        True,
    ),
    "latin-1 declared": (
        receive(LONG + b"\xe9", head=b'<?xml version="1.0" encoding="ISO-8859-1"?>'),
        False,
    ),
    "latin-1 declared, bytes that are also utf-8": (
        receive(LONG + "é".encode(), head=b'<?xml version="1.0" encoding="ISO-8859-1"?>'),
        False,
    ),
    "utf-16": (receive(LONG).decode().encode("utf-16"), False),
    "the markers themselves": (receive(LONG + "".join(_soap._MARKS).encode()), True),
    "the first marker elsewhere": (
        receive(LONG, around=(b"<x>" + _soap._MARKS[0].encode() + b"</x>", b"")),
        False,
    ),
    "the second marker elsewhere": (
        receive(LONG, around=(b"<x>" + _soap._MARKS[1].encode() + b"</x>", b"")),
        False,
    ),
    # Found by review: another element spelling the marker out, by a character reference, a
    # CDATA section or a comment, must not pass for the element the marker stands in.
    "the marker forged by a reference in another element": (
        receive(LONG).replace(
            b"<ticket>T</ticket>", b"<ticket>&#113;bprocore-long-text-1</ticket>"
        ),
        False,
    ),
    "the marker forged after the run": (
        receive(LONG).replace(
            b"<hresult></hresult>", b"<hresult>&#113;bprocore-long-text-1</hresult>"
        ),
        False,
    ),
    "the run in a comment, the marker forged": (
        receive(b"", around=(b"<!-- x >" + LONG + b" <-->", b"")).replace(
            b"<ticket>T</ticket>", b"<ticket>&#113;bprocore-long-text-1</ticket>"
        ),
        False,
    ),
    "the run in a PI, the marker forged by CDATA": (
        receive(b"qbprocore<![CDATA[-long-text-1]]>", around=(b"<?pi x >" + LONG + b" <?>", b"")),
        False,
    ),
    "the run in a comment that is not well-formed, the marker forged": (
        receive(
            b"qbprocore&#45;long-text-1",
            around=(b"<!-- >" + LONG + b" -- a double hyphen <-->", b""),
        ),
        False,
    ),
    "the run in a CDATA section, the marker forged by a reference": (
        receive(b"<![CDATA[ x >" + LONG + b" < y ]]>").replace(
            b"<ticket>T</ticket>", b"<ticket>&#113;bprocore-long-text-1</ticket>"
        ),
        False,
    ),
    "a DOCTYPE spelled in a CDATA section beside the run": (
        receive(LONG).replace(b"<ticket>T</ticket>", b"<ticket><![CDATA[<!DOCTYPE x>]]></ticket>"),
        False,
    ),
    "undefined entity": (receive(LONG + b"&nbsp;"), False),
    "doctype before the run": (b"<!DOCTYPE x>" + receive(LONG), False),
    "entity declaration after the run": (
        receive(LONG).replace(b"<hresult>", b"<!ENTITY x 'y'><hresult>"),
        False,
    ),
    "not well-formed around": (receive(LONG).replace(b"</ticket>", b"</tickets>"), False),
    "unclosed": (receive(LONG)[:-30], False),
    "two long runs": (
        receive(LONG + b"&amp;", around=(b"", b"<message>" + LONG + b"</message>")),
        True,
    ),
}


@pytest.mark.parametrize("name", list(TRICKY))
def test_tricky_bodies_decode_as_lxml_reads_them(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, detour = TRICKY[name]
    fast, slow, took = decode_both(body, monkeypatch)
    assert fast == slow
    assert took == detour


def test_captured_envelopes_decode_the_same_either_way(
    reference_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = [
        p.read_bytes()
        for p in sorted((reference_dir / "soap").rglob("*"))
        if p.is_file() and p.read_bytes().lstrip().startswith((b"<", b"\xef\xbb\xbf"))
    ]
    assert len(bodies) > 10
    took = 0
    for body in bodies:
        fast, slow, detoured = decode_both(body, monkeypatch)
        assert fast == slow
        took += detoured
    assert took > 0  # the captured receiveResponseXML bodies take the detour


def test_any_bytes_like_body_decodes_alike() -> None:
    body = receive(LONG)
    assert qbwc.decode_call(bytearray(body)) == qbwc.decode_call(body)
    assert qbwc.decode_call(memoryview(body)) == qbwc.decode_call(body)  # type: ignore[arg-type]


def test_a_body_over_libxml2s_text_limit_is_left_to_lxml(monkeypatch: pytest.MonkeyPatch) -> None:
    # libxml2 refuses a text node over 1e9 bytes even with huge_tree; such a body must not be
    # read by the detour (shown here with the limit lowered, not with a gigabyte).
    body = receive(LONG)
    monkeypatch.setattr(_soap, "_HUGE_TEXT", len(body) - 1)
    assert _soap._parse_body(body, _soap._long_text(body))[1] is None
    monkeypatch.setattr(_soap, "_HUGE_TEXT", len(body))
    assert _soap._parse_body(body, _soap._long_text(body))[1] is not None


def test_a_large_response_takes_the_detour() -> None:
    # Not a timing: the default threshold lets a page of vendors through the fast road.
    body = receive(LONG)
    assert len(LONG) > _soap._LONG_TEXT
    _, text = _soap._parse_body(body, _soap._long_text(body))
    assert text is not None
    assert text.startswith("<QBXML><Name>Smith & Sons</Name>")
    event = qbwc.decode_call(body)
    assert isinstance(event, qbwc.ReceiveResponseXML)
    assert event.response == text


@pytest.mark.parametrize(("pure", "expected"), [("1", "False None"), ("", "True char_data")])
def test_qbprocore_pure_python_switches_the_detour_off_too(pure: str, expected: str) -> None:
    code = (
        "from qbprocore import qbxml; from qbprocore.qbwc import _soap;"
        " print(qbxml.speedups_enabled(), getattr(_soap._char_data, '__name__', None))"
    )
    env = {k: v for k, v in os.environ.items() if k != "QBPROCORE_PURE_PYTHON"}
    if pure:
        env["QBPROCORE_PURE_PYTHON"] = pure
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == expected
