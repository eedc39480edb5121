"""The shared SQLite WAL switch waits out another connection's lock instead of failing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from qbprocore._sqlite import enable_wal


def test_wal_switch_retries_while_another_connection_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    # timeout=0: SQLite's own busy wait is off, so only enable_wal's retry can succeed
    # (as when SQLite refuses at once to avoid a deadlock between first opens).
    opener = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        opener.execute("PRAGMA journal_mode=WAL")
    release = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
    release.start()
    enable_wal(opener, timeout=10)
    release.join()
    assert opener.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    holder.close()
    opener.close()


def test_wal_switch_gives_up_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "held.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    opener = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(opener, timeout=0.05)
    holder.execute("COMMIT")
    holder.close()
    opener.close()
