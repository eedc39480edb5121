"""Where sessions live between calls: the `SessionStore` protocol and two implementations.

A Web Connector session spans many HTTP requests, and nothing guarantees they reach the same
process. Keeping sessions in process memory (as many peers do) loses them on every restart and
breaks with two workers, so the endpoint loads the session's snapshot at the start of every
call and saves it at the end. `SQLiteSessionStore` is safe across threads and processes;
`MemorySessionStore` suits tests and single-process servers.

The one atomic operation is `SessionStore.create`: it refuses a session while another live one
holds the same lock key, which is how ``authenticate`` answers ``"busy"`` correctly even when
two workers authenticate at the same moment, and how a session that learns its company file
later (or moves to another after ``connectionError``) takes that file's lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Protocol, runtime_checkable

from qbprocore._sqlite import enable_wal
from qbprocore.qbwc._snapshot import SessionSnapshot

__all__ = ["MemorySessionStore", "SQLiteSessionStore", "SessionStore"]


@runtime_checkable
class SessionStore(Protocol):
    """Keeps session snapshots between calls."""

    def create(self, snapshot: SessionSnapshot, *, now: float) -> bool:
        """Store a session unless another live, unexpired one has the same lock key.

        Atomic: of two calls racing for one lock key, one wins. A snapshot whose `key` is
        already stored replaces it (the session is not counted against itself): that is how a
        live session moves to another lock key.

        Returns:
            ``True`` if stored, ``False`` if the company file is busy.
        """

    def load(self, key: str) -> SessionSnapshot | None:
        """The snapshot stored under ``key``, or ``None``."""

    def save(self, snapshot: SessionSnapshot) -> None:
        """Replace the stored snapshot of an existing session."""

    def delete(self, key: str) -> None:
        """Forget a session (no error if it is unknown)."""


class MemorySessionStore:
    """Sessions in a dict, guarded by a lock. Lost when the process ends.

    Snapshots are kept as they are: a `SessionSnapshot` is immutable (its fields are text,
    numbers and tuples), so nothing can share state with a session by reference between two
    calls, and serializing them would only cost time. `SQLiteSessionStore` keeps their JSON.
    """

    def __init__(self) -> None:
        # key -> (lock key, live, expires at, snapshot)
        self._data: dict[str, tuple[str, bool, float, SessionSnapshot]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemorySessionStore(<{len(self._data)} sessions>)"

    @staticmethod
    def _row(snapshot: SessionSnapshot) -> tuple[str, bool, float, SessionSnapshot]:
        expires = min(snapshot.expires_at, snapshot.hard_expires_at)
        return snapshot.lock_key, snapshot.live, expires, snapshot

    def create(self, snapshot: SessionSnapshot, *, now: float) -> bool:
        """See `SessionStore.create`."""
        with self._lock:
            for key, (lock_key, live, expires, _snapshot) in list(self._data.items()):
                if expires <= now:
                    del self._data[key]  # purge the dead while we are here
                elif live and lock_key == snapshot.lock_key and key != snapshot.key:
                    return False
            self._data[snapshot.key] = self._row(snapshot)
            return True

    def load(self, key: str) -> SessionSnapshot | None:
        """See `SessionStore.load`."""
        row = self._data.get(key)
        return None if row is None else row[3]

    def save(self, snapshot: SessionSnapshot) -> None:
        """See `SessionStore.save`."""
        with self._lock:
            self._data[snapshot.key] = self._row(snapshot)

    def delete(self, key: str) -> None:
        """See `SessionStore.delete`."""
        with self._lock:
            self._data.pop(key, None)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS qbwc_sessions (
    key TEXT PRIMARY KEY,
    lock_key TEXT NOT NULL,
    live INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS qbwc_sessions_lock ON qbwc_sessions (lock_key, live);
"""


class SQLiteSessionStore:
    """Sessions in an SQLite file, shared by every thread and process that opens it.

    Each thread gets its own connection (never shared between threads); `close` closes them
    all. The database runs in WAL mode so readers do not block the writer, and `create` takes
    the write lock first (``BEGIN IMMEDIATE``) so two workers cannot both start a session for
    the same company file. The store is also a context manager.

    Args:
        path: The database file (created if missing).
        timeout: Seconds to wait for another process's write lock.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self._timeout = timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._connection().executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"SQLiteSessionStore({self.path!r})"

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so create() can take the
            # write lock before it reads. check_same_thread=False only so close() can close
            # every thread's connection; each connection is still used by one thread.
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            enable_wal(conn, self._timeout)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened (it reopens on the next use)."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> SQLiteSessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create(self, snapshot: SessionSnapshot, *, now: float) -> bool:
        """See `SessionStore.create`."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM qbwc_sessions WHERE expires_at <= ?", (now,))
            busy = conn.execute(
                "SELECT 1 FROM qbwc_sessions WHERE lock_key = ? AND live = 1 AND key != ? LIMIT 1",
                (snapshot.lock_key, snapshot.key),
            ).fetchone()
            if busy is None:
                conn.execute(
                    "INSERT OR REPLACE INTO qbwc_sessions (key, lock_key, live, expires_at, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        snapshot.key,
                        snapshot.lock_key,
                        int(snapshot.live),
                        min(snapshot.expires_at, snapshot.hard_expires_at),
                        snapshot.to_json(),
                    ),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return busy is None

    def load(self, key: str) -> SessionSnapshot | None:
        """See `SessionStore.load`."""
        row = (
            self._connection()
            .execute("SELECT data FROM qbwc_sessions WHERE key = ?", (key,))
            .fetchone()
        )
        return None if row is None else SessionSnapshot.from_json(row[0])

    def save(self, snapshot: SessionSnapshot) -> None:
        """See `SessionStore.save`."""
        self._connection().execute(
            "UPDATE qbwc_sessions SET live = ?, expires_at = ?, data = ? WHERE key = ?",
            (
                int(snapshot.live),
                min(snapshot.expires_at, snapshot.hard_expires_at),
                snapshot.to_json(),
                snapshot.key,
            ),
        )

    def delete(self, key: str) -> None:
        """See `SessionStore.delete`."""
        self._connection().execute("DELETE FROM qbwc_sessions WHERE key = ?", (key,))
