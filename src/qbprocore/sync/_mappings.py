"""The default mappings: one pure function per row of the feature map, in its directions.

| Procore | direction | QuickBooks Desktop | function |
|---|---|---|---|
| Cost codes | → | Service items | `cost_code_to_item` |
| Projects | ↔ | Jobs | `project_to_job`, `job_to_project` |
| Vendors | ↔ | Vendors | `vendor_to_qb_vendor`, `qb_vendor_to_vendor` |
| Budget / modifications | → | Estimates | `budget_to_estimate` |
| Commitments | → | Purchase orders | `commitment_to_purchase_order` |
| Commitment change orders | → | New PO lines | `change_order_to_po_lines` |
| Direct costs | ← | Bills, checks, card charges | `job_costs_to_direct_costs` |
| Subcontractor invoices | → | Bills | `requisition_to_bill` |
| Subcontractor invoices | ← | Bills (cost code per vendor) | `bill_to_requisition` |
| Payments issued | → | Bill payments | `payment_to_bill_payment` |
| Payments issued | ← | Bill payments | `bill_payment_to_payments` |
| (deletions) | ← | TxnDeleted | `txn_deleted_to_deletion` |
| (deletions) | ← | ListDeleted | `list_deleted_to_deletion` |

Conventions shared by every function here: money stays `Decimal` and is never rounded;
records written to Procore carry ``origin_id`` = the QuickBooks ListID/TxnID and
``origin_data`` = ``{"edit_sequence": …}`` (what Procore's own connector does), so upserts are
idempotent; records written to QuickBooks are checked against qbXML field lengths by
`fit_text`; a record that cannot be mapped is a `Skip` whose reason says what to do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from qbprocore import procore, qbxml
from qbprocore.sync._records import Entity
from qbprocore.sync._results import (
    Budget,
    ChangeOrderLines,
    CommitmentPayment,
    Mapped,
    MappingContext,
    MappingResult,
    ProcoreDeletion,
    Skip,
    SubcontractorInvoice,
    fit_text,
)

__all__ = [
    "CHANGE_ORDER_MARKER",
    "bill_payment_to_payments",
    "bill_to_requisition",
    "budget_to_estimate",
    "change_order_to_po_lines",
    "commitment_to_purchase_order",
    "cost_code_to_item",
    "job_costs_to_direct_costs",
    "job_to_project",
    "list_deleted_to_deletion",
    "origin_data",
    "payment_to_bill_payment",
    "project_to_job",
    "qb_vendor_to_vendor",
    "requisition_to_bill",
    "txn_deleted_to_deletion",
    "vendor_to_qb_vendor",
]

CHANGE_ORDER_MARKER = "pcco:"
"""Prefix of the ``Other2`` value on purchase-order lines added for a change order
(``"pcco:<change order id>"``, at most 24 of the field's 29 characters): how
`change_order_to_po_lines` sees that a change order is already on the purchase order, even
when the write's outcome was never confirmed."""


def origin_data(edit_sequence: str | None) -> str:
    """The ``origin_data`` Procore keeps for a QuickBooks record: its EditSequence, as JSON."""
    return json.dumps({"edit_sequence": edit_sequence}, separators=(", ", ": "))


def _ref(list_id: str) -> qbxml.Ref:
    return qbxml.Ref(list_id=list_id)


def _missing(what: str, ids: Iterable[object], hint: str) -> Skip:
    listed = ", ".join(str(i) for i in ids)
    return Skip(reason=f"{what} not synced yet: {listed}; {hint}", code="missing_mapping")


def _id_of(obj: Mapping[str, Any] | None) -> int | None:
    if not obj or obj.get("id") in (None, ""):
        return None
    return int(obj["id"])


def _status_in(status: str | None, allowed: frozenset[str]) -> bool:
    return (status or "").strip().casefold() in {s.casefold() for s in allowed}


def _sum(amounts: Iterable[Decimal | None]) -> Decimal:
    return sum((a for a in amounts if a is not None), Decimal(0))


# -- Procore → QuickBooks ----------------------------------------------------------------------


def cost_code_to_item(
    cost_code: procore.CostCode, ctx: MappingContext
) -> MappingResult[qbxml.ItemServiceAdd]:
    """A cost code becomes a QuickBooks Service item named by its full code.

    The item's description is the cost code's name; it posts to
    `MappingSettings.item_account`, without which QuickBooks refuses the item.
    """
    code = cost_code.full_code or cost_code.code
    if not code:
        return Skip(reason=f"cost code {cost_code.id} has no code to name the item by")
    if cost_code.deleted_at is not None:
        return Skip(reason=f"cost code {code} is deleted in Procore", code="deleted")
    if not ctx.settings.item_account:
        return Skip(
            reason="QuickBooks needs an account for Service items: set"
            " MappingSettings.item_account to the account's full name",
            code="missing_setting",
        )
    item = qbxml.ItemServiceAdd(
        name=code,
        sales_or_purchase=qbxml.SalesOrPurchase(
            desc=cost_code.name, account_ref=qbxml.Ref(full_name=ctx.settings.item_account)
        ),
    )
    return fit_text(item, ctx.settings)


def project_to_job(
    project: procore.Project, ctx: MappingContext
) -> MappingResult[qbxml.CustomerAdd]:
    """A project becomes a QuickBooks job: a customer under `MappingSettings.job_parent_customer`.

    The job's name is the project's display name (else its name); active projects are
    ``InProgress``, inactive ones ``Closed``.
    """
    name = project.display_name or project.name
    if not name:
        return Skip(reason=f"project {project.id} has no name")
    parent = ctx.settings.job_parent_customer
    if not parent:
        return Skip(
            reason="a QuickBooks job needs a parent customer: set"
            " MappingSettings.job_parent_customer",
            code="missing_setting",
        )
    job = qbxml.CustomerAdd(
        name=name,
        is_active=project.active,
        parent_ref=qbxml.Ref(full_name=parent),
        job_status=qbxml.JobStatus.CLOSED
        if project.active is False
        else qbxml.JobStatus.IN_PROGRESS,
        job_start_date=project.start_date,
        job_projected_end_date=project.completion_date,
        job_desc=project.project_number,
    )
    return fit_text(job, ctx.settings)


def vendor_to_qb_vendor(
    vendor: procore.Vendor, ctx: MappingContext
) -> MappingResult[qbxml.VendorAdd]:
    """A Procore directory vendor becomes a QuickBooks vendor (name, address, phone, e-mail)."""
    if not vendor.name:
        return Skip(reason=f"vendor {vendor.id} has no name")
    address = None
    if any((vendor.address, vendor.city, vendor.state_code, vendor.zip, vendor.country_code)):
        address = qbxml.Address(
            addr1=vendor.address,
            city=vendor.city,
            state=vendor.state_code,
            postal_code=vendor.zip,
            country=vendor.country_code,
        )
    record = qbxml.VendorAdd(
        name=vendor.name,
        is_active=vendor.is_active,
        company_name=vendor.name,
        vendor_address=address,
        phone=vendor.business_phone,
        email=vendor.email_address,
    )
    return fit_text(record, ctx.settings)


def _cost_code_items(
    cost_codes: Sequence[Mapping[str, Any] | None], ctx: MappingContext
) -> tuple[list[str], list[object]]:
    """QuickBooks item ListIDs for the cost codes of some lines; the ones missing, named."""
    found: list[str] = []
    missing: list[object] = []
    for cc in cost_codes:
        cc_id = _id_of(cc)
        qb_id = None if cc_id is None else ctx.refs.qb_id(Entity.COST_CODE, cc_id)
        if qb_id is None:
            label = (cc or {}).get("full_code") or (cc or {}).get("code") or cc_id
            missing.append(label if label is not None else "(a line without a cost code)")
        else:
            found.append(qb_id)
    return found, missing


def budget_to_estimate(budget: Budget, ctx: MappingContext) -> MappingResult[qbxml.EstimateAdd]:
    """A budget (or one budget modification) becomes an estimate on the project's job.

    One estimate line per budget line: the cost code's Service item and the line's original
    budget amount (for a modification: the changed amount). A modification's number becomes
    the estimate's ``RefNumber``.
    """
    project = budget.project
    if not budget.line_items:
        return Skip(reason=f"the budget of project {project.id} has no lines", code="empty")
    job = None if project.id is None else ctx.refs.qb_id(Entity.PROJECT, project.id)
    if job is None:
        return _missing("the project's job", [project.id], "sync projects first")
    items, missing = _cost_code_items([li.cost_code for li in budget.line_items], ctx)
    if missing:
        return _missing("cost codes", missing, "sync cost codes first")
    lines: list[qbxml.EstimateLineAdd | qbxml.EstimateLineGroupAdd] = [
        qbxml.EstimateLineAdd(
            item_ref=_ref(item),
            desc=(li.cost_code or {}).get("name"),
            amount=li.original_budget_amount or Decimal(0),
        )
        for item, li in zip(items, budget.line_items, strict=True)
    ]
    memo = (
        "Procore budget"
        if budget.revision is None
        else f"Procore budget modification {budget.revision}"
    )
    estimate = qbxml.EstimateAdd(
        customer_ref=_ref(job),
        ref_number=budget.revision,
        memo=memo,
        estimate_line_add_or_estimate_line_group_add=lines,
    )
    return fit_text(estimate, ctx.settings)


def commitment_to_purchase_order(
    commitment: procore.WorkOrderContract | procore.PurchaseOrderContract, ctx: MappingContext
) -> MappingResult[qbxml.PurchaseOrderAdd]:
    """A subcontract or purchase order contract becomes a QuickBooks purchase order.

    Only commitments in `MappingSettings.commitment_statuses` go over. Each line keeps its
    amount and description, uses its cost code's Service item and is coded to the project's
    job.
    """
    label = commitment.number or commitment.id
    if not _status_in(commitment.status, ctx.settings.commitment_statuses):
        return Skip(
            reason=f"commitment {label} is {commitment.status!r}; only"
            f" {sorted(ctx.settings.commitment_statuses)} commitments become purchase orders",
            code="status",
        )
    if not commitment.line_items:
        return Skip(reason=f"commitment {label} has no lines", code="empty")
    vendor_id = _id_of(commitment.vendor)
    vendor = None if vendor_id is None else ctx.refs.qb_id(Entity.VENDOR, vendor_id)
    if vendor is None:
        return _missing("the commitment's vendor", [vendor_id], "sync vendors first")
    project_id = _id_of(commitment.project)
    job = None if project_id is None else ctx.refs.qb_id(Entity.PROJECT, project_id)
    if job is None:
        return _missing("the commitment's project", [project_id], "sync projects first")
    items, missing = _cost_code_items([li.cost_code for li in commitment.line_items], ctx)
    if missing:
        return _missing("cost codes", missing, "sync cost codes first")
    lines: list[qbxml.PurchaseOrderLineAdd | qbxml.PurchaseOrderLineGroupAdd] = [
        qbxml.PurchaseOrderLineAdd(
            item_ref=_ref(item),
            desc=li.description,
            amount=li.amount if li.amount is not None else Decimal(0),
            customer_ref=_ref(job),
        )
        for item, li in zip(items, commitment.line_items, strict=True)
    ]
    po = qbxml.PurchaseOrderAdd(
        vendor_ref=_ref(vendor),
        txn_date=commitment.contract_date,
        ref_number=commitment.number,
        memo=commitment.title,
        purchase_order_line_add_or_purchase_order_line_group_add=lines,
    )
    return fit_text(po, ctx.settings)


def change_order_to_po_lines(
    change: ChangeOrderLines, ctx: MappingContext
) -> MappingResult[qbxml.PurchaseOrderMod]:
    """An approved commitment change order becomes new lines on its purchase order.

    The Mod lists every existing line by its ``TxnLineID`` (a transaction Mod deletes the
    lines it omits) and adds the change order's lines with ``TxnLineID`` ``-1``. Each new line
    carries `CHANGE_ORDER_MARKER` in ``Other2``; a purchase order that already has lines
    with this change order's marker is skipped, so the lines are never added twice.
    """
    co, po = change.change_order, change.purchase_order
    label = co.number or co.id
    if not _status_in(co.status, ctx.settings.change_order_statuses):
        return Skip(
            reason=f"change order {label} is {co.status!r}; only"
            f" {sorted(ctx.settings.change_order_statuses)} change orders reach QuickBooks",
            code="status",
        )
    if not co.line_items:
        return Skip(reason=f"change order {label} has no lines", code="empty")
    if po.txn_id is None or po.edit_sequence is None:
        return Skip(reason="the purchase order has no TxnID/EditSequence: query it first")
    marker = f"{CHANGE_ORDER_MARKER}{co.id}"
    existing = po.purchase_order_line_ret_or_purchase_order_line_group_ret
    if any(isinstance(line, qbxml.PurchaseOrderLineGroupRet) for line in existing):
        return Skip(
            reason=f"purchase order {po.ref_number or po.txn_id} has group lines, which the"
            " default mapping does not rewrite; register a custom mapping",
            code="unsupported",
        )
    plain = [line for line in existing if isinstance(line, qbxml.PurchaseOrderLineRet)]
    if any(line.other2 == marker for line in plain):
        return Skip(
            reason=f"change order {label} is already on purchase order"
            f" {po.ref_number or po.txn_id}",
            code="already_applied",
        )
    items, missing = _cost_code_items([li.cost_code for li in co.line_items], ctx)
    if missing:
        return _missing("cost codes", missing, "sync cost codes first")
    job = next((line.customer_ref for line in plain if line.customer_ref is not None), None)
    kept: list[qbxml.PurchaseOrderLineMod | qbxml.PurchaseOrderLineGroupMod] = [
        qbxml.PurchaseOrderLineMod(txn_line_id=line.txn_line_id) for line in plain
    ]
    added: list[qbxml.PurchaseOrderLineMod | qbxml.PurchaseOrderLineGroupMod] = [
        qbxml.PurchaseOrderLineMod(
            txn_line_id="-1",
            item_ref=_ref(item),
            desc=f"CO {label}: {li.description}" if li.description else f"CO {label}",
            amount=li.amount if li.amount is not None else Decimal(0),
            customer_ref=job,
            other2=marker,
        )
        for item, li in zip(items, co.line_items, strict=True)
    ]
    mod = qbxml.PurchaseOrderMod(
        txn_id=po.txn_id,
        edit_sequence=po.edit_sequence,
        purchase_order_line_mod_or_purchase_order_line_group_mod=kept + added,
    )
    return fit_text(mod, ctx.settings)


def _invoice_line_amount(item: procore.RequisitionItem, deduct_retainage: bool) -> Decimal:
    amount = _sum([item.work_completed_this_period, item.materials_presently_stored])
    if deduct_retainage and item.work_completed_retainage_amount is not None:
        amount -= item.work_completed_retainage_amount
    return amount


def requisition_to_bill(
    invoice: SubcontractorInvoice, ctx: MappingContext
) -> MappingResult[qbxml.BillAdd]:
    """A subcontractor invoice becomes a bill from the commitment's vendor, coded to the job.

    Each invoice line becomes an item line (its cost code's Service item) for the work
    completed this period plus materials stored, less retainage when
    `MappingSettings.deduct_retainage` is set. Invoices with a negative total are skipped
    while `MappingSettings.skip_negative_invoices` is set (the default).
    """
    rq = invoice.requisition
    label = rq.invoice_number or rq.number or rq.id
    if not invoice.items:
        return Skip(reason=f"invoice {label} has no lines", code="empty")
    amounts = [_invoice_line_amount(i, ctx.settings.deduct_retainage) for i in invoice.items]
    total = _sum(amounts)
    if total < 0 and ctx.settings.skip_negative_invoices:
        return Skip(
            reason=f"invoice {label} totals {total}: negative invoices do not become bills"
            " (MappingSettings.skip_negative_invoices)",
            code="negative_invoice",
        )
    vendor = None if rq.vendor_id is None else ctx.refs.qb_id(Entity.VENDOR, rq.vendor_id)
    if vendor is None:
        return _missing("the invoice's vendor", [rq.vendor_name or rq.vendor_id], "sync vendors")
    job = None if rq.project_id is None else ctx.refs.qb_id(Entity.PROJECT, rq.project_id)
    if job is None:
        return _missing("the invoice's project", [rq.project_id], "sync projects first")
    items, missing = _cost_code_items([i.cost_code for i in invoice.items], ctx)
    if missing:
        return _missing("cost codes", missing, "sync cost codes first")
    lines: list[qbxml.ItemLineAdd | qbxml.ItemGroupLineAdd] = [
        qbxml.ItemLineAdd(
            item_ref=_ref(item), desc=line.description, amount=amount, customer_ref=_ref(job)
        )
        for item, line, amount in zip(items, invoice.items, amounts, strict=True)
    ]
    ap = ctx.settings.ap_account
    bill = qbxml.BillAdd(
        vendor_ref=_ref(vendor),
        ap_account_ref=qbxml.Ref(full_name=ap) if ap else None,
        txn_date=rq.billing_date,
        ref_number=rq.invoice_number or (None if rq.number is None else str(rq.number)),
        memo=f"Procore subcontractor invoice {label}",
        item_line_add_or_item_group_line_add=lines,
    )
    return fit_text(bill, ctx.settings)


def payment_to_bill_payment(
    paid: CommitmentPayment, ctx: MappingContext
) -> MappingResult[qbxml.BillPaymentCheckAdd]:
    """A payment issued becomes a bill payment (check) applied to the invoice's bill.

    The check is drawn on `MappingSettings.bank_account`; its number is the payment's check
    number, else it is not marked to be printed.
    """
    p = paid.payment
    if p.amount is None or p.amount <= 0:
        return Skip(reason=f"payment {p.id} has no positive amount ({p.amount})")
    bill = None if p.requisition_id is None else ctx.refs.qb_id(Entity.INVOICE, p.requisition_id)
    if bill is None:
        return _missing(
            "the paid invoice's bill", [p.requisition_id], "sync the invoice to QuickBooks first"
        )
    vendor_id = _id_of(paid.commitment.vendor)
    vendor = None if vendor_id is None else ctx.refs.qb_id(Entity.VENDOR, vendor_id)
    if vendor is None:
        return _missing("the payment's vendor", [vendor_id], "sync vendors first")
    if not ctx.settings.bank_account:
        return Skip(
            reason="bill payments need a bank account: set MappingSettings.bank_account",
            code="missing_setting",
        )
    check = qbxml.BillPaymentCheckAdd(
        payee_entity_ref=_ref(vendor),
        txn_date=p.date,
        bank_account_ref=qbxml.Ref(full_name=ctx.settings.bank_account),
        ref_number=p.check_number or None,
        is_to_be_printed=None if p.check_number else False,
        memo=p.notes,
        applied_to_txn_add=[qbxml.AppliedToTxnAdd(txn_id=bill, payment_amount=p.amount)],
    )
    return fit_text(check, ctx.settings)


# -- QuickBooks → Procore ----------------------------------------------------------------------


def job_to_project(
    customer: qbxml.CustomerRet, ctx: MappingContext
) -> MappingResult[procore.Project]:
    """A QuickBooks job becomes a Procore project (``origin_id`` = its ListID).

    Customers without a parent are not jobs and are skipped (Procore has no customers);
    sub jobs are skipped unless `MappingSettings.sync_sub_jobs` is set.
    """
    if customer.list_id is None or not customer.name:
        return Skip(reason="the customer has no ListID or name")
    if customer.parent_ref is None:
        return Skip(
            reason=f"{customer.name!r} is a customer, not a job: Procore has no customers",
            code="not_a_job",
        )
    if (customer.sublevel or 0) > 1 and not ctx.settings.sync_sub_jobs:
        return Skip(
            reason=f"{customer.full_name or customer.name!r} is a sub job; set"
            " MappingSettings.sync_sub_jobs to sync sub jobs",
            code="sub_job",
        )
    project = procore.Project(
        name=customer.name,
        active=customer.is_active,
        start_date=customer.job_start_date,
        completion_date=customer.job_projected_end_date,
        origin_id=customer.list_id,
        origin_data=origin_data(customer.edit_sequence),
    )
    return Mapped(record=project)


def qb_vendor_to_vendor(
    vendor: qbxml.VendorRet, ctx: MappingContext
) -> MappingResult[procore.Vendor]:
    """A QuickBooks vendor becomes a Procore directory vendor (``origin_id`` = its ListID)."""
    if vendor.list_id is None or not vendor.name:
        return Skip(reason="the vendor has no ListID or name")
    address = vendor.vendor_address or qbxml.Address()
    street = ", ".join(
        part
        for part in (address.addr1, address.addr2, address.addr3, address.addr4, address.addr5)
        if part
    )
    record = procore.Vendor(
        name=vendor.company_name or vendor.name,
        abbreviated_name=vendor.name if vendor.company_name else None,
        address=street or None,
        city=address.city,
        state_code=address.state,
        zip=address.postal_code,
        country_code=address.country,
        business_phone=vendor.phone,
        email_address=vendor.email,
        is_active=vendor.is_active,
        origin_id=vendor.list_id,
        origin_data=origin_data(vendor.edit_sequence),
    )
    return Mapped(record=record)


def _lines(
    txn: qbxml.BillRet | qbxml.CheckRet | qbxml.CreditCardChargeRet,
) -> list[qbxml.ExpenseLineRet | qbxml.ItemLineRet]:
    """Expense and item lines, with the lines inside item groups."""
    out: list[qbxml.ExpenseLineRet | qbxml.ItemLineRet] = list(txn.expense_line_ret)
    for line in txn.item_line_ret_or_item_group_line_ret:
        if isinstance(line, qbxml.ItemGroupLineRet):
            out.extend(line.item_line_ret)
        else:
            out.append(line)
    return out


def bill_to_requisition(
    bill: qbxml.BillRet, ctx: MappingContext
) -> MappingResult[SubcontractorInvoice]:
    """A QuickBooks bill becomes a subcontractor invoice on the vendor's commitment.

    The hosted-connector shape: the commitment is the purchase order the bill is linked to,
    else the vendor's commitment from `MappingContext.vendor_commitments`; the project is the
    job the lines are coded to; the one invoice line uses the cost code configured for the
    vendor (`MappingSettings.vendor_cost_codes`, else `MappingSettings.default_cost_code_id`)
    and carries the bill's total.
    """
    if bill.txn_id is None or bill.vendor_ref is None or bill.vendor_ref.list_id is None:
        return Skip(reason="the bill has no TxnID or vendor")
    qb_vendor = bill.vendor_ref.list_id
    vendor = ctx.refs.procore_id(Entity.VENDOR, qb_vendor)
    if vendor is None:
        return _missing("the bill's vendor", [bill.vendor_ref.full_name or qb_vendor], "sync it")
    commitment = next(
        (
            c
            for link in bill.linked_txn
            if link.txn_type == qbxml.TxnType.PURCHASE_ORDER
            and (c := ctx.refs.procore_id(Entity.COMMITMENT, link.txn_id)) is not None
        ),
        ctx.vendor_commitments.get(vendor),
    )
    if commitment is None:
        return _missing(
            "a commitment for the bill's vendor",
            [bill.vendor_ref.full_name or qb_vendor],
            "link the bill to a synced purchase order or configure the vendor's commitment",
        )
    lines = _lines(bill)
    jobs = {line.customer_ref.list_id for line in lines if line.customer_ref is not None}
    projects = {ctx.refs.procore_id(Entity.PROJECT, j) for j in jobs if j is not None}
    projects.discard(None)
    if len(projects) != 1:
        return Skip(
            reason=f"bill {bill.ref_number or bill.txn_id} is coded to {len(projects)} synced"
            " jobs; a subcontractor invoice belongs to exactly one project",
            code="project",
        )
    cost_code = ctx.settings.vendor_cost_codes.get(qb_vendor, ctx.settings.default_cost_code_id)
    if cost_code is None:
        return Skip(
            reason=f"no cost code configured for vendor {bill.vendor_ref.full_name or qb_vendor}:"
            " set MappingSettings.vendor_cost_codes or default_cost_code_id",
            code="missing_setting",
        )
    total = _sum(line.amount for line in lines)
    requisition = procore.Requisition(
        invoice_number=bill.ref_number,
        commitment_id=commitment,
        vendor_id=vendor,
        project_id=projects.pop(),
        billing_date=bill.txn_date,
        total_claimed_amount=total,
        origin_id=bill.txn_id,
        origin_data=origin_data(bill.edit_sequence),
    )
    item = procore.RequisitionItem(
        description=bill.memo or f"QuickBooks bill {bill.ref_number or bill.txn_id}",
        cost_code={"id": cost_code},
        work_completed_this_period=total,
    )
    return Mapped(record=SubcontractorInvoice(requisition=requisition, items=(item,)))


_DIRECT_COST_TYPES: Mapping[type, tuple[str, str]] = {
    qbxml.BillRet: ("Bill", "Invoice"),
    qbxml.CheckRet: ("Check", "Expense"),
    qbxml.CreditCardChargeRet: ("CreditCardCharge", "Expense"),
}


def job_costs_to_direct_costs(
    txn: qbxml.BillRet | qbxml.CheckRet | qbxml.CreditCardChargeRet, ctx: MappingContext
) -> MappingResult[tuple[procore.DirectCost, ...]]:
    """The job-coded lines of a bill, check or card charge become Procore direct costs.

    One direct cost per synced job the lines are coded to, with ``origin_id``
    ``"<TxnID>|<job ListID>"`` (unique per company, like Procore's project cost codes). Each
    line's cost code is its item's cost code (expense lines use
    `MappingSettings.default_cost_code_id`); every line gets the one cost type
    `MappingSettings.cost_type`. Bills linked to a purchase order are commitment costs, not
    direct costs, and are skipped. Lines not coded to a job are left out and noted.
    """
    source, cost_kind = _DIRECT_COST_TYPES[type(txn)]
    label = f"{source} {txn.ref_number or txn.txn_id}"
    if source not in ctx.settings.direct_cost_sources:
        return Skip(
            reason=f"{source} transactions are not imported as direct costs"
            " (MappingSettings.direct_cost_sources)",
            code="source",
        )
    if txn.txn_id is None:
        return Skip(reason=f"{label} has no TxnID")
    if isinstance(txn, qbxml.BillRet) and any(
        link.txn_type == qbxml.TxnType.PURCHASE_ORDER for link in txn.linked_txn
    ):
        return Skip(
            reason=f"{label} is linked to a purchase order: a commitment cost, not a direct cost",
            code="commitment_cost",
        )
    cost_type = ctx.line_item_type_ids.get(ctx.settings.cost_type)
    if cost_type is None:
        return Skip(
            reason=f"Procore cost type {ctx.settings.cost_type!r} is unknown: pass its id in"
            " MappingContext.line_item_type_ids",
            code="missing_mapping",
        )
    payee = txn.vendor_ref if isinstance(txn, qbxml.BillRet) else txn.payee_entity_ref
    vendor_id = (
        ctx.refs.procore_id(Entity.VENDOR, payee.list_id)
        if payee is not None and payee.list_id
        else None
    )
    by_job: dict[str, list[procore.DirectCostLineItem]] = {}
    missing: list[str] = []
    not_coded = 0
    for line in _lines(txn):
        job = line.customer_ref.list_id if line.customer_ref is not None else None
        if job is None or ctx.refs.procore_id(Entity.PROJECT, job) is None:
            not_coded += 1
            continue
        if isinstance(line, qbxml.ItemLineRet):
            cost_code = _line_cost_code(line, job, ctx)
            description = line.desc
        else:
            cost_code = ctx.settings.default_cost_code_id
            description = line.memo
        if cost_code is None:
            missing.append(line.txn_line_id)
            continue
        by_job.setdefault(job, []).append(
            procore.DirectCostLineItem(
                amount=line.amount if line.amount is not None else Decimal(0),
                description=description,
                cost_code={"id": cost_code},
                line_item_type={"id": cost_type},
            )
        )
    if missing:
        return _missing(
            f"cost codes for lines of {label}",
            missing,
            "sync the items, or set MappingSettings.default_cost_code_id for expense lines",
        )
    if not by_job:
        return Skip(reason=f"{label} has no lines coded to a synced job", code="no_job_costs")
    costs = tuple(
        procore.DirectCost(
            direct_cost_type=cost_kind,
            invoice_number=txn.ref_number,
            direct_cost_date=txn.txn_date,
            grand_total=_sum(li.amount for li in lines),
            vendor=None if vendor_id is None else {"id": vendor_id},
            line_items=tuple(lines),
            origin_id=f"{txn.txn_id}|{job}",
            origin_data=origin_data(txn.edit_sequence),
            extra={"project_id": ctx.refs.procore_id(Entity.PROJECT, job)},
        )
        for job, lines in by_job.items()
    )
    notes = (f"{not_coded} line(s) not coded to a synced job were left out",) if not_coded else ()
    return Mapped(record=costs, notes=notes)


def _line_cost_code(line: qbxml.ItemLineRet, job: str, ctx: MappingContext) -> int | None:
    """The Procore cost code of an item line: its item's code in the job's project."""
    ref = line.item_ref
    if ref is None or ref.list_id is None:
        return None
    project = ctx.refs.procore_id(Entity.PROJECT, job)
    codes = ctx.project_cost_codes.get(project) if project is not None else None
    if codes is not None and ref.full_name:
        found = codes.get(ref.full_name.casefold())
        if found is not None:
            return found
    return ctx.refs.procore_id(Entity.COST_CODE, ref.list_id)


def bill_payment_to_payments(
    payment: qbxml.BillPaymentCheckRet, ctx: MappingContext
) -> MappingResult[tuple[procore.ContractPayment, ...]]:
    """A QuickBooks bill payment becomes payments issued, one per synced bill it pays.

    Imported only from editions in `MappingSettings.payment_import_countries` (US by
    default, as the market leader). ``origin_id`` is ``"<TxnID>|<bill TxnID>"``.
    """
    countries = ctx.settings.payment_import_countries
    if ctx.company_country not in countries:
        return Skip(
            reason=f"bill payments are imported only from {sorted(countries)} QuickBooks"
            f" editions; this company file is {ctx.company_country or 'of unknown country'}"
            " (MappingSettings.payment_import_countries)",
            code="country",
        )
    if payment.txn_id is None:
        return Skip(reason="the bill payment has no TxnID")
    out: list[procore.ContractPayment] = []
    unsynced: list[str] = []
    for applied in payment.applied_to_txn_ret:
        if applied.txn_type != qbxml.TxnType.BILL:
            continue
        requisition = ctx.refs.procore_id(Entity.INVOICE, applied.txn_id)
        contract = None if requisition is None else ctx.invoice_commitments.get(requisition)
        if requisition is None or contract is None:
            unsynced.append(applied.ref_number or applied.txn_id)
            continue
        out.append(
            procore.ContractPayment(
                amount=applied.amount,
                date=payment.txn_date,
                check_number=payment.ref_number,
                invoice_number=applied.ref_number,
                notes=payment.memo,
                contract_id=contract,
                requisition_id=requisition,
                origin_id=f"{payment.txn_id}|{applied.txn_id}",
                origin_data=origin_data(payment.edit_sequence),
            )
        )
    if not out:
        return _missing(
            "the paid bills' invoices (or their commitments)",
            unsynced or ["(no bills applied)"],
            "sync the bills first",
        )
    notes = (
        (f"bills not synced to Procore were left out: {', '.join(unsynced)}",) if unsynced else ()
    )
    return Mapped(record=tuple(out), notes=notes)


# -- deletions (QuickBooks → Procore) ----------------------------------------------------------

_TXN_DELETIONS: Mapping[str, tuple[Entity, ...]] = {
    "Bill": (Entity.INVOICE, Entity.DIRECT_COST),
    "Check": (Entity.DIRECT_COST,),
    "CreditCardCharge": (Entity.DIRECT_COST,),
    "BillPaymentCheck": (Entity.PAYMENT,),
}
_LIST_DELETIONS: Mapping[str, Entity] = {"Vendor": Entity.VENDOR, "Customer": Entity.PROJECT}


def txn_deleted_to_deletion(
    deleted: qbxml.TxnDeletedRet, ctx: MappingContext
) -> MappingResult[ProcoreDeletion]:
    """A transaction deleted in QuickBooks removes its Procore counterparts.

    Bills remove their subcontractor invoice or direct costs, checks and card charges their
    direct costs, bill payments their payments issued. Nothing happens while
    `MappingSettings.mirror_deletions` is off.
    """
    kind = str(deleted.txn_del_type or "")
    if not ctx.settings.mirror_deletions:
        return Skip(reason="deletions are not mirrored (MappingSettings.mirror_deletions)")
    if deleted.txn_id is None or kind not in _TXN_DELETIONS:
        return Skip(reason=f"deleted {kind or 'transaction'}s are not synced", code="not_synced")
    for entity in _TXN_DELETIONS[kind]:
        ids = ctx.refs.procore_ids_for_txn(entity, deleted.txn_id)
        if ids:
            return Mapped(
                record=ProcoreDeletion(entity=entity, qb_id=deleted.txn_id, procore_ids=ids)
            )
    return Skip(
        reason=f"deleted {kind} {deleted.ref_number or deleted.txn_id} was never synced",
        code="not_synced",
    )


def list_deleted_to_deletion(
    deleted: qbxml.ListDeletedRet, ctx: MappingContext
) -> MappingResult[ProcoreDeletion]:
    """A vendor or job deleted in QuickBooks deactivates its Procore counterpart.

    Procore keeps vendors and projects for their history, so the action is
    ``"deactivate"``. Items are not mirrored: cost codes flow from Procore to QuickBooks.
    """
    kind = str(deleted.list_del_type or "")
    if not ctx.settings.mirror_deletions:
        return Skip(reason="deletions are not mirrored (MappingSettings.mirror_deletions)")
    entity = _LIST_DELETIONS.get(kind)
    if deleted.list_id is None or entity is None:
        return Skip(reason=f"deleted {kind or 'list'} records are not mirrored", code="not_synced")
    procore_id = ctx.refs.procore_id(entity, deleted.list_id)
    if procore_id is None:
        return Skip(
            reason=f"deleted {kind} {deleted.full_name or deleted.list_id} was never synced",
            code="not_synced",
        )
    return Mapped(
        record=ProcoreDeletion(
            entity=entity, qb_id=deleted.list_id, procore_ids=(procore_id,), action="deactivate"
        )
    )
