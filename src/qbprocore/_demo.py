"""``qbprocore demo``: a complete simulated sync on the embedded SQLite store.

A construction company is built in `FakeQuickBooks` and `FakeProcore` (two projects, a
cost-code list, vendors on both sides, a subcontract and a purchase order each with an
approved change order, a budget, subcontractor invoices — one overbilling its commitment, one
negative — and a payment issued). The reference server (`qbprocore.server`) is started on
127.0.0.1 under uvicorn on the embedded SQLite store, `FakeWebConnector` calls its Web
Connector endpoint like the Windows program, and the sync engine runs after each update, as
a deployment does on a schedule:

1. the first sync moves everything both ways;
2. the bookkeeper then enters bills, a check, a card charge and a bill payment in
   QuickBooks, and the next sync carries them to Procore;
3. the check is deleted in QuickBooks, and the deletion is mirrored.

It prints what moved per entity and direction, what verification blocked and why, a
reconciliation of both sides and the duplicates found (none), and leaves the SQLite file
for inspection (``qbprocore status``/``audit`` read it).
"""

from __future__ import annotations

import collections
import json
import pathlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TextIO

import attrs

from qbprocore import procore, qbwc
from qbprocore.server import create_app, parse_config
from qbprocore.sync import Entity, ItemStatus, LedgerRecord, SQLiteStore, reconcile_store
from qbprocore.testing import SimulatedConnector, serve_asgi
from qbprocore.testing._company import company_mapping, enter_bookkeeping, seed_company
from qbprocore.testing._harness import SIMULATED_PASSWORD, SIMULATED_USER

__all__ = ["run_demo"]


@contextmanager
def _serve(sim: SimulatedConnector) -> Iterator[str]:
    """Run the reference server (`qbprocore.server`) for ``sim``'s store on 127.0.0.1.

    uvicorn serves it on a free port in a thread; yields the Web Connector endpoint's URL.
    """
    config = parse_config(
        {
            "database": "sqlite:///unused.db",  # the store is passed in below
            "server": {"sync_every": 0},  # the demo runs the engine after each update itself
            "users": [
                {
                    "username": SIMULATED_USER,
                    "connection": sim.connection_id,
                    # A cheap cost: a simulated login protects nothing.
                    "password_hash": qbwc.hash_password(SIMULATED_PASSWORD, n=2**10),
                }
            ],
        },
        environ={},
    )
    app = create_app(config, store=sim.store, token_store=procore.MemoryTokenStore())
    with serve_asgi(app, lifespan="on") as base:
        yield f"{base}/qbwc"


def _bar(done: int, total: int, label: str, stream: TextIO) -> None:
    width = 24
    filled = width * done // max(total, 1)
    stream.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {label:<40}")
    stream.flush()


def _ledgers(sim: SimulatedConnector) -> tuple[list[LedgerRecord], list[LedgerRecord]]:
    """What each side holds for the entities both keep, as ledger records."""
    qb, p = sim.quickbooks, sim.procore
    projects = p.records("projects")
    invoices = {x.qb_id for x in sim.store.list_xrefs(sim.connection_id, Entity.INVOICE) if x.qb_id}
    quickbooks = [
        LedgerRecord(entity=Entity.VENDOR, id=v.list_id or "", label=v.name or "")
        for v in qb.vendors
    ]
    quickbooks += [
        LedgerRecord(
            entity=Entity.INVOICE, id=b.txn_id or "", amount=b.amount_due, label=b.ref_number or ""
        )
        for b in qb.bills.values()
        if b.txn_id in invoices or b.linked_txn
    ]
    quickbooks += [
        LedgerRecord(
            entity=Entity.COMMITMENT,
            id=po.txn_id or "",
            amount=po.total_amount,
            label=po.ref_number or "",
        )
        for po in qb.purchase_orders.values()
    ]
    procore: list[LedgerRecord] = [
        LedgerRecord(entity=Entity.VENDOR, id=str(r["id"]), label=r["name"])
        for r in p.records("vendors")
    ]
    for project in projects:
        for r in p.records("requisitions", project_id=project["id"]):
            amount = Decimal(str(r.get("total_claimed_amount") or 0))
            procore.append(
                LedgerRecord(
                    entity=Entity.INVOICE,
                    id=str(r["id"]),
                    amount=amount,
                    label=r.get("invoice_number") or "",
                )
            )
        for resource in ("work_order_contracts", "purchase_order_contracts"):
            for r in p.records(resource, project_id=project["id"]):
                amount = Decimal(str(r.get("revised_contract") or r.get("grand_total") or 0))
                procore.append(
                    LedgerRecord(
                        entity=Entity.COMMITMENT,
                        id=str(r["id"]),
                        amount=amount,
                        label=r.get("number") or "",
                    )
                )
    return quickbooks, procore


def _duplicates(sim: SimulatedConnector) -> int:
    """Records that exist twice on either side (by name, origin_id or marker)."""
    qb, p = sim.quickbooks, sim.procore
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for entity, records in qb.lists.items():
        counts.update(
            (entity, str(getattr(r, "full_name", None) or getattr(r, "name", "")))
            for r in records.values()
        )
    for kind, txns in (
        ("Bill", qb.bills),
        ("PurchaseOrder", qb.purchase_orders),
        ("Estimate", qb.estimates),
        ("BillPaymentCheck", qb.bill_payments),
    ):
        guids = (getattr(t, "external_guid", None) for t in txns.values())
        counts.update((kind, g) for g in guids if g)
    for resource in ("vendors", "projects"):
        counts.update((resource, r["origin_id"]) for r in p.records(resource) if r.get("origin_id"))
    for project in p.records("projects"):
        for resource in ("direct_costs", "requisitions"):
            counts.update(
                (resource, r["origin_id"])
                for r in p.records(resource, project_id=project["id"])
                if r.get("origin_id") and not r.get("deleted_at")
            )
    return sum(n - 1 for n in counts.values() if n > 1)


def _phase(
    sim: SimulatedConnector,
    label: str,
    progress: TextIO | None,
    moved: collections.Counter[str],
    cycles_run: list[int],
) -> None:
    max_cycles = 8
    for n in range(max_cycles):
        if progress is not None:
            _bar(n, max_cycles, f"{label}: cycle {n + 1}", progress)
        cycle = sim.cycle()
        cycles_run.append(cycle.update.operations.count("sendRequestXML"))
        moved.update({k: v for k, v in cycle.report.moved.items() if k.endswith("procore")})
        if cycle.quiet:
            break
    if progress is not None:
        _bar(1, 1, f"{label}: done", progress)
        progress.write("\n")


def run_demo(
    out: TextIO,
    *,
    database: pathlib.Path | None = None,
    as_json: bool = False,
    progress: TextIO | None = None,
) -> dict[str, Any]:
    """Run the demo; print the summary (text, or one JSON object) to ``out``; return it.

    Args:
        out: Where the summary goes.
        database: The SQLite file (default: ``qbprocore-demo.db`` in the current
            directory); an existing one is replaced.
        as_json: Print one JSON object instead of text.
        progress: Where progress bars go (default: standard error when it is a terminal).
    """
    started = time.perf_counter()
    path = database or pathlib.Path.cwd() / "qbprocore-demo.db"
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    if progress is None and sys.stderr.isatty():
        progress = sys.stderr
    sim = SimulatedConnector(
        store=SQLiteStore(path), mapping=company_mapping(), connection_id="demo"
    )
    company = seed_company(sim)
    tower = company.projects["Harbor Point Tower"]
    conn = sim.store.get_connection(sim.connection_id)
    assert conn is not None
    sim.store.put_connection(
        attrs.evolve(
            conn,
            mapping=attrs.evolve(
                conn.mapping, default_cost_code_id=company.cost_codes[(tower, "01-100")]
            ),
        )
    )
    moved: collections.Counter[str] = collections.Counter()
    round_trips: list[int] = []
    with _serve(sim) as url:
        sim.url = url
        _phase(sim, "1. first sync, both ways", progress, moved, round_trips)
        txns = enter_bookkeeping(sim, company)
        _phase(sim, "2. bookkeeping entered in QuickBooks", progress, moved, round_trips)
        sim.quickbooks.delete_txn("Check", txns["check"])
        _phase(sim, "3. a check deleted in QuickBooks", progress, moved, round_trips)
    summary = _summary(sim, moved, round_trips, path, time.perf_counter() - started)
    sim.close()
    if as_json:
        print(json.dumps(summary, indent=2, sort_keys=True), file=out)
    else:
        _print(summary, out.write)
    return summary


def _summary(
    sim: SimulatedConnector,
    moved: collections.Counter[str],
    round_trips: list[int],
    path: pathlib.Path,
    seconds: float,
) -> dict[str, Any]:
    store, conn_id = sim.store, sim.connection_id
    for item in store.list_outbox(conn_id, status=ItemStatus.DONE):
        moved[f"{item.entity.value} -> quickbooks"] += 1
    deleted = [e for e in store.events(connection_id=conn_id) if e.stage.value == "deleted"]
    blocked = []
    for record in store.list_staged(conn_id, status=ItemStatus.BLOCKED):
        rule, _, reason = record.error.partition(": ")
        blocked.append(
            {
                "entity": record.entity.value,
                "source": record.source.value,
                "id": record.source_id,
                "rule": rule,
                "reason": reason,
            }
        )
    quickbooks, procore = _ledgers(sim)
    report = reconcile_store(store, conn_id, quickbooks=quickbooks, procore=procore)
    return {
        "moved": dict(sorted(moved.items())),
        "deletions_mirrored": len(deleted),
        "blocked": blocked,
        "reconciliation": {
            "balanced": report.balanced,
            "totals": [
                {
                    "entity": t.entity.value,
                    "quickbooks_count": t.quickbooks_count,
                    "procore_count": t.procore_count,
                    "quickbooks_amount": str(t.quickbooks_amount),
                    "procore_amount": str(t.procore_amount),
                }
                for t in report.totals
            ],
            "differences": [
                {
                    "entity": d.entity.value,
                    "kind": d.kind,
                    "label": d.label,
                    "quickbooks_amount": None
                    if d.quickbooks_amount is None
                    else str(d.quickbooks_amount),
                    "procore_amount": None if d.procore_amount is None else str(d.procore_amount),
                }
                for d in report.differences
            ],
            "text": report.to_text(),
        },
        "duplicates": _duplicates(sim),
        "web_connector_round_trips": sum(round_trips),
        "cycles": len(round_trips),
        "database": str(path),
        "seconds": round(seconds, 2),
    }


def _print(summary: dict[str, Any], write: Callable[[str], Any]) -> None:
    def say(text: str = "") -> None:
        write(text + "\n")

    say("qbprocore demo: QuickBooks Desktop <-> Web Connector <-> qbprocore <-> Procore")
    say()
    say(
        f"{summary['cycles']} sync cycles, {summary['web_connector_round_trips']} Web Connector"
        f" round trips, {summary['seconds']} s"
    )
    say()
    say("What moved (records per entity and direction):")
    for key, count in summary["moved"].items():
        entity, _, side = key.partition(" -> ")
        arrow = "QuickBooks -> Procore" if side == "procore" else "Procore -> QuickBooks"
        say(f"  {entity:<13} {arrow:<22} {count:>4}")
    say(f"  deletions mirrored from QuickBooks: {summary['deletions_mirrored']}")
    say()
    say(f"Held back by verification ({len(summary['blocked'])}):")
    for b in summary["blocked"]:
        say(f"  {b['entity']} {b['source']} #{b['id']}: {b['rule']}")
        say(f"    {b['reason']}")
    say()
    say("Reconciliation (both sides, through the cross-references):")
    for line in summary["reconciliation"]["text"].splitlines():
        say(f"  {line}")
    say()
    say(f"Duplicates found on either side: {summary['duplicates']}")
    say(f"The store is left for inspection: {summary['database']}")
