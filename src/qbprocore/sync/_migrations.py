"""The versioned schema of the sync store, shared by SQLite and PostgreSQL.

Each migration is a version number, a name and a list of statements written once for both
databases; the few type names that differ are placeholders filled per dialect. Applied
versions are recorded in ``qbprocore_migrations``, so `upgrade` is idempotent: it applies
only what is missing, each migration in its own transaction together with its record.

Rules for adding a migration: append (never edit an applied one), keep every statement valid
on both databases, store money as ``{money}`` (exact: TEXT on SQLite, NUMERIC on PostgreSQL,
never REAL) and times as ``TEXT`` in the store's fixed-width UTC form (so they compare as
text the same way on both databases).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["MIGRATIONS", "Migration"]


@attrs.frozen(kw_only=True)
class Migration:
    """One schema step.

    Attributes:
        version: Its number (1, 2, …; applied in order).
        name: What it does, in a few words.
        statements: The SQL, with ``{id}``, ``{bigint}``, ``{money}`` and ``{real}``
            placeholders for the types that differ between the databases.
    """

    version: int
    name: str
    statements: tuple[str, ...]


_TYPES: Mapping[str, Mapping[str, str]] = {
    "sqlite": {
        "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "bigint": "INTEGER",
        "money": "TEXT",
        "real": "REAL",
    },
    "postgresql": {
        "id": "BIGSERIAL PRIMARY KEY",
        "bigint": "BIGINT",
        "money": "NUMERIC",
        "real": "DOUBLE PRECISION",
    },
}


def render(statement: str, dialect: str) -> str:
    """Fill the type placeholders of ``statement`` for ``dialect``."""
    return statement.format_map(_TYPES[dialect])


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        name="connections, cross-references, watermarks, staging, outbox, audit, sessions",
        statements=(
            """CREATE TABLE sync_connections (
                id TEXT PRIMARY KEY,
                procore_company_id {bigint} NOT NULL,
                company_file_id TEXT NOT NULL,
                name TEXT NOT NULL,
                integration_type TEXT NOT NULL,
                environment TEXT NOT NULL,
                credentials_ref TEXT NOT NULL,
                project_scope TEXT NOT NULL,
                state TEXT NOT NULL,
                state_reason TEXT NOT NULL,
                settings TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                last_sync_at TEXT
            )""",
            # The same company file can be connected once per Procore company; a disconnected
            # row keeps the slot so reconnecting restores it.
            "CREATE UNIQUE INDEX sync_connections_file"
            " ON sync_connections (procore_company_id, company_file_id)",
            # A project belongs to at most one connection: the primary key says so.
            """CREATE TABLE sync_project_assignments (
                procore_company_id {bigint} NOT NULL,
                project_id {bigint} NOT NULL,
                connection_id TEXT NOT NULL REFERENCES sync_connections (id),
                PRIMARY KEY (procore_company_id, project_id)
            )""",
            """CREATE TABLE sync_xrefs (
                id {id},
                connection_id TEXT NOT NULL REFERENCES sync_connections (id),
                entity TEXT NOT NULL,
                qb_id TEXT,
                edit_sequence TEXT,
                procore_id {bigint},
                origin_id TEXT,
                origin_data TEXT,
                deleted INTEGER NOT NULL DEFAULT 0,
                updated_at TEXT NOT NULL
            )""",
            # NULLs are distinct in unique indexes on both databases, so a half-known pair
            # (only one side's id yet) never collides with another.
            "CREATE UNIQUE INDEX sync_xrefs_qb ON sync_xrefs (connection_id, entity, qb_id)",
            "CREATE UNIQUE INDEX sync_xrefs_procore"
            " ON sync_xrefs (connection_id, entity, procore_id)",
            """CREATE TABLE sync_watermarks (
                connection_id TEXT NOT NULL REFERENCES sync_connections (id),
                stream TEXT NOT NULL,
                value TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (connection_id, stream)
            )""",
            """CREATE TABLE sync_staged (
                id {id},
                connection_id TEXT NOT NULL REFERENCES sync_connections (id),
                source TEXT NOT NULL,
                entity TEXT NOT NULL,
                source_id TEXT NOT NULL,
                version TEXT NOT NULL,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                claimed_by TEXT,
                lease_expires TEXT,
                error TEXT NOT NULL DEFAULT '',
                received_at TEXT NOT NULL
            )""",
            "CREATE UNIQUE INDEX sync_staged_version"
            " ON sync_staged (connection_id, source, entity, source_id, version)",
            "CREATE INDEX sync_staged_claim ON sync_staged (status, id)",
            """CREATE TABLE sync_outbox (
                id {id},
                connection_id TEXT NOT NULL REFERENCES sync_connections (id),
                target TEXT NOT NULL,
                entity TEXT NOT NULL,
                key TEXT NOT NULL,
                rank INTEGER NOT NULL,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                claimed_by TEXT,
                lease_expires TEXT,
                not_before TEXT,
                error TEXT NOT NULL DEFAULT '',
                result TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL
            )""",
            "CREATE UNIQUE INDEX sync_outbox_key ON sync_outbox (connection_id, key)",
            "CREATE INDEX sync_outbox_claim ON sync_outbox (status, rank, id)",
            """CREATE TABLE sync_audit_events (
                id {id},
                connection_id TEXT NOT NULL,
                entity TEXT NOT NULL,
                stage TEXT NOT NULL,
                at TEXT NOT NULL,
                qb_id TEXT,
                procore_id {bigint},
                amount {money},
                detail TEXT NOT NULL
            )""",
            "CREATE INDEX sync_audit_qb ON sync_audit_events (qb_id)",
            "CREATE INDEX sync_audit_procore ON sync_audit_events (procore_id)",
            """CREATE TABLE sync_qbwc_sessions (
                key TEXT PRIMARY KEY,
                lock_key TEXT NOT NULL,
                live INTEGER NOT NULL,
                expires_at {real} NOT NULL,
                data TEXT NOT NULL
            )""",
            "CREATE INDEX sync_qbwc_sessions_lock ON sync_qbwc_sessions (lock_key, live)",
        ),
    ),
)
"""Every migration, in order. The last version is the schema this code expects."""
