"""A session as plain data: what a `SessionStore` keeps between two calls."""

from __future__ import annotations

import json
from typing import Any

import attrs

from qbprocore.qbwc._state import State

__all__ = ["SessionSnapshot"]

_LIVE = frozenset(
    {State.AUTHENTICATED, State.REQUEST_SENT, State.RESPONSE_RECEIVED, State.PAUSED, State.FAILED}
)


@attrs.frozen(kw_only=True)
class SessionSnapshot:
    """Everything a session needs to continue on another worker or after a restart.

    The ticket itself is not stored: stores key sessions by `key`, a SHA-256 digest of the
    ticket, so a leaked store does not hand out live tickets.

    Attributes:
        key: Digest of the ticket (hex), the store's primary key.
        username: The authenticated Web Connector user.
        tenant: The tenant the authenticator assigned, if any.
        lock_key: Sessions with the same lock key exclude each other (``"busy"``): one live
            session per company file (per tenant), or per user while the file is not known.
        company_file: The company file the ticket is bound to (``""`` until known).
        state: Where the session is in the protocol.
        created_at: When ``authenticate`` was answered (seconds since the epoch).
        expires_at: When the ticket dies unless used again (idle timeout).
        hard_expires_at: When the ticket dies whatever happens (maximum session length).
        qbxml_version: The negotiated qbXML version, once known.
        pending_xml: The request document QuickBooks is working on (``""`` if none).
        pending_ids: The ``requestID`` of each message of `pending_xml`, in order.
        continue_xml: An iterator ``Continue`` document to send next (``""`` if none).
        iterator_fetched: Records fetched so far by the running iterator (for progress).
        progress: The last progress returned.
        last_error: What ``getLastError`` will say.
        round_trips: Requests handed out so far.
        connection_errors: ``connectionError`` calls so far.
    """

    key: str
    username: str
    tenant: str | None = None
    lock_key: str
    company_file: str = ""
    state: State = State.AUTHENTICATED
    created_at: float
    expires_at: float
    hard_expires_at: float
    qbxml_version: str | None = None
    pending_xml: str = attrs.field(default="", repr=False)
    pending_ids: tuple[str, ...] = ()
    continue_xml: str = attrs.field(default="", repr=False)
    iterator_fetched: int = 0
    progress: int = 0
    last_error: str = ""
    round_trips: int = 0
    connection_errors: int = 0

    @property
    def live(self) -> bool:
        """The session holds its lock (not yet done or closed)."""
        return self.state in _LIVE

    def to_json(self) -> str:
        """Serialize to a JSON object (the form stores keep)."""
        data: dict[str, Any] = attrs.asdict(self, recurse=False)
        data["state"] = self.state.value
        data["pending_ids"] = list(self.pending_ids)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> SessionSnapshot:
        """Restore a snapshot written by `to_json`."""
        data = json.loads(text)
        data["state"] = State(data["state"])
        data["pending_ids"] = tuple(data["pending_ids"])
        return cls(**data)


_FIELDS = tuple(field.name for field in attrs.fields(SessionSnapshot))


def evolved(snapshot: SessionSnapshot, **changes: Any) -> SessionSnapshot:
    """What ``attrs.evolve(snapshot, **changes)`` gives, for the one class it is needed on.

    A session makes a new snapshot on every call. `attrs.evolve` looks up every field's
    definition to do so, which costs more than the copy once those definitions have left the
    CPU's caches between two calls; here the names are read from one tuple.
    """
    for name in _FIELDS:
        if name not in changes:
            changes[name] = getattr(snapshot, name)
    return SessionSnapshot(**changes)
