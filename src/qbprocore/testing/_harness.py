"""`SimulatedConnector`: a whole connector wired on the fakes, for tests, demos and benchmarks.

FakeQuickBooks behind FakeWebConnector, the real Web Connector endpoint (`qbprocore.qbwc`,
sessions kept in the sync store), the real sync engine on a real store, and FakeProcore behind
the real Procore client. `cycle` is what a deployment does on a schedule: one Web Connector
update, then one engine run.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import tempfile
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from qbprocore import procore, qbwc
from qbprocore.sync import (
    Connection,
    EngineConfig,
    MappingSettings,
    RunReport,
    SQLiteStore,
    Store,
    StoreSessionStore,
    SyncEngine,
    VerificationPolicy,
)
from qbprocore.testing._fake_procore import FakeProcore
from qbprocore.testing._fake_quickbooks import FakeQuickBooks
from qbprocore.testing._fake_web_connector import FakeWebConnector, UpdateResult
from qbprocore.testing._procore_clock import FakeClock

__all__ = ["Cycle", "SimulatedConnector"]

SIMULATED_USER = "qbprocore"
"""The Web Connector user name of every `SimulatedConnector`."""
SIMULATED_PASSWORD = "simulated"  # noqa: S105 - the simulated Web Connector's login, not a secret
"""Its password (a simulation: it protects nothing)."""


@attrs.frozen(kw_only=True)
class Cycle:
    """One scheduled cycle: a Web Connector update and the engine run after it.

    Attributes:
        update: What the Web Connector saw.
        report: What the engine did.
    """

    update: UpdateResult
    report: RunReport

    @property
    def quiet(self) -> bool:
        """Nothing moved in either direction and nothing was written to QuickBooks."""
        wrote = sum(1 for r in self.update.requests if "AddRq" in r or "ModRq" in r)
        return not self.report.moved and not self.report.pulled and wrote == 0


class SimulatedConnector:
    """A connector on fakes: one connection between a FakeQuickBooks and a FakeProcore.

    Args:
        store: The sync store (default: a fresh SQLite file in a temporary directory).
        quickbooks: The company file (default: an empty `FakeQuickBooks`).
        procore_fake: Procore (default: an empty `FakeProcore` on a `FakeClock`).
        mapping: The connection's mapping settings.
        verification: The connection's verification policy.
        max_returned: Records per page of a QuickBooks read.
        connection_id: The connection's id.
        worker: The engine's worker name.
        clock: The engine's and the Web Connector endpoint's time (aware; default: real time),
            e.g. to let claims and sessions expire in a test.
        engine_config: The engine's configuration (default: pull every Procore stream on
            every cycle, as a test expects).
        procore_transport: The transport the Procore client uses (default:
            `FakeProcore.transport`), e.g. one that injects faults on the way.
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        quickbooks: FakeQuickBooks | None = None,
        procore_fake: FakeProcore | None = None,
        mapping: MappingSettings | None = None,
        verification: VerificationPolicy | None = None,
        max_returned: int = 500,
        connection_id: str = "simulated",
        worker: str = "worker-1",
        clock: Callable[[], dt.datetime] | None = None,
        engine_config: EngineConfig | None = None,
        procore_transport: httpx.BaseTransport | None = None,
    ) -> None:
        now = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        if store is None:
            path = pathlib.Path(tempfile.mkdtemp(prefix="qbprocore-")) / "qbprocore.db"
            store = SQLiteStore(path)
        self.store = store
        self.store.migrate()
        self.quickbooks = quickbooks or FakeQuickBooks()
        shared = procore_fake.clock if procore_fake is not None else None
        self.clock = shared if isinstance(shared, FakeClock) else FakeClock()
        self.procore = procore_fake or FakeProcore(clock=self.clock)
        self.connection_id = connection_id
        existing = self.store.get_connection(connection_id)
        if existing is None:
            self.store.put_connection(
                Connection(
                    id=connection_id,
                    procore_company_id=self.procore.company_id,
                    company_file_id=self.quickbooks.company_file,
                    name=self.quickbooks.company_name,
                    mapping=mapping or MappingSettings(),
                    verification=verification or VerificationPolicy(),
                )
            )
        auth = procore.ProcoreAuth.client_credentials(
            environment=self.procore.environment,
            client_id=self.procore.client_id,
            client_secret=self.procore.client_secret,
            clock=self.clock,
        )
        self.client = procore.ProcoreClient(
            auth=auth,
            company_id=self.procore.company_id,
            clock=self.clock,
            http_client=httpx.Client(transport=procore_transport or self.procore.transport()),
            # Its own limiters: the process-wide ones would pace this Procore on the clock of
            # another connector's.
            limiters=procore.RateLimiterRegistry(),
        )
        self.engine = SyncEngine(
            self.store,
            procore_client=lambda _conn: self.client,
            config=engine_config or EngineConfig(worker=worker, project_pull_every=dt.timedelta(0)),
            clock=now,
        )
        # A cheap scrypt cost: the simulated Web Connector's password protects nothing, and
        # every session authenticates (real deployments keep the default cost).
        self.users = qbwc.PasswordAuthenticator(n=2**10)
        self.users.add_user(SIMULATED_USER, SIMULATED_PASSWORD, tenant=connection_id)
        self.work = self.engine.work_source(max_returned=max_returned, retry_delay=dt.timedelta(0))
        self.service = qbwc.WebConnectorService(
            authenticator=self.users,
            work=self.work,
            store=StoreSessionStore(self.store),
            clock=lambda: now().timestamp(),
        )
        self.app = qbwc.wsgi_app(self.service)
        self.url: str | None = None
        """When set, `cycle` reaches the endpoint over HTTP at this URL (a served `app`)."""

    def __repr__(self) -> str:
        return f"SimulatedConnector(connection_id={self.connection_id!r})"

    def close(self) -> None:
        """Close the Procore client and the store."""
        self.client.close()
        self.store.close()

    def __enter__(self) -> SimulatedConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, **options: Any) -> UpdateResult:
        """One Web Connector update (keyword arguments go to `FakeWebConnector`).

        Without ``url=`` the endpoint is called in process (WSGI); with it, over HTTP, e.g.
        at a server started on `app`.
        """
        if "url" not in options:
            options["wsgi_app"] = self.app
        with FakeWebConnector(
            username=SIMULATED_USER, password=SIMULATED_PASSWORD, **options
        ) as wc:
            return wc.update(self.quickbooks)

    def run(self, *, dry_run: bool = False) -> RunReport:
        """One engine run for the connection."""
        return self.engine.run(self.connection_id, dry_run=dry_run)

    def cycle(self) -> Cycle:
        """One scheduled cycle: a Web Connector update, then an engine run."""
        update = self.update(url=self.url) if self.url else self.update()
        return Cycle(update=update, report=self.run())

    def sync(self, *, max_cycles: int = 8) -> list[Cycle]:
        """Cycles until one moves nothing (at most ``max_cycles``)."""
        cycles: list[Cycle] = []
        for _ in range(max_cycles):
            cycles.append(self.cycle())
            if cycles[-1].quiet:
                break
        return cycles
