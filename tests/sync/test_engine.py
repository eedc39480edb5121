"""The sync engine end to end: FakeWebConnector + FakeQuickBooks + FakeProcore, every row.

Each test drives whole Web Connector sessions through the real endpoint and real engine runs
on a real store (a SQLite file, or PostgreSQL where it is reachable).
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest

from qbprocore.sync import (
    CHANGE_ORDER_MARKER,
    EngineConfig,
    Entity,
    ItemStatus,
    Side,
    SQLiteStore,
    Stage,
    Store,
    SyncError,
    journey,
)
from qbprocore.testing import FakeQuickBooks, SimulatedConnector
from qbprocore.testing._company import Company, company_mapping, enter_bookkeeping, seed_company
from tests.sync.conftest import Clock


def _connector(store: Store | None = None, **kw: Any) -> tuple[SimulatedConnector, Company]:
    sim = SimulatedConnector(store=store, mapping=company_mapping(), **kw)
    company = seed_company(sim)
    tower = company.projects["Harbor Point Tower"]
    conn = sim.store.get_connection(sim.connection_id)
    assert conn is not None
    default_code = company.cost_codes[(tower, "01-100")]
    sim.store.put_connection(
        attrs.evolve(conn, mapping=attrs.evolve(conn.mapping, default_cost_code_id=default_code))
    )
    return sim, company


def _names(records: Any) -> list[str]:
    return sorted(getattr(r, "name", None) or r["name"] for r in records)


def _census(sim: SimulatedConnector, company: Company) -> dict[str, Any]:
    """Everything on both sides, for duplicate and loss checks."""
    qb, p = sim.quickbooks, sim.procore
    tower = company.projects["Harbor Point Tower"]
    return {
        "qb_vendors": _names(qb.vendors),
        "qb_customers": sorted(c.full_name or "" for c in qb.lists["Customer"].values()),
        "qb_items": sorted(i.name for i in qb.lists["ItemService"].values()),
        "qb_pos": sorted(
            (po.ref_number, len(po.purchase_order_line_ret_or_purchase_order_line_group_ret))
            for po in qb.purchase_orders.values()
        ),
        "qb_estimates": len(qb.estimates),
        "qb_bills": sorted((b.ref_number or "", b.amount_due) for b in qb.bills.values()),
        "qb_bill_payments": len(qb.bill_payments),
        "p_vendors": sorted(r["name"] for r in p.records("vendors")),
        "p_projects": sorted(r["name"] for r in p.records("projects")),
        "p_direct_costs": sorted(
            (r["origin_id"], r.get("deleted_at") is not None)
            for r in p.records("direct_costs", project_id=tower)
        ),
        "p_requisitions": sorted(
            r["invoice_number"] for r in p.records("requisitions", project_id=tower)
        ),
        "p_payments": sorted(
            (r.get("origin_id") or "", r["amount"])
            for r in p.records(
                "contract_payments", project_id=tower, parent_id=company.purchase_order
            )
        ),
    }


def _full_sync(sim: SimulatedConnector, company: Company) -> dict[str, str]:
    sim.sync()
    txns = enter_bookkeeping(sim, company)
    sim.sync()
    return txns


def test_every_feature_map_row_moves_in_its_direction(
    store_factory: Callable[..., Store],
) -> None:
    sim, company = _connector(store_factory())
    txns = _full_sync(sim, company)
    qb, p = sim.quickbooks, sim.procore
    tower = company.projects["Harbor Point Tower"]

    # Procore -> QuickBooks: cost codes -> Service items (one per code), projects -> jobs,
    # vendors -> vendors, budget -> estimate, commitments -> purchase orders, change orders ->
    # new PO lines, subcontractor invoices -> bills, payments issued -> bill payments.
    assert sorted(i.name for i in qb.lists["ItemService"].values()) == [
        "01-100",
        "03-300",
        "05-100",
        "09-250",
        "16-100",
    ]
    customers = {c.full_name for c in qb.lists["Customer"].values()}
    assert {"Builders Clients:Harbor Point Tower", "Builders Clients:Riverside Clinic"} <= customers
    assert {"Ironwood Steel Erectors", "Summit Drywall"} <= {v.name for v in qb.vendors}
    [estimate] = qb.estimates.values()
    assert sum(
        line.amount for line in estimate.estimate_line_ret_or_estimate_line_group_ret
    ) == Decimal("1615000.00")
    pos = {po.ref_number: po for po in qb.purchase_orders.values()}
    assert set(pos) == {"SC-001", "PO-014"}
    for number, co_id in (
        ("SC-001", company.change_orders[0]),
        ("PO-014", company.change_orders[1]),
    ):
        lines = pos[number].purchase_order_line_ret_or_purchase_order_line_group_ret
        assert [line.other2 for line in lines].count(f"{CHANGE_ORDER_MARKER}{co_id}") == 1
    bills = {b.ref_number: b for b in qb.bills.values()}
    assert {"IW-1001", "SD-78"} <= set(bills)
    assert bills["SD-78"].amount_due == Decimal("21000.00")
    assert any(
        applied.txn_id == bills["SD-78"].txn_id
        for bp in qb.bill_payments.values()
        for applied in bp.applied_to_txn_ret
    )

    # QuickBooks -> Procore: vendors, jobs -> projects, job costs -> direct costs, bills ->
    # subcontractor invoices, bill payments -> payments issued, deletions mirrored.
    by_origin = {r.get("origin_id"): r for r in p.records("vendors")}
    for name in company.qb_vendors:
        vendor = qb.find("Vendor", name)
        assert vendor is not None
        assert by_origin[vendor.list_id]["name"] == f"{name} LLC"
    assert "Maple Street Renovation" in {r["name"] for r in p.records("projects")}
    costs = {r["origin_id"]: r for r in p.records("direct_costs", project_id=tower)}
    job = qb.find("Customer", "Builders Clients:Harbor Point Tower")
    assert job is not None
    assert Decimal(costs[f"{txns['concrete_bill']}|{job.list_id}"]["grand_total"]) == Decimal(
        "19450.00"
    )
    assert f"{txns['check']}|{job.list_id}" in costs
    assert f"{txns['charge']}|{job.list_id}" in costs
    [req] = [r for r in p.records("requisitions", project_id=tower) if r.get("origin_id")]
    assert req["origin_id"] == txns["drywall_bill"]
    assert req["invoice_number"] == "SD-79"
    payments = p.records("contract_payments", project_id=tower, parent_id=company.purchase_order)
    assert any(r.get("origin_id") == f"{txns['payment']}|{txns['drywall_bill']}" for r in payments)

    # Verification held back the overbilled and the negative invoice, with reasons.
    blocked = sim.store.list_staged(sim.connection_id, status=ItemStatus.BLOCKED)
    reasons = {r.source_id: r.error for r in blocked}
    assert set(reasons) == {str(company.invoices["IW-1002"]), str(company.invoices["SD-77"])}
    assert "cumulative_over_commitment" in reasons[str(company.invoices["IW-1002"])]
    assert "negative_invoice" in reasons[str(company.invoices["SD-77"])]
    assert "IW-1002" not in bills
    assert "SD-77" not in bills

    # Deletions are mirrored: the check's direct cost goes.
    qb.delete_txn("Check", txns["check"])
    sim.sync()
    gone = {
        r["origin_id"]: r.get("deleted_at") for r in p.records("direct_costs", project_id=tower)
    }
    assert gone[f"{txns['check']}|{job.list_id}"] is not None
    assert gone[f"{txns['concrete_bill']}|{job.list_id}"] is None
    stages = [e.stage for e in journey(sim.store, sim.connection_id, qb_id=txns["check"])]
    assert stages[0] is Stage.RECEIVED
    assert Stage.WRITTEN in stages
    assert stages[-1] is Stage.DELETED


def test_a_second_sync_writes_nothing_anywhere() -> None:
    sim, company = _connector()
    _full_sync(sim, company)
    before = _census(sim, company)
    calls = len(sim.procore.calls)
    cycles = sim.sync()
    assert cycles[0].quiet, cycles[0].report.moved
    assert _census(sim, company) == before
    writes = [c for c in sim.procore.calls[calls:] if c.method != "GET"]
    assert writes == []
    # Echo suppression: nothing we wrote was staged again as a change.
    assert cycles[0].report.pulled == collections.Counter()


def test_dry_run_plans_without_writing_anything() -> None:
    sim, company = _connector()
    sim.update()
    before = _census(sim, company)
    plan = sim.run(dry_run=True)
    writes = [o for o in plan.outcomes if o.action == "write"]
    assert {o.entity for o in writes} >= {Entity.VENDOR, Entity.PROJECT, Entity.COST_CODE}
    assert [c for c in sim.procore.calls if c.method != "GET"] == []
    assert sim.store.list_outbox(sim.connection_id) == []
    assert _census(sim, company) == before
    # The real run does what the plan said, for the first level.
    real = sim.run()
    assert real.moved["vendor -> procore"] == plan.moved["vendor -> procore"] == 3


def test_a_blocked_invoice_is_written_once_approved_and_replay_requeues() -> None:
    sim, company = _connector()
    _full_sync(sim, company)
    blocked = {
        r.source_id: r for r in sim.store.list_staged(sim.connection_id, status=ItemStatus.BLOCKED)
    }
    over = blocked[str(company.invoices["IW-1002"])]
    done = sim.store.list_staged(sim.connection_id, status=ItemStatus.DONE)[0]
    with pytest.raises(SyncError, match="not blocked"):
        sim.engine.approve(sim.connection_id, done.id, by="x")
    sim.engine.approve(sim.connection_id, over.id, by="pm@builders.example", note="CO pending")
    sim.sync()
    assert "IW-1002" in {b.ref_number for b in sim.quickbooks.bills.values()}
    stages = [
        e.stage
        for e in journey(sim.store, sim.connection_id, procore_id=company.invoices["IW-1002"])
    ]
    assert {Stage.BLOCKED, Stage.APPROVED, Stage.WRITTEN} <= set(stages)
    # Replay re-verifies the negative one: still blocked, nothing written.
    assert sim.engine.replay(sim.connection_id) == 1
    sim.sync()
    still = sim.store.list_staged(sim.connection_id, status=ItemStatus.BLOCKED)
    assert [r.source_id for r in still] == [str(company.invoices["SD-77"])]


def test_updates_follow_the_source_of_truth() -> None:
    sim, company = _connector()
    _full_sync(sim, company)
    qb, p = sim.quickbooks, sim.procore
    keystone = qb.find("Vendor", "Keystone Concrete")
    assert keystone is not None
    qb.modify_vendor(keystone.list_id, phone="617-555-0100")
    sim.sync()
    [row] = [r for r in p.records("vendors") if r.get("origin_id") == keystone.list_id]
    assert row["business_phone"] == "617-555-0100"  # QuickBooks owns vendor updates
    # A Procore edit of a linked vendor does not overwrite QuickBooks.
    steel = company.vendors["Ironwood Steel Erectors"]
    sim.clock.advance(60)
    sim.client.vendors.update(steel, {"business_phone": "000"})
    cycles = sim.sync()
    steel_qb = qb.find("Vendor", "Ironwood Steel Erectors")
    assert steel_qb is not None
    assert steel_qb.phone != "000"
    skips = [o for c in cycles for o in c.report.outcomes if o.action == "skip"]
    assert any("source of truth" in o.detail for o in skips)


def test_an_add_whose_answer_was_lost_is_found_by_its_marker_not_sent_twice(tmp_path: Any) -> None:
    clock = Clock()
    store = SQLiteStore(tmp_path / "s.db", clock=clock)
    sim, _company = _connector(store, clock=clock)
    sim.update()
    sim.run()  # vendors, jobs and items are now in the outbox
    qb = sim.quickbooks
    # QuickBooks runs the first write, but its answer never comes back (the PC went to sleep).
    qb_process = qb.process
    lost: list[str] = []

    def process_then_lose(request: str | bytes) -> Any:
        answer = qb_process(request)
        if b"AddRq" in (request if isinstance(request, bytes) else request.encode()) and not lost:
            lost.append("x")
            raise ConnectionError("the Web Connector lost the answer")
        return answer

    qb.process = process_then_lose  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        sim.update()
    qb.process = qb_process  # type: ignore[method-assign]
    clock.advance(hours=2)  # the dead session and the write's claim both lapse
    sim.sync()
    items = [i.name for i in qb.lists["ItemService"].values()]
    assert sorted(items) == sorted(set(items))
    assert len(items) == 5
    assert len({v.name for v in qb.vendors}) == len(qb.vendors) == 5
    probes = [
        r
        for r in sim.store.events(connection_id=sim.connection_id)
        if "after an unconfirmed" in r.detail
    ]
    assert len(probes) == 1


def test_the_same_vendor_on_both_sides_is_linked_not_duplicated() -> None:
    qb = FakeQuickBooks()
    qb.add_vendor("Summit Drywall")
    sim = SimulatedConnector(quickbooks=qb)
    [row] = sim.procore.seed("vendors", [{"name": "Summit Drywall", "is_active": True}])
    sim.sync()
    assert [v.name for v in qb.vendors] == ["Summit Drywall"]
    [procore_vendor] = sim.procore.records("vendors")
    assert procore_vendor["id"] == row["id"]
    assert procore_vendor["origin_id"] == qb.vendors[0].list_id


def test_a_name_taken_meanwhile_in_quickbooks_is_linked_3100() -> None:
    qb = FakeQuickBooks()
    sim = SimulatedConnector(quickbooks=qb)
    [row] = sim.procore.seed("vendors", [{"name": "Ironwood Steel", "is_active": True}])
    sim.cycle()  # the VendorAdd is queued for the next session …
    typed = qb.add_vendor("Ironwood Steel")  # … when the bookkeeper types the vendor in
    sim.sync()
    assert [v.name for v in qb.vendors] == ["Ironwood Steel"]
    xref = sim.store.get_xref(sim.connection_id, Entity.VENDOR, procore_id=row["id"])
    assert xref is not None
    assert xref.qb_id == typed.list_id
    details = [e.detail for e in journey(sim.store, sim.connection_id, procore_id=row["id"])]
    assert any("(3100)" in d for d in details)


class _LocalClock:
    """QuickBooks' clock: local time, with the offset QuickBooks (mis)reports."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(seconds=1)
        return self.at


@pytest.mark.parametrize("rewind_hours", [2, 0])
def test_the_rewind_catches_changes_stamped_back_in_the_repeated_dst_hour(
    rewind_hours: int,
) -> None:
    edt = dt.timezone(dt.timedelta(hours=-4))
    clock = _LocalClock(dt.datetime(2026, 11, 1, 1, 40, tzinfo=edt))
    qb = FakeQuickBooks(clock=clock)
    qb.add_vendor("Before Fall Back")
    sim = SimulatedConnector(quickbooks=qb)
    sim.work.rewind = dt.timedelta(hours=rewind_hours)
    sim.sync()
    # Clocks went back at 02:00 EDT; QuickBooks stamps 01:10 in the repeated hour with the
    # old offset, which reads as half an hour *before* the watermark.
    clock.at = dt.datetime(2026, 11, 1, 1, 10, tzinfo=edt)
    qb.add_vendor("In The Repeated Hour")
    sim.sync()
    names = {r["name"] for r in sim.procore.records("vendors")}
    if rewind_hours:
        assert names == {"Before Fall Back", "In The Repeated Hour"}
    else:  # without the rewind the change is lost: what the rewind is for
        assert names == {"Before Fall Back"}


def test_project_streams_are_pulled_on_their_cadence_new_projects_at_once() -> None:
    clock = Clock()
    sim = SimulatedConnector(
        mapping=company_mapping(),
        clock=clock,
        engine_config=EngineConfig(worker="w", project_pull_every=dt.timedelta(minutes=15)),
    )
    company = seed_company(sim)
    sim.sync()
    tower = company.projects["Harbor Point Tower"]
    sim.procore.seed(
        "cost_codes",
        [{"name": "Roofing", "code": "07-500", "full_code": "07-500"}],
        project_id=tower,
    )
    [fresh] = sim.procore.seed("projects", [{"name": "Dockside Lofts", "active": True}])
    sim.procore.seed(
        "cost_codes",
        [{"name": "Masonry", "code": "04-200", "full_code": "04-200"}],
        project_id=fresh["id"],
    )
    sim.sync()
    items = {i.name for i in sim.quickbooks.lists["ItemService"].values()}
    assert "04-200" in items  # a new project's streams are pulled at once
    assert "07-500" not in items  # the others wait for the cadence
    clock.advance(minutes=16)
    sim.sync()
    assert "07-500" in {i.name for i in sim.quickbooks.lists["ItemService"].values()}


def test_a_direct_cost_line_uses_the_cost_code_of_its_own_project() -> None:
    sim, company = _connector()
    sim.sync()
    clinic = company.projects["Riverside Clinic"]
    bill = sim.quickbooks.add_bill(
        "Keystone Concrete",
        [("03-300", Decimal("5000.00"), "Builders Clients:Riverside Clinic")],
        ref_number="KC-6001",
    )
    sim.sync()
    [cost] = [
        r
        for r in sim.procore.records("direct_costs", project_id=clinic)
        if r["origin_id"].startswith(f"{bill.txn_id}|")
    ]
    # One Service item "03-300" in QuickBooks; two cost codes "03-300" in Procore, one per
    # project: the line gets the clinic's.
    assert [li["cost_code"]["id"] for li in cost["line_items"]] == [
        company.cost_codes[(clinic, "03-300")]
    ]
    assert (
        company.cost_codes[(clinic, "03-300")]
        != company.cost_codes[(company.projects["Harbor Point Tower"], "03-300")]
    )


def test_procore_owns_project_updates_a_rename_reaches_the_quickbooks_job() -> None:
    sim, company = _connector()
    sim.sync()
    clinic = company.projects["Riverside Clinic"]
    sim.clock.advance(60)
    sim.client.projects.sync(
        [
            {
                "id": clinic,
                "name": "Riverside Clinic Phase 2",
                "display_name": "Riverside Clinic Phase 2",
            }
        ]
    )
    sim.sync()
    jobs = {c.full_name for c in sim.quickbooks.lists["Customer"].values()}
    assert "Builders Clients:Riverside Clinic Phase 2" in jobs
    assert "Builders Clients:Riverside Clinic" not in jobs
    xref = sim.store.get_xref(sim.connection_id, Entity.PROJECT, procore_id=clinic)
    assert xref is not None
    job = sim.quickbooks.lists["Customer"][xref.qb_id or ""]
    assert xref.edit_sequence == job.edit_sequence  # type: ignore[attr-defined]
    assert sim.cycle().quiet  # the rename does not echo back to Procore


def test_with_procore_owning_vendors_a_vendor_update_is_a_quickbooks_mod() -> None:
    sim, company = _connector(
        engine_config=EngineConfig(
            worker="w",
            project_pull_every=dt.timedelta(0),
            source_of_truth={Entity.VENDOR: Side.PROCORE, Entity.PROJECT: Side.PROCORE},
        )
    )
    sim.sync()
    steel = company.vendors["Ironwood Steel Erectors"]
    sim.clock.advance(60)
    sim.client.vendors.update(steel, {"business_phone": "617-555-0199"})
    # Meanwhile the bookkeeper edits the same vendor: a stale EditSequence for our Mod.
    before = sim.quickbooks.find("Vendor", "Ironwood Steel Erectors")
    assert before is not None
    sim.quickbooks.modify_vendor(before.list_id, fax="617-555-0100")  # type: ignore[attr-defined]
    sim.sync()
    after = sim.quickbooks.find("Vendor", "Ironwood Steel Erectors")
    assert after is not None
    assert after.phone == "617-555-0199"  # type: ignore[attr-defined]
    assert after.fax == "617-555-0100"  # type: ignore[attr-defined]
