"""Connections: how customers link QuickBooks company files to a Procore company.

The rules (see the domain notes):

- a Procore company may link several company files, one connection each, each with its own
  settings and mappings;
- a connection maps all projects (the default) or selected ones, and a project belongs to
  at most one connection — selecting it elsewhere moves it, and the move is reported;
- reconnect re-authorizes and keeps settings and mappings; disconnect is a soft delete, and
  connecting the same company file again restores it;
- one accounting integration type per Procore company;
- only company admins manage connections, and the feature can be off per company — each
  refusal has its own message (`ConnectionGuard`).

`ConnectionManager` enforces these rules over any `Store`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, runtime_checkable

import attrs

from qbprocore import procore
from qbprocore.sync._errors import (
    AdminOnlyError,
    ConnectionConflictError,
    ConnectionNotFoundError,
    FeatureNotEnabledError,
)
from qbprocore.sync._records import (
    Connection,
    ConnectionState,
    Entity,
    IntegrationType,
    ItemStatus,
    ProjectScope,
)
from qbprocore.sync._settings import MappingSettings, VerificationPolicy
from qbprocore.sync._store import Store

__all__ = [
    "Actor",
    "ConnectionChange",
    "ConnectionGuard",
    "ConnectionManager",
    "ConnectionStatus",
    "DefaultGuard",
    "Reassignment",
    "connection_id_for",
]


@attrs.frozen(kw_only=True)
class Actor:
    """The person asking to change a connection.

    Attributes:
        user_id: Their Procore user id (for messages and the audit trail).
        is_company_admin: They are an admin of the Procore company.
    """

    user_id: str
    is_company_admin: bool = False


@runtime_checkable
class ConnectionGuard(Protocol):
    """Decides whether an actor may manage a company's connections."""

    def check(self, actor: Actor, procore_company_id: int) -> None:
        """Return if allowed; raise `FeatureNotEnabledError` or `AdminOnlyError` if not."""


def _always(_company_id: int) -> bool:
    return True


@attrs.frozen(kw_only=True)
class DefaultGuard:
    """The default guard: the feature must be on for the company, and the actor an admin.

    Attributes:
        feature_enabled: Whether the QuickBooks Desktop integration is switched on for a
            Procore company (default: always).
    """

    feature_enabled: Callable[[int], bool] = _always

    def check(self, actor: Actor, procore_company_id: int) -> None:
        """See `ConnectionGuard.check`.

        Raises:
            FeatureNotEnabledError: The integration is off for the company.
            AdminOnlyError: The actor is not a company admin.
        """
        if not self.feature_enabled(procore_company_id):
            raise FeatureNotEnabledError(
                f"The QuickBooks Desktop integration is not enabled for Procore company"
                f" {procore_company_id}. A company admin must enable the ERP Integrations tool"
                " before connections can be managed."
            )
        if not actor.is_company_admin:
            raise AdminOnlyError(
                f"Only company admins can manage QuickBooks connections; user {actor.user_id}"
                f" is not an admin of Procore company {procore_company_id}."
            )


@attrs.frozen(kw_only=True)
class Reassignment:
    """A project that moved to another connection.

    Attributes:
        project_id: The project.
        from_connection_id: The connection it was mapped to before.
        from_connection_name: That connection's name (for the message shown to people).
        explicit: It was selected there (``False``: covered by that connection's "all
            projects").
    """

    project_id: int
    from_connection_id: str
    from_connection_name: str = ""
    explicit: bool = True


@attrs.frozen(kw_only=True)
class ConnectionChange:
    """What a connection change did.

    Attributes:
        connection: The connection after the change.
        reassigned: Projects moved from other connections.
        restored: A disconnected connection of the same company file was restored (with its
            settings and mappings) instead of creating a new one.
    """

    connection: Connection
    reassigned: tuple[Reassignment, ...] = ()
    restored: bool = False


@attrs.frozen(kw_only=True)
class ConnectionStatus:
    """A connection at a glance.

    Attributes:
        connection_id: The connection.
        name: Its name.
        state: Connected, needs reconnection, or disconnected.
        state_reason: Why (e.g. what refused the credentials).
        last_sync_at: When a sync last finished.
        project_scope: All projects or selected ones.
        selected_projects: The projects selected for it.
        synced: Live cross-references per entity (how many records are paired).
        pending: Staged records and outbox items still to process.
        open_problems: Failed or blocked records and writes waiting for a person or replay.
    """

    connection_id: str
    name: str
    state: ConnectionState
    state_reason: str
    last_sync_at: dt.datetime | None
    project_scope: ProjectScope
    selected_projects: tuple[int, ...]
    synced: Mapping[Entity, int]
    pending: int
    open_problems: int

    @property
    def connected(self) -> bool:
        """Syncing is on."""
        return self.state is ConnectionState.CONNECTED

    @property
    def needs_reconnection(self) -> bool:
        """The connection must be re-authorized before it syncs again."""
        return self.state is ConnectionState.NEEDS_RECONNECTION


def connection_id_for(procore_company_id: int, company_file_id: str) -> str:
    """The default connection id: stable for one company file in one Procore company."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"qbprocore:{procore_company_id}:{company_file_id}").hex


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class ConnectionManager:
    """Creates, changes and reports connections, enforcing the connection rules.

    Args:
        store: Where connections live.
        guard: Who may manage connections (default: `DefaultGuard`).
        clock: The current time, timezone-aware (default: UTC now).

    Examples:
        >>> import tempfile, pathlib
        >>> from qbprocore.sync import SQLiteStore
        >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "sync.db")
        >>> manager = ConnectionManager(store)
        >>> admin = Actor(user_id="7", is_company_admin=True)
        >>> change = manager.create(actor=admin, procore_company_id=1, company_file_id="{F1}",
        ...     credentials_ref="procore/acme/production")
        >>> manager.status(change.connection.id).state.value
        'connected'
        >>> store.close()
    """

    def __init__(
        self,
        store: Store,
        *,
        guard: ConnectionGuard | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.guard: ConnectionGuard = guard or DefaultGuard()
        self._clock = clock or _utcnow

    def __repr__(self) -> str:
        return f"ConnectionManager({self.store!r})"

    # -- reading ---------------------------------------------------------------------------------

    def get(self, connection_id: str) -> Connection:
        """The connection with this id.

        Raises:
            ConnectionNotFoundError: There is none.
        """
        connection = self.store.get_connection(connection_id)
        if connection is None:
            raise ConnectionNotFoundError(connection_id)
        return connection

    def _active(self, procore_company_id: int) -> list[Connection]:
        return [
            c
            for c in self.store.list_connections(procore_company_id=procore_company_id)
            if c.state is not ConnectionState.DISCONNECTED
        ]

    def connection_for_project(self, procore_company_id: int, project_id: int) -> Connection | None:
        """The connection that syncs a project now, or ``None``.

        A project selected for a connection belongs to it (while it is disconnected, the
        project does not sync at all); any other project belongs to the company's active
        "all projects" connection, if there is one.
        """
        assigned = self.store.project_assignments(procore_company_id=procore_company_id)
        owner_id = assigned.get(project_id)
        if owner_id is not None:
            owner = self.store.get_connection(owner_id)
            if owner is None or owner.state is ConnectionState.DISCONNECTED:
                return None
            return owner
        return next(
            (c for c in self._active(procore_company_id) if c.project_scope is ProjectScope.ALL),
            None,
        )

    def status(self, connection_id: str) -> ConnectionStatus:
        """Where a connection stands: state, last sync, counts and open problems."""
        connection = self.get(connection_id)
        summary = self.store.summary(connection_id)
        selected = self.store.project_assignments(
            procore_company_id=connection.procore_company_id, connection_id=connection_id
        )
        pending_states = (ItemStatus.PENDING, ItemStatus.CLAIMED)
        pending = sum(summary.staged.get(s, 0) + summary.outbox.get(s, 0) for s in pending_states)
        return ConnectionStatus(
            connection_id=connection.id,
            name=connection.name,
            state=connection.state,
            state_reason=connection.state_reason,
            last_sync_at=connection.last_sync_at,
            project_scope=connection.project_scope,
            selected_projects=tuple(sorted(selected)),
            synced=dict(summary.xrefs),
            pending=pending,
            open_problems=summary.open_problems,
        )

    # -- rules -----------------------------------------------------------------------------------

    def _check_type(self, connection: Connection) -> None:
        for other in self._active(connection.procore_company_id):
            if other.id != connection.id and other.integration_type != connection.integration_type:
                label = other.name or other.id
                raise ConnectionConflictError(
                    f"Procore company {connection.procore_company_id} already uses the"
                    f" {other.integration_type.value} integration (connection {label!r});"
                    " only one accounting integration type can be active per company"
                )

    def _check_all_scope(self, connection: Connection) -> None:
        if connection.project_scope is not ProjectScope.ALL:
            return
        for other in self._active(connection.procore_company_id):
            if other.id != connection.id and other.project_scope is ProjectScope.ALL:
                raise ConnectionConflictError(
                    f"connection {other.name or other.id!r} already maps all projects of Procore"
                    f" company {connection.procore_company_id}; select projects for this one"
                    " (a project belongs to at most one connection)"
                )

    def _assign(self, connection: Connection, project_ids: Iterable[int]) -> list[Reassignment]:
        moved: list[Reassignment] = []
        company = connection.procore_company_id
        for project_id in dict.fromkeys(project_ids):
            before = self.connection_for_project(company, project_id)
            explicit = (
                self.store.project_assignments(procore_company_id=company).get(project_id)
                is not None
            )
            previous = self.store.assign_project(
                procore_company_id=company, project_id=project_id, connection_id=connection.id
            )
            owner_id = previous or (before.id if before is not None else None)
            if owner_id is not None and owner_id != connection.id:
                owner = self.store.get_connection(owner_id)
                moved.append(
                    Reassignment(
                        project_id=project_id,
                        from_connection_id=owner_id,
                        from_connection_name=owner.name if owner else "",
                        explicit=explicit,
                    )
                )
        return moved

    # -- changes ---------------------------------------------------------------------------------

    def create(
        self,
        *,
        actor: Actor,
        procore_company_id: int,
        company_file_id: str,
        credentials_ref: str,
        name: str = "",
        environment: str | procore.Environment = "production",
        projects: Iterable[int] | None = None,
        mapping: MappingSettings | None = None,
        verification: VerificationPolicy | None = None,
        integration_type: IntegrationType = IntegrationType.QUICKBOOKS_DESKTOP,
        connection_id: str | None = None,
    ) -> ConnectionChange:
        """Connect a company file: all projects by default, or the ``projects`` given.

        Connecting a company file whose connection was disconnected restores that
        connection with its settings and mappings (``mapping``/``verification`` are then
        ignored; change them with `update_settings`).

        Args:
            actor: Who asks (checked by the guard).
            procore_company_id: The Procore company.
            company_file_id: A stable id of the QuickBooks company file.
            credentials_ref: The name under which the host keeps this connection's Procore
                credentials (never the secret itself).
            name: A label people recognize (default: the company file id).
            environment: The Procore environment, or its name (`procore.Environment.name`:
                ``"production"``, ``"developer-sandbox"`` …); each connection has its own.
            projects: Select these projects (default: all projects).
            mapping: Mapping settings (default: the market leader's behaviour).
            verification: Verification policy (default: `VerificationPolicy()`).
            integration_type: The accounting integration type.
            connection_id: The id to use (default: `connection_id_for`).

        Raises:
            AccessDeniedError: The guard refused (`FeatureNotEnabledError`, `AdminOnlyError`).
            ConnectionConflictError: The file is already connected, another integration type
                is active in the company, or another connection already maps all projects.
        """
        self.guard.check(actor, procore_company_id)
        if isinstance(environment, procore.Environment):
            environment = environment.name
        scope = ProjectScope.ALL if projects is None else ProjectScope.SELECTED
        existing = next(
            (
                c
                for c in self.store.list_connections(procore_company_id=procore_company_id)
                if c.company_file_id == company_file_id
            ),
            None,
        )
        restored = existing is not None
        if existing is not None:
            if existing.state is not ConnectionState.DISCONNECTED:
                raise ConnectionConflictError(
                    f"company file {company_file_id!r} is already connected to Procore company"
                    f" {procore_company_id} (connection {existing.name or existing.id!r});"
                    " reconnect it instead"
                )
            connection = attrs.evolve(
                existing,
                state=ConnectionState.CONNECTED,
                state_reason="",
                credentials_ref=credentials_ref,
                environment=environment,
                project_scope=existing.project_scope if projects is None else scope,
            )
        else:
            connection = Connection(
                id=connection_id or connection_id_for(procore_company_id, company_file_id),
                procore_company_id=procore_company_id,
                company_file_id=company_file_id,
                name=name or company_file_id,
                integration_type=integration_type,
                environment=environment,
                credentials_ref=credentials_ref,
                project_scope=scope,
                mapping=mapping or MappingSettings(),
                verification=verification or VerificationPolicy(),
            )
        self._check_type(connection)
        self._check_all_scope(connection)
        stored = self.store.put_connection(connection)
        moved = self._assign(stored, projects or ())
        return ConnectionChange(connection=stored, reassigned=tuple(moved), restored=restored)

    def select_projects(
        self, connection_id: str, project_ids: Iterable[int], *, actor: Actor
    ) -> ConnectionChange:
        """Add projects to a connection's selection (the connection maps selected projects).

        Projects mapped elsewhere move here; each move is in `ConnectionChange.reassigned`.
        """
        connection = self.get(connection_id)
        self.guard.check(actor, connection.procore_company_id)
        if connection.project_scope is not ProjectScope.SELECTED:
            connection = self.store.put_connection(
                attrs.evolve(connection, project_scope=ProjectScope.SELECTED)
            )
        moved = self._assign(connection, project_ids)
        return ConnectionChange(connection=connection, reassigned=tuple(moved))

    def deselect_projects(
        self, connection_id: str, project_ids: Iterable[int], *, actor: Actor
    ) -> Connection:
        """Remove projects from a connection's selection (others' selections are untouched)."""
        connection = self.get(connection_id)
        self.guard.check(actor, connection.procore_company_id)
        mine = self.store.project_assignments(
            procore_company_id=connection.procore_company_id, connection_id=connection_id
        )
        for project_id in project_ids:
            if project_id in mine:
                self.store.unassign_project(
                    procore_company_id=connection.procore_company_id, project_id=project_id
                )
        return connection

    def map_all_projects(self, connection_id: str, *, actor: Actor) -> Connection:
        """Map every project not selected by another connection.

        Raises:
            ConnectionConflictError: Another active connection already maps all projects.
        """
        connection = self.get(connection_id)
        self.guard.check(actor, connection.procore_company_id)
        connection = attrs.evolve(connection, project_scope=ProjectScope.ALL)
        self._check_all_scope(connection)
        return self.store.put_connection(connection)

    def reconnect(
        self, connection_id: str, *, actor: Actor, credentials_ref: str | None = None
    ) -> Connection:
        """Re-authorize a connection; its settings, mappings and projects are kept.

        Raises:
            ConnectionConflictError: While it was disconnected, another integration type or
                another "all projects" connection became active in the company.
        """
        connection = self.get(connection_id)
        self.guard.check(actor, connection.procore_company_id)
        connection = attrs.evolve(
            connection,
            state=ConnectionState.CONNECTED,
            state_reason="",
            credentials_ref=credentials_ref or connection.credentials_ref,
        )
        self._check_type(connection)
        self._check_all_scope(connection)
        return self.store.put_connection(connection)

    def disconnect(self, connection_id: str, *, actor: Actor) -> Connection:
        """Stop syncing a connection (soft delete): settings, mappings and projects are kept."""
        connection = self.get(connection_id)
        self.guard.check(actor, connection.procore_company_id)
        return self.store.put_connection(
            attrs.evolve(
                connection,
                state=ConnectionState.DISCONNECTED,
                state_reason=f"disconnected by user {actor.user_id}",
            )
        )

    def mark_needs_reconnection(self, connection_id: str, *, reason: str) -> Connection:
        """Record that a connection's credentials were refused (called by the engine)."""
        connection = self.get(connection_id)
        return self.store.put_connection(
            attrs.evolve(connection, state=ConnectionState.NEEDS_RECONNECTION, state_reason=reason)
        )

    def update_settings(
        self,
        connection_id: str,
        *,
        actor: Actor,
        mapping: MappingSettings | None = None,
        verification: VerificationPolicy | None = None,
    ) -> Connection:
        """Change a connection's mapping settings and/or verification policy."""
        connection = self.get(connection_id)
        self.guard.check(actor, connection.procore_company_id)
        return self.store.put_connection(
            attrs.evolve(
                connection,
                mapping=mapping or connection.mapping,
                verification=verification or connection.verification,
            )
        )

    def record_sync(self, connection_id: str, *, at: dt.datetime | None = None) -> Connection:
        """Record that a sync finished (called by the engine)."""
        connection = self.get(connection_id)
        return self.store.put_connection(attrs.evolve(connection, last_sync_at=at or self._clock()))
