"""Per-connection settings: how records are mapped and how strictly they are verified.

Every limit the market leader documents is a field here, with the market leader's behaviour
as the default, so a host can relax or tighten it per connection instead of forking a mapping.
Both classes are plain data that round-trip through JSON (`to_dict` / `from_dict`), which is
how the store keeps them with the connection.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

__all__ = ["MappingSettings", "Rule", "RuleMode", "VerificationPolicy"]


def _frozenset_of_str(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        # A bare string would become a set of its characters: almost certainly a mistake.
        raise TypeError(f"expected a collection of strings, got the string {value!r}")
    return frozenset(str(v) for v in value)


def _vendor_cost_codes(value: Any) -> Mapping[str, int]:
    return {str(k): int(v) for k, v in dict(value).items()}


@attrs.frozen(kw_only=True)
class MappingSettings:
    """What the default mappings do, per connection.

    Attributes:
        cost_type: The one Procore cost type (line item type) every synced line gets; the
            market leader collapses all cost types to ``"Other"``.
        item_types: QuickBooks list types treated as cost codes (deletions of other item
            types are ignored); the market leader syncs only Service items.
        skip_negative_invoices: Subcontractor invoices with a negative total are skipped with
            a reason instead of becoming bills (the market leader never syncs them).
        payment_import_countries: QuickBooks editions (HostQuery country codes) whose bill
            payments are imported to Procore; the market leader imports them only from US
            files.
        sync_sub_jobs: Map QuickBooks sub jobs (a job under a job) to Procore projects; the
            market leader does not.
        job_parent_customer: Full name of the QuickBooks customer that jobs created from
            Procore projects are placed under (a job is a customer with a parent).
        vendor_cost_codes: QuickBooks vendor ListID → Procore cost code id used for the lines
            of that vendor's bills (the "cost code per vendor" connector shape).
        default_cost_code_id: Cost code for bill lines whose vendor has none configured.
        item_account: QuickBooks account (full name) that Service items created from cost
            codes post to; QuickBooks refuses a Service item without one, so cost codes are
            skipped with a reason until it is set.
        commitment_statuses: Procore commitment statuses (compared case-insensitively) that
            become purchase orders; drafts stay in Procore.
        change_order_statuses: Commitment change-order statuses that become purchase-order
            lines.
        bank_account: QuickBooks bank account (full name) that bill payments are drawn on.
        ap_account: QuickBooks accounts-payable account (full name) for bills; ``None`` uses
            the company default.
        deduct_retainage: Bills for subcontractor invoices are net of the retainage held.
        direct_cost_sources: QuickBooks transaction types whose job-coded lines become
            Procore direct costs.
        mirror_deletions: Deletions in QuickBooks delete the Procore counterpart.
        truncate_overlong_text: Text longer than a qbXML field allows is cut to fit and each
            cut is reported in `Mapped.issues`; when ``False`` (default) such a record is
            skipped with a reason naming the field, so nothing is cut without the caller
            asking.
    """

    cost_type: str = "Other"
    item_types: frozenset[str] = attrs.field(
        default=frozenset({"ItemService"}), converter=_frozenset_of_str
    )
    skip_negative_invoices: bool = True
    payment_import_countries: frozenset[str] = attrs.field(
        default=frozenset({"US"}), converter=_frozenset_of_str
    )
    sync_sub_jobs: bool = False
    job_parent_customer: str | None = None
    vendor_cost_codes: Mapping[str, int] = attrs.field(factory=dict, converter=_vendor_cost_codes)
    default_cost_code_id: int | None = None
    item_account: str | None = None
    commitment_statuses: frozenset[str] = attrs.field(
        default=frozenset({"approved", "complete"}), converter=_frozenset_of_str
    )
    change_order_statuses: frozenset[str] = attrs.field(
        default=frozenset({"approved"}), converter=_frozenset_of_str
    )
    bank_account: str | None = None
    ap_account: str | None = None
    deduct_retainage: bool = False
    direct_cost_sources: frozenset[str] = attrs.field(
        default=frozenset({"Bill", "Check", "CreditCardCharge"}), converter=_frozenset_of_str
    )
    mirror_deletions: bool = True
    truncate_overlong_text: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (sets become sorted lists)."""
        out: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[field.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MappingSettings:
        """Rebuild settings from `to_dict` output; unknown keys raise `TypeError`."""
        return cls(**dict(data))


class RuleMode(str, enum.Enum):
    """What a verification rule does when it finds something."""

    BLOCK = "block"
    """The record is not written; it waits, listed with the reason, until approved."""
    WARN = "warn"
    """The record is written; the finding lands in the audit trail."""
    OFF = "off"
    """The rule is not evaluated."""


class Rule(str, enum.Enum):
    """The verification rules (see `verify_invoice` and `verify_commitment`)."""

    CUMULATIVE_OVER_COMMITMENT = "cumulative_over_commitment"
    """All invoices of a vendor against a commitment exceed its revised value."""
    NEGATIVE_INVOICE = "negative_invoice"
    """An invoice with a negative total."""
    OVER_COMMITMENT_WITHOUT_CHANGE_ORDER = "over_commitment_without_change_order"
    """An invoice goes beyond the commitment and names no change order."""
    DUPLICATE_INVOICE_NUMBER = "duplicate_invoice_number"
    """The vendor already has an invoice with this number."""
    MISSING_VENDOR_MAPPING = "missing_vendor_mapping"
    """The vendor has no counterpart on the other side."""
    MISSING_COST_CODE_MAPPING = "missing_cost_code_mapping"
    """A line's cost code (or item) has no counterpart on the other side."""
    STALE_COMMITMENT = "stale_commitment"
    """A change order was approved but the commitment's value was not revised."""


_DEFAULT_MODES: Mapping[Rule, RuleMode] = {
    Rule.CUMULATIVE_OVER_COMMITMENT: RuleMode.BLOCK,
    Rule.NEGATIVE_INVOICE: RuleMode.BLOCK,
    Rule.OVER_COMMITMENT_WITHOUT_CHANGE_ORDER: RuleMode.WARN,
    Rule.DUPLICATE_INVOICE_NUMBER: RuleMode.BLOCK,
    Rule.MISSING_VENDOR_MAPPING: RuleMode.BLOCK,
    Rule.MISSING_COST_CODE_MAPPING: RuleMode.BLOCK,
    Rule.STALE_COMMITMENT: RuleMode.WARN,
}


def _modes(value: Mapping[Any, Any]) -> Mapping[Rule, RuleMode]:
    modes = dict(_DEFAULT_MODES)
    for rule, mode in dict(value).items():
        modes[Rule(rule)] = RuleMode(mode)
    return modes


def _decimal(value: object) -> Decimal:
    # Through str: a float tolerance such as 0.1 must not become 0.1000000000000000055.
    return value if isinstance(value, Decimal) else Decimal(str(value))


@attrs.frozen(kw_only=True)
class VerificationPolicy:
    """How each verification rule reacts: block, warn or off.

    Rules left out keep their default (blocking for overbilling, negative invoices, duplicate
    numbers and missing mappings; warning for invoices beyond the commitment without a
    change-order reference and for stale commitments).

    Attributes:
        modes: Rule → mode; every rule is present after construction.
        tolerance: Amount by which a cumulative total may exceed the commitment before the
            rule fires (rounding on retainage, for example). Zero by default.

    Examples:
        >>> policy = VerificationPolicy(modes={Rule.STALE_COMMITMENT: RuleMode.BLOCK})
        >>> policy.mode(Rule.STALE_COMMITMENT).value, policy.mode(Rule.NEGATIVE_INVOICE).value
        ('block', 'block')
    """

    modes: Mapping[Rule, RuleMode] = attrs.field(factory=dict, converter=_modes)
    tolerance: Decimal = attrs.field(default=Decimal(0), converter=_decimal)

    def mode(self, rule: Rule) -> RuleMode:
        """The mode of ``rule``."""
        return self.modes[rule]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "modes": {rule.value: mode.value for rule, mode in self.modes.items()},
            "tolerance": str(self.tolerance),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VerificationPolicy:
        """Rebuild a policy from `to_dict` output."""
        return cls(modes=data.get("modes", {}), tolerance=data.get("tolerance", "0"))
