"""The default mappings: one pure function per feature-map row, each a record or a Skip."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import attrs
import pytest

from qbprocore import procore, qbxml, sync

E = sync.Entity
REFS = sync.RefTable(
    {
        E.VENDOR: {"V-1": 501, "V-2": 502},
        E.PROJECT: {"J-1": 901, "J-2": 902},
        E.COST_CODE: {"I-1": 11, "I-2": 12},
        E.COMMITMENT: {"PO-1": 701},
        E.INVOICE: {"B-1": 801, "B-9": 809},
        E.DIRECT_COST: {"C-1|J-1": 1001, "C-1|J-2": 1002},
    }
)
SETTINGS = sync.MappingSettings(
    item_account="Job Expenses",
    job_parent_customer="Owner LLC",
    bank_account="Checking",
    vendor_cost_codes={"V-1": 11},
)
CTX = sync.MappingContext(
    connection_id="c1",
    settings=SETTINGS,
    refs=REFS,
    company_country="US",
    line_item_type_ids={"Other": 4},
    vendor_commitments={502: 702},
    invoice_commitments={801: 701},
)


def mapped(result: object) -> object:
    assert isinstance(result, sync.Mapped), result
    return result.record


def skipped(result: object, code: str | None = None) -> sync.Skip:
    assert isinstance(result, sync.Skip), result
    if code is not None:
        assert result.code == code, result
    return result


def with_settings(**changes: object) -> sync.MappingContext:
    return attrs.evolve(CTX, settings=attrs.evolve(SETTINGS, **changes))


def test_settings_defaults_follow_the_market_leader() -> None:
    s = sync.MappingSettings()
    assert s.cost_type == "Other"
    assert s.item_types == frozenset({"ItemService"})
    assert s.skip_negative_invoices is True
    assert s.payment_import_countries == frozenset({"US"})
    assert s.sync_sub_jobs is False
    assert sync.MappingSettings.from_dict(SETTINGS.to_dict()) == SETTINGS
    with pytest.raises(TypeError, match="string"):
        sync.MappingSettings(payment_import_countries="US")


# -- cost codes → Service items ------------------------------------------------------------------


def test_cost_code_becomes_a_service_item() -> None:
    item = mapped(
        sync.cost_code_to_item(procore.CostCode(id=11, full_code="01-100", name="Demo"), CTX)
    )
    assert item == qbxml.ItemServiceAdd(
        name="01-100",
        sales_or_purchase=qbxml.SalesOrPurchase(
            desc="Demo", account_ref=qbxml.Ref(full_name="Job Expenses")
        ),
    )
    qbxml.dumps(qbxml.ItemServiceAddRq(request_id="1", item_service_add=item))  # schema-valid


def test_cost_code_without_item_account_is_skipped_with_advice() -> None:
    result = sync.cost_code_to_item(
        procore.CostCode(id=1, code="01"), sync.MappingContext(settings=sync.MappingSettings())
    )
    assert "MappingSettings.item_account" in skipped(result, "missing_setting").reason


def test_overlong_text_is_reported_never_silently_cut() -> None:
    code = procore.CostCode(id=11, full_code="0" * 35, name="Demo")
    skip = skipped(sync.cost_code_to_item(code, CTX), "text_too_long")
    assert skip.issues[0].field == "ItemServiceAdd.name"
    assert (skip.issues[0].limit, skip.issues[0].truncated) == (31, False)
    assert "35 characters, QuickBooks allows 31" in skip.reason
    result = sync.cost_code_to_item(code, with_settings(truncate_overlong_text=True))
    assert isinstance(result, sync.Mapped)
    assert result.record.name == "0" * 31
    assert result.issues[0].truncated
    assert result.issues[0].value == "0" * 35


# -- projects ↔ jobs ---------------------------------------------------------------------------


def test_project_becomes_a_job_under_the_parent_customer() -> None:
    project = procore.Project(
        id=901, name="Tower", active=True, start_date="2026-01-05", project_number="P-7"
    )
    job = mapped(sync.project_to_job(project, CTX))
    assert isinstance(job, qbxml.CustomerAdd)
    assert job.parent_ref == qbxml.Ref(full_name="Owner LLC")
    assert (job.name, job.job_status, job.job_start_date) == (
        "Tower",
        qbxml.JobStatus.IN_PROGRESS,
        dt.date(2026, 1, 5),
    )
    assert job.job_desc == "P-7"
    qbxml.dumps(qbxml.CustomerAddRq(request_id="1", customer_add=job))
    closed = mapped(sync.project_to_job(attrs.evolve(project, active=False), CTX))
    assert closed.job_status == qbxml.JobStatus.CLOSED  # type: ignore[attr-defined]
    skipped(
        sync.project_to_job(project, with_settings(job_parent_customer=None)), "missing_setting"
    )


def test_job_becomes_a_project_with_origin_id_and_edit_sequence() -> None:
    job = qbxml.CustomerRet(
        list_id="J-5",
        edit_sequence="1700000000",
        name="Tower",
        parent_ref=qbxml.Ref(list_id="C-1", full_name="Owner LLC"),
        sublevel=1,
        is_active=True,
    )
    project = mapped(sync.job_to_project(job, CTX))
    assert isinstance(project, procore.Project)
    assert (project.name, project.origin_id) == ("Tower", "J-5")
    assert json.loads(project.origin_data or "") == {"edit_sequence": "1700000000"}


def test_customers_and_sub_jobs_are_skipped_by_default() -> None:
    customer = qbxml.CustomerRet(list_id="C-1", name="Owner LLC", sublevel=0)
    assert (
        "Procore has no customers"
        in skipped(sync.job_to_project(customer, CTX), "not_a_job").reason
    )
    sub = qbxml.CustomerRet(
        list_id="J-6", name="Phase 2", parent_ref=qbxml.Ref(list_id="J-5"), sublevel=2
    )
    skipped(sync.job_to_project(sub, CTX), "sub_job")
    assert isinstance(sync.job_to_project(sub, with_settings(sync_sub_jobs=True)), sync.Mapped)


# -- vendors ↔ vendors ---------------------------------------------------------------------------


def test_procore_vendor_becomes_a_qb_vendor() -> None:
    vendor = procore.Vendor(
        id=501,
        name="Acme Concrete",
        address="1 Main St",
        city="Austin",
        state_code="TX",
        zip="78701",
        business_phone="555-0100",
        email_address="ap@acme.test",
    )
    record = mapped(sync.vendor_to_qb_vendor(vendor, CTX))
    assert isinstance(record, qbxml.VendorAdd)
    assert record.name == "Acme Concrete"
    assert record.vendor_address == qbxml.Address(
        addr1="1 Main St", city="Austin", state="TX", postal_code="78701"
    )
    qbxml.dumps(qbxml.VendorAddRq(request_id="1", vendor_add=record))
    skipped(sync.vendor_to_qb_vendor(procore.Vendor(id=1), CTX))


def test_qb_vendor_becomes_a_procore_vendor() -> None:
    vendor = qbxml.VendorRet(
        list_id="V-1",
        edit_sequence="42",
        name="ACME",
        company_name="Acme Concrete, Inc.",
        vendor_address=qbxml.Address(addr1="1 Main St", addr2="Suite 2", city="Austin"),
        is_active=True,
    )
    record = mapped(sync.qb_vendor_to_vendor(vendor, CTX))
    assert isinstance(record, procore.Vendor)
    assert (record.name, record.abbreviated_name, record.origin_id) == (
        "Acme Concrete, Inc.",
        "ACME",
        "V-1",
    )
    assert record.address == "1 Main St, Suite 2"
    assert record.to_api()["origin_data"] == '{"edit_sequence": "42"}'


# -- budgets → estimates -------------------------------------------------------------------------


def _budget(revision: str | None = None, cost_code_id: int = 11) -> sync.Budget:
    return sync.Budget(
        project=procore.Project(id=901, name="Tower"),
        line_items=(
            procore.BudgetLineItem(
                original_budget_amount="1000.10",
                cost_code={"id": cost_code_id, "name": "Demo", "full_code": "01-100"},
            ),
        ),
        revision=revision,
    )


def test_budget_and_modifications_become_estimates() -> None:
    estimate = mapped(sync.budget_to_estimate(_budget(), CTX))
    assert isinstance(estimate, qbxml.EstimateAdd)
    assert estimate.customer_ref == qbxml.Ref(list_id="J-1")
    [line] = estimate.estimate_line_add_or_estimate_line_group_add
    assert isinstance(line, qbxml.EstimateLineAdd)
    assert (line.item_ref, line.amount) == (qbxml.Ref(list_id="I-1"), Decimal("1000.10"))
    qbxml.dumps(qbxml.EstimateAddRq(request_id="1", estimate_add=estimate))
    modification = mapped(sync.budget_to_estimate(_budget(revision="BM-3"), CTX))
    assert modification.ref_number == "BM-3"  # type: ignore[attr-defined]


def test_budget_with_unsynced_cost_code_names_it() -> None:
    skip = skipped(sync.budget_to_estimate(_budget(cost_code_id=99), CTX), "missing_mapping")
    assert "01-100" in skip.reason


# -- commitments → purchase orders, change orders → new PO lines ---------------------------------


def _commitment(status: str = "Approved") -> procore.WorkOrderContract:
    return procore.WorkOrderContract.from_api(
        {
            "id": 701,
            "number": "SC-7",
            "title": "Concrete",
            "status": status,
            "vendor": {"id": 501},
            "project": {"id": 901},
            "line_items": [
                {"amount": "50000.00", "description": "Footings", "cost_code": {"id": 11}},
                {"amount": "25000.50", "description": "Slab", "cost_code": {"id": 12}},
            ],
        }
    )


def test_approved_commitment_becomes_a_purchase_order() -> None:
    po = mapped(sync.commitment_to_purchase_order(_commitment(), CTX))
    assert isinstance(po, qbxml.PurchaseOrderAdd)
    assert (po.vendor_ref, po.ref_number, po.memo) == (qbxml.Ref(list_id="V-1"), "SC-7", "Concrete")
    lines = po.purchase_order_line_add_or_purchase_order_line_group_add
    assert [line.amount for line in lines] == [Decimal("50000.00"), Decimal("25000.50")]  # type: ignore[union-attr]
    assert {line.customer_ref.list_id for line in lines} == {"J-1"}  # type: ignore[union-attr]
    qbxml.dumps(qbxml.PurchaseOrderAddRq(request_id="1", purchase_order_add=po))
    purchase_order = procore.PurchaseOrderContract.from_api(_commitment().to_api())
    assert isinstance(sync.commitment_to_purchase_order(purchase_order, CTX), sync.Mapped)


def test_draft_commitments_stay_in_procore() -> None:
    skip = skipped(sync.commitment_to_purchase_order(_commitment("Draft"), CTX), "status")
    assert "'Draft'" in skip.reason
    relaxed = with_settings(commitment_statuses={"approved", "draft"})
    assert isinstance(sync.commitment_to_purchase_order(_commitment("Draft"), relaxed), sync.Mapped)


def _po() -> qbxml.PurchaseOrderRet:
    return qbxml.PurchaseOrderRet(
        txn_id="PO-1",
        edit_sequence="7",
        ref_number="SC-7",
        purchase_order_line_ret_or_purchase_order_line_group_ret=[
            qbxml.PurchaseOrderLineRet(
                txn_line_id="L-1", amount=Decimal("50000.00"), customer_ref=qbxml.Ref(list_id="J-1")
            ),
            qbxml.PurchaseOrderLineRet(txn_line_id="L-2", amount=Decimal("25000.50")),
        ],
    )


def _change_order(status: str = "Approved") -> procore.CommitmentChangeOrder:
    return procore.CommitmentChangeOrder.from_api(
        {
            "id": 3001,
            "number": "CO-2",
            "status": status,
            "contract_id": 701,
            "line_items": [{"amount": "1200.00", "description": "Rebar", "cost_code": {"id": 12}}],
        }
    )


def test_change_order_adds_lines_and_keeps_existing_ones() -> None:
    mod = mapped(
        sync.change_order_to_po_lines(
            sync.ChangeOrderLines(change_order=_change_order(), purchase_order=_po()), CTX
        )
    )
    assert isinstance(mod, qbxml.PurchaseOrderMod)
    assert (mod.txn_id, mod.edit_sequence) == ("PO-1", "7")
    lines = mod.purchase_order_line_mod_or_purchase_order_line_group_mod
    # Existing lines are listed by id (a Mod deletes the lines it omits); the new one is -1.
    assert [line.txn_line_id for line in lines] == ["L-1", "L-2", "-1"]
    new = lines[-1]
    assert isinstance(new, qbxml.PurchaseOrderLineMod)
    assert (new.amount, new.desc, new.other2) == (Decimal("1200.00"), "CO CO-2: Rebar", "pcco:3001")
    assert new.customer_ref == qbxml.Ref(list_id="J-1")
    qbxml.dumps(qbxml.PurchaseOrderModRq(request_id="1", purchase_order_mod=mod))


def test_change_order_already_on_the_po_is_not_added_twice() -> None:
    po = _po()
    applied = attrs.evolve(
        po,
        purchase_order_line_ret_or_purchase_order_line_group_ret=[
            *po.purchase_order_line_ret_or_purchase_order_line_group_ret,
            qbxml.PurchaseOrderLineRet(txn_line_id="L-3", other2="pcco:3001"),
        ],
    )
    change = sync.ChangeOrderLines(change_order=_change_order(), purchase_order=applied)
    skipped(sync.change_order_to_po_lines(change, CTX), "already_applied")
    pending = sync.ChangeOrderLines(change_order=_change_order("Pending"), purchase_order=po)
    skipped(sync.change_order_to_po_lines(pending, CTX), "status")


# -- subcontractor invoices ↔ bills --------------------------------------------------------------


def _invoice(amount: str = "5000.00", retainage: str = "500.00") -> sync.SubcontractorInvoice:
    return sync.SubcontractorInvoice(
        requisition=procore.Requisition(
            id=801,
            invoice_number="INV-14",
            vendor_id=501,
            project_id=901,
            commitment_id=701,
            billing_date="2026-03-01",
        ),
        items=(
            procore.RequisitionItem(
                description="Footings",
                work_completed_this_period=amount,
                materials_presently_stored="0.10",
                work_completed_retainage_amount=retainage,
                cost_code={"id": 11},
            ),
        ),
    )


def test_subcontractor_invoice_becomes_a_bill() -> None:
    bill = mapped(sync.requisition_to_bill(_invoice(), CTX))
    assert isinstance(bill, qbxml.BillAdd)
    assert (bill.vendor_ref, bill.ref_number, bill.txn_date) == (
        qbxml.Ref(list_id="V-1"),
        "INV-14",
        dt.date(2026, 3, 1),
    )
    [line] = bill.item_line_add_or_item_group_line_add
    assert line.amount == Decimal("5000.10")  # type: ignore[union-attr]
    qbxml.dumps(qbxml.BillAddRq(request_id="1", bill_add=bill))
    net = mapped(sync.requisition_to_bill(_invoice(), with_settings(deduct_retainage=True)))
    assert net.item_line_add_or_item_group_line_add[0].amount == Decimal("4500.10")  # type: ignore[attr-defined, union-attr]


def test_negative_invoices_are_skipped_with_a_reason_unless_allowed() -> None:
    skip = skipped(sync.requisition_to_bill(_invoice("-300.00", "0"), CTX), "negative_invoice")
    assert "-299.90" in skip.reason
    allowed = with_settings(skip_negative_invoices=False)
    assert isinstance(sync.requisition_to_bill(_invoice("-300.00", "0"), allowed), sync.Mapped)


def _bill(**changes: object) -> qbxml.BillRet:
    bill = qbxml.BillRet(
        txn_id="B-2",
        edit_sequence="9",
        ref_number="7781",
        vendor_ref=qbxml.Ref(list_id="V-1", full_name="Acme"),
        txn_date=dt.date(2026, 3, 2),
        linked_txn=[
            qbxml.LinkedTxn(
                txn_id="PO-1",
                txn_type=qbxml.TxnType.PURCHASE_ORDER,
                txn_date=dt.date(2026, 2, 1),
                amount=Decimal("100.00"),
            )
        ],
        expense_line_ret=[
            qbxml.ExpenseLineRet(
                txn_line_id="E-1", amount=Decimal("100.00"), customer_ref=qbxml.Ref(list_id="J-1")
            )
        ],
        item_line_ret_or_item_group_line_ret=[
            qbxml.ItemLineRet(
                txn_line_id="I-L1",
                item_ref=qbxml.Ref(list_id="I-2"),
                amount=Decimal("0.20"),
                customer_ref=qbxml.Ref(list_id="J-1"),
            )
        ],
    )
    return attrs.evolve(bill, **changes)


def test_bill_becomes_a_subcontractor_invoice_with_the_vendor_cost_code() -> None:
    invoice = mapped(sync.bill_to_requisition(_bill(), CTX))
    assert isinstance(invoice, sync.SubcontractorInvoice)
    rq = invoice.requisition
    assert (rq.commitment_id, rq.vendor_id, rq.project_id) == (701, 501, 901)
    assert (rq.origin_id, rq.invoice_number, rq.total_claimed_amount) == (
        "B-2",
        "7781",
        Decimal("100.20"),
    )
    [item] = invoice.items
    assert (item.cost_code, item.work_completed_this_period) == ({"id": 11}, Decimal("100.20"))


def test_bill_without_po_uses_the_vendors_commitment() -> None:
    bill = _bill(linked_txn=[], vendor_ref=qbxml.Ref(list_id="V-2"))
    skip = skipped(sync.bill_to_requisition(bill, CTX), "missing_setting")  # no cost code for V-2
    assert "vendor_cost_codes" in skip.reason
    invoice = mapped(sync.bill_to_requisition(bill, with_settings(default_cost_code_id=12)))
    assert invoice.requisition.commitment_id == 702  # type: ignore[attr-defined]


# -- job costs → direct costs --------------------------------------------------------------------


def _check() -> qbxml.CheckRet:
    return qbxml.CheckRet(
        txn_id="C-1",
        edit_sequence="3",
        ref_number="1001",
        txn_date=dt.date(2026, 3, 3),
        payee_entity_ref=qbxml.Ref(list_id="V-2"),
        expense_line_ret=[
            qbxml.ExpenseLineRet(txn_line_id="1", amount=Decimal("10.00"), memo="Fuel"),
        ],
        item_line_ret_or_item_group_line_ret=[
            qbxml.ItemLineRet(
                txn_line_id="2",
                item_ref=qbxml.Ref(list_id="I-1"),
                amount=Decimal("20.01"),
                customer_ref=qbxml.Ref(list_id="J-1"),
            ),
            qbxml.ItemGroupLineRet(
                txn_line_id="3",
                item_group_ref=qbxml.Ref(list_id="G-1"),
                total_amount=Decimal("5.00"),
                item_line_ret=[
                    qbxml.ItemLineRet(
                        txn_line_id="4",
                        item_ref=qbxml.Ref(list_id="I-2"),
                        amount=Decimal("5.00"),
                        customer_ref=qbxml.Ref(list_id="J-2"),
                    )
                ],
            ),
        ],
    )


def test_job_coded_lines_become_direct_costs_per_project() -> None:
    result = sync.job_costs_to_direct_costs(_check(), CTX)
    assert isinstance(result, sync.Mapped)
    costs = result.record
    assert [c.origin_id for c in costs] == ["C-1|J-1", "C-1|J-2"]
    assert [c.grand_total for c in costs] == [Decimal("20.01"), Decimal("5.00")]
    assert costs[0].line_items[0].line_item_type == {"id": 4}  # type: ignore[index]
    assert costs[0].line_items[0].cost_code == {"id": 11}  # type: ignore[index]
    assert costs[0].vendor == {"id": 502}
    assert costs[0].direct_cost_type == "Expense"
    assert result.notes == ("1 line(s) not coded to a synced job were left out",)


def test_direct_cost_limits_are_settings() -> None:
    skipped(
        sync.job_costs_to_direct_costs(_check(), with_settings(direct_cost_sources={"Bill"})),
        "source",
    )
    other_type = with_settings(cost_type="Materials")
    assert "'Materials'" in skipped(sync.job_costs_to_direct_costs(_check(), other_type)).reason
    skipped(sync.job_costs_to_direct_costs(_bill(), CTX), "commitment_cost")
    charge = qbxml.CreditCardChargeRet(txn_id="CC-1", expense_line_ret=[])
    skipped(sync.job_costs_to_direct_costs(charge, CTX), "no_job_costs")


# -- payments ↔ bill payments --------------------------------------------------------------------


def test_payment_issued_becomes_a_bill_payment_check() -> None:
    paid = sync.CommitmentPayment(
        payment=procore.ContractPayment(
            id=1, amount="2500.00", date="2026-03-10", check_number="10455", requisition_id=809
        ),
        commitment=_commitment(),
    )
    check = mapped(sync.payment_to_bill_payment(paid, CTX))
    assert isinstance(check, qbxml.BillPaymentCheckAdd)
    assert check.applied_to_txn_add == (
        qbxml.AppliedToTxnAdd(txn_id="B-9", payment_amount=Decimal("2500.00")),
    )
    assert (check.ref_number, check.bank_account_ref) == ("10455", qbxml.Ref(full_name="Checking"))
    qbxml.dumps(qbxml.BillPaymentCheckAddRq(request_id="1", bill_payment_check_add=check))


def _bill_payment() -> qbxml.BillPaymentCheckRet:
    return qbxml.BillPaymentCheckRet(
        txn_id="BP-1",
        edit_sequence="1",
        txn_date=dt.date(2026, 3, 11),
        ref_number="10456",
        applied_to_txn_ret=[
            qbxml.AppliedToTxnRet(
                txn_id="B-1",
                txn_type=qbxml.TxnType.BILL,
                amount=Decimal("99.99"),
                ref_number="INV-1",
            ),
            qbxml.AppliedToTxnRet(
                txn_id="B-X", txn_type=qbxml.TxnType.BILL, amount=Decimal("1.00")
            ),
        ],
    )


def test_bill_payments_import_only_from_us_files_by_default() -> None:
    result = sync.bill_payment_to_payments(_bill_payment(), CTX)
    assert isinstance(result, sync.Mapped)
    [payment] = result.record
    assert (payment.contract_id, payment.requisition_id, payment.amount) == (
        701,
        801,
        Decimal("99.99"),
    )
    assert payment.origin_id == "BP-1|B-1"
    assert "B-X" in result.notes[0]
    canada = attrs.evolve(CTX, company_country="CA")
    assert "CA" in skipped(sync.bill_payment_to_payments(_bill_payment(), canada), "country").reason
    both = attrs.evolve(
        canada, settings=attrs.evolve(SETTINGS, payment_import_countries={"US", "CA"})
    )
    assert isinstance(sync.bill_payment_to_payments(_bill_payment(), both), sync.Mapped)


# -- deletions -----------------------------------------------------------------------------------


def test_deleted_bill_removes_its_procore_invoice() -> None:
    deleted = qbxml.TxnDeletedRet(txn_del_type=qbxml.TxnDelType.BILL, txn_id="B-1")
    assert mapped(sync.txn_deleted_to_deletion(deleted, CTX)) == sync.ProcoreDeletion(
        entity=E.INVOICE, qb_id="B-1", procore_ids=(801,)
    )
    check = qbxml.TxnDeletedRet(txn_del_type=qbxml.TxnDelType.CHECK, txn_id="C-1")
    assert mapped(sync.txn_deleted_to_deletion(check, CTX)).procore_ids == (1001, 1002)  # type: ignore[attr-defined]
    never = qbxml.TxnDeletedRet(txn_del_type=qbxml.TxnDelType.BILL, txn_id="B-404")
    skipped(sync.txn_deleted_to_deletion(never, CTX), "not_synced")
    skipped(sync.txn_deleted_to_deletion(deleted, with_settings(mirror_deletions=False)))


def test_deleted_vendor_deactivates_its_procore_vendor() -> None:
    deleted = qbxml.ListDeletedRet(list_del_type=qbxml.ListDelType.VENDOR, list_id="V-1")
    deletion = mapped(sync.list_deleted_to_deletion(deleted, CTX))
    assert deletion == sync.ProcoreDeletion(
        entity=E.VENDOR, qb_id="V-1", procore_ids=(501,), action="deactivate"
    )
    item = qbxml.ListDeletedRet(list_del_type=qbxml.ListDelType.ITEM_SERVICE, list_id="I-1")
    skipped(sync.list_deleted_to_deletion(item, CTX), "not_synced")


def test_every_feature_map_row_has_a_default_mapping() -> None:
    names = {spec.name for spec in sync.DEFAULT_MAPPINGS}
    assert len(names) == len(sync.DEFAULT_MAPPINGS) == 15
    for spec in sync.DEFAULT_MAPPINGS:
        assert getattr(sync, spec.name) is spec.default
