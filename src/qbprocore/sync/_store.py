"""The `Store` protocol: everything the sync layer keeps between steps.

One protocol, two implementations that share their SQL (`SQLiteStore`, the default, and
`PostgresStore` for several workers); a host may bring its own. All methods are safe to call
from several threads; the PostgreSQL store is also safe across processes and machines, the
SQLite one across processes on one machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import attrs

from qbprocore.sync._records import (
    AuditEvent,
    Connection,
    Entity,
    ItemStatus,
    OutboxItem,
    Side,
    StagedRecord,
    XRef,
)

__all__ = ["Store", "StoreSummary"]


@attrs.frozen(kw_only=True)
class StoreSummary:
    """Counts behind a connection's status.

    Attributes:
        xrefs: Live (not deleted) pairs per entity.
        staged: Staged records per status.
        outbox: Outbox items per status.
    """

    xrefs: Mapping[Entity, int]
    staged: Mapping[ItemStatus, int]
    outbox: Mapping[ItemStatus, int]

    @property
    def open_problems(self) -> int:
        """Failed or blocked records and writes, waiting for a person or a replay."""
        bad = (ItemStatus.FAILED, ItemStatus.BLOCKED)
        return sum(self.staged.get(s, 0) + self.outbox.get(s, 0) for s in bad)


@runtime_checkable
class Store(Protocol):
    """Connections, cross-references, watermarks, staged records, outbox, audit and sessions.

    See `SQLiteStore` for what each method does; every implementation behaves the same (the
    test suite runs against each).
    """

    def migrate(self) -> list[int]:
        """Apply missing schema migrations; return the versions applied."""

    def schema_version(self) -> int:
        """The highest migration applied."""

    def close(self) -> None:
        """Release the store's connections."""

    def put_connection(self, connection: Connection) -> Connection:
        """Insert or replace a connection."""

    def get_connection(self, connection_id: str) -> Connection | None:
        """One connection, or ``None``."""

    def list_connections(self, *, procore_company_id: int | None = None) -> list[Connection]:
        """Every connection (of one Procore company)."""

    def assign_project(
        self, *, procore_company_id: int, project_id: int, connection_id: str
    ) -> str | None:
        """Assign a project; return the connection it had before."""

    def unassign_project(self, *, procore_company_id: int, project_id: int) -> None:
        """Remove a project's assignment."""

    def project_assignments(
        self, *, procore_company_id: int, connection_id: str | None = None
    ) -> dict[int, str]:
        """Project id → connection id."""

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
        """Record or complete a cross-reference."""

    def get_xref(
        self,
        connection_id: str,
        entity: Entity,
        *,
        qb_id: str | None = None,
        procore_id: int | None = None,
    ) -> XRef | None:
        """One cross-reference by either id."""

    def list_xrefs(self, connection_id: str, entity: Entity | None = None) -> list[XRef]:
        """A connection's cross-references."""

    def get_watermark(self, connection_id: str, stream: str) -> str | None:
        """A read stream's watermark."""

    def set_watermark(self, connection_id: str, stream: str, value: str) -> None:
        """Set a read stream's watermark."""

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
        """Stage a record (``None`` if this version is already staged)."""

    def claim_staged(
        self,
        worker: str,
        *,
        limit: int = 100,
        lease: dt.timedelta = ...,
        connection_id: str | None = None,
    ) -> list[StagedRecord]:
        """Claim pending staged records for one worker."""

    def finish_staged(
        self, record_id: int, status: ItemStatus, *, error: str = "", worker: str | None = None
    ) -> bool:
        """Set a staged record's status."""

    def list_staged(
        self, connection_id: str, *, status: ItemStatus | None = None
    ) -> list[StagedRecord]:
        """A connection's staged records."""

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
        """Add a write to the outbox (``None`` if the key exists)."""

    def claim_outbox(
        self,
        worker: str,
        *,
        limit: int = 100,
        lease: dt.timedelta = ...,
        connection_id: str | None = None,
        target: Side | None = None,
    ) -> list[OutboxItem]:
        """Claim due outbox items for one worker."""

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
        """Set an outbox item's status."""

    def list_outbox(
        self, connection_id: str, *, status: ItemStatus | None = None
    ) -> list[OutboxItem]:
        """A connection's outbox items."""

    def record_event(self, event: AuditEvent) -> AuditEvent:
        """Store an audit event."""

    def events(
        self,
        *,
        connection_id: str | None = None,
        qb_id: str | None = None,
        procore_id: int | None = None,
        entity: Entity | None = None,
    ) -> list[AuditEvent]:
        """Audit events matching the filters."""

    def summary(self, connection_id: str) -> StoreSummary:
        """Counts for a connection's status."""

    def session_create(
        self, key: str, *, lock_key: str, live: bool, expires_at: float, data: str, now: float
    ) -> bool:
        """Store (or replace) a Web Connector session unless another live one holds its lock key."""

    def session_load(self, key: str) -> str | None:
        """A session's snapshot."""

    def session_save(self, key: str, *, live: bool, expires_at: float, data: str) -> None:
        """Replace a session's snapshot."""

    def session_delete(self, key: str) -> None:
        """Forget a session."""
