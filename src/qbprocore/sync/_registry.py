"""The public registry through which integrators replace or extend mappings.

Each row of the feature map is a `MappingSpec`: a name, the source types it accepts, the
side it writes to, and the default function. A `MappingRegistry` resolves a spec to a
function — an override for one connection, else an override for every connection, else the
default — and checks the contract on every call: the source has an accepted type and the
result is a `Mapped` or a `Skip`.

Specs are generic in their source and target types, so a type checker verifies that an
override fits the row it replaces:

    def my_vendor(vendor: procore.Vendor, ctx: MappingContext) -> MappingResult[qbxml.VendorAdd]:
        ...

    registry.register(VENDOR_TO_QB_VENDOR, my_vendor, connection_id="acme")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from qbprocore import procore, qbxml
from qbprocore.sync import _mappings as m
from qbprocore.sync._errors import MappingError
from qbprocore.sync._records import Entity, Side
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
)

__all__ = [
    "BILL_PAYMENT_TO_PAYMENTS",
    "BILL_TO_REQUISITION",
    "BUDGET_TO_ESTIMATE",
    "CHANGE_ORDER_TO_PO_LINES",
    "COMMITMENT_TO_PURCHASE_ORDER",
    "COST_CODE_TO_ITEM",
    "DEFAULT_MAPPINGS",
    "JOB_COSTS_TO_DIRECT_COSTS",
    "JOB_TO_PROJECT",
    "LIST_DELETED_TO_DELETION",
    "PAYMENT_TO_BILL_PAYMENT",
    "PROJECT_TO_JOB",
    "QB_VENDOR_TO_VENDOR",
    "REQUISITION_TO_BILL",
    "TXN_DELETED_TO_DELETION",
    "VENDOR_TO_QB_VENDOR",
    "MappingFunction",
    "MappingRegistry",
    "MappingSpec",
]

S = TypeVar("S")
T = TypeVar("T")

MappingFunction = Callable[[S, MappingContext], MappingResult[T]]
"""A mapping: ``(source record, context) -> Mapped[target] | Skip``. Pure: no I/O."""


@attrs.frozen(kw_only=True)
class MappingSpec(Generic[S, T]):
    """One row of the feature map, in one direction.

    Attributes:
        name: A stable name (``"vendor_to_qb_vendor"``).
        entity: The kind of record it maps (its cross-references use this entity).
        target: The side its records are written to.
        sources: The source types it accepts (checked on every call).
        default: The default function.
    """

    name: str
    entity: Entity
    target: Side
    sources: tuple[type, ...]
    default: Callable[[S, MappingContext], MappingResult[T]] = attrs.field(repr=False)


COST_CODE_TO_ITEM: MappingSpec[procore.CostCode, qbxml.ItemServiceAdd] = MappingSpec(
    name="cost_code_to_item",
    entity=Entity.COST_CODE,
    target=Side.QUICKBOOKS,
    sources=(procore.CostCode,),
    default=m.cost_code_to_item,
)
PROJECT_TO_JOB: MappingSpec[procore.Project, qbxml.CustomerAdd] = MappingSpec(
    name="project_to_job",
    entity=Entity.PROJECT,
    target=Side.QUICKBOOKS,
    sources=(procore.Project,),
    default=m.project_to_job,
)
JOB_TO_PROJECT: MappingSpec[qbxml.CustomerRet, procore.Project] = MappingSpec(
    name="job_to_project",
    entity=Entity.PROJECT,
    target=Side.PROCORE,
    sources=(qbxml.CustomerRet,),
    default=m.job_to_project,
)
VENDOR_TO_QB_VENDOR: MappingSpec[procore.Vendor, qbxml.VendorAdd] = MappingSpec(
    name="vendor_to_qb_vendor",
    entity=Entity.VENDOR,
    target=Side.QUICKBOOKS,
    sources=(procore.Vendor,),
    default=m.vendor_to_qb_vendor,
)
QB_VENDOR_TO_VENDOR: MappingSpec[qbxml.VendorRet, procore.Vendor] = MappingSpec(
    name="qb_vendor_to_vendor",
    entity=Entity.VENDOR,
    target=Side.PROCORE,
    sources=(qbxml.VendorRet,),
    default=m.qb_vendor_to_vendor,
)
BUDGET_TO_ESTIMATE: MappingSpec[Budget, qbxml.EstimateAdd] = MappingSpec(
    name="budget_to_estimate",
    entity=Entity.BUDGET,
    target=Side.QUICKBOOKS,
    sources=(Budget,),
    default=m.budget_to_estimate,
)
COMMITMENT_TO_PURCHASE_ORDER: MappingSpec[
    procore.WorkOrderContract | procore.PurchaseOrderContract, qbxml.PurchaseOrderAdd
] = MappingSpec(
    name="commitment_to_purchase_order",
    entity=Entity.COMMITMENT,
    target=Side.QUICKBOOKS,
    sources=(procore.WorkOrderContract, procore.PurchaseOrderContract),
    default=m.commitment_to_purchase_order,
)
CHANGE_ORDER_TO_PO_LINES: MappingSpec[ChangeOrderLines, qbxml.PurchaseOrderMod] = MappingSpec(
    name="change_order_to_po_lines",
    entity=Entity.CHANGE_ORDER,
    target=Side.QUICKBOOKS,
    sources=(ChangeOrderLines,),
    default=m.change_order_to_po_lines,
)
REQUISITION_TO_BILL: MappingSpec[SubcontractorInvoice, qbxml.BillAdd] = MappingSpec(
    name="requisition_to_bill",
    entity=Entity.INVOICE,
    target=Side.QUICKBOOKS,
    sources=(SubcontractorInvoice,),
    default=m.requisition_to_bill,
)
BILL_TO_REQUISITION: MappingSpec[qbxml.BillRet, SubcontractorInvoice] = MappingSpec(
    name="bill_to_requisition",
    entity=Entity.INVOICE,
    target=Side.PROCORE,
    sources=(qbxml.BillRet,),
    default=m.bill_to_requisition,
)
JOB_COSTS_TO_DIRECT_COSTS: MappingSpec[
    qbxml.BillRet | qbxml.CheckRet | qbxml.CreditCardChargeRet, tuple[procore.DirectCost, ...]
] = MappingSpec(
    name="job_costs_to_direct_costs",
    entity=Entity.DIRECT_COST,
    target=Side.PROCORE,
    sources=(qbxml.BillRet, qbxml.CheckRet, qbxml.CreditCardChargeRet),
    default=m.job_costs_to_direct_costs,
)
PAYMENT_TO_BILL_PAYMENT: MappingSpec[CommitmentPayment, qbxml.BillPaymentCheckAdd] = MappingSpec(
    name="payment_to_bill_payment",
    entity=Entity.PAYMENT,
    target=Side.QUICKBOOKS,
    sources=(CommitmentPayment,),
    default=m.payment_to_bill_payment,
)
BILL_PAYMENT_TO_PAYMENTS: MappingSpec[
    qbxml.BillPaymentCheckRet, tuple[procore.ContractPayment, ...]
] = MappingSpec(
    name="bill_payment_to_payments",
    entity=Entity.PAYMENT,
    target=Side.PROCORE,
    sources=(qbxml.BillPaymentCheckRet,),
    default=m.bill_payment_to_payments,
)
TXN_DELETED_TO_DELETION: MappingSpec[qbxml.TxnDeletedRet, ProcoreDeletion] = MappingSpec(
    name="txn_deleted_to_deletion",
    entity=Entity.INVOICE,
    target=Side.PROCORE,
    sources=(qbxml.TxnDeletedRet,),
    default=m.txn_deleted_to_deletion,
)
LIST_DELETED_TO_DELETION: MappingSpec[qbxml.ListDeletedRet, ProcoreDeletion] = MappingSpec(
    name="list_deleted_to_deletion",
    entity=Entity.VENDOR,
    target=Side.PROCORE,
    sources=(qbxml.ListDeletedRet,),
    default=m.list_deleted_to_deletion,
)

DEFAULT_MAPPINGS: tuple[MappingSpec[Any, Any], ...] = (
    COST_CODE_TO_ITEM,
    PROJECT_TO_JOB,
    JOB_TO_PROJECT,
    VENDOR_TO_QB_VENDOR,
    QB_VENDOR_TO_VENDOR,
    BUDGET_TO_ESTIMATE,
    COMMITMENT_TO_PURCHASE_ORDER,
    CHANGE_ORDER_TO_PO_LINES,
    REQUISITION_TO_BILL,
    BILL_TO_REQUISITION,
    JOB_COSTS_TO_DIRECT_COSTS,
    PAYMENT_TO_BILL_PAYMENT,
    BILL_PAYMENT_TO_PAYMENTS,
    TXN_DELETED_TO_DELETION,
    LIST_DELETED_TO_DELETION,
)
"""Every feature-map row with its default function, in dependency order."""

_BY_NAME = {spec.name: spec for spec in DEFAULT_MAPPINGS}


class MappingRegistry:
    """Which function maps each feature-map row, per connection.

    Examples:
        >>> from qbprocore import procore
        >>> registry = MappingRegistry()
        >>> def shout(vendor, ctx):
        ...     result = VENDOR_TO_QB_VENDOR.default(vendor, ctx)
        ...     if isinstance(result, Skip):
        ...         return result
        ...     return Mapped(record=qbxml.VendorAdd(name=result.record.name.upper()))
        >>> registry.register(VENDOR_TO_QB_VENDOR, shout, connection_id="acme")
        >>> ctx = MappingContext(connection_id="acme")
        >>> registry.map(VENDOR_TO_QB_VENDOR, procore.Vendor(name="Acme"), ctx).record.name
        'ACME'
        >>> other = MappingContext(connection_id="other")
        >>> registry.map(VENDOR_TO_QB_VENDOR, procore.Vendor(name="Acme"), other).record.name
        'Acme'
    """

    def __init__(self) -> None:
        # (spec name, connection id or None for every connection) -> function
        self._overrides: dict[tuple[str, str | None], Callable[[Any, MappingContext], Any]] = {}

    def __repr__(self) -> str:
        return f"MappingRegistry(<{len(self._overrides)} overrides>)"

    @staticmethod
    def _known(spec: MappingSpec[Any, Any]) -> None:
        if _BY_NAME.get(spec.name) is not spec:
            raise MappingError(
                f"unknown mapping {spec.name!r}: use one of the specs in DEFAULT_MAPPINGS"
            )

    def register(
        self,
        spec: MappingSpec[S, T],
        function: Callable[[S, MappingContext], MappingResult[T]],
        *,
        connection_id: str | None = None,
    ) -> None:
        """Use ``function`` for ``spec`` (on one connection, or on all without one).

        To *extend* the default rather than replace it, call ``spec.default`` inside
        ``function`` and adjust its result.

        Raises:
            MappingError: ``spec`` is not one of `DEFAULT_MAPPINGS`, or ``function`` is not
                callable.
        """
        self._known(spec)
        if not callable(function):
            raise MappingError(f"the mapping for {spec.name!r} must be callable, got {function!r}")
        self._overrides[(spec.name, connection_id)] = function

    def unregister(self, spec: MappingSpec[Any, Any], *, connection_id: str | None = None) -> None:
        """Drop an override (no error if there is none)."""
        self._overrides.pop((spec.name, connection_id), None)

    def resolve(
        self, spec: MappingSpec[S, T], *, connection_id: str | None = None
    ) -> Callable[[S, MappingContext], MappingResult[T]]:
        """The function in force for a connection.

        That connection's override, else the override for every connection, else the default.
        """
        self._known(spec)
        for key in ((spec.name, connection_id), (spec.name, None)):
            if key in self._overrides:
                function: Callable[[S, MappingContext], MappingResult[T]] = self._overrides[key]
                return function
        return spec.default

    def map(self, spec: MappingSpec[S, T], source: S, ctx: MappingContext) -> MappingResult[T]:
        """Map one record with the function in force for ``ctx.connection_id``.

        Raises:
            MappingError: ``source`` is not a type the row accepts, or the function returned
                neither `Mapped` nor `Skip`.
        """
        if not isinstance(source, spec.sources):
            accepted = " or ".join(t.__name__ for t in spec.sources)
            raise MappingError(f"{spec.name} maps {accepted}, got {type(source).__name__}")
        function = self.resolve(spec, connection_id=ctx.connection_id)
        result = function(source, ctx)
        if not isinstance(result, (Mapped, Skip)):
            raise MappingError(
                f"the mapping for {spec.name!r} ({getattr(function, '__qualname__', function)})"
                f" returned {type(result).__name__}; a mapping returns Mapped(record=...) or"
                " Skip(reason=...)"
            )
        return result
