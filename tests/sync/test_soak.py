"""Fault soak: a full two-way sync under injected faults on every side, until it completes.

Procore answers 20% of requests with a 5xx, a 429 burst, a timeout, a refused connection or
a response lost after the write committed; QuickBooks fails 20% of requests (hresult
failures, records in use, stale EditSequences, connection errors); and the process is killed
at random store writes. The sync is repeated until both sides hold what an undisturbed sync
leaves: nothing lost, nothing written twice, and every QuickBooks problem in the audit trail.

The suite runs one seed; ``QBPROCORE_SOAK_SEEDS=1,2,…,40 pytest tests/sync/test_soak.py``
runs more.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from qbprocore.sync import SQLiteStore, Stage, Store
from qbprocore.testing import FakeClock, FakeProcore, FakeQuickBooks, SimulatedConnector
from qbprocore.testing._company import company_mapping, enter_bookkeeping, seed_company
from tests.sync.conftest import Clock
from tests.sync.test_crash import Died, Dying

RATE = 0.2
SEEDS = [int(s) for s in os.environ.get("QBPROCORE_SOAK_SEEDS", "7").split(",")]


class FlakyProcore(httpx.BaseTransport):
    """Injects a fault into `RATE` of the requests on their way to FakeProcore."""

    def __init__(self, fake: FakeProcore, rng: random.Random) -> None:
        self.fake = fake
        self.rng = rng
        self.inner = fake.transport()
        self.injected: list[str] = []
        self.on = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.on and "/rest/" in request.url.path and self.rng.random() < RATE:
            kind = self.rng.choice(["5xx", "429", "timeout", "connect", "lost"])
            common: dict[str, Any] = {"method": request.method, "path": request.url.path}
            if kind == "5xx":
                self.fake.inject_fault("status", status=503, retry_after=1, **common)
            elif kind == "429":
                self.fake.inject_fault("status", status=429, retry_after=2, times=3, **common)
            elif kind == "timeout":
                self.fake.inject_fault("timeout", **common)
            elif kind == "connect":
                self.fake.inject_fault("connect", **common)
            elif request.method != "GET":
                self.fake.inject_fault("lost_response", **common)
            self.injected.append(kind)
        return self.inner.handle_request(request)


class FlakyQuickBooks(FakeQuickBooks):
    """Fails `RATE` of the requests: hresults, records in use, stale EditSequences (3200), and
    company files that won't open."""

    def __init__(self, rng: random.Random, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rng = rng
        self.on = False
        self.write_faults = 0
        self.hresults = 0

    def open(self, company_file: str) -> Any:
        if self.on and self.rng.random() < RATE / 4:
            self.fail_connection()
        return super().open(company_file)

    def process(self, request: str | bytes) -> Any:
        if self.on and self.rng.random() < RATE:
            text = request.decode("ascii", "replace") if isinstance(request, bytes) else request
            writes = [
                t
                for t in (
                    "VendorAddRq",
                    "CustomerAddRq",
                    "ItemServiceAddRq",
                    "PurchaseOrderAddRq",
                    "PurchaseOrderModRq",
                    "BillAddRq",
                    "EstimateAddRq",
                    "BillPaymentCheckAddRq",
                )
                if f"<{t}" in text
            ]
            if writes and self.rng.random() < 0.5:
                self.answer_with(writes[0], self.rng.choice([3170, 3175, 3200]))
                self.write_faults += 1
            else:
                self.fail_next("0x80040408", "Could not start QuickBooks.")
                self.hresults += 1
        return super().process(request)


def _census(qb: FakeQuickBooks, procore: FakeProcore) -> dict[str, Any]:
    projects = procore.records("projects")

    def rows(resource: str, **scope: Any) -> list[dict[str, Any]]:
        return [r for r in procore.records(resource, **scope) if not r.get("deleted_at")]

    return {
        "qb_vendors": sorted(v.name or "" for v in qb.vendors),
        "qb_customers": sorted(c.full_name or "" for c in qb.lists["Customer"].values()),
        "qb_items": sorted(i.name or "" for i in qb.lists["ItemService"].values()),
        "qb_pos": sorted(
            (po.ref_number or "", po.total_amount) for po in qb.purchase_orders.values()
        ),
        "qb_estimates": len(qb.estimates),
        "qb_bills": sorted((b.ref_number or "", b.amount_due) for b in qb.bills.values()),
        "qb_bill_payments": sorted(str(p.amount) for p in qb.bill_payments.values()),
        "p_vendors": sorted((r["name"], bool(r.get("origin_id"))) for r in rows("vendors")),
        "p_projects": sorted(r["name"] for r in rows("projects")),
        "p_direct_costs": sorted(
            str(r["grand_total"])
            for p in projects
            for r in rows("direct_costs", project_id=p["id"])
        ),
        "p_requisitions": sorted(
            r["invoice_number"] for p in projects for r in rows("requisitions", project_id=p["id"])
        ),
        "p_payments": sorted(
            str(r["amount"])
            for p in projects
            for contract in procore.records("purchase_order_contracts", project_id=p["id"])
            for r in rows("contract_payments", project_id=p["id"], parent_id=contract["id"])
        ),
    }


def _world(rng: random.Random) -> tuple[FlakyQuickBooks, FakeProcore]:
    return FlakyQuickBooks(rng), FakeProcore(clock=FakeClock())


def _connector(
    path: Path,
    clock: Clock,
    qb: FakeQuickBooks,
    procore: FakeProcore,
    transport: httpx.BaseTransport | None,
    store: Store | None = None,
) -> SimulatedConnector:
    return SimulatedConnector(
        store=store or SQLiteStore(path, clock=clock),
        quickbooks=qb,
        procore_fake=procore,
        mapping=company_mapping(),
        clock=clock,
        procore_transport=transport,
    )


def _default_cost_code(sim: SimulatedConnector, company: Any) -> None:
    conn = sim.store.get_connection(sim.connection_id)
    assert conn is not None
    tower = company.projects["Harbor Point Tower"]
    code = company.cost_codes[(tower, "01-100")]
    sim.store.put_connection(
        attrs.evolve(conn, mapping=attrs.evolve(conn.mapping, default_cost_code_id=code))
    )


def _clean_targets(tmp_path: Path) -> list[dict[str, Any]]:
    rng = random.Random(0)
    qb, procore = _world(rng)
    sim = _connector(tmp_path / "clean.db", Clock(), qb, procore, None)
    company = seed_company(sim)
    _default_cost_code(sim, company)
    sim.sync()
    first = _census(qb, procore)
    enter_bookkeeping(sim, company)
    sim.sync()
    second = _census(qb, procore)
    sim.close()
    return [first, second]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_two_way_sync_under_faults_and_kills_completes_exactly_once(
    tmp_path: Path, seed: int
) -> None:
    targets = _clean_targets(tmp_path)
    rng = random.Random(seed)
    clock = Clock()
    qb, procore = _world(rng)
    flaky = FlakyProcore(procore, rng)
    path = tmp_path / "soak.db"
    flaky.on = False
    sim = _connector(path, clock, qb, procore, flaky)
    company = seed_company(sim)
    _default_cost_code(sim, company)
    qb.on = flaky.on = True
    kills = 0
    for phase, target in enumerate(targets):
        if phase == 1:
            qb.on = flaky.on = False
            enter_bookkeeping(sim, company)
            qb.on = flaky.on = True
        for _ in range(120):
            # One cycle in five is killed, at a random store write.
            die_at = rng.randrange(1, 800) if rng.random() < RATE else 10**9
            store: Store = Dying(SQLiteStore(path, clock=clock), die_at)  # type: ignore[assignment]
            sim = _connector(path, clock, qb, procore, flaky, store=store)
            try:
                sim.cycle()
            except Died:
                kills += 1
            # Half an hour passes between cycles, for us and for Procore: dead sessions and
            # claims lapse, retries come due, Procore's hourly rate-limit window moves on.
            clock.advance(minutes=31)
            procore.clock.advance(31 * 60)  # type: ignore[attr-defined]
            if _census(qb, procore) == target:
                break
        else:
            got = _census(qb, procore)
            diff = {k: (got[k], target[k]) for k in got if got[k] != target[k]}
            pytest.fail(f"phase {phase + 1} did not complete (got, expected): {diff}")
    # Quiet afterwards: nothing more moves, with the faults off.
    qb.on = flaky.on = False
    sim = _connector(path, clock, qb, procore, flaky)
    sim.sync()
    assert _census(qb, procore) == targets[-1]
    events = sim.store.events(connection_id=sim.connection_id)
    # Every write QuickBooks refused (in use, or a stale EditSequence) is in the audit trail.
    refused = [
        e
        for e in events
        if e.stage is Stage.RETRIED and any(f"status {c}" in e.detail for c in (3170, 3175, 3200))
    ]
    assert len(refused) == qb.write_faults
    assert flaky.injected, "the soak must have injected Procore faults"
    assert qb.hresults > 0
    print(
        f"seed {seed}: {len(flaky.injected)} Procore faults, {qb.hresults} hresults,"
        f" {qb.write_faults} records in use, {kills} kills"
    )
    sim.close()
