"""Web Connector sessions kept in the sync store (an adapter to `qbwc.SessionStore`)."""

from __future__ import annotations

import hashlib

from qbprocore.qbwc import SessionSnapshot
from qbprocore.sync._store import Store

__all__ = ["StoreSessionStore"]


class StoreSessionStore:
    """A `qbprocore.qbwc.SessionStore` that keeps snapshots in a sync `Store`.

    The sync store keeps each session as an opaque blob under its ticket digest, with the
    lock key, liveness and expiry beside it so ``create`` can refuse a second live session
    for the same company file atomically (on PostgreSQL, across machines). Use it to keep
    sessions in the same database as everything else:

        service = qbwc.WebConnectorService(..., store=StoreSessionStore(store))

    Args:
        store: The sync store.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def __repr__(self) -> str:
        return f"StoreSessionStore({self._store!r})"

    @staticmethod
    def _expires(snapshot: SessionSnapshot) -> float:
        return min(snapshot.expires_at, snapshot.hard_expires_at)

    def create(self, snapshot: SessionSnapshot, *, now: float) -> bool:
        """See `qbprocore.qbwc.SessionStore.create`."""
        return self._store.session_create(
            snapshot.key,
            # The lock key joins its parts with NUL bytes, which PostgreSQL text
            # cannot hold; it is only ever compared for equality, so its digest serves.
            lock_key=hashlib.sha256(snapshot.lock_key.encode("utf-8")).hexdigest(),
            live=snapshot.live,
            expires_at=self._expires(snapshot),
            data=snapshot.to_json(),
            now=now,
        )

    def load(self, key: str) -> SessionSnapshot | None:
        """See `qbprocore.qbwc.SessionStore.load`."""
        data = self._store.session_load(key)
        return None if data is None else SessionSnapshot.from_json(data)

    def save(self, snapshot: SessionSnapshot) -> None:
        """See `qbprocore.qbwc.SessionStore.save`."""
        self._store.session_save(
            snapshot.key,
            live=snapshot.live,
            expires_at=self._expires(snapshot),
            data=snapshot.to_json(),
        )

    def delete(self, key: str) -> None:
        """See `qbprocore.qbwc.SessionStore.delete`."""
        self._store.session_delete(key)
