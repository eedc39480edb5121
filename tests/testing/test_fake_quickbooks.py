"""FakeQuickBooks answers qbXML like QuickBooks Desktop does."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from qbprocore import qbxml
from qbprocore.testing import FakeQuickBooks, QuickBooksAnswer


def ask(qb: FakeQuickBooks, *messages: Any, on_error: str | None = None) -> list[Any]:
    answer = qb.process(qbxml.dumps(*messages, on_error=on_error))
    assert answer.hresult == "", answer
    return list(qbxml.loads(answer.response).responses)


def one(qb: FakeQuickBooks, message: Any) -> Any:
    (rs,) = ask(qb, message)
    return rs


@pytest.fixture
def qb() -> FakeQuickBooks:
    qb = FakeQuickBooks()
    qb.add_vendors(["Acme Concrete", "Baker Steel", "Cole Electric", "Dunn Drywall"])
    return qb


def names(rs: Any) -> list[str]:
    return [v.name for v in rs.vendor_ret]


def test_query_all_and_max_returned(qb: FakeQuickBooks) -> None:
    rs = one(qb, qbxml.VendorQueryRq(request_id="q"))
    assert (rs.request_id, rs.status_code, rs.status_severity) == ("q", 0, "Info")
    assert names(rs) == ["Acme Concrete", "Baker Steel", "Cole Electric", "Dunn Drywall"]
    assert names(one(qb, qbxml.VendorQueryRq(max_returned=2))) == ["Acme Concrete", "Baker Steel"]


def test_no_match_is_status_1(qb: FakeQuickBooks) -> None:
    rs = one(qb, qbxml.VendorQueryRq(full_name=["Nobody"]))
    assert (rs.status_code, rs.status_severity, rs.ok) == (1, "Info", True)


def test_list_id_and_full_name_filters(qb: FakeQuickBooks) -> None:
    baker = qb.vendors[1]
    assert names(one(qb, qbxml.VendorQueryRq(list_id=[baker.list_id]))) == ["Baker Steel"]
    assert names(one(qb, qbxml.VendorQueryRq(full_name=["cole electric"]))) == ["Cole Electric"]


def test_name_filters(qb: FakeQuickBooks) -> None:
    f = qbxml.NameFilter(match_criterion=qbxml.MatchCriterion("Contains"), name="e")
    assert names(one(qb, qbxml.VendorQueryRq(name_filter=f))) == [
        "Acme Concrete",
        "Baker Steel",
        "Cole Electric",
    ]
    r = qbxml.NameRangeFilter(from_name="B", to_name="D")
    assert names(one(qb, qbxml.VendorQueryRq(name_range_filter=r))) == [
        "Baker Steel",
        "Cole Electric",
    ]


def test_active_status_defaults_to_active_only(qb: FakeQuickBooks) -> None:
    qb.modify_vendor(qb.vendors[0].list_id, is_active=False)
    assert "Acme Concrete" not in names(one(qb, qbxml.VendorQueryRq()))
    inactive = one(qb, qbxml.VendorQueryRq(active_status=qbxml.ActiveStatus.INACTIVE_ONLY))
    assert names(inactive) == ["Acme Concrete"]
    assert len(one(qb, qbxml.VendorQueryRq(active_status=qbxml.ActiveStatus.ALL)).vendor_ret) == 4


def test_modified_date_range_is_inclusive(qb: FakeQuickBooks) -> None:
    changed = qb.modify_vendor(qb.vendors[2].list_id, phone="555-0100")
    when = changed.time_modified
    assert when is not None
    rs = one(qb, qbxml.VendorQueryRq(from_modified_date=when))
    assert names(rs) == ["Cole Electric"]
    rs = one(qb, qbxml.VendorQueryRq(to_modified_date=qb.vendors[0].time_modified))
    assert names(rs) == ["Acme Concrete"]
    naive = when.replace(tzinfo=None)  # QuickBooks' local time
    assert names(one(qb, qbxml.VendorQueryRq(from_modified_date=naive))) == ["Cole Electric"]


def test_iterator_start_continue_and_remaining_count() -> None:
    qb = FakeQuickBooks()
    qb.add_vendors(f"V{i:03d}" for i in range(25))
    rs = one(
        qb, qbxml.VendorQueryRq(request_id="it", iterator=qbxml.Iterator.START, max_returned=10)
    )
    assert (len(rs.vendor_ret), rs.iterator_remaining_count) == (10, 15)
    seen = names(rs)
    while rs.iterator_remaining_count:
        rs = one(
            qb,
            qbxml.VendorQueryRq(
                request_id="it",
                iterator=qbxml.Iterator.CONTINUE,
                iterator_id=rs.iterator_id,
                max_returned=10,
            ),
        )
        assert rs.request_id == "it"
        seen += names(rs)
    assert seen == [f"V{i:03d}" for i in range(25)]


def test_iterators_die_with_the_session_or_on_expiry(qb: FakeQuickBooks) -> None:
    rs = one(qb, qbxml.VendorQueryRq(iterator=qbxml.Iterator.START, max_returned=1))
    cont = qbxml.VendorQueryRq(
        iterator=qbxml.Iterator.CONTINUE, iterator_id=rs.iterator_id, max_returned=1
    )
    assert one(qb, cont).status_code == 0
    qb.expire_iterators()
    assert one(qb, cont).status_code == 3120
    rs = one(qb, qbxml.VendorQueryRq(iterator=qbxml.Iterator.START, max_returned=1))
    qb.end_session()
    gone = one(qb, attrs_evolve(cont, iterator_id=rs.iterator_id))
    assert (gone.status_code, gone.status_severity) == (3120, "Error")


def attrs_evolve(obj: Any, **changes: Any) -> Any:
    import attrs

    return attrs.evolve(obj, **changes)


def test_add_mod_and_edit_sequence(qb: FakeQuickBooks) -> None:
    added = one(qb, qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="Eagle Roofing", phone="1")))
    ret = added.vendor_ret
    assert (ret.name, ret.phone, ret.is_active) == ("Eagle Roofing", "1", True)
    assert ret.list_id
    assert ret.edit_sequence
    mod = qbxml.VendorModRq(
        vendor_mod=qbxml.VendorMod(list_id=ret.list_id, edit_sequence=ret.edit_sequence, phone="2")
    )
    modded = one(qb, mod).vendor_ret
    assert modded.phone == "2"
    assert modded.edit_sequence != ret.edit_sequence
    assert modded.time_modified > ret.time_modified
    stale = one(qb, mod)  # same (now old) EditSequence
    assert (stale.status_code, stale.status.retry) == (3200, qbxml.RetryHint.REFRESH_AND_RETRY)


def test_duplicate_names_and_renames(qb: FakeQuickBooks) -> None:
    dup = one(qb, qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="ACME CONCRETE")))
    assert dup.status_code == 3100
    baker = qb.vendors[1]
    rename = qbxml.VendorModRq(
        vendor_mod=qbxml.VendorMod(
            list_id=baker.list_id, edit_sequence=baker.edit_sequence, name="Acme Concrete"
        )
    )
    assert one(qb, rename).status_code == 3100


@pytest.mark.parametrize("code", [3170, 3175])
def test_injected_locks(qb: FakeQuickBooks, code: int) -> None:
    v = qb.vendors[0]
    qb.lock(v.list_id, code=code)
    mod = qbxml.VendorModRq(
        vendor_mod=qbxml.VendorMod(list_id=v.list_id, edit_sequence=v.edit_sequence, phone="1")
    )
    assert one(qb, mod).status_code == code
    qb.unlock(v.list_id)
    assert one(qb, mod).status_code == 0


def bill(vendor: str, ref: str, amount: str = "100.00") -> qbxml.BillAddRq:
    return qbxml.BillAddRq(
        bill_add=qbxml.BillAdd(
            vendor_ref=qbxml.Ref(full_name=vendor),
            ref_number=ref,
            txn_date=datetime.date(2026, 1, 2),
            expense_line_add=[
                qbxml.ExpenseLineAdd(
                    account_ref=qbxml.Ref(full_name="Job Costs"), amount=Decimal(amount)
                )
            ],
            item_line_add_or_item_group_line_add=[
                qbxml.ItemLineAdd(
                    item_ref=qbxml.Ref(full_name="03-300 Concrete"), amount=Decimal("50.00")
                )
            ],
        )
    )


def test_bills_refs_filters_and_deletion(qb: FakeQuickBooks) -> None:
    missing = one(qb, bill("Nobody", "X-1"))
    assert (missing.status_code, missing.status.retry) == (
        3140,
        qbxml.RetryHint.WAIT_FOR_DEPENDENCY,
    )
    first = one(qb, bill("Acme Concrete", "INV-1")).bill_ret
    assert first.amount_due == Decimal("150.00")
    assert first.vendor_ref.list_id == qb.vendors[0].list_id
    assert [line.txn_line_id for line in first.expense_line_ret]
    second = one(qb, bill("Baker Steel", "INV-2")).bill_ret
    by_ref = one(qb, qbxml.BillQueryRq(ref_number=["inv-2"]))
    assert [b.txn_id for b in by_ref.bill_ret] == [second.txn_id]
    assert by_ref.bill_ret[0].expense_line_ret == ()  # lines only with IncludeLineItems
    with_lines = one(qb, qbxml.BillQueryRq(txn_id=[first.txn_id], include_line_items=True))
    assert len(with_lines.bill_ret[0].expense_line_ret) == 1
    window = qbxml.ModifiedDateRangeFilter(from_modified_date=second.time_modified)
    assert [
        b.ref_number for b in one(qb, qbxml.BillQueryRq(modified_date_range_filter=window)).bill_ret
    ] == ["INV-2"]
    ref_filter = qbxml.RefNumberFilter(
        match_criterion=qbxml.MatchCriterion("StartsWith"), ref_number="INV"
    )
    assert len(one(qb, qbxml.BillQueryRq(ref_number_filter=ref_filter)).bill_ret) == 2
    vendor = qbxml.EntityFilter(full_name=["Acme Concrete"])
    assert len(one(qb, qbxml.BillQueryRq(entity_filter=vendor)).bill_ret) == 1

    qb.lock(first.txn_id, code=3175)
    delete = qbxml.TxnDelRq(txn_del_type=qbxml.TxnDelType("Bill"), txn_id=first.txn_id)
    assert one(qb, delete).status_code == 3175
    qb.unlock(first.txn_id)
    deleted = one(qb, delete)
    assert (deleted.status_code, deleted.txn_id, deleted.ref_number) == (0, first.txn_id, "INV-1")
    assert one(qb, delete).status_code == 3120
    gone = one(qb, qbxml.TxnDeletedQueryRq(txn_del_type=[qbxml.TxnDelType("Bill")]))
    assert [r.txn_id for r in gone.txn_deleted_ret] == [first.txn_id]


def test_list_deleted_query(qb: FakeQuickBooks) -> None:
    qb.delete_list("Vendor", qb.vendors[3].list_id)
    rs = one(qb, qbxml.ListDeletedQueryRq(list_del_type=[qbxml.ListDelType("Vendor")]))
    assert [r.full_name for r in rs.list_deleted_ret] == ["Dunn Drywall"]
    assert (
        one(qb, qbxml.ListDeletedQueryRq(list_del_type=[qbxml.ListDelType("Customer")])).status_code
        == 1
    )


def test_customers_jobs_and_items(qb: FakeQuickBooks) -> None:
    qb.add_customer("Harbor Health")
    job = one(
        qb,
        qbxml.CustomerAddRq(
            customer_add=qbxml.CustomerAdd(
                name="Maple Street Clinic", parent_ref=qbxml.Ref(full_name="Harbor Health")
            )
        ),
    ).customer_ret
    assert (job.full_name, job.sublevel) == ("Harbor Health:Maple Street Clinic", 1)
    item = one(
        qb,
        qbxml.ItemServiceAddRq(
            item_service_add=qbxml.ItemServiceAdd(
                name="03-300 Concrete",
                sales_or_purchase=qbxml.SalesOrPurchase(
                    account_ref=qbxml.Ref(full_name="Job Costs")
                ),
            )
        ),
    )
    assert item.status_code == 0
    assert item.item_service_ret.sales_or_purchase is not None


def test_stop_on_error_and_continue_on_error(qb: FakeQuickBooks) -> None:
    messages = [
        qbxml.VendorAddRq(request_id="1", vendor_add=qbxml.VendorAdd(name="Acme Concrete")),
        qbxml.VendorQueryRq(request_id="2"),
    ]
    assert [r.request_id for r in ask(qb, *messages)] == ["1"]
    assert [r.request_id for r in ask(qb, *messages, on_error="continueOnError")] == ["1", "2"]


def test_hcp_response_negotiates_and_describes_the_company() -> None:
    qb = FakeQuickBooks(supported_versions=("12.0", "13.0"), company_name="Harbor Builders")
    doc = qbxml.loads(qb.hcp_response())
    host, company, prefs = doc.responses
    assert qbxml.negotiate_version(host) == "13.0"
    assert company.company_ret.company_name == "Harbor Builders"
    assert prefs.preferences_ret.purchases_and_vendors_preferences.days_bills_are_due == 30
    host_rs = one(qb, qbxml.HostQueryRq())
    assert host_rs.host_ret.supported_qbxml_version == ("12.0", "13.0")
    assert one(qb, qbxml.CompanyQueryRq()).company_ret.company_name == "Harbor Builders"
    assert one(qb, qbxml.PreferencesQueryRq()).status_code == 0


def test_injected_and_natural_hresult_failures(qb: FakeQuickBooks) -> None:
    qb.fail_next("0x80040408", "Could not start QuickBooks.")
    assert qb.process(qbxml.dumps(qbxml.VendorQueryRq())) == QuickBooksAnswer(
        hresult="0x80040408", message="Could not start QuickBooks."
    )
    broken = qb.process("<?xml version='1.0'?><QBXML><QBXMLMsgsRq><VendorQueryRq>")
    assert broken.hresult == "0x80040400"
    assert broken.response == ""
    assert qb.process(qbxml.dumps(qbxml.VendorQueryRq())).hresult == ""


def test_injected_statuses(qb: FakeQuickBooks) -> None:
    qb.answer_with("VendorQueryRq", 3260, times=2)
    first = one(qb, qbxml.VendorQueryRq(request_id="a"))
    assert (first.request_id, first.status_code, first.status_severity) == ("a", 3260, "Error")
    assert "permission" in first.status_message
    assert one(qb, qbxml.VendorQueryRq()).status_code == 3260
    assert one(qb, qbxml.VendorQueryRq()).status_code == 0
    qb.answer_with("VendorQueryRq", 500, "Some objects were not found.")
    warned = one(qb, qbxml.VendorQueryRq())
    assert (warned.status_code, warned.status_severity) == (500, "Warn")


def test_stop_on_error_stops_on_warnings_too(qb: FakeQuickBooks) -> None:
    qb.answer_with("VendorQueryRq", 500)
    rs = ask(qb, qbxml.VendorQueryRq(request_id="1"), qbxml.VendorQueryRq(request_id="2"))
    assert [r.request_id for r in rs] == ["1"]


def test_unimplemented_requests_say_so(qb: FakeQuickBooks) -> None:
    rs = one(qb, qbxml.VendorCreditQueryRq())
    assert rs.status_code == 1030
    assert "FakeQuickBooks does not implement VendorCreditQueryRq" in rs.status_message


def test_connection_failures(qb: FakeQuickBooks) -> None:
    qb.fail_connection(times=2)
    assert qb.open(qb.company_file) == QuickBooksAnswer(
        hresult="0x80040408", message="Could not start QuickBooks."
    )
    assert qb.open("") is not None
    assert qb.open("") is None
    assert qb.open(qb.company_file.upper()) is None
    assert qb.open(r"C:\Elsewhere.QBW") is not None


def test_requests_are_recorded_and_repr_is_short(qb: FakeQuickBooks) -> None:
    one(qb, qbxml.VendorQueryRq(request_id="r"))
    assert qb.requests[-1].requests[0].request_id == "r"
    assert repr(qb) == "FakeQuickBooks(Vendor=4, Customer=0, ItemService=0, Bill=0)"
