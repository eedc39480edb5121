"""Verification rules: pure checks that run before anything is written.

A sync moves errors faster; it does not catch them. These rules catch the classic leaks —
cumulative overbilling, invoices for extra work without a change order, duplicate invoice
numbers, stale commitments — plus the missing mappings that would make a write fail. Each
rule is `RuleMode.BLOCK`, `RuleMode.WARN` or `RuleMode.OFF` per connection
(`VerificationPolicy`); the functions return every finding with its rule and reason, and
`Verdict.blocked` says whether the record may be written.

The inputs are plain facts (`InvoiceFacts`, `CommitmentFacts`) that the engine gathers from
either side, so the same rules apply to QuickBooks bills and Procore subcontractor invoices.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from qbprocore import procore, qbxml
from qbprocore.sync._records import Entity
from qbprocore.sync._results import MappingContext
from qbprocore.sync._settings import Rule, RuleMode, VerificationPolicy

__all__ = [
    "CommitmentFacts",
    "Finding",
    "InvoiceFacts",
    "Verdict",
    "bill_facts",
    "commitment_facts",
    "verify_commitment",
    "verify_invoice",
]


def _money(value: object) -> Decimal:
    # Through str so a float can never sneak in binary noise; Decimals pass untouched.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _str_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _invoice_number(value: str | None) -> str:
    # "INV-001 " and "inv-001" are the same invoice number to a person reviewing them.
    return (value or "").strip().casefold()


@attrs.frozen(kw_only=True)
class CommitmentFacts:
    """What the rules need to know about one commitment of one vendor.

    Attributes:
        commitment_id: The commitment's id (either side's, as text), for messages.
        vendor_id: Its vendor's id (as text), for messages.
        original_amount: The commitment's original value.
        approved_change_orders: The total of its approved change orders.
        recorded_amount: The value the commitment currently carries where it is checked (e.g.
            the QuickBooks purchase order's total); ``None`` when unknown.
        invoiced_to_date: The total already invoiced against it (earlier invoices only).
        invoice_numbers: The numbers of the vendor's earlier invoices.
        invoice_count: How many earlier invoices there are.
    """

    commitment_id: str
    vendor_id: str
    original_amount: Decimal = attrs.field(converter=_money)
    approved_change_orders: Decimal = attrs.field(default=Decimal(0), converter=_money)
    recorded_amount: Decimal | None = attrs.field(
        default=None, converter=attrs.converters.optional(_money)
    )
    invoiced_to_date: Decimal = attrs.field(default=Decimal(0), converter=_money)
    invoice_numbers: frozenset[str] = attrs.field(factory=frozenset, converter=_str_set)
    invoice_count: int = 0

    @property
    def revised_amount(self) -> Decimal:
        """The value the commitment should have: original plus approved change orders."""
        return self.original_amount + self.approved_change_orders


@attrs.frozen(kw_only=True)
class InvoiceFacts:
    """What the rules need to know about one invoice (a bill or subcontractor invoice).

    Attributes:
        invoice_id: Its id (either side's, as text), for messages.
        vendor_id: Its vendor's id (as text).
        invoice_number: The vendor's invoice number.
        amount: Its total.
        change_order_reference: The change order it cites, if any.
        vendor_mapped: The vendor has a counterpart on the other side.
        unmapped_cost_codes: Cost codes (or items) of its lines without a counterpart.
    """

    invoice_id: str
    vendor_id: str
    invoice_number: str | None = None
    amount: Decimal = attrs.field(converter=_money)
    change_order_reference: str | None = None
    vendor_mapped: bool = True
    unmapped_cost_codes: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


@attrs.frozen(kw_only=True)
class Finding:
    """One rule that fired.

    Attributes:
        rule: The rule.
        mode: What it does (block or warn).
        reason: What was found, with the amounts, in words a reviewer can act on.
        amount: The amount at issue (the excess, the negative total …), if any.
    """

    rule: Rule
    mode: RuleMode
    reason: str
    amount: Decimal | None = None


@attrs.frozen(kw_only=True)
class Verdict:
    """Every finding for one record.

    Attributes:
        findings: What fired, in rule order.
    """

    findings: tuple[Finding, ...] = ()

    @property
    def blocked(self) -> bool:
        """A blocking rule fired: the record must not be written until approved."""
        return any(f.mode is RuleMode.BLOCK for f in self.findings)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings that only warn."""
        return tuple(f for f in self.findings if f.mode is RuleMode.WARN)

    @property
    def reason(self) -> str:
        """All findings in one line (blocking ones first), for lists and audit events."""
        ordered = sorted(self.findings, key=lambda f: f.mode is not RuleMode.BLOCK)
        return "; ".join(f"{f.rule.value}: {f.reason}" for f in ordered)


class _Findings:
    def __init__(self, policy: VerificationPolicy) -> None:
        self.policy = policy
        self.found: list[Finding] = []

    def on(self, rule: Rule) -> bool:
        return self.policy.mode(rule) is not RuleMode.OFF

    def add(self, rule: Rule, reason: str, amount: Decimal | None = None) -> None:
        self.found.append(
            Finding(rule=rule, mode=self.policy.mode(rule), reason=reason, amount=amount)
        )

    def verdict(self) -> Verdict:
        return Verdict(findings=tuple(self.found))


def _percent(part: Decimal, whole: Decimal) -> str:
    if whole == 0:
        return "n/a"
    return f"{(part / whole * 100).quantize(Decimal('0.1'))}%"


def verify_invoice(
    invoice: InvoiceFacts,
    commitment: CommitmentFacts | None,
    policy: VerificationPolicy,
) -> Verdict:
    """Check one invoice before it is written.

    Rules: `Rule.NEGATIVE_INVOICE`, `Rule.MISSING_VENDOR_MAPPING`,
    `Rule.MISSING_COST_CODE_MAPPING`, and — when the invoice is against a commitment —
    `Rule.DUPLICATE_INVOICE_NUMBER`, `Rule.CUMULATIVE_OVER_COMMITMENT` (everything invoiced,
    this invoice included, against original value plus approved change orders, beyond
    `VerificationPolicy.tolerance`), `Rule.OVER_COMMITMENT_WITHOUT_CHANGE_ORDER` (this
    invoice goes beyond what is left and cites no change order) and `Rule.STALE_COMMITMENT`.

    Args:
        invoice: The invoice.
        commitment: Its commitment with the vendor's earlier invoices, or ``None``.
        policy: The connection's verification policy.

    Returns:
        The findings; `Verdict.blocked` tells whether to hold the invoice.

    Examples:
        >>> c = CommitmentFacts(commitment_id="SC-7", vendor_id="V1",
        ...     original_amount="100000", invoiced_to_date="95000", invoice_count=13)
        >>> i = InvoiceFacts(invoice_id="B-14", vendor_id="V1", amount="8000")
        >>> verdict = verify_invoice(i, c, VerificationPolicy())
        >>> verdict.blocked, [f.rule.value for f in verdict.findings]
        (True, ['cumulative_over_commitment', 'over_commitment_without_change_order'])
    """
    out = _Findings(policy)
    label = invoice.invoice_number or invoice.invoice_id
    if out.on(Rule.NEGATIVE_INVOICE) and invoice.amount < 0:
        out.add(
            Rule.NEGATIVE_INVOICE,
            f"invoice {label} totals {invoice.amount}; negative invoices need a person",
            invoice.amount,
        )
    if out.on(Rule.MISSING_VENDOR_MAPPING) and not invoice.vendor_mapped:
        out.add(
            Rule.MISSING_VENDOR_MAPPING,
            f"vendor {invoice.vendor_id} of invoice {label} is not synced to the other side",
        )
    if out.on(Rule.MISSING_COST_CODE_MAPPING) and invoice.unmapped_cost_codes:
        out.add(
            Rule.MISSING_COST_CODE_MAPPING,
            f"invoice {label} uses cost codes not synced to the other side:"
            f" {', '.join(invoice.unmapped_cost_codes)}",
        )
    if commitment is None:
        return out.verdict()
    number = _invoice_number(invoice.invoice_number)
    if (
        out.on(Rule.DUPLICATE_INVOICE_NUMBER)
        and number
        and number in {_invoice_number(n) for n in commitment.invoice_numbers}
    ):
        out.add(
            Rule.DUPLICATE_INVOICE_NUMBER,
            f"vendor {invoice.vendor_id} already has an invoice numbered"
            f" {invoice.invoice_number!r}",
        )
    revised = commitment.revised_amount
    total = commitment.invoiced_to_date + invoice.amount
    excess = total - revised
    if out.on(Rule.CUMULATIVE_OVER_COMMITMENT) and excess > policy.tolerance:
        out.add(
            Rule.CUMULATIVE_OVER_COMMITMENT,
            f"with invoice {label}, {commitment.invoice_count + 1} invoices total {total}"
            f" ({_percent(total, revised)}) against commitment {commitment.commitment_id}"
            f" of {revised} (original {commitment.original_amount} + approved change orders"
            f" {commitment.approved_change_orders}): {excess} over",
            excess,
        )
    remaining = revised - commitment.invoiced_to_date
    beyond = invoice.amount - max(remaining, Decimal(0))
    if (
        out.on(Rule.OVER_COMMITMENT_WITHOUT_CHANGE_ORDER)
        and beyond > policy.tolerance
        and not (invoice.change_order_reference or "").strip()
    ):
        out.add(
            Rule.OVER_COMMITMENT_WITHOUT_CHANGE_ORDER,
            f"invoice {label} bills {beyond} beyond what is left on commitment"
            f" {commitment.commitment_id} ({remaining}) and cites no change order",
            beyond,
        )
    _stale(out, commitment)
    return out.verdict()


def _stale(out: _Findings, commitment: CommitmentFacts) -> None:
    if not out.on(Rule.STALE_COMMITMENT) or commitment.recorded_amount is None:
        return
    gap = commitment.revised_amount - commitment.recorded_amount
    if commitment.approved_change_orders != 0 and abs(gap) > out.policy.tolerance:
        out.add(
            Rule.STALE_COMMITMENT,
            f"commitment {commitment.commitment_id} records {commitment.recorded_amount} but"
            f" original {commitment.original_amount} + approved change orders"
            f" {commitment.approved_change_orders} = {commitment.revised_amount}: it was not"
            " revised after an approved change order",
            gap,
        )


def verify_commitment(commitment: CommitmentFacts, policy: VerificationPolicy) -> Verdict:
    """Check a commitment on its own: `Rule.STALE_COMMITMENT`.

    Examples:
        >>> c = CommitmentFacts(commitment_id="PO-3", vendor_id="V1", original_amount="1000",
        ...     approved_change_orders="250", recorded_amount="1000")
        >>> verify_commitment(c, VerificationPolicy()).warnings[0].amount
        Decimal('250')
    """
    out = _Findings(policy)
    _stale(out, commitment)
    return out.verdict()


# -- facts from the typed records of either side ------------------------------------------------


def commitment_facts(
    commitment: procore.WorkOrderContract | procore.PurchaseOrderContract,
    *,
    earlier_invoices: Iterable[procore.Requisition] = (),
    recorded_amount: Decimal | None = None,
) -> CommitmentFacts:
    """The facts of a Procore commitment and the invoices already billed against it.

    Args:
        commitment: The commitment; ``grand_total`` is its original value and
            ``approved_change_orders`` (else ``revised_contract`` minus ``grand_total``) its
            approved change orders.
        earlier_invoices: Its earlier subcontractor invoices (``total_claimed_amount``,
            ``invoice_number``).
        recorded_amount: The value where it is checked, e.g. the QuickBooks purchase order's
            total, for `Rule.STALE_COMMITMENT`.

    Examples:
        >>> c = procore.WorkOrderContract(id=7, number="SC-7", vendor={"id": 5},
        ...     grand_total="1000", revised_contract="1200")
        >>> facts = commitment_facts(c, earlier_invoices=[procore.Requisition(
        ...     invoice_number="A-1", total_claimed_amount="300")], recorded_amount=Decimal(1000))
        >>> facts.revised_amount, facts.invoiced_to_date, facts.invoice_numbers
        (Decimal('1200'), Decimal('300'), frozenset({'A-1'}))
    """
    original = commitment.grand_total or Decimal(0)
    approved = commitment.approved_change_orders
    if approved is None:
        approved = (
            commitment.revised_contract - original
            if commitment.revised_contract is not None
            else Decimal(0)
        )
    invoices = list(earlier_invoices)
    vendor = (commitment.vendor or {}).get("id")
    return CommitmentFacts(
        commitment_id=commitment.number or str(commitment.id),
        vendor_id="" if vendor is None else str(vendor),
        original_amount=original,
        approved_change_orders=approved,
        recorded_amount=recorded_amount,
        invoiced_to_date=sum(
            (i.total_claimed_amount for i in invoices if i.total_claimed_amount is not None),
            Decimal(0),
        ),
        invoice_numbers=frozenset(i.invoice_number for i in invoices if i.invoice_number),
        invoice_count=len(invoices),
    )


def bill_facts(bill: qbxml.BillRet, ctx: MappingContext) -> InvoiceFacts:
    """The facts of a QuickBooks bill, with its mappings checked through ``ctx.refs``.

    The amount is the sum of its expense and item lines; an item without a synced cost code
    is listed by its name (else ListID). A ``CO …`` or ``change order`` in the memo counts as
    a change-order reference.
    """
    lines: list[qbxml.ExpenseLineRet | qbxml.ItemLineRet] = list(bill.expense_line_ret)
    for entry in bill.item_line_ret_or_item_group_line_ret:
        lines.extend(entry.item_line_ret if isinstance(entry, qbxml.ItemGroupLineRet) else [entry])
    unmapped: dict[str, None] = {}  # ordered and de-duplicated
    for line in lines:
        ref = line.item_ref if isinstance(line, qbxml.ItemLineRet) else None
        if (
            ref is not None
            and ref.list_id is not None
            and ctx.refs.procore_id(Entity.COST_CODE, ref.list_id) is None
        ):
            unmapped[ref.full_name or ref.list_id] = None
    vendor = bill.vendor_ref.list_id if bill.vendor_ref is not None else None
    memo = (bill.memo or "").casefold()
    reference = bill.memo if ("change order" in memo or memo.startswith("co ")) else None
    return InvoiceFacts(
        invoice_id=bill.txn_id or "",
        vendor_id=vendor or "",
        invoice_number=bill.ref_number,
        amount=sum((line.amount for line in lines if line.amount is not None), Decimal(0)),
        change_order_reference=reference,
        vendor_mapped=vendor is not None and ctx.refs.procore_id(Entity.VENDOR, vendor) is not None,
        unmapped_cost_codes=tuple(unmapped),
    )
