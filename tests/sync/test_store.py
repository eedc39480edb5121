"""The Store contract, run against SQLite and PostgreSQL alike (see conftest.py)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest

from qbprocore import qbwc, sync
from tests.qbwc.conftest import check_a_session_can_move_its_lock

from .conftest import Clock


def _connection(cid: str = "c1", company: int = 10, file: str = "{FILE-1}") -> sync.Connection:
    return sync.Connection(id=cid, procore_company_id=company, company_file_id=file, name=cid)


# -- migrations -----------------------------------------------------------------------------------


def test_migrating_an_empty_database_then_again_is_safe(
    store_factory: Callable[..., sync.Store],
) -> None:
    store = store_factory(migrate=False)
    assert store.schema_version() == 0
    assert store.migrate() == [m.version for m in sync.MIGRATIONS]
    assert store.migrate() == []  # idempotent
    assert store.schema_version() == sync.MIGRATIONS[-1].version
    # A second store object opening the same database migrates nothing either.
    again = store_factory()
    assert again.migrate() == []
    assert again.schema_version() == sync.MIGRATIONS[-1].version


def test_a_newer_schema_is_refused_with_advice(store: sync.Store) -> None:
    store._q(  # type: ignore[attr-defined]
        "INSERT INTO qbprocore_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        (999, "from the future", "2030-01-01T00:00:00+00:00"),
    )
    with pytest.raises(sync.StoreError, match=r"version 999.*upgrade qbprocore"):
        store.migrate()


def test_migrations_are_numbered_in_order() -> None:
    versions = [m.version for m in sync.MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1))


def test_money_columns_are_never_real() -> None:
    for migration in sync.MIGRATIONS:
        for statement in migration.statements:
            for line in statement.splitlines():
                if "amount" in line:
                    assert "{money}" in line, line


def test_stores_satisfy_the_protocol(store: sync.Store) -> None:
    assert isinstance(store, sync.Store)


# -- connections and projects ------------------------------------------------------------------


def test_connection_round_trips_with_its_settings(store: sync.Store, clock: Clock) -> None:
    conn = attrs.evolve(
        _connection(),
        mapping=sync.MappingSettings(vendor_cost_codes={"80000001-1": 42}, sync_sub_jobs=True),
        verification=sync.VerificationPolicy(
            modes={sync.Rule.STALE_COMMITMENT: sync.RuleMode.BLOCK}, tolerance="0.05"
        ),
        credentials_ref="tokens/acme-production",
    )
    stored = store.put_connection(conn)
    assert stored.created_at == clock.now
    assert stored.mapping == conn.mapping
    assert stored.verification.tolerance == Decimal("0.05")
    assert stored.verification.mode(sync.Rule.STALE_COMMITMENT) is sync.RuleMode.BLOCK
    clock.advance(minutes=1)
    updated = store.put_connection(attrs.evolve(stored, state=sync.ConnectionState.DISCONNECTED))
    assert updated.created_at == stored.created_at
    assert updated.updated_at == clock.now
    assert store.get_connection("c1") == updated
    assert store.get_connection("nope") is None
    assert store.list_connections(procore_company_id=10) == [updated]
    assert store.list_connections(procore_company_id=11) == []


def test_one_company_file_once_per_procore_company(store: sync.Store) -> None:
    store.put_connection(_connection("a"))
    with pytest.raises(sync.StoreError, match=r"(?i)sync_connections refused.*unique.*once per"):
        store.put_connection(_connection("b"))


def test_writes_for_an_unknown_connection_say_so(store: sync.Store) -> None:
    with pytest.raises(sync.StoreError, match=r"sync_staged refused.*put_connection\(\) it first"):
        _stage(store, "T1")


def test_a_project_belongs_to_one_connection(store: sync.Store) -> None:
    store.put_connection(_connection("a"))
    store.put_connection(_connection("b", file="{FILE-2}"))
    assert store.assign_project(procore_company_id=10, project_id=5, connection_id="a") is None
    assert store.assign_project(procore_company_id=10, project_id=5, connection_id="b") == "a"
    assert store.project_assignments(procore_company_id=10) == {5: "b"}
    assert store.project_assignments(procore_company_id=10, connection_id="a") == {}
    store.unassign_project(procore_company_id=10, project_id=5)
    assert store.project_assignments(procore_company_id=10) == {}


# -- cross-references and watermarks ---------------------------------------------------------


def test_link_creates_then_completes_a_pair(store: sync.Store) -> None:
    store.put_connection(_connection())
    big = 2**40 + 7  # Procore ids exceed 32 bits
    first = store.link("c1", sync.Entity.VENDOR, qb_id="80000001-1", edit_sequence="100")
    assert first.procore_id is None
    done = store.link(
        "c1", sync.Entity.VENDOR, qb_id="80000001-1", procore_id=big, origin_id="80000001-1"
    )
    assert done.id == first.id
    assert done.edit_sequence == "100"  # kept: not given the second time
    assert store.get_xref("c1", sync.Entity.VENDOR, procore_id=big) == done
    assert store.get_xref("c1", sync.Entity.PROJECT, procore_id=big) is None
    later = store.link("c1", sync.Entity.VENDOR, procore_id=big, edit_sequence="101")
    assert (later.id, later.qb_id, later.edit_sequence) == (first.id, "80000001-1", "101")
    assert store.list_xrefs("c1") == [later]


def test_link_refuses_to_merge_two_pairs(store: sync.Store) -> None:
    store.put_connection(_connection())
    store.link("c1", sync.Entity.VENDOR, qb_id="A", procore_id=1)
    store.link("c1", sync.Entity.VENDOR, qb_id="B", procore_id=2)
    with pytest.raises(sync.StoreError, match=r"'A'.*2.*already linked"):
        store.link("c1", sync.Entity.VENDOR, qb_id="A", procore_id=2)
    with pytest.raises(sync.StoreError, match=r"refusing to re-link it to 'C' / 1"):
        store.link("c1", sync.Entity.VENDOR, qb_id="C", procore_id=1)
    with pytest.raises(sync.StoreError, match=r"refusing to re-link it to 'A' / 3"):
        store.link("c1", sync.Entity.VENDOR, qb_id="A", procore_id=3)
    with pytest.raises(sync.StoreError, match="needs qb_id or procore_id"):
        store.link("c1", sync.Entity.VENDOR)


def test_watermarks(store: sync.Store) -> None:
    store.put_connection(_connection())
    assert store.get_watermark("c1", "qb:VendorQuery") is None
    store.set_watermark("c1", "qb:VendorQuery", "2026-03-08T01:59:00-05:00")
    store.set_watermark("c1", "qb:VendorQuery", "2026-03-08T03:01:00-04:00")
    assert store.get_watermark("c1", "qb:VendorQuery") == "2026-03-08T03:01:00-04:00"


# -- staging, claims and the outbox ----------------------------------------------------------


def _stage(store: sync.Store, source_id: str, version: str = "1") -> sync.StagedRecord | None:
    return store.stage(
        "c1",
        source=sync.Side.QUICKBOOKS,
        entity=sync.Entity.INVOICE,
        source_id=source_id,
        version=version,
        payload=f"<BillRet><TxnID>{source_id}</TxnID></BillRet>",
    )


def test_staging_the_same_version_twice_stores_it_once(store: sync.Store) -> None:
    store.put_connection(_connection())
    assert _stage(store, "T1") is not None
    assert _stage(store, "T1") is None  # a watermark rewind re-reads it: de-duplicated
    assert _stage(store, "T1", version="2") is not None  # a new EditSequence is new work
    assert len(store.list_staged("c1")) == 2


def test_claim_finish_and_approve(store: sync.Store) -> None:
    store.put_connection(_connection())
    for i in range(3):
        _stage(store, f"T{i}")
    claimed = store.claim_staged("w1", limit=2)
    assert [r.source_id for r in claimed] == ["T0", "T1"]
    assert all(r.status is sync.ItemStatus.CLAIMED and r.claimed_by == "w1" for r in claimed)
    assert store.finish_staged(claimed[0].id, sync.ItemStatus.DONE, worker="w1")
    assert not store.finish_staged(claimed[1].id, sync.ItemStatus.DONE, worker="w2")
    assert store.finish_staged(
        claimed[1].id, sync.ItemStatus.BLOCKED, error="over commitment", worker="w1"
    )
    blocked = store.list_staged("c1", status=sync.ItemStatus.BLOCKED)
    assert [(r.source_id, r.error) for r in blocked] == [("T1", "over commitment")]
    assert store.summary("c1").open_problems == 1
    # Approving a blocked record puts it back in line.
    assert store.finish_staged(blocked[0].id, sync.ItemStatus.PENDING)
    assert sorted(r.source_id for r in store.claim_staged("w2")) == ["T1", "T2"]


def test_a_lapsed_claim_can_be_taken_over(store: sync.Store, clock: Clock) -> None:
    store.put_connection(_connection())
    _stage(store, "T0")
    [first] = store.claim_staged("w1", lease=dt.timedelta(minutes=5))
    assert store.claim_staged("w2") == []  # held
    clock.advance(minutes=6)
    [again] = store.claim_staged("w2")
    assert (again.id, again.attempts, again.claimed_by) == (first.id, 2, "w2")
    assert not store.finish_staged(first.id, sync.ItemStatus.DONE, worker="w1")  # too late
    assert store.finish_staged(first.id, sync.ItemStatus.DONE, worker="w2")


@pytest.mark.parametrize("queue", ["staged", "outbox"])
def test_concurrent_workers_never_claim_the_same_item(
    store_factory: Callable[..., sync.Store], queue: str
) -> None:
    """Four threads, each with its own store object (own connections), drain one queue."""
    setup = store_factory()
    setup.put_connection(_connection())
    n = 120
    for i in range(n):
        if queue == "staged":
            _stage(setup, f"T{i}")
        else:
            setup.enqueue(
                "c1",
                target=sync.Side.PROCORE,
                entity=sync.Entity.VENDOR,
                key=f"vendor:{i}",
                payload="{}",
                rank=i % 3,
            )
    workers = 4
    stores = [store_factory() for _ in range(workers)]
    barrier = threading.Barrier(workers)
    got: dict[int, list[int]] = {w: [] for w in range(workers)}
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            barrier.wait()
            while True:
                if queue == "staged":
                    items: list[sync.StagedRecord] | list[sync.OutboxItem] = stores[w].claim_staged(
                        f"w{w}", limit=7
                    )
                else:
                    items = stores[w].claim_outbox(f"w{w}", limit=7)
                if not items:
                    return
                got[w].extend(item.id for item in items)
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    every = [i for ids in got.values() for i in ids]
    assert len(every) == len(set(every)) == n


def test_outbox_is_idempotent_by_key_and_ordered_by_rank(store: sync.Store, clock: Clock) -> None:
    store.put_connection(_connection())

    def put(key: str, rank: int, **kw: object) -> sync.OutboxItem | None:
        return store.enqueue(
            "c1",
            target=sync.Side.QUICKBOOKS,
            entity=sync.Entity.COMMITMENT,
            key=key,
            payload="<PurchaseOrderAddRq/>",
            rank=rank,
            **kw,  # type: ignore[arg-type]
        )

    assert put("po:1", 2) is not None
    assert put("vendor:9", 0) is not None
    assert put("po:1", 2) is None  # the same write enqueued twice is stored once
    assert put("later", 0, not_before=clock.now + dt.timedelta(hours=1)) is not None
    claimed = store.claim_outbox("w1")
    assert [i.key for i in claimed] == ["vendor:9", "po:1"]
    assert store.finish_outbox(claimed[0].id, sync.ItemStatus.DONE, result="80000009-1")
    assert store.finish_outbox(
        claimed[1].id,
        sync.ItemStatus.PENDING,
        error="3170 record in use",
        worker="w1",
        not_before=clock.now + dt.timedelta(minutes=10),
    )
    assert store.claim_outbox("w1") == []
    clock.advance(hours=2)
    assert sorted(i.key for i in store.claim_outbox("w1", target=sync.Side.QUICKBOOKS)) == [
        "later",
        "po:1",
    ]
    done = store.list_outbox("c1", status=sync.ItemStatus.DONE)
    assert [(i.key, i.result) for i in done] == [("vendor:9", "80000009-1")]
    with pytest.raises(sync.StoreError, match="at least 1"):
        store.claim_outbox("w1", limit=0)


# -- audit events and summary ---------------------------------------------------------------


def test_audit_events_by_either_id_with_exact_money(store: sync.Store, clock: Clock) -> None:
    store.put_connection(_connection())
    amount = Decimal("12345678901234.57")
    for stage in (sync.Stage.RECEIVED, sync.Stage.MAPPED, sync.Stage.WRITTEN):
        store.record_event(
            sync.AuditEvent(
                connection_id="c1",
                entity=sync.Entity.INVOICE,
                stage=stage,
                qb_id="T1",
                procore_id=2**40 if stage is sync.Stage.WRITTEN else None,
                amount=amount,
            )
        )
    store.record_event(
        sync.AuditEvent(
            connection_id="c1", entity=sync.Entity.VENDOR, stage=sync.Stage.RECEIVED, qb_id="V"
        )
    )
    journey = store.events(qb_id="T1")
    assert [e.stage for e in journey] == [
        sync.Stage.RECEIVED,
        sync.Stage.MAPPED,
        sync.Stage.WRITTEN,
    ]
    assert all(e.amount == amount and e.at == clock.now for e in journey)
    assert [e.stage for e in store.events(procore_id=2**40)] == [sync.Stage.WRITTEN]
    assert len(store.events(connection_id="c1", entity=sync.Entity.VENDOR)) == 1


def test_summary_counts(store: sync.Store) -> None:
    store.put_connection(_connection())
    store.link("c1", sync.Entity.VENDOR, qb_id="A", procore_id=1)
    store.link("c1", sync.Entity.VENDOR, qb_id="B", procore_id=2, deleted=True)
    _stage(store, "T1")
    summary = store.summary("c1")
    assert summary.xrefs == {sync.Entity.VENDOR: 1}
    assert summary.staged == {sync.ItemStatus.PENDING: 1}
    assert summary.outbox == {}
    assert summary.open_problems == 0


def test_naive_datetimes_are_refused(store: sync.Store) -> None:
    store.put_connection(_connection())
    with pytest.raises(sync.StoreError, match="timezone-aware"):
        store.enqueue(
            "c1",
            target=sync.Side.PROCORE,
            entity=sync.Entity.VENDOR,
            key="k",
            payload="",
            not_before=dt.datetime(2026, 1, 1),
        )


# -- Web Connector sessions ------------------------------------------------------------------


def _snap(key: str, now: float = 0.0) -> qbwc.SessionSnapshot:
    return qbwc.SessionSnapshot(
        key=key,
        username="u",
        lock_key="L",
        created_at=now,
        expires_at=now + 10,
        hard_expires_at=now + 100,
    )


def test_session_adapter_satisfies_qbwc_session_store(
    store_factory: Callable[..., sync.Store],
) -> None:
    a = sync.StoreSessionStore(store_factory())
    b = sync.StoreSessionStore(store_factory())  # another worker on the same database
    assert isinstance(a, qbwc.SessionStore)
    assert a.create(_snap("1"), now=0)
    assert not b.create(_snap("2"), now=1)  # the company file is busy
    loaded = b.load("1")
    assert loaded == _snap("1")
    a.save(attrs.evolve(loaded, state=qbwc.State.DONE))
    assert b.create(_snap("3"), now=2)  # a finished session holds no lock
    assert a.create(_snap("4", now=50), now=50)  # "3" expired at 12 and was purged
    assert a.load("3") is None
    b.delete("4")
    assert a.load("4") is None
    b.delete("never-there")


def test_session_adapter_lets_a_live_session_move_its_lock(
    store_factory: Callable[..., sync.Store],
) -> None:
    check_a_session_can_move_its_lock(
        sync.StoreSessionStore(store_factory()), sync.StoreSessionStore(store_factory())
    )


def test_session_create_is_atomic_across_threads(
    store_factory: Callable[..., sync.Store],
) -> None:
    adapters = [sync.StoreSessionStore(store_factory()) for _ in range(6)]
    barrier = threading.Barrier(len(adapters))
    results: list[bool] = []

    def go(i: int) -> None:
        barrier.wait()
        results.append(adapters[i].create(_snap(f"k{i}"), now=0))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(adapters))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]


CLAIMER = """
import json, sys
from qbprocore import sync

kind, target, worker = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "sqlite":
    store = sync.SQLiteStore(target, migrate=False)
else:
    dsn, schema = target.rsplit("#", 1)
    store = sync.PostgresStore(dsn, schema=schema, migrate=False)
sys.stdin.readline()  # start together
got = []
while True:
    items = store.claim_staged(worker, limit=5)
    if not items:
        break
    got.extend(item.id for item in items)
store.close()
print(json.dumps(got))
"""


def test_worker_processes_never_claim_the_same_item(
    store_factory: Callable[..., sync.Store], tmp_path: object
) -> None:
    """Three processes share one database (file or PostgreSQL schema) and drain it."""
    import json
    import subprocess
    import sys

    setup = store_factory()
    setup.put_connection(_connection())
    for i in range(90):
        _stage(setup, f"T{i}")
    if isinstance(setup, sync.SQLiteStore):
        kind, target = "sqlite", setup.path
    else:
        from .conftest import POSTGRES_DSN

        kind, target = "postgresql", f"{POSTGRES_DSN}#{setup.schema}"  # type: ignore[attr-defined]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, kind, target, f"p{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    outputs = [p.communicate("go\n", timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    every = [i for out in outputs for i in json.loads(out)]
    assert len(every) == len(set(every)) == 90


def test_opening_an_empty_database_from_many_threads_at_once(
    store_factory: Callable[..., sync.Store],
) -> None:
    """Concurrent first opens all migrate (or find it migrated) without an error."""
    n = 6
    barrier = threading.Barrier(n)
    versions: list[int] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            barrier.wait()
            versions.append(store_factory().schema_version())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert versions == [sync.MIGRATIONS[-1].version] * n
