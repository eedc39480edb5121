"""What the store keeps: connections, cross-references, staged records, outbox items, events.

All are frozen, keyword-only attrs classes. Datetimes are timezone-aware (UTC when the store
made them); money is `Decimal`.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import attrs

from qbprocore.sync._settings import MappingSettings, VerificationPolicy

__all__ = [
    "AuditEvent",
    "Connection",
    "ConnectionState",
    "Entity",
    "IntegrationType",
    "ItemStatus",
    "OutboxItem",
    "ProjectScope",
    "Side",
    "Stage",
    "StagedRecord",
    "XRef",
]


class Entity(str, enum.Enum):
    """The kinds of record a connection keeps cross-references for (one per feature-map row)."""

    VENDOR = "vendor"
    """QuickBooks Vendor ↔ Procore company directory vendor."""
    PROJECT = "project"
    """QuickBooks job (a customer with a parent) ↔ Procore project."""
    COST_CODE = "cost_code"
    """QuickBooks Service item ↔ Procore cost code."""
    BUDGET = "budget"
    """QuickBooks estimate ← Procore budget or budget modification."""
    COMMITMENT = "commitment"
    """QuickBooks purchase order ← Procore subcontract or purchase order contract."""
    CHANGE_ORDER = "change_order"
    """New purchase-order lines ← Procore commitment change order."""
    INVOICE = "invoice"
    """QuickBooks bill ↔ Procore subcontractor invoice (requisition)."""
    PAYMENT = "payment"
    """QuickBooks bill payment ↔ Procore payment issued (contract payment)."""
    DIRECT_COST = "direct_cost"
    """QuickBooks job cost (bill, check, card charge) → Procore direct cost."""


class Side(str, enum.Enum):
    """One of the two systems."""

    QUICKBOOKS = "quickbooks"
    PROCORE = "procore"


class IntegrationType(str, enum.Enum):
    """The accounting integration a connection uses (one type per Procore company)."""

    QUICKBOOKS_DESKTOP = "quickbooks_desktop"
    QUICKBOOKS_ONLINE = "quickbooks_online"


class ConnectionState(str, enum.Enum):
    """Where a connection stands."""

    CONNECTED = "connected"
    NEEDS_RECONNECTION = "needs_reconnection"
    """Credentials were refused or revoked: the connection must be re-authorized."""
    DISCONNECTED = "disconnected"
    """Soft-deleted: nothing syncs, settings and mappings are kept for a later reconnect."""


class ProjectScope(str, enum.Enum):
    """Which Procore projects a connection maps."""

    ALL = "all"
    """Every project not selected by another connection of the same company (the default)."""
    SELECTED = "selected"
    """Only the projects assigned to the connection."""


class ItemStatus(str, enum.Enum):
    """Life cycle of a staged record or outbox item."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"
    SKIPPED = "skipped"


class Stage(str, enum.Enum):
    """Steps of a record's journey, as recorded in the audit trail."""

    RECEIVED = "received"
    MAPPED = "mapped"
    SKIPPED = "skipped"
    VERIFIED = "verified"
    BLOCKED = "blocked"
    APPROVED = "approved"
    WRITTEN = "written"
    FAILED = "failed"
    RETRIED = "retried"
    DELETED = "deleted"


@attrs.frozen(kw_only=True)
class Connection:
    """One QuickBooks company file linked to one Procore company.

    Attributes:
        id: The connection's id (chosen by the host, e.g. a UUID).
        procore_company_id: The Procore company.
        company_file_id: A stable id of the QuickBooks company file (the ``.qwc`` FileID or
            the company file path); reconnecting the same file restores a disconnected
            connection.
        name: A label people recognize.
        integration_type: The accounting integration type.
        environment: The Procore environment's name (`procore.Environment.name`:
            ``"production"``, ``"developer-sandbox"`` …).
        credentials_ref: The *name* under which the host's secret store keeps this
            connection's Procore credentials (for example a `TokenStore` key). Never a secret.
        project_scope: All projects (default) or selected ones.
        state: Connected, needs reconnection, or disconnected.
        mapping: How records are mapped.
        verification: How strictly records are verified.
        created_at: When the connection was created.
        updated_at: When it last changed.
        last_sync_at: When a sync last finished, if ever.
        state_reason: Why the connection is in its state (shown in its status).
    """

    id: str
    procore_company_id: int
    company_file_id: str
    name: str = ""
    integration_type: IntegrationType = IntegrationType.QUICKBOOKS_DESKTOP
    environment: str = "production"
    credentials_ref: str = ""
    project_scope: ProjectScope = ProjectScope.ALL
    state: ConnectionState = ConnectionState.CONNECTED
    mapping: MappingSettings = attrs.field(factory=MappingSettings)
    verification: VerificationPolicy = attrs.field(factory=VerificationPolicy)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    last_sync_at: dt.datetime | None = None
    state_reason: str = ""


@attrs.frozen(kw_only=True)
class XRef:
    """A cross-reference: one record on both sides.

    Attributes:
        id: The store's row id.
        connection_id: The connection the pair belongs to.
        entity: The kind of record.
        qb_id: QuickBooks ListID or TxnID (``None`` until the record exists in QuickBooks).
        edit_sequence: The QuickBooks EditSequence last seen or written.
        procore_id: The Procore id (``None`` until the record exists in Procore).
        origin_id: The ``origin_id`` used on Procore (usually `qb_id`).
        origin_data: The ``origin_data`` written with it.
        deleted: The pair was deleted on either side (kept so a replay cannot recreate it).
        updated_at: When the pair last changed.
    """

    id: int
    connection_id: str
    entity: Entity
    qb_id: str | None = None
    edit_sequence: str | None = None
    procore_id: int | None = None
    origin_id: str | None = None
    origin_data: str | None = None
    deleted: bool = False
    updated_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class StagedRecord:
    """A record received from one side, kept until it is mapped, verified and written.

    Staging is idempotent on ``(connection_id, source, entity, source_id, version)``: the
    same version of a record received twice (a watermark rewind) is stored once.

    Attributes:
        id: The store's row id.
        connection_id: The connection.
        source: The side the record came from.
        entity: The kind of record.
        source_id: Its id on the source side (ListID/TxnID or Procore id as text).
        version: Its version there (EditSequence, or Procore ``updated_at``).
        payload: The record as received (qbXML text or JSON), opaque to the store.
        status: Where it is in its life cycle.
        attempts: How often a worker claimed it.
        claimed_by: The worker holding the claim, if any.
        lease_expires: When the claim lapses if the worker does not finish.
        error: The last failure or block reason.
        received_at: When it was staged.
    """

    id: int
    connection_id: str
    source: Side
    entity: Entity
    source_id: str
    version: str = ""
    payload: str = attrs.field(default="", repr=False)
    status: ItemStatus = ItemStatus.PENDING
    attempts: int = 0
    claimed_by: str | None = None
    lease_expires: dt.datetime | None = None
    error: str = ""
    received_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class OutboxItem:
    """A write waiting to go to one side.

    Enqueueing is idempotent on `key`: the same write enqueued twice is stored once, which is
    what keeps a retried step from writing twice.

    Attributes:
        id: The store's row id.
        connection_id: The connection.
        target: The side to write to.
        entity: The kind of record.
        key: The idempotency key (unique per connection).
        rank: Dependency order: lower ranks go first (vendors, jobs and items before
            purchase orders and bills).
        payload: The write (qbXML request or JSON), opaque to the store.
        status: Where it is in its life cycle.
        attempts: How often a worker claimed it.
        claimed_by: The worker holding the claim, if any.
        lease_expires: When the claim lapses if the worker does not finish.
        not_before: Do not claim before this time (a retry later).
        error: The last failure or block reason.
        result: What the write returned (e.g. the new ListID), opaque to the store.
        created_at: When it was enqueued.
    """

    id: int
    connection_id: str
    target: Side
    entity: Entity
    key: str
    rank: int = 0
    payload: str = attrs.field(default="", repr=False)
    status: ItemStatus = ItemStatus.PENDING
    attempts: int = 0
    claimed_by: str | None = None
    lease_expires: dt.datetime | None = None
    not_before: dt.datetime | None = None
    error: str = ""
    result: str = ""
    created_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class AuditEvent:
    """One step of one record's journey.

    Attributes:
        connection_id: The connection.
        entity: The kind of record.
        stage: The step.
        at: When it happened (set by the store when left ``None``).
        qb_id: The QuickBooks id involved, if known.
        procore_id: The Procore id involved, if known.
        amount: The record's amount, if it has one.
        detail: Words a person can act on (the reason of a skip, block or failure).
        id: The store's row id (``0`` before the event is stored).
    """

    connection_id: str
    entity: Entity
    stage: Stage
    at: dt.datetime | None = None
    qb_id: str | None = None
    procore_id: int | None = None
    amount: Decimal | None = None
    detail: str = ""
    id: int = 0
