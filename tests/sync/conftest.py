"""Store fixtures: every store test runs against SQLite and PostgreSQL.

PostgreSQL tests use ``QBPROCORE_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``), each test in a schema of its own that is
dropped afterwards, and skip with the reason when the server is unreachable or psycopg is
missing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qbprocore import sync

POSTGRES_DSN = os.environ.get(
    "QBPROCORE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


class Clock:
    """A manual, timezone-aware clock for the stores."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 8, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


_postgres_problem: list[str] = []


def postgres_unavailable() -> str | None:
    """Why PostgreSQL tests cannot run here, or ``None`` (checked once per session)."""
    if not _postgres_problem:
        try:
            import psycopg
        except ImportError:
            _postgres_problem.append("psycopg is not installed: pip install 'psycopg[binary]'")
        else:
            try:
                psycopg.connect(POSTGRES_DSN, connect_timeout=3).close()
                _postgres_problem.append("")
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                # The DSN may carry a password: show it without one.
                shown = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", POSTGRES_DSN)
                _postgres_problem.append(f"PostgreSQL not reachable at {shown}: {reason}")
    return _postgres_problem[0] or None


@pytest.fixture(params=["sqlite", "postgresql"])
def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., sync.Store]]:
    """Opens stores on one fresh database (SQLite file or PostgreSQL schema) per test."""
    opened: list[sync.Store] = []
    if request.param == "sqlite":
        path = tmp_path / "sync.db"

        def open_store(**kwargs: object) -> sync.Store:
            store = sync.SQLiteStore(path, **kwargs)  # type: ignore[arg-type]
            opened.append(store)
            return store

        yield open_store
    else:
        problem = postgres_unavailable()
        if problem:
            pytest.skip(problem)
        schema = f"qbp_test_{uuid.uuid4().hex[:12]}"

        def open_store(**kwargs: object) -> sync.Store:
            store = sync.PostgresStore(POSTGRES_DSN, schema=schema, **kwargs)  # type: ignore[arg-type]
            opened.append(store)
            return store

        yield open_store
        for store in opened:
            store.close()
        import psycopg

        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    for store in opened:
        store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(store_factory: Callable[..., sync.Store], clock: Clock) -> sync.Store:
    """A migrated store on a fresh database, with a manual clock."""
    return store_factory(clock=clock)
