"""The errors `qbprocore.sync` raises on purpose (all under `qbprocore.QbprocoreError`)."""

from __future__ import annotations

from qbprocore._errors import QbprocoreError

__all__ = [
    "AccessDeniedError",
    "AdminOnlyError",
    "ConnectionConflictError",
    "ConnectionNotFoundError",
    "FeatureNotEnabledError",
    "MappingError",
    "StoreError",
    "SyncError",
]


class SyncError(QbprocoreError):
    """Base class of the sync layer's errors."""


class StoreError(SyncError):
    """The store cannot do what was asked (schema newer than this code, bad argument …)."""


class ConnectionNotFoundError(SyncError, LookupError):
    """No connection has the given id.

    Attributes:
        connection_id: The id that was looked up.
    """

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"no connection with id {connection_id!r}")
        self.connection_id = connection_id


class ConnectionConflictError(SyncError, ValueError):
    """A connection change would break a rule of the connection model.

    For example a second accounting integration type in one Procore company, or a new
    connection for a company file that is already connected.
    """


class AccessDeniedError(SyncError, PermissionError):
    """A guard refused a connection-management action; the message says why and what to do."""


class FeatureNotEnabledError(AccessDeniedError):
    """The QuickBooks Desktop integration is switched off for the Procore company."""


class AdminOnlyError(AccessDeniedError):
    """Only company administrators may manage connections."""


class MappingError(SyncError, ValueError):
    """A mapping is missing, or a mapping function broke its contract.

    A record that cannot be mapped is *not* an error: mappings return a `Skip` with the
    reason. This error is for programming mistakes, such as registering a mapping for an
    unknown key or a function that returns neither a record nor a `Skip`.
    """
