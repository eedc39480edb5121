"""Unusual vendor responses the C roads leave to the Python builders (test_speedups, test_sax)."""

from __future__ import annotations


def vendor_doc(
    record: str, attrs: str = 'statusCode="0" statusSeverity="Info"', head: str = ""
) -> bytes:
    """A vendor query response with one ``VendorRet`` holding ``record``."""
    return (
        f'{head}<?qbxml version="13.0"?><QBXML><QBXMLMsgsRs><VendorQueryRs requestID="1" {attrs}>'
        f"<VendorRet>{record}</VendorRet></VendorQueryRs></QBXMLMsgsRs></QBXML>"
    ).encode()


GOOD = "<ListID>80-1</ListID><Name>Acme</Name>"

# Documents the C walk hands to the Python builders, with why.
LEFT_TO_PYTHON = {
    "unknown element": vendor_doc(GOOD + "<NewIn17>x</NewIn17>"),
    "unknown nested element": vendor_doc(
        GOOD + "<VendorAddress><Planet>Mars</Planet></VendorAddress>"
    ),
    "namespaced element": vendor_doc(GOOD + '<x:Name xmlns:x="urn:x">Acme</x:Name>'),
    "comment inside a value": vendor_doc("<ListID>80-1</ListID><Name>Ac<!-- c -->me</Name>"),
    "date-time without leading zeros": vendor_doc(GOOD + "<TimeCreated>2024-1-2T10</TimeCreated>"),
    "bad amount": vendor_doc(GOOD + "<Balance>12,50</Balance>"),
    "NaN amount": vendor_doc(GOOD + "<Balance>NaN</Balance>"),
    "Infinity amount": vendor_doc(GOOD + "<Balance>-Infinity</Balance>"),
    "bad boolean": vendor_doc(GOOD + "<IsActive>yes</IsActive>"),
    "bad date-time": vendor_doc(GOOD + "<TimeCreated>yesterday</TimeCreated>"),
    "bad integer attribute": vendor_doc(GOOD, 'statusCode="zero" statusSeverity="Info"'),
    "empty integer attribute": vendor_doc(GOOD, 'statusCode="" statusSeverity="Info"'),
}
