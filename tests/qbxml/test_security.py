"""Hostile input: DTDs, entity expansion, external entities and oversized bodies are refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from qbprocore import qbxml

# Every test here runs with the C walk and with the Python builders (conftest.py).
pytestmark = pytest.mark.usefixtures("qbxml_walk")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE QBXML [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<QBXML><QBXMLMsgsRs><VendorQueryRs statusCode="0" statusSeverity="Info">
<VendorRet><Name>&g;</Name></VendorRet></VendorQueryRs></QBXMLMsgsRs></QBXML>
"""


def xxe(target: Path) -> bytes:
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE QBXML [<!ENTITY x SYSTEM "file://'
        + str(target).encode()
        + b'">]>\n<QBXML><QBXMLMsgsRs><VendorQueryRs statusCode="0" statusSeverity="Info">'
        b"<VendorRet><Name>&x;</Name></VendorRet></VendorQueryRs></QBXMLMsgsRs></QBXML>"
    )


PARAMETER_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE QBXML SYSTEM "http://127.0.0.1:9/evil.dtd">'
    b"<QBXML><QBXMLMsgsRs/></QBXML>"
)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


def test_billion_laughs_is_refused_by_loads() -> None:
    with pytest.raises(qbxml.QbxmlSecurityError, match="DOCTYPE"):
        qbxml.loads(BILLION_LAUGHS)


def test_billion_laughs_is_refused_by_iterparse() -> None:
    with pytest.raises(qbxml.QbxmlSecurityError, match="DOCTYPE"):
        list(qbxml.iterparse(BILLION_LAUGHS))


def test_external_entities_are_never_resolved(secret: Path) -> None:
    with pytest.raises(qbxml.QbxmlSecurityError) as info:
        qbxml.loads(xxe(secret))
    assert "TOP-SECRET" not in str(info.value)
    with pytest.raises(qbxml.QbxmlSecurityError):
        list(qbxml.iterparse(xxe(secret)))


def test_external_dtds_are_refused() -> None:
    with pytest.raises(qbxml.QbxmlSecurityError):
        qbxml.loads(PARAMETER_ENTITY)


def test_a_doctype_hidden_after_a_long_comment_is_still_refused() -> None:
    data = b"<?xml version='1.0'?><!--" + b"x" * 70000 + b"-->" + BILLION_LAUGHS.split(b"?>", 1)[1]
    with pytest.raises(qbxml.QbxmlSecurityError):
        qbxml.loads(data)


def test_a_doctype_in_a_text_string_is_also_refused() -> None:
    text = BILLION_LAUGHS.decode()
    with pytest.raises(qbxml.QbxmlSecurityError):
        qbxml.loads(text)


def test_an_entity_reference_without_a_declaration_is_malformed() -> None:
    data = (
        b"<QBXML><QBXMLMsgsRs><VendorQueryRs statusCode='0' statusSeverity='Info'>"
        b"<VendorRet><Name>&undeclared;</Name></VendorRet></VendorQueryRs></QBXMLMsgsRs></QBXML>"
    )
    with pytest.raises(qbxml.QbxmlParseError):
        qbxml.loads(data)


def test_size_limit_for_loads() -> None:
    data = qbxml.dumps(qbxml.VendorQueryRq(request_id="1"))
    qbxml.loads(data, config=qbxml.ParseConfig(max_bytes=len(data)))
    with pytest.raises(qbxml.QbxmlSecurityError, match=f"limit of {len(data) - 1} bytes"):
        qbxml.loads(data, config=qbxml.ParseConfig(max_bytes=len(data) - 1))


def test_size_limit_for_iterparse_counts_bytes_read() -> None:
    rs = qbxml.VendorQueryRs(
        status_code=0,
        status_severity="Info",
        vendor_ret=[qbxml.VendorRet(name=f"Vendor {n}") for n in range(2000)],
    )
    data = qbxml.dumps(rs)
    stream = io.BytesIO(data)
    seen: list[object] = []
    records = qbxml.iterparse(stream, config=qbxml.ParseConfig(max_bytes=10_000))
    with pytest.raises(qbxml.QbxmlSecurityError, match="limit of 10000 bytes"):
        seen.extend(records)
    assert stream.tell() < len(data)  # it stopped reading early


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_are_refused_before_parsing(encoding: str) -> None:
    # The DTD check reads bytes as ASCII-compatible text; wider encodings would slip past it,
    # so they are refused up front, and a decoded str is the way in.
    text = BILLION_LAUGHS.decode().replace(
        'version="1.0"?>', f'version="1.0" encoding="{encoding}"?>'
    )
    data = text.encode(encoding)
    with pytest.raises(qbxml.QbxmlParseError, match="ASCII-compatible"):
        qbxml.loads(data)
    with pytest.raises(qbxml.QbxmlParseError, match="ASCII-compatible"):
        next(qbxml.iterparse(data))
    with pytest.raises(qbxml.QbxmlSecurityError):
        qbxml.loads(text)  # the str is re-encoded as UTF-8 and its DOCTYPE refused


BODY = (
    b'<QBXML><QBXMLMsgsRs><VendorQueryRs statusCode="1" statusSeverity="Info"/>'
    b"</QBXMLMsgsRs></QBXML>"
)


@pytest.mark.parametrize(
    "prolog",
    [
        b"<!DOCTYPE QBXML>",
        b'<?xml version="1.0"?>\n<!-- a <QBXML> in a comment -->\n<?pi x?> <!DOCTYPE QBXML>',
        b"\xef\xbb\xbf<!DOCTYPE QBXML>",
        b'<?xml version="1.0"?><!ENTITY x "y">',
    ],
    ids=["bare", "after declaration, comment and PI", "after a BOM", "entity in the prolog"],
)
def test_loads_reads_the_prolog_and_refuses_a_declaration_there(prolog: bytes) -> None:
    with pytest.raises(qbxml.QbxmlSecurityError, match="DOCTYPE"):
        qbxml.loads(prolog + BODY)


@pytest.mark.parametrize(
    "data",
    [
        BODY.replace(b"<QBXMLMsgsRs>", b'<QBXMLMsgsRs><!ENTITY x "y">'),
        BODY + b"<!DOCTYPE QBXML>",
        b'<?xml version="1.0"?><!-- never closed <!DOCTYPE QBXML>' + BODY,
    ],
    ids=["entity inside the root", "DOCTYPE after the root", "unclosed comment"],
)
def test_declarations_outside_the_prolog_are_not_well_formed(data: bytes) -> None:
    # lxml refuses these before anything is declared: no entity can be expanded.
    with pytest.raises(qbxml.QbxmlParseError, match="not well-formed"):
        qbxml.loads(data)
