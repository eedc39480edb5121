"""Typed models of Procore's financial resources.

Conventions, enforced by the converters below:

- money is `Decimal` (Procore sends amounts as strings *and* as JSON numbers;
  both are converted through ``str`` so ``0.1`` never becomes ``0.1000000000000000055``);
- ids are Python ``int`` (Procore ids exceed 32 bits; they are never floats);
- datetimes keep their offset (``Z`` becomes UTC), dates are `date`;
- fields the model does not name are kept in `extra`, so nothing Procore
  sends is lost and `to_api` round-trips them.

Nested objects that the connector does not need typed (``vendor``, ``project``...) stay as
plain mappings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

import attrs

__all__ = [
    "BudgetLineItem",
    "BudgetView",
    "BudgetViewDetailRow",
    "CommitmentChangeOrder",
    "CommitmentLineItem",
    "Company",
    "ContractPayment",
    "CostCode",
    "DirectCost",
    "DirectCostLineItem",
    "LineItemType",
    "PotentialChangeOrder",
    "PotentialChangeOrderLineItem",
    "ProcoreModel",
    "Project",
    "PurchaseOrderContract",
    "Requisition",
    "RequisitionItem",
    "Vendor",
    "WorkOrderContract",
]

M = TypeVar("M", bound="ProcoreModel")


def to_decimal(value: Any) -> Decimal | None:
    """Money: ``None`` stays ``None``; strings and numbers go through ``str``."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError(f"expected an amount, got boolean {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


def to_id(value: Any) -> int | None:
    """Ids: ints (64-bit and beyond) or numeric strings; floats are refused."""
    if value is None or value == "":
        return None
    if isinstance(value, (bool, float)):
        raise TypeError(f"ids must be integers, got {value!r}")
    return int(value)


def to_datetime(value: Any) -> dt.datetime | None:
    """ISO-8601 timestamps, keeping the offset (``Z`` → UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


def to_date(value: Any) -> dt.date | None:
    """``YYYY-MM-DD`` dates (a full timestamp is cut to its date)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _jsonable(value: Any) -> Any:
    result: Any = value
    if isinstance(value, Decimal):
        result = str(value)
    elif isinstance(value, dt.datetime):
        result = value.isoformat().replace("+00:00", "Z")
    elif isinstance(value, dt.date):
        result = value.isoformat()
    elif isinstance(value, ProcoreModel):
        result = value.to_api()
    elif isinstance(value, (list, tuple)):
        result = [_jsonable(v) for v in value]
    elif isinstance(value, Mapping):
        result = {k: _jsonable(v) for k, v in value.items()}
    return result


@attrs.frozen(kw_only=True)
class ProcoreModel:
    """Base of every model: ``id``, unknown fields kept in ``extra``.

    Attributes:
        id: Procore's id (64-bit).
        extra: Every field of the payload that the model does not name.
    """

    #: Fields holding lists of nested models: name → model class.
    _nested: ClassVar[dict[str, type[ProcoreModel]]] = {}

    id: int | None = attrs.field(default=None, converter=to_id)
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_api(cls: type[M], data: Mapping[str, Any]) -> M:
        """Build the model from a decoded JSON object.

        Args:
            data: One object from a Procore response.

        Returns:
            The model; unknown keys land in `extra`.

        Raises:
            ValueError: A field's value cannot be converted; the message names the model,
                the field and the value.
        """
        if not isinstance(data, Mapping):
            # A hostile or broken body ("null", a number, a list) is a bad value, not a crash.
            raise ValueError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        fields = {f.name: f for f in attrs.fields(cls) if f.name != "extra"}
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            field = fields.get(key)
            if field is None:
                extra[key] = value
                continue
            nested = cls._nested.get(key)
            try:
                if nested is not None and isinstance(value, list):
                    known[key] = tuple(nested.from_api(v) for v in value)
                elif callable(field.converter):
                    known[key] = field.converter(value)
                else:
                    known[key] = value
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{cls.__name__}.{key}: {exc} (got {value!r})") from exc
        return cls(**known, extra=extra)

    def to_api(self) -> dict[str, Any]:
        """The JSON-ready payload: named fields that are set, then `extra`."""
        out: dict[str, Any] = dict(_jsonable(dict(self.extra)))
        for field in attrs.fields(type(self)):
            if field.name == "extra":
                continue
            value = getattr(self, field.name)
            if value is not None:
                out[field.name] = _jsonable(value)
        return out


@attrs.frozen(kw_only=True)
class _Tracked(ProcoreModel):
    """Records that carry ERP linkage and timestamps."""

    origin_id: str | None = None
    origin_data: str | None = None
    origin_code: str | None = None
    created_at: dt.datetime | None = attrs.field(default=None, converter=to_datetime)
    updated_at: dt.datetime | None = attrs.field(default=None, converter=to_datetime)
    deleted_at: dt.datetime | None = attrs.field(default=None, converter=to_datetime)


@attrs.frozen(kw_only=True)
class Company(ProcoreModel):
    """A Procore company (``GET /rest/v1.0/companies``)."""

    name: str | None = None
    is_active: bool | None = None
    my_company: bool | None = None


@attrs.frozen(kw_only=True)
class Project(_Tracked):
    """A project (QuickBooks: a Job)."""

    name: str | None = None
    display_name: str | None = None
    project_number: str | None = None
    active: bool | None = None
    is_erp_integrated: bool | None = None
    parent_job_id: int | None = attrs.field(default=None, converter=to_id)
    total_value: Decimal | None = attrs.field(default=None, converter=to_decimal)
    start_date: dt.date | None = attrs.field(default=None, converter=to_date)
    completion_date: dt.date | None = attrs.field(default=None, converter=to_date)
    company: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True)
class Vendor(_Tracked):
    """A company or project directory vendor (QuickBooks: a Vendor)."""

    name: str | None = None
    abbreviated_name: str | None = None
    address: str | None = None
    city: str | None = None
    state_code: str | None = None
    country_code: str | None = None
    zip: str | None = None
    business_phone: str | None = None
    email_address: str | None = None
    is_active: bool | None = None
    license_number: str | None = None
    parent_id: int | None = attrs.field(default=None, converter=to_id)
    erp_integrated: bool | None = None


@attrs.frozen(kw_only=True)
class CostCode(_Tracked):
    """A cost code (QuickBooks: an Item of type Service)."""

    name: str | None = None
    code: str | None = None
    full_code: str | None = None
    biller_id: int | None = attrs.field(default=None, converter=to_id)
    standard_cost_code_id: int | None = attrs.field(default=None, converter=to_id)
    parent: Mapping[str, Any] | None = None
    line_item_types: tuple[Any, ...] | None = attrs.field(
        default=None, converter=attrs.converters.optional(tuple)
    )


@attrs.frozen(kw_only=True)
class LineItemType(ProcoreModel):
    """A line item (cost) type."""

    name: str | None = None
    code: str | None = None
    base_type: str | None = None
    origin_id: str | None = None
    origin_data: str | None = None


@attrs.frozen(kw_only=True)
class BudgetView(ProcoreModel):
    """A budget view of a project."""

    name: str | None = None
    description: str | None = None


@attrs.frozen(kw_only=True)
class BudgetViewDetailRow(ProcoreModel):
    """One detail row of a budget view (amounts by column)."""

    cost_code: Mapping[str, Any] | None = None
    line_item_type: Mapping[str, Any] | None = None
    original_budget_amount: Decimal | None = attrs.field(default=None, converter=to_decimal)
    budget_line_item_id: int | None = attrs.field(default=None, converter=to_id)


@attrs.frozen(kw_only=True)
class BudgetLineItem(_Tracked):
    """A budget line item (QuickBooks: an Estimate line)."""

    original_budget_amount: Decimal | None = attrs.field(default=None, converter=to_decimal)
    quantity: Decimal | None = attrs.field(default=None, converter=to_decimal)
    unit_cost: Decimal | None = attrs.field(default=None, converter=to_decimal)
    uom: str | None = None
    calculation_strategy: str | None = None
    cost_code: Mapping[str, Any] | None = None
    line_item_type: Mapping[str, Any] | None = None
    wbs_code: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True)
class CommitmentLineItem(_Tracked):
    """A line of a work order or purchase order contract (or a change order)."""

    amount: Decimal | None = attrs.field(default=None, converter=to_decimal)
    total_amount: Decimal | None = attrs.field(default=None, converter=to_decimal)
    extended_amount: Decimal | None = attrs.field(default=None, converter=to_decimal)
    quantity: Decimal | None = attrs.field(default=None, converter=to_decimal)
    unit_cost: Decimal | None = attrs.field(default=None, converter=to_decimal)
    uom: str | None = None
    description: str | None = None
    position: int | None = None
    cost_code: Mapping[str, Any] | None = None
    line_item_type: Mapping[str, Any] | None = None
    wbs_code: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True)
class _Commitment(_Tracked):
    title: str | None = None
    number: str | None = None
    status: str | None = None
    executed: bool | None = None
    grand_total: Decimal | None = attrs.field(default=None, converter=to_decimal)
    revised_contract: Decimal | None = attrs.field(default=None, converter=to_decimal)
    approved_change_orders: Decimal | None = attrs.field(default=None, converter=to_decimal)
    pending_change_orders: Decimal | None = attrs.field(default=None, converter=to_decimal)
    total_payments: Decimal | None = attrs.field(default=None, converter=to_decimal)
    retainage_percent: Decimal | None = attrs.field(default=None, converter=to_decimal)
    contract_date: dt.date | None = attrs.field(default=None, converter=to_date)
    vendor: Mapping[str, Any] | None = None
    project: Mapping[str, Any] | None = None
    line_items: tuple[CommitmentLineItem, ...] | None = None


@attrs.frozen(kw_only=True)
class WorkOrderContract(_Commitment):
    """A subcontract (QuickBooks: a Purchase Order)."""

    _nested: ClassVar[dict[str, type[ProcoreModel]]] = {"line_items": CommitmentLineItem}


@attrs.frozen(kw_only=True)
class PurchaseOrderContract(_Commitment):
    """A purchase order commitment (QuickBooks: a Purchase Order)."""

    _nested: ClassVar[dict[str, type[ProcoreModel]]] = {"line_items": CommitmentLineItem}

    ship_to_address: str | None = None
    ship_via: str | None = None


@attrs.frozen(kw_only=True)
class _CostLine(_Tracked):
    """The fields Procore's cost lines share (PCO lines and direct-cost lines)."""

    amount: Decimal | None = attrs.field(default=None, converter=to_decimal)
    quantity: Decimal | None = attrs.field(default=None, converter=to_decimal)
    unit_cost: Decimal | None = attrs.field(default=None, converter=to_decimal)
    uom: str | None = None
    description: str | None = None
    cost_code: Mapping[str, Any] | None = None
    line_item_type: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True)
class PotentialChangeOrderLineItem(_CostLine):
    """A line of a potential change order (the lines behind a commitment change order)."""


@attrs.frozen(kw_only=True)
class PotentialChangeOrder(_Tracked):
    """A potential change order (PCO)."""

    _nested: ClassVar[dict[str, type[ProcoreModel]]] = {"line_items": PotentialChangeOrderLineItem}

    title: str | None = None
    number: str | None = None
    status: str | None = None
    contract_id: int | None = attrs.field(default=None, converter=to_id)
    change_order_package_id: int | None = attrs.field(default=None, converter=to_id)
    grand_total: Decimal | None = attrs.field(default=None, converter=to_decimal)
    line_items: tuple[PotentialChangeOrderLineItem, ...] | None = None


@attrs.frozen(kw_only=True)
class CommitmentChangeOrder(_Tracked):
    """A commitment change order (QuickBooks: new PO lines)."""

    _nested: ClassVar[dict[str, type[ProcoreModel]]] = {"line_items": CommitmentLineItem}

    title: str | None = None
    number: str | None = None
    status: str | None = None
    executed: bool | None = None
    contract_id: int | None = attrs.field(default=None, converter=to_id)
    grand_total: Decimal | None = attrs.field(default=None, converter=to_decimal)
    line_items: tuple[CommitmentLineItem, ...] | None = None


@attrs.frozen(kw_only=True)
class RequisitionItem(ProcoreModel):
    """A line of a subcontractor invoice (requisition)."""

    description: str | None = None
    scheduled_value: Decimal | None = attrs.field(default=None, converter=to_decimal)
    work_completed_this_period: Decimal | None = attrs.field(default=None, converter=to_decimal)
    materials_presently_stored: Decimal | None = attrs.field(default=None, converter=to_decimal)
    total_completed_and_stored_to_date: Decimal | None = attrs.field(
        default=None, converter=to_decimal
    )
    work_completed_retainage_amount: Decimal | None = attrs.field(
        default=None, converter=to_decimal
    )
    cost_code: Mapping[str, Any] | None = None
    commitment_line_item_id: int | None = attrs.field(default=None, converter=to_id)


@attrs.frozen(kw_only=True)
class Requisition(_Tracked):
    """A subcontractor invoice (API name: requisition; QuickBooks: a Bill)."""

    number: int | None = None
    invoice_number: str | None = None
    status: str | None = None
    erp_status: str | None = None
    commitment_id: int | None = attrs.field(default=None, converter=to_id)
    commitment_type: str | None = None
    vendor_id: int | None = attrs.field(default=None, converter=to_id)
    vendor_name: str | None = None
    project_id: int | None = attrs.field(default=None, converter=to_id)
    billing_date: dt.date | None = attrs.field(default=None, converter=to_date)
    payment_date: dt.date | None = attrs.field(default=None, converter=to_date)
    period_id: int | None = attrs.field(default=None, converter=to_id)
    total_claimed_amount: Decimal | None = attrs.field(default=None, converter=to_decimal)
    summary: Mapping[str, Any] | None = None


@attrs.frozen(kw_only=True)
class ContractPayment(_Tracked):
    """A payment issued against a commitment (QuickBooks: a Bill Payment)."""

    amount: Decimal | None = attrs.field(default=None, converter=to_decimal)
    date: dt.date | None = attrs.field(default=None, converter=to_date)
    check_number: str | None = None
    invoice_number: str | None = None
    payment_number: str | None = None
    notes: str | None = None
    contract_id: int | None = attrs.field(default=None, converter=to_id)
    requisition_id: int | None = attrs.field(default=None, converter=to_id)


@attrs.frozen(kw_only=True)
class DirectCostLineItem(_CostLine):
    """A line of a direct cost."""


@attrs.frozen(kw_only=True)
class DirectCost(_Tracked):
    """A direct cost (QuickBooks: a cost coded to a job — check, card charge, bill)."""

    _nested: ClassVar[dict[str, type[ProcoreModel]]] = {"line_items": DirectCostLineItem}

    direct_cost_type: str | None = None
    invoice_number: str | None = None
    status: str | None = None
    direct_cost_date: dt.date | None = attrs.field(default=None, converter=to_date)
    grand_total: Decimal | None = attrs.field(default=None, converter=to_decimal)
    vendor: Mapping[str, Any] | None = None
    line_items: tuple[DirectCostLineItem, ...] | None = None
