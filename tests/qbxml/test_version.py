"""Version negotiation from the HostQueryRs the Web Connector hands over."""

from __future__ import annotations

import pytest

from qbprocore import qbxml


def _host(versions: list[str]) -> qbxml.HostQueryRs:
    return qbxml.HostQueryRs(
        status_code=0,
        status_severity="Info",
        host_ret=qbxml.HostRet(product_name="QuickBooks", supported_qbxml_version=versions),
    )


def test_highest_common_version() -> None:
    assert qbxml.negotiate_version(_host(["1.0", "2.0", "13.0", "16.0"])) == "16.0"
    assert qbxml.negotiate_version(_host(["1.0", "12.0", "13.0"])) == "13.0"
    assert qbxml.negotiate_version(_host(["13.0", "17.0"])) == "13.0"  # 17.0 unknown to us


def test_numeric_not_lexical_comparison() -> None:
    assert (
        qbxml.negotiate_version(["2.0", "10.0", "9.0"], supported=["2.0", "9.0", "10.0"]) == "10.0"
    )


def test_from_host_ret_list_and_parsed_document() -> None:
    host = _host(["CA3.0", "UK2.0", "8.0", "7.0"])
    assert qbxml.negotiate_version(host.host_ret) == "8.0"  # type: ignore[arg-type]
    assert qbxml.negotiate_version(["7.0", "8.0"]) == "8.0"
    parsed = qbxml.loads(qbxml.dumps(host)).responses[0]
    assert qbxml.negotiate_version(parsed) == "8.0"


def test_no_common_version() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match="no qbXML version in common"):
        qbxml.negotiate_version(["0.5"])
    with pytest.raises(qbxml.QbxmlValueError, match="no HostRet"):
        qbxml.negotiate_version(qbxml.HostQueryRs(status_code=0, status_severity="Info"))
    with pytest.raises(qbxml.QbxmlValueError, match="cannot negotiate"):
        qbxml.negotiate_version(42)


def test_parse_version() -> None:
    assert qbxml.parse_version("13.0") == (13, 0)
    with pytest.raises(qbxml.QbxmlValueError):
        qbxml.parse_version("CA3.0")


def test_negotiated_version_drives_the_document() -> None:
    version = qbxml.negotiate_version(["1.0", "11.0"])
    vendor = qbxml.VendorAdd(name="A", job_title="PM")  # JobTitle: qbXML 12.0
    with pytest.raises(qbxml.QbxmlVersionError):
        qbxml.dumps(qbxml.VendorAddRq(vendor_add=vendor), version=version)
