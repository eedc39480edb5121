"""The background worker: runs the sync engine for every connected connection.

It wakes every `SyncWorker.every` seconds, and as soon as a Web Connector session has
finished (so what QuickBooks just sent reaches Procore without waiting for the schedule).
Several server processes may each run one: the engine claims rows, so two workers never
handle the same record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from qbprocore import procore, qbwc
from qbprocore.sync import ConnectionManager, ConnectionState, SyncEngine

__all__ = ["SyncWorker"]

log = logging.getLogger("qbprocore.server.worker")


class SyncWorker:
    """Runs `SyncEngine.run` for each connected connection, on a schedule and on demand.

    Args:
        engine: The engine (its store lists the connections).
        every: Seconds between rounds (``0``: only when woken).
    """

    def __init__(self, engine: SyncEngine, *, every: float) -> None:
        self.engine = engine
        self.every = every
        self.manager = ConnectionManager(engine.store)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0
        """Rounds completed (for tests and the health page)."""

    def __repr__(self) -> str:
        return f"SyncWorker(every={self.every!r}, rounds={self.rounds})"

    def start(self) -> None:
        """Start the worker thread (a daemon: it never keeps the process alive)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="qbprocore-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop after the current run, and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Run a round now (e.g. after a Web Connector session finished)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.every if self.every > 0 else None)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.run_once()

    def run_once(self) -> dict[str, str]:
        """One round: run the engine for every connected connection.

        Returns:
            Connection id → ``"ok"``, ``"needs_reconnection"`` or ``"error"``.
        """
        outcomes: dict[str, str] = {}
        for connection in self.engine.store.list_connections():
            if connection.state is not ConnectionState.CONNECTED:
                continue
            outcomes[connection.id] = self._run(connection.id)
        self.rounds += 1
        return outcomes

    def _run(self, connection_id: str) -> str:
        try:
            report = self.engine.run(connection_id)
        except procore.ReauthorizationRequiredError as exc:
            self.manager.mark_needs_reconnection(
                connection_id,
                reason=f"Procore needs to be authorized again ({exc.error or 'no token'}):"
                " open /oauth/start?connection=" + connection_id,
            )
            log.warning(
                "connection needs reconnection",
                extra={"connection": connection_id, "reason": exc.error or "no_token"},
            )
            return "needs_reconnection"
        except Exception as exc:  # the worker must survive any one connection's failure
            log.error(
                "sync run failed",
                extra={"connection": connection_id, "error": f"{type(exc).__name__}: {exc}"},
            )
            return "error"
        self.manager.record_sync(connection_id)
        log.info(
            "sync run finished",
            extra={
                "connection": connection_id,
                "pulled": sum(report.pulled.values()),
                "moved": sum(report.moved.values()),
                "blocked": len(report.blocked),
            },
        )
        return "ok"


class NotifyingWorkSource:  # used by the app; not part of the public API
    """A `qbprocore.qbwc.WorkSource` that calls back when a session has no work left.

    It delegates everything to ``inner``, and calls ``on_done`` with the session's tenant
    (its connection) when the session runs out of work: after a response, when the work
    source says there is no more, or when it hands out no next request.

    Args:
        inner: The real work source (`qbprocore.sync.SyncEngine.work_source`).
        on_done: Called with the connection id when a session has finished its work.
    """

    def __init__(self, inner: qbwc.WorkSource, on_done: Callable[[str | None], None]) -> None:
        self.inner = inner
        self._on_done = on_done

    def __repr__(self) -> str:
        return f"NotifyingWorkSource({self.inner!r})"

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        """See `qbprocore.qbwc.WorkSource.has_work`."""
        return self.inner.has_work(session)

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | qbwc.Preparing | None:
        """See `qbprocore.qbwc.WorkSource.next_request`; notify when nothing is left."""
        request = self.inner.next_request(session)
        if request is None:
            self._on_done(session.tenant)
        return request

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        """See `qbprocore.qbwc.WorkSource.receive`; then notify if the session is done."""
        self.inner.receive(session, received)
        if not received.continuing and not self.inner.has_work(session):
            self._on_done(session.tenant)
