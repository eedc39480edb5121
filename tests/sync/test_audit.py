"""A record's journey by either id, and the reconciliation report."""

from __future__ import annotations

from decimal import Decimal

from qbprocore import sync

E = sync.Entity


def test_journey_follows_the_pair_across_ids(store: sync.Store) -> None:
    store.put_connection(sync.Connection(id="c1", procore_company_id=1, company_file_id="f"))
    store.link("c1", E.INVOICE, qb_id="B-1", procore_id=801)
    steps = [
        (sync.Stage.RECEIVED, "B-1", None),
        (sync.Stage.MAPPED, "B-1", None),
        (sync.Stage.BLOCKED, "B-1", None),
        (sync.Stage.APPROVED, "B-1", None),
        (sync.Stage.WRITTEN, None, 801),
        (sync.Stage.RECEIVED, "B-2", None),  # another record
    ]
    for stage, qb_id, procore_id in steps:
        store.record_event(
            sync.AuditEvent(
                connection_id="c1",
                entity=E.INVOICE,
                stage=stage,
                qb_id=qb_id,
                procore_id=procore_id,
            )
        )
    expected = ["received", "mapped", "blocked", "approved", "written"]
    assert [e.stage.value for e in sync.journey(store, "c1", qb_id="B-1")] == expected
    assert [e.stage.value for e in sync.journey(store, "c1", procore_id=801)] == expected
    assert sync.journey(store, "c1", qb_id="nope") == []


def _xref(entity: sync.Entity, qb_id: str, procore_id: int, **kw: object) -> sync.XRef:
    return sync.XRef(
        id=0, connection_id="c1", entity=entity, qb_id=qb_id, procore_id=procore_id, **kw
    )  # type: ignore[arg-type]


def test_reconciliation_counts_amounts_and_lists_differences() -> None:
    qb = [
        sync.LedgerRecord(entity=E.VENDOR, id="V-1", label="Acme"),
        sync.LedgerRecord(entity=E.VENDOR, id="V-2", label="Bolt"),  # never synced
        sync.LedgerRecord(entity=E.INVOICE, id="B-1", amount=Decimal("100.10")),
        sync.LedgerRecord(entity=E.INVOICE, id="B-2", amount=Decimal("50.00")),  # mismatch
        sync.LedgerRecord(entity=E.INVOICE, id="B-3", amount=Decimal("7.00")),  # gone in Procore
    ]
    pc = [
        sync.LedgerRecord(entity=E.VENDOR, id="501"),
        sync.LedgerRecord(entity=E.VENDOR, id="599", label="Procore only"),
        sync.LedgerRecord(entity=E.INVOICE, id="801", amount=Decimal("100.10")),
        sync.LedgerRecord(entity=E.INVOICE, id="802", amount=Decimal("55.00")),
        sync.LedgerRecord(entity=E.INVOICE, id="804", amount=Decimal("1.00")),  # QB deleted it
    ]
    xrefs = [
        _xref(E.VENDOR, "V-1", 501),
        _xref(E.INVOICE, "B-1", 801),
        _xref(E.INVOICE, "B-2", 802),
        _xref(E.INVOICE, "B-3", 803),
        _xref(E.INVOICE, "B-4", 804),
        _xref(E.INVOICE, "B-9", 809, deleted=True),
    ]
    report = sync.reconcile(connection_id="c1", quickbooks=qb, procore=pc, xrefs=xrefs)
    assert not report.balanced
    vendors, invoices = report.totals
    assert (vendors.quickbooks_count, vendors.procore_count, vendors.paired) == (2, 2, 1)
    assert (invoices.quickbooks_amount, invoices.procore_amount) == (
        Decimal("157.10"),
        Decimal("156.10"),
    )
    assert invoices.paired == 2
    kinds = [(d.entity.value, d.kind, d.qb_id, d.procore_id) for d in report.differences]
    assert kinds == [
        ("vendor", "only_in_quickbooks", "V-2", None),
        ("invoice", "amount_mismatch", "B-2", 802),
        ("invoice", "missing_in_procore", "B-3", 803),
        ("vendor", "only_in_procore", None, 599),
        ("invoice", "missing_in_quickbooks", "B-4", 804),
    ]
    text = report.to_text()
    assert "invoice amount_mismatch B-2 / 802: 50.00 vs 55.00" in text
    assert "vendor only_in_procore 599 'Procore only'" in text


def test_reconcile_store_reads_the_pairs(store: sync.Store) -> None:
    store.put_connection(sync.Connection(id="c1", procore_company_id=1, company_file_id="f"))
    store.link("c1", E.VENDOR, qb_id="V-1", procore_id=501)
    report = sync.reconcile_store(
        store,
        "c1",
        quickbooks=[sync.LedgerRecord(entity=E.VENDOR, id="V-1")],
        procore=[sync.LedgerRecord(entity=E.VENDOR, id="501")],
    )
    assert report.balanced
    assert report.totals[0].paired == 1
