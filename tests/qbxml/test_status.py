"""Status codes: meaning, retry hints, and what raises."""

from __future__ import annotations

import pytest

from qbprocore import qbxml

R = qbxml.RetryHint


@pytest.mark.parametrize(
    ("code", "retry"),
    [
        (0, R.NONE),
        (1, R.IGNORE),
        (500, R.IGNORE),
        (1030, R.FAIL),
        (3100, R.LINK_EXISTING),
        (3120, R.FIX_REQUEST),
        (3140, R.WAIT_FOR_DEPENDENCY),
        (3170, R.RETRY_LATER),
        (3175, R.RETRY_LATER),
        (3176, R.RETRY_LATER),
        (3180, R.RETRY_LATER),
        (3200, R.REFRESH_AND_RETRY),
        (3250, R.FAIL),
        (3260, R.FAIL),
    ],
)
def test_table_rows_that_matter(code: int, retry: qbxml.RetryHint) -> None:
    info = qbxml.STATUS_CODES[code]
    assert info.code == code
    assert info.retry is retry
    assert info.meaning
    assert info.hint


def test_severity_follows_the_code_range() -> None:
    assert qbxml.describe_status(1).severity == "Info"
    assert qbxml.describe_status(500).severity == "Warn"
    assert qbxml.describe_status(3200).severity == "Error"


def test_unknown_codes_get_a_row_from_their_range() -> None:
    assert qbxml.describe_status(42).retry is R.NONE
    assert qbxml.describe_status(777).retry is R.IGNORE
    assert qbxml.describe_status(9101).name == "macro error"
    assert qbxml.describe_status(3999).retry is R.FAIL


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        qbxml.STATUS_CODES[1] = qbxml.describe_status(0)  # type: ignore[index]


def _rs(code: int, severity: str, message: str = "msg") -> qbxml.VendorAddRs:
    return qbxml.VendorAddRs(
        request_id="v1", status_code=code, status_severity=severity, status_message=message
    )


def test_no_match_is_not_an_error() -> None:
    rs = qbxml.VendorQueryRs(status_code=1, status_severity="Info", status_message="No match")
    assert rs.is_no_match
    assert rs.ok
    rs.raise_for_status()


def test_warnings_do_not_raise() -> None:
    rs = _rs(500, "Warn")
    assert rs.ok
    rs.raise_for_status()


def test_errors_raise_with_context() -> None:
    rs = _rs(3200, "Error", "The provided edit sequence is out-of-date.")
    assert not rs.ok
    with pytest.raises(qbxml.QbxmlStatusError) as info:
        rs.raise_for_status()
    err = info.value
    assert (err.status_code, err.severity, err.request_id, err.response_type) == (
        3200,
        "Error",
        "v1",
        "VendorAddRs",
    )
    assert err.retry is R.REFRESH_AND_RETRY
    assert "edit sequence is out-of-date" in str(err)
    assert "EditSequence out of date" in str(err)
    assert rs.status.retry is R.REFRESH_AND_RETRY
