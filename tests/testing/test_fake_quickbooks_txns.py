"""FakeQuickBooks transactions: purchase orders, estimates, bills, payments, checks, charges."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from qbprocore import qbxml
from qbprocore.testing import FakeQuickBooks

JOB = "Harbor Health:Maple Street Clinic"
D = Decimal


def ask(qb: FakeQuickBooks, *messages: Any) -> list[Any]:
    answer = qb.process(qbxml.dumps(*messages))
    assert answer.hresult == "", answer
    doc = qbxml.loads(answer.response)
    qbxml.dumps(*doc.responses, validate=True)  # what the fake answers is schema-valid qbXML
    return list(doc.responses)


def one(qb: FakeQuickBooks, message: Any) -> Any:
    (rs,) = ask(qb, message)
    return rs


@pytest.fixture
def qb() -> FakeQuickBooks:
    qb = FakeQuickBooks()
    qb.add_vendors(["Acme Concrete", "Baker Steel"])
    qb.add_job("Maple Street Clinic", parent="Harbor Health")
    qb.add_item_service("03-300 Concrete")
    qb.add_item_service("05-100 Steel")
    return qb


def po_add(
    vendor: str = "Acme Concrete",
    *lines: qbxml.PurchaseOrderLineAdd,
    ref: str = "SC-7",
    **fields: Any,
) -> qbxml.PurchaseOrderAddRq:
    if not lines:
        lines = (
            qbxml.PurchaseOrderLineAdd(
                item_ref=qbxml.Ref(full_name="03-300 Concrete"),
                desc="Footings",
                amount=D("50000.00"),
                customer_ref=qbxml.Ref(full_name=JOB),
                other1="cc:11",
                other2="line:1",
            ),
            qbxml.PurchaseOrderLineAdd(
                item_ref=qbxml.Ref(full_name="05-100 Steel"),
                desc="Slab",
                amount=D("25000.50"),
                customer_ref=qbxml.Ref(full_name=JOB),
            ),
        )
    return qbxml.PurchaseOrderAddRq(
        request_id="po",
        purchase_order_add=qbxml.PurchaseOrderAdd(
            vendor_ref=qbxml.Ref(full_name=vendor),
            ref_number=ref,
            memo="Concrete",
            purchase_order_line_add_or_purchase_order_line_group_add=list(lines),
            **fields,
        ),
    )


def po_lines(po: Any) -> list[Any]:
    return list(po.purchase_order_line_ret_or_purchase_order_line_group_ret)


# -- seeding helpers ------------------------------------------------------------------------------


def test_seeding_helpers_add_jobs_and_items_and_refuse_unknown_names(qb: FakeQuickBooks) -> None:
    parent = qb.find("Customer", "Harbor Health")
    job = qb.find("Customer", JOB)
    assert parent is not None
    assert isinstance(job, qbxml.CustomerRet)
    assert job.parent_ref == qbxml.Ref(list_id=parent.list_id, full_name="Harbor Health")  # type: ignore[attr-defined]
    second = qb.add_job("Pier 9", parent="Harbor Health")
    assert (second.full_name, second.sublevel) == ("Harbor Health:Pier 9", 1)
    assert len([c for c in qb.lists["Customer"].values() if c.parent_ref is None]) == 1  # type: ignore[attr-defined]
    item = qb.add_item_service("09-900 Paint")
    assert item.sales_or_purchase is not None
    assert item.sales_or_purchase.account_ref == qbxml.Ref(full_name="Job Costs")
    with pytest.raises(ValueError, match="already in use"):
        qb.add_item_service("09-900 PAINT")
    with pytest.raises(ValueError, match="Nobody"):
        qb.add_bill("Nobody", [(None, D("1.00"), None)])
    with pytest.raises(ValueError, match="Item named '99 Nothing'"):
        qb.add_bill("Acme Concrete", [("99 Nothing", D("1.00"), None)])
    with pytest.raises(ValueError, match="Customer named 'No Job'"):
        qb.add_check("Acme Concrete", [(None, D("1.00"), "No Job")])
    with pytest.raises(TypeError, match="Decimal"):
        qb.add_bill("Acme Concrete", [(None, 1.5, None)])  # type: ignore[list-item]
    assert qb.bills == {}
    assert qb.checks == {}


# -- purchase orders ------------------------------------------------------------------------------


def test_purchase_order_add_resolves_references_and_totals(qb: FakeQuickBooks) -> None:
    rs = one(qb, po_add())
    assert (rs.request_id, rs.status_code) == ("po", 0)
    po = rs.purchase_order_ret
    assert po.txn_id in qb.purchase_orders
    assert (po.ref_number, po.memo, po.txn_number) == ("SC-7", "Concrete", 1)
    assert po.edit_sequence
    assert po.time_created == po.time_modified
    assert po.total_amount == D("75000.50")
    assert po.vendor_ref.list_id == qb.vendors[0].list_id
    first, second = po_lines(po)
    concrete = qb.find("ItemService", "03-300 Concrete")
    job = qb.find("Customer", JOB)
    assert first.item_ref == qbxml.Ref(list_id=concrete.list_id, full_name="03-300 Concrete")  # type: ignore[union-attr]
    assert first.customer_ref == qbxml.Ref(list_id=job.list_id, full_name=JOB)  # type: ignore[union-attr]
    assert (first.desc, first.amount, first.other1, first.other2) == (
        "Footings",
        D("50000.00"),
        "cc:11",
        "line:1",
    )
    assert (second.desc, second.amount, second.other2) == ("Slab", D("25000.50"), None)
    assert first.txn_line_id != second.txn_line_id
    assert repr(qb).endswith("Bill=0, PurchaseOrder=1)")


def test_purchase_order_quantity_times_rate_makes_the_amount(qb: FakeQuickBooks) -> None:
    line = qbxml.PurchaseOrderLineAdd(
        item_ref=qbxml.Ref(full_name="05-100 Steel"), quantity=D("3"), rate=D("12.50")
    )
    po = one(qb, po_add("Baker Steel", line)).purchase_order_ret
    assert po_lines(po)[0].amount == D("37.50")
    assert po.total_amount == D("37.50")


@pytest.mark.parametrize(
    ("vendor", "line", "named"),
    [
        ("Nobody", qbxml.PurchaseOrderLineAdd(amount=D("1.00")), 'Vendor "Nobody"'),
        (
            "Acme Concrete",
            qbxml.PurchaseOrderLineAdd(item_ref=qbxml.Ref(full_name="99 Nothing")),
            'Item "99 Nothing"',
        ),
        (
            "Acme Concrete",
            qbxml.PurchaseOrderLineAdd(customer_ref=qbxml.Ref(list_id="80009999-1")),
            'Customer "80009999-1"',
        ),
    ],
)
def test_purchase_order_unknown_references_are_3140(
    qb: FakeQuickBooks, vendor: str, line: qbxml.PurchaseOrderLineAdd, named: str
) -> None:
    rs = one(qb, po_add(vendor, line))
    assert (rs.status_code, rs.status_severity) == (3140, "Error")
    assert rs.status.retry == qbxml.RetryHint.WAIT_FOR_DEPENDENCY
    assert named in rs.status_message
    assert "Purchase Order" in rs.status_message
    assert rs.purchase_order_ret is None
    assert qb.purchase_orders == {}


def test_purchase_order_group_lines_are_not_implemented(qb: FakeQuickBooks) -> None:
    group = qbxml.PurchaseOrderLineGroupAdd(item_group_ref=qbxml.Ref(full_name="Kit"))
    rs = one(qb, po_add("Acme Concrete", group))  # type: ignore[arg-type]
    assert rs.status_code == 1030
    assert "PurchaseOrderLineGroupAdd" in rs.status_message


def test_purchase_order_query_filters_and_line_items(qb: FakeQuickBooks) -> None:
    first = one(qb, po_add(ref="SC-1")).purchase_order_ret
    second = one(qb, po_add("Baker Steel", ref="SC-2")).purchase_order_ret
    by_id = one(qb, qbxml.PurchaseOrderQueryRq(txn_id=[second.txn_id]))
    assert [p.txn_id for p in by_id.purchase_order_ret] == [second.txn_id]
    assert po_lines(by_id.purchase_order_ret[0]) == []  # lines only with IncludeLineItems
    with_lines = one(qb, qbxml.PurchaseOrderQueryRq(txn_id=[first.txn_id], include_line_items=True))
    assert [line.desc for line in po_lines(with_lines.purchase_order_ret[0])] == [
        "Footings",
        "Slab",
    ]
    by_ref = one(qb, qbxml.PurchaseOrderQueryRq(ref_number=["sc-1"]))
    assert [p.txn_id for p in by_ref.purchase_order_ret] == [first.txn_id]
    vendor = qbxml.EntityFilter(full_name=["baker steel"])
    by_vendor = one(qb, qbxml.PurchaseOrderQueryRq(entity_filter=vendor))
    assert [p.ref_number for p in by_vendor.purchase_order_ret] == ["SC-2"]
    by_list_id = qbxml.EntityFilter(list_id=[qb.vendors[0].list_id])
    assert [
        p.ref_number
        for p in one(qb, qbxml.PurchaseOrderQueryRq(entity_filter=by_list_id)).purchase_order_ret
    ] == ["SC-1"]
    window = qbxml.ModifiedDateRangeFilter(from_modified_date=second.time_modified)
    since = one(qb, qbxml.PurchaseOrderQueryRq(modified_date_range_filter=window))
    assert [p.ref_number for p in since.purchase_order_ret] == ["SC-2"]
    nothing = one(qb, qbxml.PurchaseOrderQueryRq(ref_number=["SC-404"]))
    assert (nothing.status_code, nothing.purchase_order_ret) == (1, ())


def test_purchase_order_mod_adds_keeps_changes_and_deletes_lines(qb: FakeQuickBooks) -> None:
    po = one(qb, po_add()).purchase_order_ret
    footings, slab = po_lines(po)
    mod = qbxml.PurchaseOrderModRq(
        request_id="mod",
        purchase_order_mod=qbxml.PurchaseOrderMod(
            txn_id=po.txn_id,
            edit_sequence=po.edit_sequence,
            memo="Concrete, revised",
            purchase_order_line_mod_or_purchase_order_line_group_mod=[
                qbxml.PurchaseOrderLineMod(txn_line_id=footings.txn_line_id),
                qbxml.PurchaseOrderLineMod(
                    txn_line_id="-1",
                    item_ref=qbxml.Ref(full_name="05-100 Steel"),
                    desc="CO-2: Rebar",
                    amount=D("1200.00"),
                    customer_ref=qbxml.Ref(full_name=JOB),
                    other2="pcco:3001",
                ),
            ],
        ),
    )
    rs = one(qb, mod)
    assert (rs.request_id, rs.status_code) == ("mod", 0)
    new = rs.purchase_order_ret
    lines = po_lines(new)
    # The slab line was omitted from the Mod, so QuickBooks deleted it.
    assert [line.desc for line in lines] == ["Footings", "CO-2: Rebar"]
    assert lines[0] == footings  # kept unchanged, same TxnLineID
    assert lines[1].txn_line_id not in {"-1", footings.txn_line_id, slab.txn_line_id}
    assert lines[1].item_ref.full_name == "05-100 Steel"
    assert lines[1].other2 == "pcco:3001"
    assert (new.memo, new.ref_number, new.total_amount) == (
        "Concrete, revised",
        "SC-7",
        D("51200.00"),
    )
    assert new.edit_sequence != po.edit_sequence
    assert new.time_modified > po.time_modified
    assert qb.purchase_orders[po.txn_id] == new

    stale = one(qb, mod)  # the old EditSequence again
    assert (stale.status_code, stale.status.retry) == (3200, qbxml.RetryHint.REFRESH_AND_RETRY)

    change = qbxml.PurchaseOrderModRq(
        purchase_order_mod=qbxml.PurchaseOrderMod(
            txn_id=po.txn_id,
            edit_sequence=new.edit_sequence,
            purchase_order_line_mod_or_purchase_order_line_group_mod=[
                qbxml.PurchaseOrderLineMod(txn_line_id=footings.txn_line_id, amount=D("49000.00")),
                qbxml.PurchaseOrderLineMod(txn_line_id=lines[1].txn_line_id),
            ],
        )
    )
    changed = one(qb, change).purchase_order_ret
    assert [line.amount for line in po_lines(changed)] == [D("49000.00"), D("1200.00")]
    assert po_lines(changed)[0].desc == "Footings"  # fields not given are kept
    assert changed.total_amount == D("50200.00")

    header_only = qbxml.PurchaseOrderModRq(
        purchase_order_mod=qbxml.PurchaseOrderMod(
            txn_id=po.txn_id, edit_sequence=changed.edit_sequence, ref_number="SC-7A"
        )
    )
    renamed = one(qb, header_only).purchase_order_ret
    assert renamed.ref_number == "SC-7A"
    assert len(po_lines(renamed)) == 2  # no line Mods: lines untouched


def test_purchase_order_mod_errors(qb: FakeQuickBooks) -> None:
    po = one(qb, po_add()).purchase_order_ret

    def mod(**fields: Any) -> qbxml.PurchaseOrderModRq:
        values = {"txn_id": po.txn_id, "edit_sequence": po.edit_sequence, **fields}
        return qbxml.PurchaseOrderModRq(purchase_order_mod=qbxml.PurchaseOrderMod(**values))

    assert one(qb, mod(txn_id="FFFF-1")).status_code == 3120
    unknown_line = [qbxml.PurchaseOrderLineMod(txn_line_id="FFFF-1")]
    assert (
        one(
            qb, mod(purchase_order_line_mod_or_purchase_order_line_group_mod=unknown_line)
        ).status_code
        == 3120
    )
    bad_item = [
        qbxml.PurchaseOrderLineMod(txn_line_id="-1", item_ref=qbxml.Ref(full_name="99 Nothing"))
    ]
    assert (
        one(qb, mod(purchase_order_line_mod_or_purchase_order_line_group_mod=bad_item)).status_code
        == 3140
    )
    assert one(qb, mod(vendor_ref=qbxml.Ref(full_name="Nobody"))).status_code == 3140
    qb.lock(po.txn_id)
    assert one(qb, mod(memo="x")).status_code == 3170
    qb.unlock(po.txn_id)
    assert qb.purchase_orders[po.txn_id].edit_sequence == po.edit_sequence  # nothing changed
    assert one(qb, mod(memo="x")).status_code == 0


def test_purchase_order_query_iterates(qb: FakeQuickBooks) -> None:
    for n in range(5):
        qb.add_purchase_order(
            "Acme Concrete", [("03-300 Concrete", D("10.00"), JOB)], ref_number=f"SC-{n}"
        )
    rs = one(
        qb,
        qbxml.PurchaseOrderQueryRq(
            request_id="it", iterator=qbxml.Iterator.START, max_returned=2, include_line_items=True
        ),
    )
    seen = [p.ref_number for p in rs.purchase_order_ret]
    assert rs.iterator_remaining_count == 3
    while rs.iterator_remaining_count:
        rs = one(
            qb,
            qbxml.PurchaseOrderQueryRq(
                request_id="it",
                iterator=qbxml.Iterator.CONTINUE,
                iterator_id=rs.iterator_id,
                max_returned=2,
            ),
        )
        assert all(len(po_lines(p)) == 1 for p in rs.purchase_order_ret)  # as the Start asked
        seen += [p.ref_number for p in rs.purchase_order_ret]
    assert seen == [f"SC-{n}" for n in range(5)]


# -- estimates ------------------------------------------------------------------------------------


def estimate_add(customer: str = JOB, item: str = "03-300 Concrete") -> qbxml.EstimateAddRq:
    return qbxml.EstimateAddRq(
        estimate_add=qbxml.EstimateAdd(
            customer_ref=qbxml.Ref(full_name=customer),
            ref_number="E-1",
            estimate_line_add_or_estimate_line_group_add=[
                qbxml.EstimateLineAdd(
                    item_ref=qbxml.Ref(full_name=item), desc="Footings", amount=D("900.00")
                ),
                qbxml.EstimateLineAdd(
                    item_ref=qbxml.Ref(full_name="05-100 Steel"), amount=D("100.25")
                ),
            ],
        )
    )


def test_estimate_add_query_and_mod(qb: FakeQuickBooks) -> None:
    est = one(qb, estimate_add()).estimate_ret
    assert est.customer_ref == qbxml.Ref(list_id=qb.find("Customer", JOB).list_id, full_name=JOB)  # type: ignore[union-attr]
    assert (est.total_amount, est.subtotal, est.is_active) == (D("1000.25"), D("1000.25"), True)
    lines = est.estimate_line_ret_or_estimate_line_group_ret
    assert [(line.desc, line.amount) for line in lines] == [
        ("Footings", D("900.00")),
        (None, D("100.25")),
    ]
    assert lines[0].item_ref.full_name == "03-300 Concrete"
    assert est.txn_id in qb.estimates
    other = qb.add_estimate("Harbor Health", [("05-100 Steel", D("5.00"))], ref_number="E-2")
    assert other.total_amount == D("5.00")

    everything = one(qb, qbxml.EstimateQueryRq(include_line_items=True))
    assert [e.ref_number for e in everything.estimate_ret] == ["E-1", "E-2"]
    assert len(everything.estimate_ret[0].estimate_line_ret_or_estimate_line_group_ret) == 2
    job_only = one(qb, qbxml.EstimateQueryRq(entity_filter=qbxml.EntityFilter(full_name=[JOB])))
    assert [e.txn_id for e in job_only.estimate_ret] == [est.txn_id]
    assert job_only.estimate_ret[0].estimate_line_ret_or_estimate_line_group_ret == ()
    children = qbxml.EntityFilter(full_name_with_children="Harbor Health")
    assert len(one(qb, qbxml.EstimateQueryRq(entity_filter=children)).estimate_ret) == 2
    window = qbxml.ModifiedDateRangeFilter(from_modified_date=other.time_modified)
    assert [
        e.ref_number
        for e in one(qb, qbxml.EstimateQueryRq(modified_date_range_filter=window)).estimate_ret
    ] == ["E-2"]

    mod = qbxml.EstimateModRq(
        estimate_mod=qbxml.EstimateMod(
            txn_id=est.txn_id,
            edit_sequence=est.edit_sequence,
            estimate_line_mod_or_estimate_line_group_mod=[
                qbxml.EstimateLineMod(txn_line_id=lines[1].txn_line_id, amount=D("200.00"))
            ],
        )
    )
    modded = one(qb, mod).estimate_ret
    assert [line.amount for line in modded.estimate_line_ret_or_estimate_line_group_ret] == [
        D("200.00")
    ]
    assert modded.total_amount == D("200.00")
    assert one(qb, mod).status_code == 3200


@pytest.mark.parametrize(("customer", "item"), [("Nobody", "03-300 Concrete"), (JOB, "99 X")])
def test_estimate_unknown_references_are_3140(qb: FakeQuickBooks, customer: str, item: str) -> None:
    rs = one(qb, estimate_add(customer, item))
    assert rs.status_code == 3140
    assert qb.estimates == {}


# -- bills ----------------------------------------------------------------------------------------


def test_bill_linked_to_a_purchase_order(qb: FakeQuickBooks) -> None:
    po = one(qb, po_add()).purchase_order_ret
    rq = qbxml.BillAddRq(
        bill_add=qbxml.BillAdd(
            vendor_ref=qbxml.Ref(full_name="Acme Concrete"),
            ref_number="INV-1",
            link_to_txn_id=[po.txn_id],
            item_line_add_or_item_group_line_add=[
                qbxml.ItemLineAdd(
                    item_ref=qbxml.Ref(full_name="03-300 Concrete"),
                    amount=D("20000.00"),
                    customer_ref=qbxml.Ref(full_name=JOB),
                )
            ],
        )
    )
    bill = one(qb, rq).bill_ret
    (link,) = bill.linked_txn
    assert (link.txn_id, link.txn_type, link.ref_number) == (
        po.txn_id,
        qbxml.TxnType.PURCHASE_ORDER,
        "SC-7",
    )
    assert bill.item_line_ret_or_item_group_line_ret[0].customer_ref.full_name == JOB
    plain = one(qb, qbxml.BillQueryRq(txn_id=[bill.txn_id]))
    assert plain.bill_ret[0].linked_txn == ()  # linked transactions only when asked for
    linked = one(qb, qbxml.BillQueryRq(txn_id=[bill.txn_id], include_linked_txns=True))
    assert [t.txn_id for t in linked.bill_ret[0].linked_txn] == [po.txn_id]
    # The purchase order was received against: it names the bill and has a new EditSequence.
    po_now = one(qb, qbxml.PurchaseOrderQueryRq(txn_id=[po.txn_id], include_linked_txns=True))
    (back,) = po_now.purchase_order_ret[0].linked_txn
    assert (back.txn_id, back.txn_type) == (bill.txn_id, qbxml.TxnType.BILL)
    assert po_now.purchase_order_ret[0].edit_sequence != po.edit_sequence

    unknown = one(qb, attrs_evolve_bill(rq, link_to_txn_id=["FFFF-1"]))
    assert (unknown.status_code, unknown.status.retry) == (
        3140,
        qbxml.RetryHint.WAIT_FOR_DEPENDENCY,
    )
    other_vendor = one(
        qb, attrs_evolve_bill(rq, vendor_ref=qbxml.Ref(full_name="Baker Steel"), ref_number="X")
    )
    assert other_vendor.status_code == 3210
    assert len(qb.bills) == 1

    helper = qb.add_bill(
        "Acme Concrete", [(None, D("10.00"), JOB)], ref_number="INV-2", link_to_po=po.txn_id
    )
    assert [t.txn_id for t in helper.linked_txn] == [po.txn_id]
    assert helper.expense_line_ret[0].account_ref == qbxml.Ref(full_name="Job Costs")


def attrs_evolve_bill(rq: qbxml.BillAddRq, **changes: Any) -> qbxml.BillAddRq:
    import attrs

    return qbxml.BillAddRq(bill_add=attrs.evolve(rq.bill_add, **changes))


def test_bill_unknown_job_is_3140(qb: FakeQuickBooks) -> None:
    rq = qbxml.BillAddRq(
        bill_add=qbxml.BillAdd(
            vendor_ref=qbxml.Ref(full_name="Acme Concrete"),
            expense_line_add=[
                qbxml.ExpenseLineAdd(amount=D("1.00"), customer_ref=qbxml.Ref(full_name=JOB))
            ],
            item_line_add_or_item_group_line_add=[
                qbxml.ItemLineAdd(
                    item_ref=qbxml.Ref(full_name="03-300 Concrete"),
                    amount=D("1.00"),
                    customer_ref=qbxml.Ref(full_name="No Job"),
                )
            ],
        )
    )
    rs = one(qb, rq)
    assert rs.status_code == 3140
    assert 'Customer "No Job"' in rs.status_message
    assert qb.bills == {}


def test_bill_mod_header_and_lines(qb: FakeQuickBooks) -> None:
    bill = qb.add_bill(
        "Acme Concrete",
        [(None, D("100.00"), JOB), (None, D("50.00"), None), ("03-300 Concrete", D("25.00"), JOB)],
        ref_number="INV-1",
    )
    assert (bill.amount_due, bill.open_amount) == (D("175.00"), D("175.00"))
    keep, _drop = bill.expense_line_ret
    mod = qbxml.BillModRq(
        bill_mod=qbxml.BillMod(
            txn_id=bill.txn_id or "",
            edit_sequence=bill.edit_sequence or "",
            memo="Checked",
            expense_line_mod=[
                qbxml.ExpenseLineMod(txn_line_id=keep.txn_line_id, amount=D("90.00")),
                qbxml.ExpenseLineMod(
                    txn_line_id="-1",
                    account_ref=qbxml.Ref(full_name="Job Costs"),
                    amount=D("5.00"),
                    customer_ref=qbxml.Ref(full_name=JOB),
                ),
            ],
        )
    )
    new = one(qb, mod).bill_ret
    assert new.memo == "Checked"
    assert [line.amount for line in new.expense_line_ret] == [D("90.00"), D("5.00")]
    assert new.expense_line_ret[0].customer_ref.full_name == JOB  # kept from the old line
    # Item lines were not named in the Mod: they stay.
    assert [line.amount for line in new.item_line_ret_or_item_group_line_ret] == [D("25.00")]
    assert (new.amount_due, new.open_amount) == (D("120.00"), D("120.00"))
    assert one(qb, mod).status_code == 3200
    clear = qbxml.BillModRq(
        bill_mod=qbxml.BillMod(
            txn_id=bill.txn_id or "", edit_sequence=new.edit_sequence, clear_item_lines=True
        )
    )
    cleared = one(qb, clear).bill_ret
    assert cleared.item_line_ret_or_item_group_line_ret == ()
    assert cleared.amount_due == D("95.00")

    changed = qb.modify_bill(bill.txn_id or "", memo="By hand")
    assert changed.memo == "By hand"
    assert changed.edit_sequence != cleared.edit_sequence
    assert qb.bills[bill.txn_id or ""] == changed


def test_bill_query_entity_filter(qb: FakeQuickBooks) -> None:
    qb.add_bill("Acme Concrete", [(None, D("1.00"), None)], ref_number="A-1")
    qb.add_bill("Baker Steel", [(None, D("2.00"), None)], ref_number="B-1")
    vendor = qbxml.EntityFilter(list_id=[qb.vendors[1].list_id])
    assert [b.ref_number for b in one(qb, qbxml.BillQueryRq(entity_filter=vendor)).bill_ret] == [
        "B-1"
    ]


# -- bill payments --------------------------------------------------------------------------------


def pay(
    bill_id: str, amount: str | None, vendor: str = "Acme Concrete"
) -> qbxml.BillPaymentCheckAddRq:
    return qbxml.BillPaymentCheckAddRq(
        bill_payment_check_add=qbxml.BillPaymentCheckAdd(
            payee_entity_ref=qbxml.Ref(full_name=vendor),
            bank_account_ref=qbxml.Ref(full_name="Checking"),
            txn_date=datetime.date(2026, 3, 10),
            ref_number="10455",
            memo="Pay app 1",
            applied_to_txn_add=[
                qbxml.AppliedToTxnAdd(
                    txn_id=bill_id, payment_amount=None if amount is None else D(amount)
                )
            ],
        )
    )


def test_bill_payment_reduces_the_open_amount(qb: FakeQuickBooks) -> None:
    bill = qb.add_bill("Acme Concrete", [(None, D("150.00"), JOB)], ref_number="INV-1")
    txn_id = bill.txn_id or ""
    payment = one(qb, pay(txn_id, "100.00")).bill_payment_check_ret
    assert (payment.amount, payment.ref_number, payment.memo, payment.txn_date) == (
        D("100.00"),
        "10455",
        "Pay app 1",
        datetime.date(2026, 3, 10),
    )
    assert payment.payee_entity_ref.list_id == qb.vendors[0].list_id
    assert payment.bank_account_ref == qbxml.Ref(full_name="Checking")
    (applied,) = payment.applied_to_txn_ret
    assert (applied.txn_id, applied.txn_type, applied.ref_number, applied.amount) == (
        txn_id,
        qbxml.TxnType.BILL,
        "INV-1",
        D("100.00"),
    )
    after = qb.bills[txn_id]
    assert (after.open_amount, after.amount_due, after.is_paid) == (D("50.00"), D("150.00"), False)
    assert after.time_modified > bill.time_modified  # an incremental read sees the change

    assert one(qb, pay(txn_id, "50.01")).status_code == 3210  # more than is open
    assert one(qb, pay("FFFF-1", "1.00")).status_code == 3140
    assert one(qb, pay(txn_id, "1.00", vendor="Baker Steel")).status_code == 3140
    assert one(qb, pay(txn_id, "1.00", vendor="Nobody")).status_code == 3140
    assert qb.bills[txn_id].open_amount == D("50.00")

    open_bill = qb.add_bill("Acme Concrete", [(None, D("7.00"), None)], ref_number="INV-2")
    rest = qb.add_bill_payment("Acme Concrete", {txn_id: D("50.00")}, ref_number="10456")
    assert rest.amount == D("50.00")
    assert (qb.bills[txn_id].open_amount, qb.bills[txn_id].is_paid) == (D("0.00"), True)
    paid = one(qb, qbxml.BillQueryRq(paid_status=qbxml.PaidStatus.PAID_ONLY))
    assert [b.txn_id for b in paid.bill_ret] == [txn_id]
    unpaid = one(qb, qbxml.BillQueryRq(paid_status=qbxml.PaidStatus.NOT_PAID_ONLY))
    assert [b.txn_id for b in unpaid.bill_ret] == [open_bill.txn_id]
    links = one(qb, qbxml.BillQueryRq(txn_id=[txn_id], include_linked_txns=True)).bill_ret[0]
    assert [(t.txn_type, t.amount) for t in links.linked_txn] == [
        (qbxml.TxnType.BILL_PAYMENT_CHECK, D("-100.00")),
        (qbxml.TxnType.BILL_PAYMENT_CHECK, D("-50.00")),
    ]

    listed = one(qb, qbxml.BillPaymentCheckQueryRq(include_line_items=True))
    assert [p.ref_number for p in listed.bill_payment_check_ret] == ["10455", "10456"]
    assert listed.bill_payment_check_ret[0].applied_to_txn_ret[0].txn_id == txn_id
    bare = one(qb, qbxml.BillPaymentCheckQueryRq(ref_number=["10456"]))
    assert [p.txn_id for p in bare.bill_payment_check_ret] == [rest.txn_id]
    assert bare.bill_payment_check_ret[0].applied_to_txn_ret == ()

    qb.delete_txn("BillPaymentCheck", rest.txn_id or "")  # the bill is open again
    assert (qb.bills[txn_id].open_amount, qb.bills[txn_id].is_paid) == (D("50.00"), False)


def test_bill_payment_without_an_amount_pays_what_is_open(qb: FakeQuickBooks) -> None:
    bill = qb.add_bill("Acme Concrete", [(None, D("80.00"), None)])
    payment = one(qb, pay(bill.txn_id or "", None)).bill_payment_check_ret
    assert payment.amount == D("80.00")
    assert qb.bills[bill.txn_id or ""].is_paid is True


# -- checks and credit card charges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "query"),
    [("Check", qbxml.CheckQueryRq), ("CreditCardCharge", qbxml.CreditCardChargeQueryRq)],
)
def test_checks_and_card_charges_by_modified_date_and_iterator(
    qb: FakeQuickBooks, kind: str, query: Any
) -> None:
    add = qb.add_check if kind == "Check" else qb.add_credit_card_charge
    table = qb.checks if kind == "Check" else qb.credit_card_charges
    field = "check_ret" if kind == "Check" else "credit_card_charge_ret"
    made = [
        add(
            "Acme Concrete",
            [("03-300 Concrete", D(f"{n}.00"), JOB), (None, D("0.50"), None)],
            ref_number=f"R-{n}",
        )
        for n in range(1, 6)
    ]
    assert [t.txn_id for t in made] == list(table)
    first = made[0]
    assert (first.amount, first.payee_entity_ref.full_name) == (D("1.50"), "Acme Concrete")  # type: ignore[union-attr]
    assert first.item_line_ret_or_item_group_line_ret[0].customer_ref.full_name == JOB  # type: ignore[union-attr]
    assert first.account_ref == qbxml.Ref(
        full_name="Checking" if kind == "Check" else "Credit Card"
    )

    window = qbxml.ModifiedDateRangeFilter(from_modified_date=made[2].time_modified)
    since = one(qb, query(modified_date_range_filter=window))
    assert [t.ref_number for t in getattr(since, field)] == ["R-3", "R-4", "R-5"]
    upto = qbxml.ModifiedDateRangeFilter(to_modified_date=made[1].time_modified)
    assert [
        t.ref_number for t in getattr(one(qb, query(modified_date_range_filter=upto)), field)
    ] == [
        "R-1",
        "R-2",
    ]
    changed = qb.modify_txn(kind, made[0].txn_id, memo="corrected")
    assert changed.edit_sequence != made[0].edit_sequence
    again = one(qb, query(modified_date_range_filter=window))
    assert [t.ref_number for t in getattr(again, field)] == ["R-1", "R-3", "R-4", "R-5"]
    assert getattr(again, field)[0].memo == "corrected"

    rs = one(qb, query(request_id="it", iterator=qbxml.Iterator.START, max_returned=2))
    assert (len(getattr(rs, field)), rs.iterator_remaining_count) == (2, 3)
    seen = [t.txn_id for t in getattr(rs, field)]
    assert getattr(rs, field)[0].expense_line_ret == ()  # no IncludeLineItems
    while rs.iterator_remaining_count:
        rs = one(
            qb,
            query(
                request_id="it",
                iterator=qbxml.Iterator.CONTINUE,
                iterator_id=rs.iterator_id,
                max_returned=2,
            ),
        )
        assert rs.request_id == "it"
        assert all(t.expense_line_ret == () for t in getattr(rs, field))
        seen += [t.txn_id for t in getattr(rs, field)]
    assert seen == list(table)
    vendor = qbxml.EntityFilter(full_name=["Baker Steel"])
    assert one(qb, query(entity_filter=vendor)).status_code == 1


# -- deletion -------------------------------------------------------------------------------------


def one_of_each(qb: FakeQuickBooks) -> dict[str, Any]:
    po = qb.add_purchase_order(
        "Acme Concrete", [("03-300 Concrete", D("9.00"), JOB)], ref_number="P"
    )
    bill = qb.add_bill("Acme Concrete", [(None, D("9.00"), JOB)], ref_number="B")
    return {
        "PurchaseOrder": po,
        "Estimate": qb.add_estimate(JOB, [("03-300 Concrete", D("9.00"))], ref_number="E"),
        "Bill": bill,
        "BillPaymentCheck": qb.add_bill_payment(
            "Acme Concrete", [(bill.txn_id, D("4.00"))], ref_number="BP"
        ),
        "Check": qb.add_check("Acme Concrete", [(None, D("9.00"), JOB)], ref_number="C"),
        "CreditCardCharge": qb.add_credit_card_charge(
            "Acme Concrete", [(None, D("9.00"), JOB)], ref_number="CC"
        ),
    }


@pytest.mark.parametrize(
    "kind", ["Bill", "PurchaseOrder", "Estimate", "BillPaymentCheck", "Check", "CreditCardCharge"]
)
def test_txn_del_of_each_type_shows_in_txn_deleted_query(qb: FakeQuickBooks, kind: str) -> None:
    txns = one_of_each(qb)
    txn = txns[kind]
    delete = qbxml.TxnDelRq(request_id="d", txn_del_type=qbxml.TxnDelType(kind), txn_id=txn.txn_id)
    qb.lock(txn.txn_id, code=3175)
    assert one(qb, delete).status_code == 3175
    qb.unlock(txn.txn_id)
    rs = one(qb, delete)
    assert (rs.request_id, rs.status_code, rs.txn_id, rs.ref_number) == (
        "d",
        0,
        txn.txn_id,
        txn.ref_number,
    )
    assert rs.txn_del_type == qbxml.TxnDelType(kind)
    assert all(txn.txn_id not in qb._table(k) for k in txns)
    assert one(qb, delete).status_code == 3120
    gone = one(qb, qbxml.TxnDeletedQueryRq(txn_del_type=[qbxml.TxnDelType(kind)]))
    assert [(r.txn_id, r.txn_del_type, r.ref_number) for r in gone.txn_deleted_ret] == [
        (txn.txn_id, qbxml.TxnDelType(kind), txn.ref_number)
    ]
    assert qb.deleted_txns[-1].time_created == txn.time_created
    others = [qbxml.TxnDelType(k) for k in txns if k != kind]
    assert one(qb, qbxml.TxnDeletedQueryRq(txn_del_type=others)).status_code == 1


def test_txn_del_with_the_wrong_type_is_not_found(qb: FakeQuickBooks) -> None:
    check = qb.add_check("Acme Concrete", [(None, D("1.00"), None)])
    wrong = qbxml.TxnDelRq(txn_del_type=qbxml.TxnDelType.BILL, txn_id=check.txn_id or "")
    assert one(qb, wrong).status_code == 3120
    invoice = qbxml.TxnDelRq(txn_del_type=qbxml.TxnDelType.INVOICE, txn_id=check.txn_id or "")
    assert one(qb, invoice).status_code == 3120  # a type the fake does not keep
    assert check.txn_id in qb.checks


def test_deleting_a_bill_unlinks_its_purchase_order(qb: FakeQuickBooks) -> None:
    po = qb.add_purchase_order("Acme Concrete", [(None, D("5.00"), JOB)])
    bill = qb.add_bill("Acme Concrete", [(None, D("5.00"), JOB)], link_to_po=po.txn_id)
    assert [t.txn_id for t in qb.purchase_orders[po.txn_id or ""].linked_txn] == [bill.txn_id]
    deleted = qb.delete_txn("Bill", bill.txn_id or "")
    assert deleted.txn_del_type == qbxml.TxnDelType.BILL
    assert qb.purchase_orders[po.txn_id or ""].linked_txn == ()
    with pytest.raises(KeyError):
        qb.delete_txn("Bill", bill.txn_id or "")


def test_still_unimplemented_requests_answer_1030(qb: FakeQuickBooks) -> None:
    rs = one(qb, qbxml.VendorCreditQueryRq())
    assert rs.status_code == 1030
    assert "FakeQuickBooks does not implement VendorCreditQueryRq" in rs.status_message
