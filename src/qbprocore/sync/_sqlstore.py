"""The store's logic, written once in SQL both databases accept.

`SQLiteStore` and `PostgresStore` differ only in how they connect, how a transaction takes
its lock, the placeholder style and one clause of the claim query; everything else is here,
so the two cannot drift apart (and one parametrized test suite runs against both).
"""

# Every SQL string here is built from module constants and "?" placeholders; values are
# always bound parameters, never formatted in.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

from qbprocore.sync._errors import StoreError
from qbprocore.sync._migrations import MIGRATIONS, render
from qbprocore.sync._records import (
    AuditEvent,
    Connection,
    ConnectionState,
    Entity,
    IntegrationType,
    ItemStatus,
    OutboxItem,
    ProjectScope,
    Side,
    Stage,
    StagedRecord,
    XRef,
)
from qbprocore.sync._settings import MappingSettings, VerificationPolicy
from qbprocore.sync._store import StoreSummary

# Internal: the shared base of SQLiteStore and PostgresStore; nothing here is public API.
__all__: list[str] = []

Row = Sequence[Any]


def utcnow() -> dt.datetime:
    """The current time in UTC (the default clock of the stores)."""
    return dt.datetime.now(dt.timezone.utc)


def to_ts(value: dt.datetime) -> str:
    """The stored form of a time: fixed-width ISO 8601 in UTC, so text order is time order."""
    if value.tzinfo is None:
        raise StoreError(f"naive datetime {value!r}: the store needs timezone-aware times")
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def from_ts(value: str | None) -> dt.datetime | None:
    """Read a stored time back (``None`` stays ``None``)."""
    return None if value is None else dt.datetime.fromisoformat(value)


def _money(value: Any) -> Decimal | None:
    # SQLite gives back the TEXT we stored, PostgreSQL a Decimal from NUMERIC: both are exact.
    return None if value is None else Decimal(str(value))


_CONNECTION_COLS = (
    "id, procore_company_id, company_file_id, name, integration_type, environment,"
    " credentials_ref, project_scope, state, state_reason, settings, created_at, updated_at,"
    " last_sync_at"
)
_XREF_COLS = (
    "id, connection_id, entity, qb_id, edit_sequence, procore_id, origin_id, origin_data,"
    " deleted, updated_at"
)
_STAGED_COLS = (
    "id, connection_id, source, entity, source_id, version, payload, status, attempts,"
    " claimed_by, lease_expires, error, received_at"
)
_OUTBOX_COLS = (
    "id, connection_id, target, entity, key, rank, payload, status, attempts, claimed_by,"
    " lease_expires, not_before, error, result, created_at"
)
_EVENT_COLS = "id, connection_id, entity, stage, at, qb_id, procore_id, amount, detail"


def _connection(row: Row) -> Connection:
    settings = json.loads(row[10])
    return Connection(
        id=row[0],
        procore_company_id=int(row[1]),
        company_file_id=row[2],
        name=row[3],
        integration_type=IntegrationType(row[4]),
        environment=row[5],
        credentials_ref=row[6],
        project_scope=ProjectScope(row[7]),
        state=ConnectionState(row[8]),
        state_reason=row[9],
        mapping=MappingSettings.from_dict(settings.get("mapping", {})),
        verification=VerificationPolicy.from_dict(settings.get("verification", {})),
        created_at=from_ts(row[11]),
        updated_at=from_ts(row[12]),
        last_sync_at=from_ts(row[13]),
    )


def _xref(row: Row) -> XRef:
    return XRef(
        id=int(row[0]),
        connection_id=row[1],
        entity=Entity(row[2]),
        qb_id=row[3],
        edit_sequence=row[4],
        procore_id=None if row[5] is None else int(row[5]),
        origin_id=row[6],
        origin_data=row[7],
        deleted=bool(row[8]),
        updated_at=from_ts(row[9]),
    )


def _staged(row: Row) -> StagedRecord:
    return StagedRecord(
        id=int(row[0]),
        connection_id=row[1],
        source=Side(row[2]),
        entity=Entity(row[3]),
        source_id=row[4],
        version=row[5],
        payload=row[6],
        status=ItemStatus(row[7]),
        attempts=int(row[8]),
        claimed_by=row[9],
        lease_expires=from_ts(row[10]),
        error=row[11],
        received_at=from_ts(row[12]),
    )


def _outbox(row: Row) -> OutboxItem:
    return OutboxItem(
        id=int(row[0]),
        connection_id=row[1],
        target=Side(row[2]),
        entity=Entity(row[3]),
        key=row[4],
        rank=int(row[5]),
        payload=row[6],
        status=ItemStatus(row[7]),
        attempts=int(row[8]),
        claimed_by=row[9],
        lease_expires=from_ts(row[10]),
        not_before=from_ts(row[11]),
        error=row[12],
        result=row[13],
        created_at=from_ts(row[14]),
    )


def _event(row: Row) -> AuditEvent:
    return AuditEvent(
        id=int(row[0]),
        connection_id=row[1],
        entity=Entity(row[2]),
        stage=Stage(row[3]),
        at=from_ts(row[4]),
        qb_id=row[5],
        procore_id=None if row[6] is None else int(row[6]),
        amount=_money(row[7]),
        detail=row[8],
    )


def constraint_error(sql: str, exc: Exception) -> StoreError:
    """A `StoreError` for a write the database refused (unknown connection, duplicate …)."""
    words = sql.split()
    table = next((w for w in words if w.startswith("sync_")), "the store")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ""
    if table != "sync_connections" and "foreign key" in detail.casefold():
        hint = " (is the connection stored? put_connection() it first)"
    elif table == "sync_connections":
        hint = " (a company file can be connected once per Procore company)"
    return StoreError(f"{table} refused the write: {detail}{hint}")


def lock_id(text: str) -> int:
    """A signed 64-bit number for ``text`` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


class SqlStore:
    """The shared implementation of the `Store` protocol (see `SQLiteStore`, `PostgresStore`).

    Subclasses provide a per-thread connection, transactions and the dialect's details.
    """

    dialect: str = ""
    #: Added to the row selection of a claim; PostgreSQL skips rows other workers hold.
    _claim_lock: str = ""

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self._clock = clock or utcnow
        self._local = threading.local()
        self._all: list[Any] = []
        self._all_lock = threading.Lock()

    # -- what subclasses provide ---------------------------------------------------------------

    def _connect(self) -> Any:
        raise NotImplementedError

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> list[Row]:
        raise NotImplementedError

    def _transaction(self, lock: str | None = None) -> AbstractContextManager[None]:
        """A transaction; ``lock`` names a lock held until it ends (serializes writers)."""
        raise NotImplementedError

    # -- plumbing --------------------------------------------------------------------------------

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._run(self._conn(), sql, params)

    def _now(self) -> str:
        return to_ts(self._clock())

    def close(self) -> None:
        """Close every connection this store opened (it reopens on the next use)."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The highest migration applied (0 for an empty database)."""
        # Created under the migration lock: two processes opening an empty database at once
        # would otherwise race to create it.
        with self._transaction(lock="qbprocore-migrations"):
            self._q(
                "CREATE TABLE IF NOT EXISTS qbprocore_migrations"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        rows = self._q("SELECT MAX(version) FROM qbprocore_migrations")
        return int(rows[0][0] or 0)

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, in order; return their versions.

        Safe to run again and from several processes at once: migrations run under the
        store's write lock and each is recorded in the same transaction as its statements.

        Raises:
            StoreError: The database has a newer schema than this version of qbprocore knows.
        """
        latest = MIGRATIONS[-1].version
        applied: list[int] = []
        current = self.schema_version()
        if current > latest:
            raise StoreError(
                f"the store's schema is at version {current}, newer than the {latest} this"
                " qbprocore knows; upgrade qbprocore before using this database"
            )
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            with self._transaction(lock="qbprocore-migrations"):
                # Re-check under the lock: another process may have applied it meanwhile.
                done = self._q(
                    "SELECT 1 FROM qbprocore_migrations WHERE version = ?", (migration.version,)
                )
                if done:
                    continue
                for statement in migration.statements:
                    self._q(render(statement, self.dialect))
                self._q(
                    "INSERT INTO qbprocore_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, self._now()),
                )
            applied.append(migration.version)
        return applied

    # -- connections -------------------------------------------------------------------------------

    def put_connection(self, connection: Connection) -> Connection:
        """Insert or replace a connection; returns it with ``created_at``/``updated_at`` set."""
        now = self._now()
        settings = json.dumps(
            {
                "mapping": connection.mapping.to_dict(),
                "verification": connection.verification.to_dict(),
            },
            sort_keys=True,
        )
        created = to_ts(connection.created_at) if connection.created_at else now
        last_sync = to_ts(connection.last_sync_at) if connection.last_sync_at else None
        values = (
            connection.id,
            connection.procore_company_id,
            connection.company_file_id,
            connection.name,
            connection.integration_type.value,
            connection.environment,
            connection.credentials_ref,
            connection.project_scope.value,
            connection.state.value,
            connection.state_reason,
            settings,
            created,
            now,
            last_sync,
        )
        self._q(
            f"INSERT INTO sync_connections ({_CONNECTION_COLS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET procore_company_id = excluded.procore_company_id,"
            " company_file_id = excluded.company_file_id, name = excluded.name,"
            " integration_type = excluded.integration_type, environment = excluded.environment,"
            " credentials_ref = excluded.credentials_ref,"
            " project_scope = excluded.project_scope, state = excluded.state,"
            " state_reason = excluded.state_reason, settings = excluded.settings,"
            " updated_at = excluded.updated_at, last_sync_at = excluded.last_sync_at",
            values,
        )
        stored = self.get_connection(connection.id)
        assert stored is not None
        return stored

    def get_connection(self, connection_id: str) -> Connection | None:
        """The connection with this id, or ``None``."""
        rows = self._q(
            f"SELECT {_CONNECTION_COLS} FROM sync_connections WHERE id = ?", (connection_id,)
        )
        return _connection(rows[0]) if rows else None

    def list_connections(self, *, procore_company_id: int | None = None) -> list[Connection]:
        """Every connection (of one Procore company, if given), disconnected ones included."""
        if procore_company_id is None:
            rows = self._q(f"SELECT {_CONNECTION_COLS} FROM sync_connections ORDER BY id")
        else:
            rows = self._q(
                f"SELECT {_CONNECTION_COLS} FROM sync_connections"
                " WHERE procore_company_id = ? ORDER BY id",
                (procore_company_id,),
            )
        return [_connection(r) for r in rows]

    def assign_project(
        self, *, procore_company_id: int, project_id: int, connection_id: str
    ) -> str | None:
        """Assign a project to a connection; return the connection it was assigned to before.

        A project belongs to at most one connection, so assigning it moves it.
        """
        with self._transaction(lock=f"project:{procore_company_id}:{project_id}"):
            rows = self._q(
                "SELECT connection_id FROM sync_project_assignments"
                " WHERE procore_company_id = ? AND project_id = ?",
                (procore_company_id, project_id),
            )
            self._q(
                "INSERT INTO sync_project_assignments (procore_company_id, project_id,"
                " connection_id) VALUES (?, ?, ?) ON CONFLICT (procore_company_id, project_id)"
                " DO UPDATE SET connection_id = excluded.connection_id",
                (procore_company_id, project_id, connection_id),
            )
        previous: str | None = rows[0][0] if rows else None
        return previous

    def unassign_project(self, *, procore_company_id: int, project_id: int) -> None:
        """Remove a project's assignment (no error if it has none)."""
        self._q(
            "DELETE FROM sync_project_assignments WHERE procore_company_id = ? AND project_id = ?",
            (procore_company_id, project_id),
        )

    def project_assignments(
        self, *, procore_company_id: int, connection_id: str | None = None
    ) -> dict[int, str]:
        """Project id → connection id, for one company (and one connection, if given)."""
        sql = (
            "SELECT project_id, connection_id FROM sync_project_assignments"
            " WHERE procore_company_id = ?"
        )
        params: list[Any] = [procore_company_id]
        if connection_id is not None:
            sql += " AND connection_id = ?"
            params.append(connection_id)
        return {int(p): c for p, c in self._q(sql, params)}

    # -- cross-references --------------------------------------------------------------------------

    def link(
        self,
        connection_id: str,
        entity: Entity,
        *,
        qb_id: str | None = None,
        procore_id: int | None = None,
        edit_sequence: str | None = None,
        origin_id: str | None = None,
        origin_data: str | None = None,
        deleted: bool | None = None,
    ) -> XRef:
        """Record (or complete) the pair for a record; arguments left ``None`` keep their value.

        The pair is found by `qb_id`, else by `procore_id`; a pair that is found is updated,
        otherwise a new one is created.

        Raises:
            StoreError: Neither id was given, or the two ids belong to two different pairs.
        """
        if qb_id is None and procore_id is None:
            raise StoreError("link() needs qb_id or procore_id (or both)")
        entity = Entity(entity)
        with self._transaction(lock=f"xref:{connection_id}:{entity.value}"):
            by_qb = self.get_xref(connection_id, entity, qb_id=qb_id) if qb_id else None
            by_pc = (
                self.get_xref(connection_id, entity, procore_id=procore_id)
                if procore_id is not None
                else None
            )
            if by_qb and by_pc and by_qb.id != by_pc.id:
                raise StoreError(
                    f"{entity.value}: QuickBooks id {qb_id!r} and Procore id {procore_id} are"
                    f" already linked to other records (pairs {by_qb.id} and {by_pc.id})"
                )
            found = by_qb or by_pc
            # Completing a half-known pair is fine; re-pointing a complete one is not: it would
            # silently detach a record from its counterpart (and a replay would duplicate it).
            if found is not None and (
                (qb_id is not None and found.qb_id not in (None, qb_id))
                or (procore_id is not None and found.procore_id not in (None, procore_id))
            ):
                raise StoreError(
                    f"{entity.value}: pair {found.id} already links QuickBooks id"
                    f" {found.qb_id!r} with Procore id {found.procore_id}; refusing to re-link"
                    f" it to {qb_id!r} / {procore_id}"
                )
            now = self._now()
            if found is None:
                rows = self._q(
                    "INSERT INTO sync_xrefs (connection_id, entity, qb_id, edit_sequence,"
                    " procore_id, origin_id, origin_data, deleted, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        connection_id,
                        entity.value,
                        qb_id,
                        edit_sequence,
                        procore_id,
                        origin_id,
                        origin_data,
                        int(bool(deleted)),
                        now,
                    ),
                )
                xref_id = int(rows[0][0])
            else:
                xref_id = found.id
                self._q(
                    "UPDATE sync_xrefs SET qb_id = ?, edit_sequence = ?, procore_id = ?,"
                    " origin_id = ?, origin_data = ?, deleted = ?, updated_at = ? WHERE id = ?",
                    (
                        qb_id if qb_id is not None else found.qb_id,
                        edit_sequence if edit_sequence is not None else found.edit_sequence,
                        procore_id if procore_id is not None else found.procore_id,
                        origin_id if origin_id is not None else found.origin_id,
                        origin_data if origin_data is not None else found.origin_data,
                        int(deleted if deleted is not None else found.deleted),
                        now,
                        xref_id,
                    ),
                )
            rows = self._q(f"SELECT {_XREF_COLS} FROM sync_xrefs WHERE id = ?", (xref_id,))
        return _xref(rows[0])

    def get_xref(
        self,
        connection_id: str,
        entity: Entity,
        *,
        qb_id: str | None = None,
        procore_id: int | None = None,
    ) -> XRef | None:
        """The pair with this QuickBooks id (or Procore id), or ``None``."""
        value: str | int
        if qb_id is not None:
            column, value = "qb_id", qb_id
        elif procore_id is not None:
            column, value = "procore_id", procore_id
        else:
            raise StoreError("get_xref() needs qb_id or procore_id")
        rows = self._q(
            f"SELECT {_XREF_COLS} FROM sync_xrefs"
            f" WHERE connection_id = ? AND entity = ? AND {column} = ?",
            (connection_id, Entity(entity).value, value),
        )
        return _xref(rows[0]) if rows else None

    def list_xrefs(self, connection_id: str, entity: Entity | None = None) -> list[XRef]:
        """Every pair of a connection (of one entity, if given), in creation order."""
        if entity is None:
            rows = self._q(
                f"SELECT {_XREF_COLS} FROM sync_xrefs WHERE connection_id = ? ORDER BY id",
                (connection_id,),
            )
        else:
            rows = self._q(
                f"SELECT {_XREF_COLS} FROM sync_xrefs"
                " WHERE connection_id = ? AND entity = ? ORDER BY id",
                (connection_id, Entity(entity).value),
            )
        return [_xref(r) for r in rows]

    # -- watermarks --------------------------------------------------------------------------------

    def get_watermark(self, connection_id: str, stream: str) -> str | None:
        """The watermark of one read stream (e.g. ``"qb:VendorQuery"``), or ``None``."""
        rows = self._q(
            "SELECT value FROM sync_watermarks WHERE connection_id = ? AND stream = ?",
            (connection_id, stream),
        )
        return str(rows[0][0]) if rows else None

    def set_watermark(self, connection_id: str, stream: str, value: str) -> None:
        """Set the watermark of one read stream."""
        self._q(
            "INSERT INTO sync_watermarks (connection_id, stream, value, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (connection_id, stream)"
            " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (connection_id, stream, value, self._now()),
        )

    # -- staged records ----------------------------------------------------------------------------

    def stage(
        self,
        connection_id: str,
        *,
        source: Side,
        entity: Entity,
        source_id: str,
        version: str,
        payload: str,
    ) -> StagedRecord | None:
        """Stage a received record; ``None`` if this version of it is already staged."""
        rows = self._q(
            "INSERT INTO sync_staged (connection_id, source, entity, source_id, version,"
            " payload, status, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (connection_id, source, entity, source_id, version) DO NOTHING"
            f" RETURNING {_STAGED_COLS}",
            (
                connection_id,
                Side(source).value,
                Entity(entity).value,
                source_id,
                version,
                payload,
                ItemStatus.PENDING.value,
                self._now(),
            ),
        )
        return _staged(rows[0]) if rows else None

    def claim_staged(
        self,
        worker: str,
        *,
        limit: int = 100,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        connection_id: str | None = None,
    ) -> list[StagedRecord]:
        """Claim up to ``limit`` pending records (or records whose claim lapsed) for ``worker``.

        No two workers ever hold the same record: the claim is one atomic UPDATE (and on
        PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so workers do not
        wait for each other).
        """
        rows = self._claim(
            "sync_staged",
            cols=_STAGED_COLS,
            worker=worker,
            limit=limit,
            lease=lease,
            connection_id=connection_id,
            extra="",
        )
        return sorted((_staged(r) for r in rows), key=lambda r: r.id)

    def finish_staged(
        self,
        record_id: int,
        status: ItemStatus,
        *,
        error: str = "",
        worker: str | None = None,
    ) -> bool:
        """Set a staged record's status (done, failed, blocked, skipped, or pending again).

        With ``worker``, only a record that worker still holds is changed, so a worker whose
        lease lapsed cannot overwrite the work of the worker that took over.

        Returns:
            Whether the record was changed.
        """
        return self._finish(
            "sync_staged", row_id=record_id, status=status, error=error, worker=worker, sets=()
        )

    def list_staged(
        self, connection_id: str, *, status: ItemStatus | None = None
    ) -> list[StagedRecord]:
        """Staged records of a connection (with one status, if given), oldest first."""
        sql = f"SELECT {_STAGED_COLS} FROM sync_staged WHERE connection_id = ?"
        params: list[Any] = [connection_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(ItemStatus(status).value)
        return [_staged(r) for r in self._q(sql + " ORDER BY id", params)]

    # -- outbox ------------------------------------------------------------------------------------

    def enqueue(
        self,
        connection_id: str,
        *,
        target: Side,
        entity: Entity,
        key: str,
        payload: str,
        rank: int = 0,
        not_before: dt.datetime | None = None,
    ) -> OutboxItem | None:
        """Add a write to the outbox; ``None`` if an item with this key already exists."""
        rows = self._q(
            "INSERT INTO sync_outbox (connection_id, target, entity, key, rank, payload, status,"
            " not_before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (connection_id, key) DO NOTHING RETURNING {_OUTBOX_COLS}",
            (
                connection_id,
                Side(target).value,
                Entity(entity).value,
                key,
                rank,
                payload,
                ItemStatus.PENDING.value,
                to_ts(not_before) if not_before else None,
                self._now(),
            ),
        )
        return _outbox(rows[0]) if rows else None

    def claim_outbox(
        self,
        worker: str,
        *,
        limit: int = 100,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        connection_id: str | None = None,
        target: Side | None = None,
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` due outbox items, lowest rank first (see `claim_staged`)."""
        extra = " AND (not_before IS NULL OR not_before <= ?)"
        params: list[Any] = [self._now()]
        if target is not None:
            extra += " AND target = ?"
            params.append(Side(target).value)
        rows = self._claim(
            "sync_outbox",
            cols=_OUTBOX_COLS,
            worker=worker,
            limit=limit,
            lease=lease,
            connection_id=connection_id,
            extra=extra,
            extra_params=params,
        )
        return sorted((_outbox(r) for r in rows), key=lambda r: (r.rank, r.id))

    def finish_outbox(
        self,
        item_id: int,
        status: ItemStatus,
        *,
        error: str = "",
        result: str = "",
        worker: str | None = None,
        not_before: dt.datetime | None = None,
    ) -> bool:
        """Set an outbox item's status, its result and when it may be retried.

        See `finish_staged` for ``worker`` and the return value.
        """
        sets = (
            ("result", result),
            ("not_before", to_ts(not_before) if not_before else None),
        )
        return self._finish(
            "sync_outbox", row_id=item_id, status=status, error=error, worker=worker, sets=sets
        )

    def list_outbox(
        self, connection_id: str, *, status: ItemStatus | None = None
    ) -> list[OutboxItem]:
        """Outbox items of a connection (with one status, if given), in claim order."""
        sql = f"SELECT {_OUTBOX_COLS} FROM sync_outbox WHERE connection_id = ?"
        params: list[Any] = [connection_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(ItemStatus(status).value)
        return [_outbox(r) for r in self._q(sql + " ORDER BY rank, id", params)]

    # -- claims, shared by staging and the outbox -------------------------------------------------

    def _claim(
        self,
        table: str,
        *,
        cols: str,
        worker: str,
        limit: int,
        lease: dt.timedelta,
        connection_id: str | None,
        extra: str,
        extra_params: Sequence[Any] = (),
    ) -> list[Row]:
        if limit < 1:
            raise StoreError(f"claim limit must be at least 1, got {limit}")
        now_dt = self._clock()
        now, until = to_ts(now_dt), to_ts(now_dt + lease)
        where = "(status = ? OR (status = ? AND lease_expires < ?))" + extra
        params: list[Any] = [ItemStatus.PENDING.value, ItemStatus.CLAIMED.value, now]
        params.extend(extra_params)
        if connection_id is not None:
            where += " AND connection_id = ?"
            params.append(connection_id)
        order = "rank, id" if table == "sync_outbox" else "id"
        # One statement: the row choice and the update are atomic on both databases.
        sql = (
            f"UPDATE {table} SET status = ?, claimed_by = ?, lease_expires = ?,"
            f" attempts = attempts + 1 WHERE id IN (SELECT id FROM {table} WHERE {where}"
            f" ORDER BY {order} LIMIT ?{self._claim_lock}) RETURNING {cols}"
        )
        return self._q(sql, [ItemStatus.CLAIMED.value, worker, until, *params, limit])

    def _finish(
        self,
        table: str,
        *,
        row_id: int,
        status: ItemStatus,
        error: str,
        worker: str | None,
        sets: Sequence[tuple[str, Any]],
    ) -> bool:
        status = ItemStatus(status)
        assignments = "status = ?, error = ?, claimed_by = NULL, lease_expires = NULL"
        params: list[Any] = [status.value, error]
        for column, value in sets:
            assignments += f", {column} = ?"
            params.append(value)
        sql = f"UPDATE {table} SET {assignments} WHERE id = ?"
        params.append(row_id)
        if worker is not None:
            sql += " AND status = ? AND claimed_by = ?"
            params.extend([ItemStatus.CLAIMED.value, worker])
        return bool(self._q(sql + " RETURNING id", params))

    # -- audit events ------------------------------------------------------------------------------

    def record_event(self, event: AuditEvent) -> AuditEvent:
        """Store one audit event (its time defaults to now); return it with its id."""
        at = to_ts(event.at) if event.at else self._now()
        rows = self._q(
            "INSERT INTO sync_audit_events (connection_id, entity, stage, at, qb_id, procore_id,"
            f" amount, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_EVENT_COLS}",
            (
                event.connection_id,
                Entity(event.entity).value,
                Stage(event.stage).value,
                at,
                event.qb_id,
                event.procore_id,
                None if event.amount is None else str(event.amount),
                event.detail,
            ),
        )
        return _event(rows[0])

    def events(
        self,
        *,
        connection_id: str | None = None,
        qb_id: str | None = None,
        procore_id: int | None = None,
        entity: Entity | None = None,
    ) -> list[AuditEvent]:
        """Audit events matching every filter given, oldest first."""
        where, params = ["1 = 1"], []
        for column, value in (
            ("connection_id", connection_id),
            ("qb_id", qb_id),
            ("procore_id", procore_id),
            ("entity", None if entity is None else Entity(entity).value),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = self._q(
            f"SELECT {_EVENT_COLS} FROM sync_audit_events WHERE {' AND '.join(where)} ORDER BY id",
            params,
        )
        return [_event(r) for r in rows]

    # -- summary -----------------------------------------------------------------------------------

    def summary(self, connection_id: str) -> StoreSummary:
        """Counts for a connection's status: pairs per entity, staged and outbox by status."""
        xrefs = self._q(
            "SELECT entity, COUNT(*) FROM sync_xrefs WHERE connection_id = ? AND deleted = 0"
            " GROUP BY entity",
            (connection_id,),
        )
        staged = self._q(
            "SELECT status, COUNT(*) FROM sync_staged WHERE connection_id = ? GROUP BY status",
            (connection_id,),
        )
        outbox = self._q(
            "SELECT status, COUNT(*) FROM sync_outbox WHERE connection_id = ? GROUP BY status",
            (connection_id,),
        )
        return StoreSummary(
            xrefs={Entity(e): int(n) for e, n in xrefs},
            staged={ItemStatus(s): int(n) for s, n in staged},
            outbox={ItemStatus(s): int(n) for s, n in outbox},
        )

    # -- Web Connector sessions (opaque snapshots) ------------------------------------------------

    def session_create(
        self, key: str, *, lock_key: str, live: bool, expires_at: float, data: str, now: float
    ) -> bool:
        """Store a session unless another live, unexpired one holds ``lock_key``.

        A session already stored under ``key`` is replaced (it is not counted against itself):
        that is how a live session moves to another lock key.

        Returns:
            ``True`` if stored, ``False`` if the lock key is busy.
        """
        with self._transaction(lock=f"qbwc:{lock_key}"):
            self._q("DELETE FROM sync_qbwc_sessions WHERE expires_at <= ?", (now,))
            busy = self._q(
                "SELECT 1 FROM sync_qbwc_sessions WHERE lock_key = ? AND live = 1 AND key <> ?",
                (lock_key, key),
            )
            if not busy:
                self._q("DELETE FROM sync_qbwc_sessions WHERE key = ?", (key,))
                self._q(
                    "INSERT INTO sync_qbwc_sessions (key, lock_key, live, expires_at, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (key, lock_key, int(live), expires_at, data),
                )
        return not busy

    def session_load(self, key: str) -> str | None:
        """The snapshot stored under ``key``, or ``None``."""
        rows = self._q("SELECT data FROM sync_qbwc_sessions WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def session_save(self, key: str, *, live: bool, expires_at: float, data: str) -> None:
        """Replace the snapshot of an existing session."""
        self._q(
            "UPDATE sync_qbwc_sessions SET live = ?, expires_at = ?, data = ? WHERE key = ?",
            (int(live), expires_at, data, key),
        )

    def session_delete(self, key: str) -> None:
        """Forget a session (no error if it is unknown)."""
        self._q("DELETE FROM sync_qbwc_sessions WHERE key = ?", (key,))
