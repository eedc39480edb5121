"""`SQLiteStore`: the default store, one file, stdlib `sqlite3` in WAL mode."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from qbprocore._sqlite import enable_wal
from qbprocore.sync._sqlstore import Row, SqlStore, constraint_error

__all__ = ["SQLiteStore"]


class SQLiteStore(SqlStore):
    """The sync store in one SQLite file, shared by the threads and processes that open it.

    Each thread gets its own connection. The database runs in WAL mode so readers do not block
    the writer; transactions that read before they write start with ``BEGIN IMMEDIATE`` (the
    database's one write lock), so two processes cannot interleave them. Claims are a single
    ``UPDATE … RETURNING``, atomic under that same lock.

    Args:
        path: The database file (created if missing).
        clock: Returns the current time (timezone-aware); defaults to UTC now.
        migrate: Apply missing schema migrations on open (default).
        timeout: Seconds to wait for another process's write lock.

    Examples:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "sync.db"
        >>> with SQLiteStore(path) as store:
        ...     store.schema_version()
        1
    """

    dialect = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], dt.datetime] | None = None,
        migrate: bool = True,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(clock=clock)
        self.path = os.fspath(path)
        self._timeout = timeout
        if migrate:
            self.migrate()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread=False only
        # so close() can close every thread's connection; each is still used by one thread.
        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        enable_wal(conn, self._timeout)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> list[Row]:
        try:
            return list(conn.execute(sql, tuple(params)).fetchall())
        except sqlite3.IntegrityError as exc:
            raise constraint_error(sql, exc) from exc

    @contextmanager
    def _transaction(self, lock: str | None = None) -> Iterator[None]:
        # The lock name is not needed: BEGIN IMMEDIATE takes the database's only write lock.
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
