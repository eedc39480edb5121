"""Batch upserts through Procore's ``…/sync`` endpoints.

A sync call answers **200 even when every item failed**: the body is
``{"entities": [...], "errors": [...]}`` and each error echoes the offending item with an
``errors`` mapping. So success is judged per item, never by the status code. Procore does not
say whether an entity was created or updated; the result infers it (an item sent with an
``id`` was updated; otherwise ``created_at == updated_at`` marks a creation, as in Procore's
own sync-actions examples).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

import attrs

from qbprocore.procore._errors import ProcoreError
from qbprocore.procore._models import ProcoreModel

__all__ = ["MAX_SYNC_BATCH", "SyncFailedError", "SyncItemResult", "SyncResult"]

#: Procore's maximum number of items in one ``…/sync`` request.
MAX_SYNC_BATCH = 1000

M = TypeVar("M", bound=ProcoreModel)


@attrs.frozen(kw_only=True)
class SyncItemResult(Generic[M]):
    """What happened to one item of a batch upsert.

    Attributes:
        index: Position of the item in the caller's input.
        status: ``"created"``, ``"updated"`` or ``"failed"``.
        origin_id: The item's ``origin_id`` (as sent), if any.
        id: Procore's id of the entity (``None`` when a create failed).
        entity: The entity Procore returned (``None`` on failure).
        errors: Field → messages for a failed item (empty on success).
    """

    index: int
    status: Literal["created", "updated", "failed"]
    origin_id: str | None = None
    id: int | None = None
    entity: M | None = None
    errors: Mapping[str, Any] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (used by the examples' one-line-per-item output)."""
        return {
            "index": self.index,
            "status": self.status,
            "origin_id": self.origin_id,
            "id": self.id,
            "errors": dict(self.errors),
        }


class SyncFailedError(ProcoreError):
    """Some items of a batch upsert failed (raised by `raise_for_failures`).

    Attributes:
        failed: The failed items with their errors.
    """

    def __init__(self, message: str, failed: Sequence[SyncItemResult[Any]]) -> None:
        super().__init__(message)
        self.failed = list(failed)


@attrs.frozen(kw_only=True)
class SyncResult(Generic[M]):
    """Outcome of a batch upsert, item by item, in input order.

    Attributes:
        items: One result per input item, ordered by `index`.
        requests: How many ``…/sync`` requests were sent.
    """

    items: tuple[SyncItemResult[M], ...]
    requests: int = 0

    @property
    def created(self) -> list[SyncItemResult[M]]:
        """Items Procore created."""
        return [i for i in self.items if i.status == "created"]

    @property
    def updated(self) -> list[SyncItemResult[M]]:
        """Items Procore updated."""
        return [i for i in self.items if i.status == "updated"]

    @property
    def failed(self) -> list[SyncItemResult[M]]:
        """Items Procore refused, with their errors."""
        return [i for i in self.items if i.status == "failed"]

    @property
    def ok(self) -> bool:
        """Whether every item succeeded."""
        return not self.failed

    def raise_for_failures(self) -> None:
        """Raise `SyncFailedError` if any item failed."""
        failed = self.failed
        if failed:
            first = failed[0]
            raise SyncFailedError(
                f"{len(failed)} of {len(self.items)} item(s) failed; first: item {first.index} "
                f"(origin_id={first.origin_id!r}): {dict(first.errors)}",
                failed,
            )


def as_payload(item: Mapping[str, Any] | ProcoreModel) -> dict[str, Any]:
    """An input item as a JSON-ready mapping."""
    if isinstance(item, ProcoreModel):
        return item.to_api()
    return dict(item)


def is_idempotent_batch(items: Iterable[Mapping[str, Any]]) -> bool:
    """Whether resending the batch cannot create duplicates (every item is keyed)."""
    return all(item.get("id") is not None or item.get("origin_id") for item in items)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _key(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


class _Matcher:
    """Finds which sent item a returned entity or error belongs to."""

    def __init__(self, sent: Sequence[Mapping[str, Any]]) -> None:
        self.sent = sent
        self.by_origin: dict[str, int] = {}
        self.by_id: dict[str, int] = {}
        self.unkeyed: list[int] = []
        self.taken: set[int] = set()
        for pos, item in enumerate(sent):
            origin, ident = _key(item.get("origin_id")), _key(item.get("id"))
            if origin is not None:
                self.by_origin.setdefault(origin, pos)
            if ident is not None:
                self.by_id.setdefault(ident, pos)
            if origin is None and ident is None:
                self.unkeyed.append(pos)

    def locate(self, obj: Mapping[str, Any], *, echo: bool = False) -> int | None:
        """The sent item ``obj`` answers for.

        Args:
            obj: A returned entity, or an error entry (which echoes the item it refuses).
            echo: Whether ``obj`` echoes the sent item; unkeyed items are then matched by
                content first, because errors and entities come back in two separate lists
                and order alone cannot tell which unkeyed item failed.
        """
        origin, ident = _key(obj.get("origin_id")), _key(obj.get("id"))
        candidates = [self.by_origin.get(origin or ""), self.by_id.get(ident or "")]
        if echo:
            candidates += [
                pos
                for pos in self.unkeyed
                if all(obj.get(k) == v for k, v in self.sent[pos].items())
            ]
        # Otherwise unkeyed items match by order (Procore keeps the input order).
        candidates += self.unkeyed
        for pos in candidates:
            if pos is not None and pos not in self.taken:
                self.taken.add(pos)
                return pos
        return None


def classify(
    sent: Sequence[Mapping[str, Any]],
    offset: int,
    body: Any,
    model: type[M],
) -> list[SyncItemResult[M]]:
    """Match one sync response to the items sent and classify each.

    Args:
        sent: The payloads of this chunk.
        offset: Index of the chunk's first item in the caller's input.
        body: The decoded response body.
        model: Model class for the returned entities.

    Returns:
        One result per sent item (items neither returned nor reported become failures).
    """
    matcher = _Matcher(sent)
    results: dict[int, SyncItemResult[M]] = {}
    data = body if isinstance(body, Mapping) else {}
    # A field that is not a list (a broken or hostile body) reports nothing: the items it
    # would have covered end as "neither an entity nor an error" failures below.
    for err in _list(data.get("errors")):
        pos = matcher.locate(err, echo=True) if isinstance(err, Mapping) else None
        if pos is None:
            continue
        raw = err.get("errors")
        results[pos] = SyncItemResult(
            index=offset + pos,
            status="failed",
            origin_id=_key(sent[pos].get("origin_id")),
            errors=dict(raw) if isinstance(raw, Mapping) else {"base": raw},
        )
    for raw_entity in _list(data.get("entities")):
        pos = matcher.locate(raw_entity) if isinstance(raw_entity, Mapping) else None
        if pos is None:
            continue
        entity = model.from_api(raw_entity)
        status: Literal["created", "updated"] = "updated"
        if sent[pos].get("id") is None:
            created, updated = raw_entity.get("created_at"), raw_entity.get("updated_at")
            if created is not None and created == updated:
                status = "created"
        results[pos] = SyncItemResult(
            index=offset + pos,
            status=status,
            origin_id=_key(sent[pos].get("origin_id")),
            id=entity.id,
            entity=entity,
        )
    return [
        results.get(pos)
        or SyncItemResult(
            index=offset + pos,
            status="failed",
            origin_id=_key(item.get("origin_id")),
            errors={"base": ["Procore returned neither an entity nor an error for this item"]},
        )
        for pos, item in enumerate(sent)
    ]
