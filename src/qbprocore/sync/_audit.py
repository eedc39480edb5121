"""The audit trail read back: a record's journey, and the reconciliation report.

Both are computed from plain inputs (events, cross-references, the records each side holds),
so they are pure apart from the one store read `journey` and `reconcile_store` do for you.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from qbprocore.sync._records import AuditEvent, Entity, XRef
from qbprocore.sync._store import Store

__all__ = [
    "Difference",
    "EntityTotals",
    "LedgerRecord",
    "ReconciliationReport",
    "journey",
    "reconcile",
    "reconcile_store",
]


def journey(
    store: Store,
    connection_id: str,
    *,
    qb_id: str | None = None,
    procore_id: int | None = None,
) -> list[AuditEvent]:
    """Every audit event of one record, found by either side's id, oldest first.

    Events recorded with only the other side's id (a Procore write logs the Procore id) are
    included through the record's cross-references.

    Examples:
        >>> import tempfile, pathlib
        >>> from qbprocore.sync import SQLiteStore, Connection, Stage
        >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "s.db")
        >>> _ = store.put_connection(Connection(id="c", procore_company_id=1, company_file_id="f"))
        >>> _ = store.link("c", Entity.VENDOR, qb_id="V-1", procore_id=501)
        >>> for stage, ids in ((Stage.RECEIVED, {"qb_id": "V-1"}),
        ...                    (Stage.WRITTEN, {"procore_id": 501})):
        ...     _ = store.record_event(AuditEvent(connection_id="c", entity=Entity.VENDOR,
        ...                                       stage=stage, **ids))
        >>> [e.stage.value for e in journey(store, "c", qb_id="V-1")]
        ['received', 'written']
        >>> store.close()
    """
    qb_ids = {qb_id} if qb_id is not None else set()
    procore_ids = {procore_id} if procore_id is not None else set()
    # A transaction split per job (direct costs) or per bill (payments) is paired as
    # "<TxnID>|<part>": those pairs belong to the transaction's journey too.
    prefix = f"{qb_id}|" if qb_id is not None else None
    for x in store.list_xrefs(connection_id):
        if (
            x.qb_id is not None
            and (x.qb_id in qb_ids or (prefix is not None and x.qb_id.startswith(prefix)))
        ) or (x.procore_id is not None and x.procore_id in procore_ids):
            if x.qb_id is not None:
                qb_ids.add(x.qb_id)
            if x.procore_id is not None:
                procore_ids.add(x.procore_id)
    found: dict[int, AuditEvent] = {}
    for q in qb_ids:
        found.update((e.id, e) for e in store.events(connection_id=connection_id, qb_id=q))
    for p in procore_ids:
        found.update((e.id, e) for e in store.events(connection_id=connection_id, procore_id=p))
    return [found[i] for i in sorted(found)]


@attrs.frozen(kw_only=True)
class LedgerRecord:
    """One record as one side holds it, for reconciliation.

    Attributes:
        entity: The kind of record.
        id: Its id on that side: the QuickBooks ListID/TxnID (per-job parts as
            ``"TxnID|JobListID"``, as the mappings write them), or the Procore id as text.
        amount: Its amount, for entities that have one.
        label: How people recognize it (name, invoice number), for the report.
    """

    entity: Entity
    id: str
    amount: Decimal | None = None
    label: str = ""


@attrs.frozen(kw_only=True)
class EntityTotals:
    """Counts and amounts of one entity on each side.

    Attributes:
        entity: The kind of record.
        quickbooks_count: Records in QuickBooks.
        procore_count: Records in Procore.
        quickbooks_amount: Their total amount in QuickBooks.
        procore_amount: Their total amount in Procore.
        paired: Records present on both sides and paired by a cross-reference.
    """

    entity: Entity
    quickbooks_count: int = 0
    procore_count: int = 0
    quickbooks_amount: Decimal = Decimal(0)
    procore_amount: Decimal = Decimal(0)
    paired: int = 0


@attrs.frozen(kw_only=True)
class Difference:
    """One thing that does not match.

    Attributes:
        entity: The kind of record.
        kind: ``"only_in_quickbooks"`` (never synced), ``"only_in_procore"``,
            ``"missing_in_procore"`` / ``"missing_in_quickbooks"`` (paired, but gone from that
            side) or ``"amount_mismatch"``.
        qb_id: The QuickBooks id, if any.
        procore_id: The Procore id, if any.
        quickbooks_amount: The amount in QuickBooks, if known.
        procore_amount: The amount in Procore, if known.
        label: How people recognize the record.
    """

    entity: Entity
    kind: str
    qb_id: str | None = None
    procore_id: int | None = None
    quickbooks_amount: Decimal | None = None
    procore_amount: Decimal | None = None
    label: str = ""


@attrs.frozen(kw_only=True)
class ReconciliationReport:
    """Both sides compared, per entity, with every difference listed.

    Attributes:
        connection_id: The connection.
        totals: Counts and amounts per entity.
        differences: What does not match.
    """

    connection_id: str
    totals: tuple[EntityTotals, ...]
    differences: tuple[Difference, ...]

    @property
    def balanced(self) -> bool:
        """Nothing differs."""
        return not self.differences

    def to_text(self) -> str:
        """The report as a plain-text table followed by the differences."""
        lines = [
            f"{'entity':<13} {'QB count':>8} {'PC count':>8} {'QB amount':>14} {'PC amount':>14}"
        ]
        for t in self.totals:
            lines.append(
                f"{t.entity.value:<13} {t.quickbooks_count:>8} {t.procore_count:>8}"
                f" {t.quickbooks_amount:>14} {t.procore_amount:>14}"
            )
        for d in self.differences:
            ids = " / ".join(str(i) for i in (d.qb_id, d.procore_id) if i is not None)
            amounts = ""
            if d.kind == "amount_mismatch":
                amounts = f": {d.quickbooks_amount} vs {d.procore_amount}"
            label = f" {d.label!r}" if d.label else ""
            lines.append(f"- {d.entity.value} {d.kind} {ids}{label}{amounts}")
        return "\n".join(lines)


def reconcile(
    *,
    connection_id: str,
    quickbooks: Iterable[LedgerRecord],
    procore: Iterable[LedgerRecord],
    xrefs: Iterable[XRef],
) -> ReconciliationReport:
    """Compare what each side holds, through the cross-references.

    Args:
        connection_id: The connection (for the report).
        quickbooks: The records QuickBooks holds.
        procore: The records Procore holds.
        xrefs: The connection's cross-references; deleted pairs are ignored.

    Returns:
        Counts and amounts per entity on each side, and every difference.

    Examples:
        >>> from decimal import Decimal as D
        >>> qb = [LedgerRecord(entity=Entity.INVOICE, id="B-1", amount=D("100.00"))]
        >>> pc = [LedgerRecord(entity=Entity.INVOICE, id="801", amount=D("90.00"))]
        >>> x = [XRef(id=1, connection_id="c", entity=Entity.INVOICE, qb_id="B-1",
        ...           procore_id=801)]
        >>> report = reconcile(connection_id="c", quickbooks=qb, procore=pc, xrefs=x)
        >>> print(report.differences[0].kind, report.balanced)
        amount_mismatch False
    """
    pairs: dict[tuple[Entity, str], int] = {}
    for x in xrefs:
        if x.qb_id is not None and x.procore_id is not None and not x.deleted:
            pairs[(x.entity, x.qb_id)] = x.procore_id
    qb = {(r.entity, r.id): r for r in quickbooks}
    pc = {(r.entity, r.id): r for r in procore}
    entities = sorted({e for e, _ in qb} | {e for e, _ in pc}, key=lambda e: list(Entity).index(e))
    totals: dict[Entity, EntityTotals] = {e: EntityTotals(entity=e) for e in entities}
    differences: list[Difference] = []
    for (entity, _), record in qb.items():
        t = totals[entity]
        totals[entity] = attrs.evolve(
            t,
            quickbooks_count=t.quickbooks_count + 1,
            quickbooks_amount=t.quickbooks_amount + (record.amount or 0),
        )
    for (entity, _), record in pc.items():
        t = totals[entity]
        totals[entity] = attrs.evolve(
            t,
            procore_count=t.procore_count + 1,
            procore_amount=t.procore_amount + (record.amount or 0),
        )
    matched_procore: set[tuple[Entity, str]] = set()
    for (entity, qb_id), record in qb.items():
        procore_id = pairs.get((entity, qb_id))
        if procore_id is None:
            differences.append(
                Difference(
                    entity=entity,
                    kind="only_in_quickbooks",
                    qb_id=qb_id,
                    quickbooks_amount=record.amount,
                    label=record.label,
                )
            )
            continue
        other = pc.get((entity, str(procore_id)))
        if other is None:
            differences.append(
                Difference(
                    entity=entity,
                    kind="missing_in_procore",
                    qb_id=qb_id,
                    procore_id=procore_id,
                    quickbooks_amount=record.amount,
                    label=record.label,
                )
            )
            continue
        matched_procore.add((entity, str(procore_id)))
        t = totals[entity]
        totals[entity] = attrs.evolve(t, paired=t.paired + 1)
        if record.amount != other.amount:
            differences.append(
                Difference(
                    entity=entity,
                    kind="amount_mismatch",
                    qb_id=qb_id,
                    procore_id=procore_id,
                    quickbooks_amount=record.amount,
                    procore_amount=other.amount,
                    label=record.label or other.label,
                )
            )
    paired_procore = {(e, str(p)): q for (e, q), p in pairs.items()}
    for key, record in pc.items():
        if key in matched_procore:
            continue
        entity = key[0]
        paired_qb = paired_procore.get(key)
        differences.append(
            Difference(
                entity=entity,
                kind="only_in_procore" if paired_qb is None else "missing_in_quickbooks",
                qb_id=paired_qb,
                procore_id=int(record.id) if record.id.isdigit() else None,
                procore_amount=record.amount,
                label=record.label,
            )
        )
    return ReconciliationReport(
        connection_id=connection_id,
        totals=tuple(totals[e] for e in entities),
        differences=tuple(differences),
    )


def reconcile_store(
    store: Store,
    connection_id: str,
    *,
    quickbooks: Iterable[LedgerRecord],
    procore: Iterable[LedgerRecord],
) -> ReconciliationReport:
    """`reconcile` with the connection's cross-references read from ``store``."""
    return reconcile(
        connection_id=connection_id,
        quickbooks=quickbooks,
        procore=procore,
        xrefs=store.list_xrefs(connection_id),
    )
