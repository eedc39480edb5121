"""`QuickBooksWorkSource`: the engine's side of a Web Connector session.

A round first reads: each stream of `QB_STREAMS` once, from its watermark less a rewind,
with iterators, staging every record as its response arrives (so a crash loses nothing
QuickBooks already sent, and a re-read stages nothing twice). Then it writes: one outbox item
per round trip, lowest rank first, with ``stopOnError``, following the status policy. A
round usually fits in one session; when a session fails halfway, the next one resumes the
round where it stopped instead of starting over.

Everything a session knows between calls lives in the store (its progress is a watermark
named ``session:<id>``), so any worker process can serve any call.

Exactly once: a write whose outcome is unknown (its item was claimed before and never
finished) is looked for in QuickBooks by its marker before it is sent again (see
`QbWrite`). A write we made is staged as already done, so reading it back is not a change
(echo suppression).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import attrs

from qbprocore import qbwc, qbxml
from qbprocore.sync._errors import StoreError
from qbprocore.sync._records import (
    Connection,
    ConnectionState,
    Entity,
    ItemStatus,
    OutboxItem,
    Side,
    Stage,
)
from qbprocore.sync._registry import CHANGE_ORDER_TO_PO_LINES, MappingRegistry
from qbprocore.sync._results import ChangeOrderLines, Mapped
from qbprocore.sync._store import Store
from qbprocore.sync._streams import QB_STREAMS, encode_qb, stream_by_name
from qbprocore.sync._writes import QbWrite, audit, mapping_context, record_amount, record_id

__all__ = ["QuickBooksWorkSource"]

_ENTITY_OF_RET = {
    "ItemServiceRet": Entity.COST_CODE,
    "CustomerRet": Entity.PROJECT,
    "VendorRet": Entity.VENDOR,
    "PurchaseOrderRet": Entity.COMMITMENT,
    "BillRet": Entity.INVOICE,
    "CheckRet": Entity.DIRECT_COST,
    "CreditCardChargeRet": Entity.DIRECT_COST,
    "BillPaymentCheckRet": Entity.PAYMENT,
}
_MAX_REFRESH = 3


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _stamp(record: Any) -> dt.datetime | None:
    value = getattr(record, "time_modified", None) or getattr(record, "time_deleted", None)
    return value if isinstance(value, dt.datetime) else None


def _later(a: str | None, b: dt.datetime | None) -> str | None:
    if b is None:
        return a
    if a is None:
        return b.isoformat()
    return b.isoformat() if b > _parse_time(a) else a


class QuickBooksWorkSource:
    """The Web Connector work source of the sync engine (see the module docs).

    Args:
        store: The sync store.
        registry: The mappings (for change orders, mapped against the purchase order as
            QuickBooks returns it just before the write).
        connection_for: The connection a session serves (default: its tenant, as set by
            the authenticator).
        max_returned: Records per page of a read.
        rewind: How far before its watermark each read starts. QuickBooks keeps times in
            local time; when clocks go back an hour the same local times happen twice, so the
            default of two hours can never miss a change (re-read records are not staged
            twice).
        retry_delay: How long a write waits after "retry later" or "wait for dependency".
            What each status code calls for is the endpoint's `SessionConfig.status_policy`.
        clock: The current time (aware).
    """

    def __init__(
        self,
        store: Store,
        *,
        registry: MappingRegistry | None = None,
        connection_for: Callable[[qbwc.SessionInfo], str | None] | None = None,
        max_returned: int = 500,
        rewind: dt.timedelta = dt.timedelta(hours=2),
        retry_delay: dt.timedelta = dt.timedelta(minutes=1),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry or MappingRegistry()
        self._connection_for = connection_for or (lambda s: s.tenant)
        self.max_returned = max_returned
        self.rewind = rewind
        self.retry_delay = retry_delay
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))

    def __repr__(self) -> str:
        return f"QuickBooksWorkSource(max_returned={self.max_returned})"

    # -- the WorkSource protocol ----------------------------------------------------------------

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        """Whether this session's connection is connected and anything is left to do."""
        conn = self._connection(session)
        if conn is None:
            return False
        return not self._load(conn.id, session).get("finished")

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | None:
        """The next read, or the next write once every stream is read; ``None`` when done."""
        conn = self._connection(session)
        if conn is None:
            return None
        state = self._load(conn.id, session)
        if state.get("finished"):
            return None
        if self.store.get_watermark(conn.id, "qb:country") is None and not state.get("host"):
            return qbwc.WorkRequest(messages=[qbxml.HostQueryRq(request_id="host:")])
        # Streams already read in this round (a round is every stream, then the writes):
        # a session that failed halfway is resumed by the next one, not started over.
        done = self._round(conn.id)
        for index, stream in enumerate(QB_STREAMS):
            if stream.name in done:
                continue
            mark = self.store.get_watermark(conn.id, f"qb:{stream.name}")
            since = _parse_time(mark) - self.rewind if mark else None
            request = stream.request(
                since=since, max_returned=self.max_returned, request_id=f"read:{stream.name}"
            )
            return qbwc.WorkRequest(
                messages=[request], progress=min(49, index * 50 // len(QB_STREAMS))
            )
        return self._next_write(conn, session, state)

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        """Stage what was read, settle what was written; commit before returning."""
        conn = self._connection(session)
        if conn is None:
            return
        state = self._load(conn.id, session)
        worker = _worker(session)
        if not received.ok:
            current = state.pop("current", None)
            if current is not None:
                detail = received.message or received.error or received.hresult
                item = self._claimed(conn, current)
                self.store.finish_outbox(
                    current,
                    ItemStatus.PENDING,
                    error=f"QuickBooks failed: {detail}",
                    worker=worker,
                )
                if item is not None:
                    write = QbWrite.from_json(item.payload)
                    audit(
                        self.store,
                        conn.id,
                        write.entity,
                        Stage.RETRIED,
                        procore_id=write.procore_id,
                        detail=f"QuickBooks failed ({received.hresult or 'unreadable answer'}:"
                        f" {detail}) with the {write.kind} in flight; it is looked for before"
                        " it is sent again",
                    )
            self._save(conn.id, session, state)
            return
        for exchange in received.exchanges:
            rid = str(exchange.request.request_id) if exchange.request is not None else ""
            kind, _, arg = rid.partition(":")
            if kind == "host":
                self._host(conn, state, exchange)
            elif kind == "read":
                self._read(conn, state, arg, received)
            elif kind in ("write", "probe", "fetch"):
                self._settle(conn, session, state, kind, int(arg), exchange)
        self._save(conn.id, session, state)

    # -- reads ----------------------------------------------------------------------------------

    def _host(self, conn: Connection, state: dict[str, Any], exchange: qbwc.Exchange) -> None:
        state["host"] = True
        rs = exchange.response
        hosts = [r for r in (rs.records if rs is not None else []) if isinstance(r, qbxml.HostRet)]
        if hosts and hosts[0].country:
            self.store.set_watermark(conn.id, "qb:country", str(hosts[0].country))

    def _read(
        self, conn: Connection, state: dict[str, Any], name: str, received: qbwc.Received
    ) -> None:
        stream = stream_by_name(name)
        newest: str | None = state.get("max", {}).get(name)
        for record in received.iter_records():
            newest = _later(newest, _stamp(record))
            self._stage(conn, stream.entity, record)
        state.setdefault("max", {})[name] = newest
        if not received.continuing:
            # The stream is read to its end: only now may its watermark move.
            if newest is not None:
                self.store.set_watermark(conn.id, f"qb:{name}", newest)
            done = self._round(conn.id)
            if name not in done:
                self.store.set_watermark(conn.id, "qb:round", json.dumps([*done, name]))

    def _stage(self, conn: Connection, entity: Entity, record: qbxml.QbxmlModel) -> None:
        if isinstance(record, (qbxml.TxnDeletedRet, qbxml.ListDeletedRet)):
            source_id = record_id(record) or ""
            version = f"deleted:{_stamp(record)}"
            kind = str(
                getattr(record, "txn_del_type", None) or getattr(record, "list_del_type", "")
            )
            entity = {
                "Vendor": Entity.VENDOR,
                "Customer": Entity.PROJECT,
                "BillPaymentCheck": Entity.PAYMENT,
                "Check": Entity.DIRECT_COST,
                "CreditCardCharge": Entity.DIRECT_COST,
            }.get(kind, Entity.INVOICE)
        else:
            source_id = record_id(record) or ""
            version = str(getattr(record, "edit_sequence", "") or "")
        staged = self.store.stage(
            conn.id,
            source=Side.QUICKBOOKS,
            entity=entity,
            source_id=source_id,
            version=version,
            payload=encode_qb(record),
        )
        if staged is not None:
            audit(
                self.store,
                conn.id,
                entity,
                Stage.RECEIVED,
                qb_id=source_id,
                amount=record_amount(record),
                detail=f"{type(record).__name__} version {version}",
            )

    # -- writes ---------------------------------------------------------------------------------

    def _next_write(
        self, conn: Connection, session: qbwc.SessionInfo, state: dict[str, Any]
    ) -> qbwc.WorkRequest | None:
        worker = _worker(session)
        item_id = state.get("current")
        item = None if item_id is None else self._claimed(conn, item_id)
        if item is not None and item.claimed_by != worker:
            item = None  # our claim lapsed and another session took the write over
        if item is None:
            claimed = self.store.claim_outbox(
                worker, limit=1, connection_id=conn.id, target=Side.QUICKBOOKS
            )
            if not claimed:
                # The round is over: the next session reads every stream again.
                state["finished"] = True
                self._save(conn.id, session, state)
                self.store.set_watermark(conn.id, "qb:round", "[]")
                return None
            item = claimed[0]
            state["current"] = item.id
            state.pop("probe", None)
            state.pop("clear", None)
            state.pop("mod", None)
        write = QbWrite.from_json(item.payload)
        if write.is_mod:
            # A Mod needs the record's current EditSequence (and a purchase order its current
            # lines): fetch it, then send the Mod built from what came back.
            mod = state.pop("mod", None)
            if mod is not None:
                message: qbxml.QbxmlRequest = qbxml.loads(mod).requests[0]
                message = _with_id(message, f"write:{item.id}")
            elif write.kind == "PurchaseOrderMod":
                message = qbxml.PurchaseOrderQueryRq(
                    request_id=f"fetch:{item.id}",
                    txn_id=[write.txn_id or ""],
                    include_line_items=True,
                )
            else:
                query: Any = getattr(qbxml, f"{write.kind[:-3]}QueryRq")
                message = query(request_id=f"fetch:{item.id}", list_id=[write.txn_id or ""])
        elif state.get("probe") == item.id or (item.attempts > 1 and state.get("clear") != item.id):
            # Claimed before and never settled: it may have reached QuickBooks. Look first.
            message = write.probe(f"probe:{item.id}")
        else:
            message = _with_id(write.message(), f"write:{item.id}")
        state.pop("clear", None)
        state.pop("probe", None)
        self._save(conn.id, session, state)  # before the request leaves: see the module docs
        return qbwc.WorkRequest(messages=[message], progress=75)

    def _settle(  # noqa: PLR0917 - private step; its arguments read in call order
        self,
        conn: Connection,
        session: qbwc.SessionInfo,
        state: dict[str, Any],
        kind: str,
        item_id: int,
        exchange: qbwc.Exchange,
    ) -> None:
        worker = _worker(session)
        item = self._claimed(conn, item_id)
        if item is None or item.claimed_by != worker:
            state.pop("current", None)
            return
        write = QbWrite.from_json(item.payload)
        rs = exchange.response
        records = list(rs.records) if rs is not None else []
        if kind == "probe":
            found = next((r for r in records if write.matches(r)), None)
            if found is not None:
                self._done(
                    conn,
                    state,
                    item.id,
                    write,
                    found,
                    "found in QuickBooks after an unconfirmed write",
                )
            else:
                state["clear"] = item.id
            return
        if kind == "fetch":
            self._fetched(conn, state, item.id, write, records)
            return
        action = exchange.action
        message = rs.status_message if rs is not None else "not run (an earlier request failed)"
        code = rs.status_code if rs is not None else None
        if action in (qbwc.StatusAction.OK, qbwc.StatusAction.IGNORE) and records:
            self._done(conn, state, item.id, write, records[0], "")
        elif action is qbwc.StatusAction.LINK_EXISTING and write.is_list:
            state["probe"] = item.id
            audit(
                self.store,
                conn.id,
                write.entity,
                Stage.RETRIED,
                procore_id=write.procore_id,
                detail=f"{write.kind} {write.marker!r} exists in QuickBooks (3100): linking it",
            )
        elif action is qbwc.StatusAction.REFRESH_AND_RETRY and write.is_mod:
            tries = state.setdefault("refresh", {})
            tries[str(item.id)] = tries.get(str(item.id), 0) + 1
            if tries[str(item.id)] > _MAX_REFRESH:
                self._later(conn, state, item.id, write, f"status {code}: {message}", worker)
            else:  # stay current: the next request fetches the record again
                audit(
                    self.store,
                    conn.id,
                    write.entity,
                    Stage.RETRIED,
                    qb_id=write.txn_id,
                    procore_id=write.procore_id,
                    detail=f"{write.kind}: status {code}: {message}; fetching the record again",
                )
        elif action in (
            qbwc.StatusAction.WAIT_FOR_DEPENDENCY,
            qbwc.StatusAction.RETRY_LATER,
            qbwc.StatusAction.REFRESH_AND_RETRY,
            qbwc.StatusAction.LINK_EXISTING,
        ):
            self._later(conn, state, item.id, write, f"status {code}: {message}", worker)
        else:
            state.pop("current", None)
            self.store.finish_outbox(
                item.id, ItemStatus.FAILED, error=f"status {code}: {message}", worker=worker
            )
            audit(
                self.store,
                conn.id,
                write.entity,
                Stage.FAILED,
                procore_id=write.procore_id,
                detail=f"QuickBooks refused the {write.kind} (status {code}): {message}",
            )

    def _later(  # noqa: PLR0917 - private step; its arguments read in call order
        self,
        conn: Connection,
        state: dict[str, Any],
        item_id: int,
        write: QbWrite,
        why: str,
        worker: str,
    ) -> None:
        state.pop("current", None)
        self.store.finish_outbox(
            item_id,
            ItemStatus.PENDING,
            error=why,
            worker=worker,
            not_before=self._clock() + self.retry_delay,
        )
        audit(
            self.store,
            conn.id,
            write.entity,
            Stage.RETRIED,
            procore_id=write.procore_id,
            detail=f"{write.kind} will be retried: {why}",
        )

    def _fetched(
        self,
        conn: Connection,
        state: dict[str, Any],
        item_id: int,
        write: QbWrite,
        records: list[qbxml.QbxmlModel],
    ) -> None:
        from qbprocore import procore  # local: the procore models are only needed here

        if write.kind != "PurchaseOrderMod":
            self._fetched_list(conn, state, item_id, write, records)
            return
        po = next((r for r in records if isinstance(r, qbxml.PurchaseOrderRet)), None)
        if po is None:
            state.pop("current", None)
            self.store.finish_outbox(item_id, ItemStatus.FAILED, error="the purchase order is gone")
            audit(
                self.store,
                conn.id,
                Entity.CHANGE_ORDER,
                Stage.FAILED,
                procore_id=write.procore_id,
                qb_id=write.txn_id,
                detail="the purchase order of the change order was not found in QuickBooks",
            )
            return
        co = procore.CommitmentChangeOrder.from_api(write.change_order or {})
        ctx = mapping_context(self.store, conn)
        result = self.registry.map(
            CHANGE_ORDER_TO_PO_LINES, ChangeOrderLines(change_order=co, purchase_order=po), ctx
        )
        if isinstance(result, Mapped):
            state["mod"] = qbxml.dumps(
                qbxml.PurchaseOrderModRq(purchase_order_mod=result.record)
            ).decode("ascii")
            return
        state.pop("current", None)
        if result.code == "already_applied":
            self._done(conn, state, item_id, write, po, result.reason)
            return
        self.store.finish_outbox(item_id, ItemStatus.SKIPPED, error=result.reason)
        audit(
            self.store,
            conn.id,
            Entity.CHANGE_ORDER,
            Stage.SKIPPED,
            procore_id=write.procore_id,
            qb_id=write.txn_id,
            detail=result.reason,
        )

    def _fetched_list(
        self,
        conn: Connection,
        state: dict[str, Any],
        item_id: int,
        write: QbWrite,
        records: list[qbxml.QbxmlModel],
    ) -> None:
        """Build a list Mod at the EditSequence QuickBooks has for the record now."""
        current = next((r for r in records if record_id(r) == write.txn_id), None)
        if current is None:
            state.pop("current", None)
            why = f"{write.kind[:-3]} {write.txn_id} is no longer in QuickBooks"
            self.store.finish_outbox(item_id, ItemStatus.FAILED, error=why)
            audit(
                self.store,
                conn.id,
                write.entity,
                Stage.FAILED,
                qb_id=write.txn_id,
                procore_id=write.procore_id,
                detail=why,
            )
            return
        message = write.message()
        spec = type(message).__qbxml__
        inner = getattr(message, spec.fields[0].attr)
        fresh = attrs.evolve(inner, edit_sequence=getattr(current, "edit_sequence", None))
        rebuilt = attrs.evolve(message, **{spec.fields[0].attr: fresh})  # type: ignore[misc]
        state["mod"] = qbxml.dumps(rebuilt).decode("ascii")

    def _done(  # noqa: PLR0917 - private step; its arguments read in call order
        self,
        conn: Connection,
        state: dict[str, Any],
        item_id: int,
        write: QbWrite,
        record: qbxml.QbxmlModel,
        note: str,
    ) -> None:
        state.pop("current", None)
        qb_id = record_id(record) or ""
        edit_sequence = getattr(record, "edit_sequence", None)
        if write.kind == "PurchaseOrderMod":
            self.store.link(conn.id, Entity.COMMITMENT, qb_id=qb_id, edit_sequence=edit_sequence)
            link_id = f"{qb_id}|co:{write.procore_id}"
        else:
            link_id = qb_id
        try:
            self.store.link(
                conn.id,
                write.entity,
                qb_id=link_id,
                procore_id=write.procore_id,
                edit_sequence=edit_sequence,
            )
        except StoreError as exc:
            # The QuickBooks record is paired with another Procore record already: two
            # Procore records stand for one QuickBooks record, which a person must merge.
            self.store.finish_outbox(item_id, ItemStatus.FAILED, error=str(exc))
            audit(
                self.store,
                conn.id,
                write.entity,
                Stage.FAILED,
                qb_id=link_id,
                procore_id=write.procore_id,
                detail=f"not linked: {exc}",
            )
            return
        # Echo suppression: the version we wrote is staged as already handled.
        entity = _ENTITY_OF_RET.get(type(record).__name__)
        if entity is not None and edit_sequence is not None:
            echo = self.store.stage(
                conn.id,
                source=Side.QUICKBOOKS,
                entity=entity,
                source_id=qb_id,
                version=str(edit_sequence),
                payload=encode_qb(record),
            )
            if echo is not None:
                self.store.finish_staged(echo.id, ItemStatus.DONE, error="written by qbprocore")
        self.store.finish_outbox(item_id, ItemStatus.DONE, result=qb_id)
        audit(
            self.store,
            conn.id,
            write.entity,
            Stage.WRITTEN,
            qb_id=link_id,
            procore_id=write.procore_id,
            amount=record_amount(record),
            detail=f"{write.kind} written to QuickBooks" + (f" ({note})" if note else ""),
        )

    def _claimed(self, conn: Connection, item_id: int) -> OutboxItem | None:
        claimed = self.store.list_outbox(conn.id, status=ItemStatus.CLAIMED)
        return next((i for i in claimed if i.id == item_id), None)

    # -- state ----------------------------------------------------------------------------------

    def _connection(self, session: qbwc.SessionInfo) -> Connection | None:
        conn_id = self._connection_for(session)
        conn = None if conn_id is None else self.store.get_connection(conn_id)
        if conn is None or conn.state is not ConnectionState.CONNECTED:
            return None
        return conn

    def _round(self, conn_id: str) -> list[str]:
        text = self.store.get_watermark(conn_id, "qb:round")
        done: list[str] = json.loads(text) if text else []
        return done

    def _load(self, conn_id: str, session: qbwc.SessionInfo) -> dict[str, Any]:
        text = self.store.get_watermark(conn_id, f"session:{session.session_id}")
        state: dict[str, Any] = json.loads(text) if text else {}
        return state

    def _save(self, conn_id: str, session: qbwc.SessionInfo, state: dict[str, Any]) -> None:
        self.store.set_watermark(conn_id, f"session:{session.session_id}", json.dumps(state))


def _worker(session: qbwc.SessionInfo) -> str:
    return f"qbwc:{session.session_id}"


def _with_id(message: qbxml.QbxmlRequest, request_id: str) -> qbxml.QbxmlRequest:
    return attrs.evolve(message, request_id=request_id)  # type: ignore[misc]
