"""What mappings take and return: results, skips, text issues, the context and typed inputs.

A mapping is a pure function ``(source record, context) -> Mapped | Skip``. It never does
I/O: whatever it needs to know about the other side (which QuickBooks ListID a Procore vendor
has, which cost type id "Other" is) comes in through `MappingContext`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

import attrs

from qbprocore import procore, qbxml
from qbprocore.sync._records import Entity, XRef
from qbprocore.sync._settings import MappingSettings

__all__ = [
    "Budget",
    "ChangeOrderLines",
    "CommitmentPayment",
    "Mapped",
    "MappingContext",
    "MappingResult",
    "ProcoreDeletion",
    "RefResolver",
    "RefTable",
    "Skip",
    "SubcontractorInvoice",
    "TextIssue",
    "fit_text",
]

T = TypeVar("T")
QM = TypeVar("QM", bound=qbxml.QbxmlModel)


@attrs.frozen(kw_only=True)
class TextIssue:
    """A text value longer than its qbXML field allows.

    Attributes:
        field: Dotted path of the field, e.g. ``"VendorAdd.name"``.
        limit: The field's maximum length in characters.
        value: The value as mapped (before any cut).
        truncated: The value was cut to `limit` because the settings asked for it.
    """

    field: str
    limit: int
    value: str
    truncated: bool = False

    def describe(self) -> str:
        """The issue in words a person can act on."""
        action = "cut to fit" if self.truncated else "QuickBooks would refuse it"
        return (
            f"{self.field} is {len(self.value)} characters, QuickBooks allows {self.limit}"
            f" ({action}): {self.value!r}"
        )


@attrs.frozen(kw_only=True)
class Mapped(Generic[T]):
    """A mapping's successful result.

    Attributes:
        record: The record for the other side.
        issues: Text that was cut to fit, each reported (only with
            `MappingSettings.truncate_overlong_text`).
        notes: Anything else the caller should know (e.g. lines combined).
    """

    record: T
    issues: tuple[TextIssue, ...] = ()
    notes: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Skip:
    """A record that a mapping does not carry over, and why.

    Attributes:
        reason: Words a person can act on (what is missing or not supported, and what to do).
        code: A short, stable code for the kind of skip (``"negative_invoice"``,
            ``"missing_mapping"``, ``"text_too_long"`` …) for filtering and reports.
        issues: The text issues behind a ``"text_too_long"`` skip.
    """

    reason: str
    code: str = "skipped"
    issues: tuple[TextIssue, ...] = ()


MappingResult: TypeAlias = Mapped[T] | Skip
"""What every mapping returns: `Mapped` with the record, or `Skip` with the reason."""


@runtime_checkable
class RefResolver(Protocol):
    """Answers "what is this record called on the other side?" from the cross-references."""

    def qb_id(self, entity: Entity, procore_id: int) -> str | None:
        """The QuickBooks ListID/TxnID paired with a Procore id, or ``None``."""

    def procore_id(self, entity: Entity, qb_id: str) -> int | None:
        """The Procore id paired with a QuickBooks id, or ``None``."""

    def procore_ids_for_txn(self, entity: Entity, txn_id: str) -> tuple[int, ...]:
        """Procore ids paired with a transaction, including per-job parts (``"TxnID|JobID"``)."""


class RefTable:
    """A `RefResolver` over pairs held in memory (built from the store's `XRef` rows or by hand).

    Examples:
        >>> refs = RefTable({Entity.VENDOR: {"80000001-1": 501}})
        >>> refs.procore_id(Entity.VENDOR, "80000001-1"), refs.qb_id(Entity.VENDOR, 501)
        (501, '80000001-1')
    """

    def __init__(self, pairs: Mapping[Entity, Mapping[str, int]] | None = None) -> None:
        self._by_qb: dict[Entity, dict[str, int]] = {}
        self._by_pc: dict[Entity, dict[int, str]] = {}
        for entity, table in (pairs or {}).items():
            for qb_id, procore_id in table.items():
                self.add(entity, qb_id, procore_id)

    @classmethod
    def from_xrefs(cls, xrefs: Iterable[XRef]) -> RefTable:
        """A table of every complete, live pair in ``xrefs``."""
        table = cls()
        for x in xrefs:
            if x.qb_id is not None and x.procore_id is not None and not x.deleted:
                table.add(x.entity, x.qb_id, x.procore_id)
        return table

    def add(self, entity: Entity, qb_id: str, procore_id: int) -> None:
        """Add one pair."""
        self._by_qb.setdefault(Entity(entity), {})[qb_id] = procore_id
        self._by_pc.setdefault(Entity(entity), {})[procore_id] = qb_id

    def alias(self, entity: Entity, qb_id: str, procore_id: int) -> None:
        """Add one more Procore record for a QuickBooks record that is already paired.

        Procore repeats cost codes per project while QuickBooks has one Service item per code:
        each project's cost code resolves to the item, the item still to its first cost code.
        """
        self._by_pc.setdefault(Entity(entity), {})[procore_id] = qb_id
        self._by_qb.setdefault(Entity(entity), {}).setdefault(qb_id, procore_id)

    def qb_id(self, entity: Entity, procore_id: int) -> str | None:
        """See `RefResolver.qb_id`."""
        return self._by_pc.get(entity, {}).get(procore_id)

    def procore_id(self, entity: Entity, qb_id: str) -> int | None:
        """See `RefResolver.procore_id`."""
        return self._by_qb.get(entity, {}).get(qb_id)

    def procore_ids_for_txn(self, entity: Entity, txn_id: str) -> tuple[int, ...]:
        """See `RefResolver.procore_ids_for_txn`."""
        table = self._by_qb.get(entity, {})
        return tuple(
            pid for qid, pid in table.items() if qid == txn_id or qid.startswith(txn_id + "|")
        )


@attrs.frozen(kw_only=True)
class MappingContext:
    """Everything a mapping may know besides its source record.

    Attributes:
        connection_id: The connection being synced.
        settings: The connection's mapping settings.
        refs: Cross-references (which record is which on the other side).
        company_country: The QuickBooks edition's country (HostQuery ``Country``: ``"US"``,
            ``"CA"``, ``"UK"``), if known.
        line_item_type_ids: Procore cost type (line item type) name → id.
        vendor_commitments: Procore vendor id → the commitment its bills are invoiced against
            (the "bills → subcontractor invoices" connector shape).
        invoice_commitments: Procore requisition id → its commitment id.
        project_cost_codes: Procore project id → {cost code (case-folded full code) → that
            project's cost code id}. Procore keeps a cost code per project, while QuickBooks
            has one Service item per code: a job-coded line resolves its item's code in the
            line's project here first.
    """

    connection_id: str = ""
    settings: MappingSettings = attrs.field(factory=MappingSettings)
    refs: RefResolver = attrs.field(factory=RefTable)
    company_country: str | None = None
    line_item_type_ids: Mapping[str, int] = attrs.field(factory=dict)
    vendor_commitments: Mapping[int, int] = attrs.field(factory=dict)
    invoice_commitments: Mapping[int, int] = attrs.field(factory=dict)
    project_cost_codes: Mapping[int, Mapping[str, int]] = attrs.field(factory=dict)


# -- typed inputs and outputs that are not one record of either API -----------------------------


@attrs.frozen(kw_only=True)
class Budget:
    """A project's budget, or one budget modification (QuickBooks: an estimate).

    Attributes:
        project: The project.
        line_items: The budget lines (for a modification: the changed amounts).
        revision: ``None`` for the original budget; the modification's number otherwise.
    """

    project: procore.Project
    line_items: tuple[procore.BudgetLineItem, ...]
    revision: str | None = None


@attrs.frozen(kw_only=True)
class ChangeOrderLines:
    """A commitment change order and the QuickBooks purchase order it adds lines to.

    Attributes:
        change_order: The commitment change order.
        purchase_order: The purchase order as QuickBooks last returned it (its lines and
            EditSequence are needed: a Mod that omitted an existing line would delete it).
    """

    change_order: procore.CommitmentChangeOrder
    purchase_order: qbxml.PurchaseOrderRet


@attrs.frozen(kw_only=True)
class SubcontractorInvoice:
    """A subcontractor invoice (requisition) with its line items.

    Attributes:
        requisition: The invoice.
        items: Its lines.
    """

    requisition: procore.Requisition
    items: tuple[procore.RequisitionItem, ...] = ()


@attrs.frozen(kw_only=True)
class CommitmentPayment:
    """A payment issued and the commitment it pays (the payment does not name its vendor).

    Attributes:
        payment: The payment issued.
        commitment: Its commitment.
    """

    payment: procore.ContractPayment
    commitment: procore.WorkOrderContract | procore.PurchaseOrderContract


@attrs.frozen(kw_only=True)
class ProcoreDeletion:
    """What to remove in Procore because its QuickBooks counterpart was deleted.

    Attributes:
        entity: The kind of record.
        qb_id: The deleted QuickBooks ListID/TxnID.
        procore_ids: The Procore records paired with it.
        action: ``"delete"`` for transactions; ``"deactivate"`` for vendors and projects,
            which Procore keeps for their history.
    """

    entity: Entity
    qb_id: str
    procore_ids: tuple[int, ...]
    action: str = "delete"


# -- text that must fit qbXML field lengths ----------------------------------------------------


def _field_values(model: qbxml.QbxmlModel) -> dict[str, Any]:
    spec = type(model).__qbxml__
    values = {a.attr: getattr(model, a.attr) for a in spec.attributes}
    values.update({f.attr: getattr(model, f.attr) for f in spec.fields})
    values["unknown_elements"] = model.unknown_elements  # type: ignore[attr-defined]
    return values


def _fit(
    model: QM, path: str, limits: Mapping[str, int], truncate: bool
) -> tuple[QM, list[TextIssue]]:
    spec = type(model).__qbxml__
    issues: list[TextIssue] = []
    changes: dict[str, Any] = {}
    for f in spec.fields:
        value = getattr(model, f.attr)
        if value is None or value == ():
            continue
        where = f"{path}.{f.attr}"
        if f.classes:
            inner = dict(f.limits)
            items = value if f.is_list else [value]
            fitted = []
            for i, item in enumerate(items):
                sub_path = f"{where}[{i}]" if f.is_list else where
                new, sub = _fit(item, sub_path, inner, truncate)
                fitted.append(new)
                issues.extend(sub)
            if any(a is not b for a, b in zip(fitted, items, strict=True)):
                changes[f.attr] = fitted if f.is_list else fitted[0]
        elif isinstance(value, str):
            limit = limits.get(f.attr, f.max_length)
            if limit is not None and len(value) > limit:
                issues.append(TextIssue(field=where, limit=limit, value=value, truncated=truncate))
                if truncate:
                    changes[f.attr] = value[:limit]
    if changes:
        model = type(model)(**{**_field_values(model), **changes})
    return model, issues


def fit_text(record: QM, settings: MappingSettings) -> Mapped[QM] | Skip:
    """Check every text field of a qbXML record against its maximum length.

    Nothing is cut silently: with `MappingSettings.truncate_overlong_text` off (the default)
    a record with too-long text becomes a `Skip` naming each field; with it on, the text is cut
    and each cut is listed in `Mapped.issues`.

    Args:
        record: A qbXML request record (``VendorAdd``, ``BillAdd`` …).
        settings: The connection's settings.

    Returns:
        The record (possibly cut) with its issues, or a skip.

    Examples:
        >>> from qbprocore import qbxml
        >>> result = fit_text(qbxml.VendorAdd(name="x" * 45), MappingSettings())
        >>> result.code, result.issues[0].limit
        ('text_too_long', 41)
    """
    fitted, issues = _fit(record, type(record).__name__, {}, settings.truncate_overlong_text)
    if issues and not settings.truncate_overlong_text:
        return Skip(
            reason="; ".join(i.describe() for i in issues)
            + " (shorten it in Procore, or set MappingSettings.truncate_overlong_text)",
            code="text_too_long",
            issues=tuple(issues),
        )
    return Mapped(record=fitted, issues=tuple(issues))
