"""Two workers share one store: every staged record is processed by exactly one of them."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from qbprocore.sync import EngineConfig, RunReport, Stage, Store, SyncEngine
from qbprocore.testing import FakeQuickBooks, SimulatedConnector
from qbprocore.testing._company import company_mapping


def test_two_workers_never_take_the_same_record(store_factory: Callable[..., Store]) -> None:
    qb = FakeQuickBooks()
    qb.add_vendors(f"Vendor {n:03}" for n in range(240))
    sim = SimulatedConnector(store=store_factory(), quickbooks=qb, mapping=company_mapping())
    sim.update()  # 240 vendors staged, nothing processed yet
    reports: list[RunReport] = []
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            engine = SyncEngine(
                store_factory(),  # its own connection, as a second process would have
                procore_client=lambda _conn: sim.client,
                config=EngineConfig(
                    worker=name,
                    batch_size=20,
                    project_pull_every=sim.engine.config.project_pull_every,
                ),
            )
            reports.append(engine.run(sim.connection_id))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    written = collections.Counter(
        e.qb_id
        for e in sim.store.events(connection_id=sim.connection_id)
        if e.stage is Stage.WRITTEN
    )
    assert len(written) == 240
    assert set(written.values()) == {1}  # no record written twice
    by_worker = [r.moved["vendor -> procore"] for r in reports]
    assert sum(by_worker) == 240
    assert len(sim.procore.records("vendors")) == 240
    sim.close()
