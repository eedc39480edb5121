"""`PostgresStore`: the store for several workers sharing one PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from qbprocore.sync._errors import StoreError
from qbprocore.sync._sqlstore import Row, SqlStore, constraint_error, lock_id

__all__ = ["PostgresStore"]

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresStore(SqlStore):
    """The sync store in PostgreSQL (psycopg 3), shared by any number of processes.

    Each thread gets its own connection. Claims pick rows with ``FOR UPDATE SKIP LOCKED``,
    so workers never take the same item and never wait for each other; transactions that
    must not interleave (migrations, project assignment, session creation) take a
    transaction-scoped advisory lock named after what they protect.

    Args:
        dsn: A libpq connection string, e.g. ``"postgresql://user@host:5432/db"``.
        schema: Keep the tables in this schema (created if missing) instead of the default
            search path; useful to host several stores, or tests, in one database.
        clock: Returns the current time (timezone-aware); defaults to UTC now.
        migrate: Apply missing schema migrations on open (default).
        connect_timeout: Seconds to wait for the server.

    Raises:
        StoreError: ``schema`` is not a plain identifier.
    """

    dialect = "postgresql"
    _claim_lock = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        migrate: bool = True,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(clock=clock)
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise StoreError(f"schema must be a plain SQL identifier, got {schema!r}")
        self._dsn = dsn
        self.schema = schema
        self._connect_timeout = connect_timeout
        if migrate:
            self.migrate()

    def __repr__(self) -> str:
        # The DSN may hold a password: show only the schema.
        return f"PostgresStore(schema={self.schema!r})"

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(
            self._dsn, autocommit=True, connect_timeout=max(1, int(self._connect_timeout))
        )
        if self.schema is not None:
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if exists is None:
                # CREATE SCHEMA IF NOT EXISTS is not safe against itself: two sessions can
                # both pass the check and one fails on the catalog's unique index.
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id("qbprocore-schema"),))
                    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            conn.execute(f'SET search_path TO "{self.schema}"')
        return conn

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> list[Row]:
        # Our SQL uses "?" placeholders and never a literal "?" or "%": convert to psycopg's.
        import psycopg

        try:
            cur = conn.execute(sql.replace("?", "%s"), tuple(params))
        except psycopg.IntegrityError as exc:
            raise constraint_error(sql, exc) from exc
        return list(cur.fetchall()) if cur.description is not None else []

    @contextmanager
    def _transaction(self, lock: str | None = None) -> Iterator[None]:
        conn = self._conn()
        with conn.transaction():
            if lock is not None:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(lock),))
            yield
