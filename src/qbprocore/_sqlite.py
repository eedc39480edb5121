"""SQLite helpers shared by the layers that keep state in a SQLite file (qbwc, sync)."""

from __future__ import annotations

import sqlite3
import time

__all__ = ["enable_wal"]


def enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Put ``conn``'s database in WAL mode, waiting up to ``timeout`` seconds for the lock.

    Switching a new database to WAL needs an exclusive lock, and SQLite answers "database is
    locked" at once, without waiting on the busy timeout, when waiting could deadlock with
    another connection opening the same file (several workers' or threads' first start). The
    mode is stored in the file, so a short retry soon finds it already set.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
