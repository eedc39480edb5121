"""The sync layer: the only part of qbprocore that knows both QuickBooks and Procore."""

from __future__ import annotations

from qbprocore.sync._errors import (
    AccessDeniedError,
    AdminOnlyError,
    ConnectionConflictError,
    ConnectionNotFoundError,
    FeatureNotEnabledError,
    MappingError,
    StoreError,
    SyncError,
)
from qbprocore.sync._migrations import MIGRATIONS, Migration
from qbprocore.sync._postgres import PostgresStore
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
from qbprocore.sync._sessions import StoreSessionStore
from qbprocore.sync._settings import MappingSettings, Rule, RuleMode, VerificationPolicy
from qbprocore.sync._sqlite import SQLiteStore
from qbprocore.sync._store import Store, StoreSummary

__all__ = [
    "MIGRATIONS",
    "AccessDeniedError",
    "AdminOnlyError",
    "AuditEvent",
    "Connection",
    "ConnectionConflictError",
    "ConnectionNotFoundError",
    "ConnectionState",
    "Entity",
    "FeatureNotEnabledError",
    "IntegrationType",
    "ItemStatus",
    "MappingError",
    "MappingSettings",
    "Migration",
    "OutboxItem",
    "PostgresStore",
    "ProjectScope",
    "Rule",
    "RuleMode",
    "SQLiteStore",
    "Side",
    "Stage",
    "StagedRecord",
    "Store",
    "StoreError",
    "StoreSessionStore",
    "StoreSummary",
    "SyncError",
    "VerificationPolicy",
    "XRef",
]
