"""The default status-code policy: each path, produced by FakeQuickBooks through a session."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qbprocore import qbwc, qbxml
from qbprocore.testing import FakeQuickBooks, FakeWebConnector

from .conftest import Clock, Script, make_service

A = qbwc.StatusAction


def run(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks, *messages: object
) -> qbwc.Exchange:
    work = Script(qbwc.WorkRequest(messages=list(messages), on_error="continueOnError"))  # type: ignore[arg-type]
    service = make_service(authenticator, work, clock)
    result = FakeWebConnector(service=service, username="demo", password="demo").update(qb)
    assert result.status == "done"
    return work.received[0].exchanges[-1]


@pytest.fixture
def qb() -> FakeQuickBooks:
    qb = FakeQuickBooks()
    qb.add_vendor("Acme Concrete")
    return qb


def test_ok(authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks) -> None:
    ex = run(authenticator, clock, qb, qbxml.VendorQueryRq(full_name=["Acme Concrete"]))
    assert (ex.response.status_code, ex.action) == (0, A.OK)  # type: ignore[union-attr]


def test_ignore_no_match(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks
) -> None:
    ex = run(authenticator, clock, qb, qbxml.VendorQueryRq(full_name=["Nobody"]))
    assert (ex.response.status_code, ex.action) == (1, A.IGNORE)  # type: ignore[union-attr]


def test_refresh_and_retry_on_stale_edit_sequence(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks
) -> None:
    vendor = qb.vendors[0]
    qb.modify_vendor(vendor.list_id, phone="555-0100")  # someone edits it in QuickBooks
    mod = qbxml.VendorModRq(
        vendor_mod=qbxml.VendorMod(
            list_id=vendor.list_id, edit_sequence=vendor.edit_sequence, email="ap@acme.example"
        )
    )
    ex = run(authenticator, clock, qb, mod)
    assert (ex.response.status_code, ex.action) == (3200, A.REFRESH_AND_RETRY)  # type: ignore[union-attr]


def test_link_existing_on_duplicate_name(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks
) -> None:
    add = qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="acme concrete"))
    ex = run(authenticator, clock, qb, add)
    assert (ex.response.status_code, ex.action) == (3100, A.LINK_EXISTING)  # type: ignore[union-attr]


def test_wait_for_dependency_on_missing_vendor(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks
) -> None:
    bill = qbxml.BillAddRq(
        bill_add=qbxml.BillAdd(
            vendor_ref=qbxml.Ref(full_name="Not Yet Synced"),
            expense_line_add=[
                qbxml.ExpenseLineAdd(
                    account_ref=qbxml.Ref(full_name="Job Costs"), amount=Decimal("10.00")
                )
            ],
        )
    )
    ex = run(authenticator, clock, qb, bill)
    assert (ex.response.status_code, ex.action) == (3140, A.WAIT_FOR_DEPENDENCY)  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [3170, 3175])
def test_retry_later_when_locked(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks, code: int
) -> None:
    vendor = qb.vendors[0]
    qb.lock(vendor.list_id, code=code)
    mod = qbxml.VendorModRq(
        vendor_mod=qbxml.VendorMod(
            list_id=vendor.list_id, edit_sequence=vendor.edit_sequence, phone="1"
        )
    )
    ex = run(authenticator, clock, qb, mod)
    assert (ex.response.status_code, ex.action) == (code, A.RETRY_LATER)  # type: ignore[union-attr]


def test_skip_and_report_when_the_request_is_wrong(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks
) -> None:
    mod = qbxml.VendorModRq(
        vendor_mod=qbxml.VendorMod(list_id="80009999-1", edit_sequence="1", phone="1")
    )
    ex = run(authenticator, clock, qb, mod)
    assert (ex.response.status_code, ex.action) == (3120, A.SKIP_AND_REPORT)  # type: ignore[union-attr]


def test_fail_when_quickbooks_cannot(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, qb: FakeQuickBooks
) -> None:
    qb.answer_with("VendorAddRq", 3250)  # the feature is turned off in this company file
    ex = run(authenticator, clock, qb, qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="New")))
    assert (ex.response.status_code, ex.action) == (3250, A.FAIL)  # type: ignore[union-attr]
    assert ex.response.status_severity == "Error"  # type: ignore[union-attr]
    ex = run(authenticator, clock, qb, qbxml.VendorCreditQueryRq())  # unsupported message: 1030
    assert (ex.response.status_code, ex.action) == (1030, A.FAIL)  # type: ignore[union-attr]


def test_every_known_code_has_a_default_and_overrides_win() -> None:
    assert set(qbwc.DEFAULT_STATUS_ACTIONS) == set(qbxml.STATUS_CODES)
    policy = qbwc.StatusPolicy(overrides={3180: A.SKIP_AND_REPORT})
    assert policy.action_for_code(3180) is A.SKIP_AND_REPORT
    assert qbwc.StatusPolicy().action_for_code(3180) is A.RETRY_LATER
    assert policy.action_for_code(499) is A.OK
    assert policy.action_for_code(777) is A.IGNORE
    assert policy.action_for_code(9999) is A.FAIL
    assert policy.action(None) is A.RETRY_LATER


@pytest.mark.parametrize(
    ("minimum", "version", "refused"),
    [
        ("2.1.0.0", "2.1", False),  # the same version, written shorter
        ("2.1", "2.1.0.0", False),
        ("2.1.0.30", "2.1", True),
        ("2.1", "2.0.9.99", True),
        ("2.1.0.30", "2.1.0.30", False),
        ("2.1.0.30", "2.10", False),
    ],
)
def test_client_versions_compare_as_versions(minimum: str, version: str, refused: bool) -> None:
    answer = qbwc.ClientVersionPolicy(minimum=minimum).answer(version)
    assert answer.startswith("E:") is refused
    assert answer == "" or refused
