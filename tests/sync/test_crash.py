"""Crash anywhere, resume, and nothing is lost or written twice.

A `Dying` store stands for the process: at its n-th write it dies, and every later call
fails too (a killed process does nothing more). A fresh connector on the same database file,
Procore and QuickBooks then resumes after the leases and the dead Web Connector session
lapsed, and syncs until nothing moves. Both sides must then hold exactly what an undisturbed
sync produces: every record once.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from qbprocore.sync import SQLiteStore, Store
from qbprocore.testing import FakeClock, FakeProcore, FakeQuickBooks, SimulatedConnector
from qbprocore.testing._company import company_mapping
from tests.sync.conftest import Clock

_WRITES = frozenset(
    {
        "stage",
        "claim_staged",
        "finish_staged",
        "enqueue",
        "claim_outbox",
        "finish_outbox",
        "link",
        "set_watermark",
        "record_event",
        "session_create",
        "session_save",
        "session_delete",
        "put_connection",
    }
)


_STRIDE = int(os.environ.get("QBPROCORE_CRASH_STRIDE", "1"))
"""Every n-th step (the default suite: every step; set higher for a quick local run)."""


class Died(Exception):  # noqa: N818 - it is the process dying, not an error condition
    """The simulated process was killed."""


class Dying:
    """A store that dies at its ``at``-th write (counting from 1) and stays dead."""

    def __init__(self, inner: Store, at: int) -> None:
        self._inner = inner
        self._at = at
        self.writes = 0
        self.dead = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.dead:
                raise Died(name)
            if name in _WRITES:
                self.writes += 1
                if self.writes == self._at:
                    self.dead = True
                    raise Died(name)
            return attr(*args, **kwargs)

        return call


def _small_world() -> tuple[FakeQuickBooks, FakeProcore]:
    qb = FakeQuickBooks()
    qb.add_customer("Clients")
    qb.add_vendor("Keystone Concrete")
    qb.add_vendor("Brightline Electric")
    qb.add_job("Maple Street", "Clients")
    procore = FakeProcore(clock=FakeClock())
    procore.seed("line_item_types", [{"name": "Other", "code": "O"}])
    [project] = procore.seed("projects", [{"name": "Harbor Point", "active": True}])
    procore.seed(
        "cost_codes",
        [{"name": "Concrete", "code": "03-300", "full_code": "03-300"}],
        project_id=project["id"],
    )
    procore.seed("vendors", [{"name": "Ironwood Steel", "is_active": True}])
    return qb, procore


def _census(qb: FakeQuickBooks, procore: FakeProcore) -> dict[str, Any]:
    projects = procore.records("projects")
    return {
        "qb_vendors": sorted(v.name for v in qb.vendors),
        "qb_customers": sorted(c.full_name or "" for c in qb.lists["Customer"].values()),
        "qb_items": sorted(i.name for i in qb.lists["ItemService"].values()),
        "qb_bills": sorted((b.ref_number or "", b.amount_due) for b in qb.bills.values()),
        "qb_pos": sorted(p.ref_number or "" for p in qb.purchase_orders.values()),
        "qb_payments": len(qb.bill_payments),
        "p_vendors": sorted(
            (r["name"], r.get("origin_id") is not None) for r in procore.records("vendors")
        ),
        "p_projects": sorted(r["name"] for r in projects),
        # Ids differ between runs (the fake numbers every request), amounts and counts do not.
        "p_direct_costs": sorted(
            (r["grand_total"], r.get("deleted_at") is None)
            for p in projects
            for r in procore.records("direct_costs", project_id=p["id"])
        ),
        "p_requisitions": sorted(
            r["invoice_number"]
            for p in projects
            for r in procore.records("requisitions", project_id=p["id"])
        ),
    }


def _connector(
    path: Path, clock: Clock, qb: FakeQuickBooks, procore: FakeProcore, store: Store | None = None
) -> SimulatedConnector:
    return SimulatedConnector(
        store=store or SQLiteStore(path, clock=clock),
        quickbooks=qb,
        procore_fake=procore,
        mapping=company_mapping(job_parent_customer="Clients"),
        clock=clock,
    )


def _small_run(path: Path, die_at: int | None) -> tuple[dict[str, Any], int]:
    clock = Clock()
    qb, procore = _small_world()
    store: Store = SQLiteStore(path, clock=clock)
    dying = Dying(store, die_at or 10**9)
    died = False
    try:
        sim = _connector(path, clock, qb, procore, store=dying)  # type: ignore[arg-type]
        sim.sync()
        qb.add_bill(
            "Keystone Concrete",
            [("03-300", Decimal("1200.00"), "Clients:Harbor Point")],
            ref_number="K-1",
        )
        sim.sync()
    except Died:
        died = True
    if died:
        clock.advance(hours=2)  # the dead process's claims and its Web Connector session lapse
        sim = _connector(path, clock, qb, procore)
        sim.sync()
        if not qb.bills:
            qb.add_bill(
                "Keystone Concrete",
                [("03-300", Decimal("1200.00"), "Clients:Harbor Point")],
                ref_number="K-1",
            )
        sim.sync()
        sim.close()
    return _census(qb, procore), dying.writes


def test_a_crash_between_any_two_steps_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    expected, writes = _small_run(tmp_path / "clean.db", None)
    assert expected["p_direct_costs"], "the undisturbed run must move a bill"
    assert writes > 50
    failures = []
    for at in range(1, writes + 1, _STRIDE):
        got, _ = _small_run(tmp_path / f"crash-{at}.db", at)
        if got != expected:
            failures.append((at, {k: (got[k], expected[k]) for k in got if got[k] != expected[k]}))
    assert failures == []
