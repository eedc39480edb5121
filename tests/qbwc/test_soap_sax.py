"""The SAX reader of SOAP calls (``_speedups.soap_call``): taken, and faithful.

`qbprocore.qbwc.decode_call` first offers a body to the extension, which reads a Web Connector
call of the usual shape through libxml2's SAX interface, without a tree; it declines anything
else, and lxml reads that body. Here: the reader really reads the usual calls itself (the
captured ones, with any envelope prefix, xsi:nil, whitespace, CDATA and references in texts,
any encoding), declines each kind of unusual body, gives the same event or the same fault as
lxml either way (also for generated bodies), passes errors no retry can mend, and leaks
nothing. test_soap_long_text holds the long-text detour to lxml the same way.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qbprocore import qbwc
from qbprocore.qbwc import _soap

from ..qbxml._leaks import bytes_left_behind

_speedups = pytest.importorskip(
    "qbprocore.qbxml._speedups", reason="the C extension is not built in this install"
)
pytestmark = pytest.mark.skipif(
    not _speedups.HAVE_SAX,
    reason="the extension found no libxml2 functions in lxml here",
)
soap_call = _speedups.soap_call

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def envelope(call: str, *, head: str = "", body_attrs: str = "", before: str = "") -> bytes:
    return (
        f'{head}<soap:Envelope xmlns:soap="{ENV}" xmlns:xsi="{XSI}">{before}'
        f"<soap:Body{body_attrs}>{call}</soap:Body></soap:Envelope>"
    ).encode()


SEND = (
    '<sendRequestXML xmlns="http://developer.intuit.com/"><ticket>T-1</ticket>'
    "<strHCPResponse></strHCPResponse><strCompanyFileName>C:\\Books\\A.QBW</strCompanyFileName>"
    "<qbXMLCountry>US</qbXMLCountry><qbXMLMajorVers>16</qbXMLMajorVers>"
    "<qbXMLMinorVers>0</qbXMLMinorVers></sendRequestXML>"
)


def read_in_c(body: bytes) -> tuple[str, dict[str, str]] | None:
    """What decode_call's first road makes of ``body``: the call, or None (lxml reads it)."""
    return _soap._read_in_c(body, _soap._long_text(body))


def outcomes(body: bytes) -> tuple[object, object]:
    """decode_call's event (or fault) with the reader, and with lxml alone."""

    def outcome() -> object:
        try:
            return qbwc.decode_call(body)
        except qbwc.SoapFaultError as exc:
            return ("fault", exc.fault_code, str(exc))

    with pytest.MonkeyPatch.context() as m:
        read = outcome()
        m.setattr(_soap, "_soap_call", None)
        m.setattr(_soap, "_char_data", None)
        return read, outcome()


# Bodies the reader reads itself, however unusual their spelling.
READ = {
    "the usual call": envelope(SEND),
    "another prefix, declared on the root": (
        f'<S:Envelope xmlns:S="{ENV}"><S:Body>{SEND}</S:Body></S:Envelope>'.encode()
    ),
    "a default namespace for the envelope": (
        f'<Envelope xmlns="{ENV}"><Body><sendRequestXML xmlns="http://developer.intuit.com/">'
        "<ticket>T</ticket></sendRequestXML></Body></Envelope>".encode()
    ),
    "the operation without a namespace": envelope("<serverVersion/>"),
    "the operation in another namespace": envelope('<x:closeConnection xmlns:x="urn:x"/>'),
    "xml declaration and whitespace everywhere": envelope(
        SEND.replace("><", ">\n  <"), head='<?xml version="1.0" encoding="utf-8"?>\n'
    ),
    "xsi:nil true and 1, and false": envelope(
        '<receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>T</ticket>'
        '<response xsi:nil="true">ignored</response><hresult xsi:nil="1">x</hresult>'
        '<message xsi:nil="false">kept</message></receiveResponseXML>'
    ),
    "nil in no namespace is no nil": envelope(
        '<getLastError xmlns="http://developer.intuit.com/"><ticket nil="true">T</ticket>'
        "</getLastError>"
    ),
    "references and CDATA in a text": envelope(
        '<connectionError xmlns="http://developer.intuit.com/"><ticket>T</ticket>'
        "<hresult>0x&#56;004&#x30;410</hresult>"
        "<message>a &lt;b&gt; &amp; <![CDATA[<c> & d]]> e&#233;\r\nf</message>"
        "</connectionError>"
    ),
    "a parameter twice (the first counts)": envelope(
        '<clientVersion xmlns="http://developer.intuit.com/"><strVersion>2.3</strVersion>'
        "<strVersion>9.9</strVersion></clientVersion>"
    ),
    "references in attributes, nil spelled with one": envelope(
        '<getLastError xmlns="http://developer.intuit.com/" a="&amp;&#38;&lt;">'
        '<ticket xsi:nil="&#116;rue">T</ticket></getLastError>'
    ),
    "an unknown parameter": envelope(
        '<serverVersion xmlns="http://developer.intuit.com/"><extra>x</extra></serverVersion>'
    ),
    "an unknown operation (a fault, from the reader's reading)": envelope("<noSuchCall/>"),
    "a version that is no integer (a fault)": envelope(
        SEND.replace("<qbXMLMajorVers>16<", "<qbXMLMajorVers>sixteen<")
    ),
    "attributes on the envelope and body": envelope(
        SEND, body_attrs=' soap:encodingStyle="urn:x" id="b"'
    ),
    "latin-1 declared": envelope(
        SEND.replace("US", "Caf\xe9"), head='<?xml version="1.0" encoding="ISO-8859-1"?>'
    )
    .decode()
    .encode("latin-1"),
    "utf-16": envelope(SEND).decode().encode("utf-16"),
    "a utf-8 byte order mark": b"\xef\xbb\xbf" + envelope(SEND),
}

# Bodies the reader declines (or that `_read_in_c` does not offer it: a DOCTYPE spelled
# anywhere is refused, as lxml's road refuses it): lxml reads them, to the same event or fault.
DECLINED = {
    "a SOAP header": envelope(SEND, before="<soap:Header/>"),
    "a second element in the envelope": envelope(SEND).replace(
        b"</soap:Body>", b"</soap:Body><other/>"
    ),
    "two bodies": envelope(SEND).replace(b"</soap:Body>", b"</soap:Body><soap:Body/>"),
    "two operations": envelope(SEND + "<serverVersion/>"),
    "no operation": envelope(""),
    "an element in a parameter": envelope(
        '<clientVersion xmlns="http://developer.intuit.com/"><strVersion>2<b>x</b>'
        "</strVersion></clientVersion>"
    ),
    "a comment": envelope(SEND.replace("<ticket>", "<!-- c --><ticket>")),
    "a comment in a text": envelope(SEND.replace("T-1", "T<!-- c -->-1")),
    "a processing instruction": envelope(SEND.replace("<ticket>", "<?pi x?><ticket>")),
    "a DOCTYPE": b"<!DOCTYPE x>" + envelope(SEND),
    "an entity declared": b'<!DOCTYPE x [<!ENTITY e "v">]>' + envelope(SEND),
    "an undefined entity": envelope(SEND.replace("T-1", "&e;")),
    "a DOCTYPE spelled in a CDATA section": envelope(
        SEND.replace("T-1", "<![CDATA[<!DOCTYPE x>]]>")
    ),
    "SOAP 1.2": envelope(SEND).replace(ENV.encode(), b"http://www.w3.org/2003/05/soap-envelope"),
    "another root": f'<Envelope xmlns="urn:other"><Body>{SEND}</Body></Envelope>'.encode(),
    "a Body in another namespace": f'<s:Envelope xmlns:s="{ENV}"><Body/></s:Envelope>'.encode(),
    "not well-formed": envelope(SEND).replace(b"</ticket>", b"</tickets>"),
    "cut short": envelope(SEND)[:-20],
    "an undeclared prefix": envelope("<x:serverVersion/>"),
    "a control character": envelope(SEND.replace("T-1", "T\x01")),
    "not utf-8": envelope(SEND).replace(b"T-1", b"T\xff"),
    "empty": b"",
    "not xml": b"hello",
}


@pytest.mark.parametrize("body", READ.values(), ids=list(READ))
def test_what_the_reader_reads_itself_decodes_as_lxml_reads_it(body: bytes) -> None:
    assert read_in_c(body) is not None
    read, lxml = outcomes(body)
    assert read == lxml


@pytest.mark.parametrize("body", DECLINED.values(), ids=list(DECLINED))
def test_what_the_reader_declines_decodes_as_lxml_reads_it(body: bytes) -> None:
    assert read_in_c(body) is None
    read, lxml = outcomes(body)
    assert read == lxml


def test_the_reader_gives_names_texts_and_the_declared_encoding() -> None:
    assert soap_call(READ["xsi:nil true and 1, and false"]) == (
        "receiveResponseXML",
        {"ticket": "T", "response": "", "hresult": "", "message": "kept"},
        None,
    )
    values = soap_call(READ["references and CDATA in a text"])[1]
    assert values["message"] == "a <b> & <c> & d e\xe9\nf"
    assert values["hresult"] == "0x80040410"
    assert soap_call(READ["latin-1 declared"])[1]["qbXMLCountry"] == "Caf\xe9"
    assert soap_call(READ["latin-1 declared"])[2] == "ISO-8859-1"
    assert soap_call(READ["a parameter twice (the first counts)"])[1] == {"strVersion": "2.3"}


def test_captured_envelopes_are_read_by_the_reader(reference_dir: Path) -> None:
    bodies = sorted((reference_dir / "soap" / "cgunther").glob("*.request.xml"))
    assert len(bodies) == 6
    for path in bodies:
        body = path.read_bytes()
        assert read_in_c(body) is not None, path.name
        read, lxml = outcomes(body)
        assert read == lxml, path.name


def test_a_long_text_is_split_off_and_read_through_the_reader() -> None:
    text = "&lt;QBXML&gt;" + "&lt;Name&gt;Smith &amp; Sons&lt;/Name&gt;" * 200 + "&lt;/QBXML&gt;"
    body = envelope(
        '<receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>T</ticket>'
        f"<response>{text}</response><hresult/><message/></receiveResponseXML>"
    )
    read = read_in_c(body)
    assert read is not None
    assert read[1]["response"].startswith("<QBXML><Name>Smith & Sons</Name>")
    assert outcomes(body)[0] == outcomes(body)[1]
    # The rest of the body is read with a marker in the text's place: a declared encoding
    # other than UTF-8 (the text was decoded as UTF-8) sends the whole body to lxml.
    latin = b'<?xml version="1.0" encoding="latin1"?>' + body
    assert read_in_c(latin) is None
    assert outcomes(latin)[0] == outcomes(latin)[1]


# Pieces to splice into a usual body, each one an unusual spelling or worse.
FRAGMENTS = [
    "<!-- c -->",
    "<?pi x?>",
    "<![CDATA[x]]>",
    "<![CDATA[<!DOCTYPE]]>",
    "&amp;",
    "&#65;",
    "&e;",
    "<x/>",
    "</x>",
    "<soap:Header/>",
    "<soap:Body>",
    "</soap:Body>",
    '<y xsi:nil="true">',
    ' xsi:nil="true"',
    ' xsi:nil="1"',
    ' xmlns="urn:x"',
    ' xmlns:soap="urn:x"',
    ' a="&amp;"',
    "<",
    ">",
    "\r\n",
    "\x00",
    "\xe9",
    "<!DOCTYPE x>",
]


def _mutate(rng: random.Random, body: str) -> bytes:
    for _ in range(rng.choice((1, 1, 2, 3))):
        # Anywhere, or (as often) where text may stand: after a ">".
        ends = [i + 1 for i, c in enumerate(body) if c == ">"]
        at = rng.choice(ends) if ends and rng.random() < 0.5 else rng.randint(0, len(body))
        kind = rng.random()
        if kind < 0.6:
            body = body[:at] + rng.choice(FRAGMENTS) + body[at:]
        elif kind < 0.8:
            body = body[:at] + body[at + rng.randint(1, 12) :]
        else:
            body = body[:at] + chr(rng.randint(0, 0x7F)) + body[at + 1 :]
    return body.encode("utf-8", "surrogatepass")


def test_generated_bodies_decode_as_lxml_reads_them() -> None:
    rng = random.Random(20261122)
    bases = [envelope(SEND).decode(), READ["xsi:nil true and 1, and false"].decode()]
    read = declined = 0
    for _ in range(1500):
        body = _mutate(rng, rng.choice(bases))
        if read_in_c(body) is None:
            declined += 1
        else:
            read += 1
        first, second = outcomes(body)
        assert first == second, body
    assert read > 100  # both branches exercised
    assert declined > 100


def test_soap_call_wants_one_bytes_argument() -> None:
    with pytest.raises(TypeError, match="bytes"):
        soap_call(envelope(SEND).decode())
    with pytest.raises(TypeError):
        soap_call()


def test_the_reader_leaks_nothing_when_it_reads_or_declines() -> None:
    bodies = [*READ.values(), *DECLINED.values()]

    def run() -> None:
        for body in bodies:
            soap_call(body)

    assert bytes_left_behind(run) < 4096
