"""`SyncEngine`: moves staged records across, verified, exactly once.

The QuickBooks half of a sync runs inside Web Connector sessions (`QuickBooksWorkSource`,
from `SyncEngine.work_source`). The rest is `SyncEngine.run`, a unit of work a thread, a
process or a task queue runs for one connection:

1. **Pull** Procore changes since each stream's watermark (``filters[updated_at]``) and stage
   them.
2. **Process** staged records (claimed, so two workers never take the same one): map each
   through the registry, verify it, then write it — to Procore in batch upserts keyed by
   ``origin_id``, to QuickBooks by enqueueing a `QbWrite` in the outbox for the next Web
   Connector session. Every step lands in the audit trail.

A record whose dependency is not synced yet (the vendor of a purchase order, the purchase
order of a change order) waits: it is released unchanged at the end of the run and taken up
by a later one.

Exactly once: staging is idempotent per record version; Procore upserts are keyed by
``origin_id``; a Procore create that has no batch endpoint (subcontractor invoices,
payments) is looked up by ``origin_id`` before it is sent again; outbox keys are unique. A
version we wrote is staged as handled, so it is not synced back (echo suppression).

Two-way entities (vendors, projects, payments) are created in both directions; *updates* of a
linked record flow only from the side `EngineConfig.source_of_truth` names for it (default:
QuickBooks for vendors and payments, Procore for projects).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from qbprocore import procore, qbxml
from qbprocore.sync import _registry as reg
from qbprocore.sync._errors import SyncError
from qbprocore.sync._qbwork import QuickBooksWorkSource
from qbprocore.sync._records import (
    Connection,
    ConnectionState,
    Entity,
    ItemStatus,
    Side,
    Stage,
    StagedRecord,
)
from qbprocore.sync._registry import MappingRegistry
from qbprocore.sync._results import (
    Budget,
    CommitmentPayment,
    Mapped,
    MappingContext,
    ProcoreDeletion,
    Skip,
    SubcontractorInvoice,
)
from qbprocore.sync._store import Store
from qbprocore.sync._streams import decode_procore, decode_qb, encode_procore, procore_version
from qbprocore.sync._verify import (
    CommitmentFacts,
    InvoiceFacts,
    Verdict,
    bill_facts,
    commitment_facts,
    verify_commitment,
    verify_invoice,
)
from qbprocore.sync._writes import (
    RANKS,
    QbWrite,
    audit,
    external_guid,
    get_index,
    mapping_context,
    put_index,
    record_amount,
)

__all__ = ["EngineConfig", "PlannedWrite", "RunReport", "SyncEngine"]

_TWO_WAY_DEFAULT: Mapping[Entity, Side] = {
    Entity.VENDOR: Side.QUICKBOOKS,
    Entity.PROJECT: Side.PROCORE,
    Entity.PAYMENT: Side.QUICKBOOKS,
}

_ORDER = {
    Entity.COST_CODE: 0,
    Entity.VENDOR: 0,
    Entity.PROJECT: 0,
    Entity.BUDGET: 1,
    Entity.COMMITMENT: 1,
    Entity.CHANGE_ORDER: 2,
    Entity.INVOICE: 2,
    Entity.DIRECT_COST: 2,
    Entity.PAYMENT: 3,
}


@attrs.frozen(kw_only=True)
class EngineConfig:
    """How the engine works.

    Attributes:
        worker: This worker's name in row claims (default: host-independent process id).
        batch_size: Staged records claimed at a time, and the most items per Procore batch
            upsert (Procore accepts 1,000).
        lease: How long a claim holds before another worker may take the record over.
        per_page: Page size of Procore pulls.
        procore_rewind: How far before its watermark a Procore pull starts (clock skew).
        project_pull_every: How often the project-scoped Procore streams (cost codes, budget,
            commitments, change orders, invoices, payments) are pulled. Procore has no
            company-wide list for them, so a pull costs a few requests per project against a
            budget of 3,600 requests an hour per app and company; the company-wide streams
            (projects, vendors) are pulled on every run, and a project seen for the first
            time is pulled at once. ``timedelta(0)`` pulls everything on every run.
        source_of_truth: For each two-way entity, the side whose *updates* win.
    """

    worker: str = attrs.field(factory=lambda: f"worker-{os.getpid()}")
    batch_size: int = 1000
    lease: dt.timedelta = dt.timedelta(minutes=5)
    per_page: int = 1000
    procore_rewind: dt.timedelta = dt.timedelta(minutes=1)
    project_pull_every: dt.timedelta = dt.timedelta(minutes=15)
    source_of_truth: Mapping[Entity, Side] = attrs.field(factory=lambda: dict(_TWO_WAY_DEFAULT))


@attrs.frozen(kw_only=True)
class PlannedWrite:
    """One thing a run would do (or did).

    Attributes:
        entity: The kind of record.
        source: The side it comes from.
        source_id: Its id there.
        action: ``"write"``, ``"skip"``, ``"block"``, ``"wait"`` or ``"fail"``.
        detail: The target and what is written, or the reason.
    """

    entity: Entity
    source: Side
    source_id: str
    action: str
    detail: str = ""


@attrs.define
class RunReport:
    """What one `SyncEngine.run` did.

    Attributes:
        connection_id: The connection.
        pulled: Procore records staged, per entity.
        moved: Records written (or, for QuickBooks, queued for the next session), keyed by
            ``"<entity> -> <side>"``.
        outcomes: Every record handled, in order (including skips, blocks and waits).
        dry_run: Nothing was written.
    """

    connection_id: str
    pulled: Counter[str] = attrs.field(factory=Counter)
    moved: Counter[str] = attrs.field(factory=Counter)
    outcomes: list[PlannedWrite] = attrs.field(factory=list)
    dry_run: bool = False

    def count(self, action: str) -> int:
        """How many records ended with ``action``."""
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def blocked(self) -> list[PlannedWrite]:
        """Records verification held back."""
        return [o for o in self.outcomes if o.action == "block"]


class _Wait(Exception):  # noqa: N818 - control flow inside the engine, never escapes it
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.define
class _Pending:
    """A Procore write collected for a batch."""

    record: StagedRecord
    entity: Entity
    qb_id: str
    payload: dict[str, Any]
    amount: Decimal | None


class SyncEngine:
    """The sync engine (see the module docs).

    Args:
        store: The sync store.
        procore_client: Returns the Procore client of a connection (the host owns clients
            and credentials).
        registry: The mappings in force (default: `MappingRegistry`).
        config: How the engine works.
        clock: The current time (aware), for watermarks.
    """

    def __init__(
        self,
        store: Store,
        *,
        procore_client: Callable[[Connection], procore.ProcoreClient],
        registry: MappingRegistry | None = None,
        config: EngineConfig | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry or MappingRegistry()
        self.config = config or EngineConfig()
        self._procore_client = procore_client
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))

    def __repr__(self) -> str:
        return f"SyncEngine(worker={self.config.worker!r})"

    def work_source(self, **options: Any) -> QuickBooksWorkSource:
        """The Web Connector work source over the same store and registry.

        Keyword arguments go to `QuickBooksWorkSource` (``max_returned``, ``rewind`` …).
        """
        return QuickBooksWorkSource(
            self.store, registry=self.registry, clock=self._clock, **options
        )

    # -- the unit of work --------------------------------------------------------------------------

    def run(self, connection_id: str, *, dry_run: bool = False) -> RunReport:
        """Pull Procore changes, then map, verify and write every staged record it can.

        With ``dry_run`` nothing is written to either side and nothing is queued: the
        report's outcomes are the plan (Procore changes are still pulled and staged, which
        changes nothing but the local store).
        """
        conn = self._connection(connection_id)
        client = self._procore_client(conn)
        report = RunReport(connection_id=conn.id, dry_run=dry_run)
        run = _Run(self, conn, client, report)
        run.pull()
        run.process()
        return report

    def plan(self, connection_id: str) -> RunReport:
        """`run` with ``dry_run=True``: what the next run would do, writing nothing."""
        return self.run(connection_id, dry_run=True)

    # -- people: approve and replay ----------------------------------------------------------------

    def approve(self, connection_id: str, record_id: int, *, by: str, note: str = "") -> None:
        """Let a blocked record through: the next run writes it despite its findings.

        Raises:
            SyncError: The record is not blocked.
        """
        record = self._staged(connection_id, record_id)
        if record.status is not ItemStatus.BLOCKED:
            raise SyncError(
                f"staged record {record_id} is {record.status.value}, not blocked: only blocked"
                " records can be approved"
            )
        self.store.set_watermark(connection_id, f"approved:{record_id}", by)
        self.store.finish_staged(record_id, ItemStatus.PENDING, error="")
        audit(
            self.store,
            connection_id,
            record.entity,
            Stage.APPROVED,
            **_ids(record),
            detail=f"approved by {by}" + (f": {note}" if note else "") + f" ({record.error})",
        )

    def replay(self, connection_id: str, *, record_ids: Iterable[int] | None = None) -> int:
        """Queue failed and blocked records (and failed QuickBooks writes) again.

        Args:
            connection_id: The connection.
            record_ids: Only these staged records (default: every failed or blocked one).

        Returns:
            How many records and writes were queued again.
        """
        wanted = None if record_ids is None else set(record_ids)
        count = 0
        for status in (ItemStatus.FAILED, ItemStatus.BLOCKED):
            for record in self.store.list_staged(connection_id, status=status):
                if wanted is not None and record.id not in wanted:
                    continue
                self.store.finish_staged(record.id, ItemStatus.PENDING, error="")
                audit(
                    self.store,
                    connection_id,
                    record.entity,
                    Stage.RETRIED,
                    **_ids(record),
                    detail=f"replayed ({status.value}: {record.error})",
                )
                count += 1
        if wanted is None:
            for item in self.store.list_outbox(connection_id, status=ItemStatus.FAILED):
                self.store.finish_outbox(item.id, ItemStatus.PENDING, error="")
                write = QbWrite.from_json(item.payload)
                audit(
                    self.store,
                    connection_id,
                    item.entity,
                    Stage.RETRIED,
                    procore_id=write.procore_id,
                    detail=f"write replayed ({item.error})",
                )
                count += 1
        return count

    # -- helpers ---------------------------------------------------------------------------

    def _connection(self, connection_id: str) -> Connection:
        conn = self.store.get_connection(connection_id)
        if conn is None:
            raise SyncError(f"no connection {connection_id!r}")
        if conn.state is not ConnectionState.CONNECTED:
            raise SyncError(f"connection {connection_id!r} is {conn.state.value}: nothing syncs")
        return conn

    def _staged(self, connection_id: str, record_id: int) -> StagedRecord:
        for record in self.store.list_staged(connection_id):
            if record.id == record_id:
                return record
        raise SyncError(f"connection {connection_id!r} has no staged record {record_id}")


def _ids(record: StagedRecord) -> dict[str, Any]:
    if record.source is Side.QUICKBOOKS:
        return {"qb_id": record.source_id}
    return {"procore_id": int(record.source_id) if record.source_id.isdigit() else None}


def _direction(entity: Entity, target: Side) -> str:
    return f"{entity.value} -> {target.value}"


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat()


# Two-way list entities whose Procore updates become QuickBooks Mods when Procore owns them.
_LIST_UPDATES: Mapping[Entity, tuple[reg.MappingSpec[Any, Any], type[Any], str]] = {
    Entity.VENDOR: (reg.VENDOR_TO_QB_VENDOR, procore.Vendor, "Vendor"),
    Entity.PROJECT: (reg.PROJECT_TO_JOB, procore.Project, "Customer"),
}

_PROCORE_STREAMS: tuple[tuple[str, Entity, str], ...] = (
    # (resource, entity, scope): company streams first; they decide which projects count.
    ("projects", Entity.PROJECT, "company"),
    ("vendors", Entity.VENDOR, "company"),
    ("cost_codes", Entity.COST_CODE, "project"),
    ("budget_line_items", Entity.BUDGET, "project"),
    ("work_order_contracts", Entity.COMMITMENT, "project"),
    ("purchase_order_contracts", Entity.COMMITMENT, "project"),
    ("commitment_change_orders", Entity.CHANGE_ORDER, "project"),
    ("requisitions", Entity.INVOICE, "project"),
    ("contract_payments", Entity.PAYMENT, "contract"),
)


class _Run:
    """One `SyncEngine.run`: its connection, client, caches and report."""

    def __init__(
        self, engine: SyncEngine, conn: Connection, client: procore.ProcoreClient, report: RunReport
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.conn = conn
        self.client = client
        self.report = report
        self.dry = report.dry_run
        self.worker = engine.config.worker
        self._procore_seen: (
            tuple[dict[int, dict[str, Any]], dict[int, dict[str, procore.Requisition]]] | None
        ) = None
        self._batches: dict[tuple[str, int | None], list[_Pending]] = {}
        self._open_parts: collections.Counter[int] = collections.Counter()
        self._part_errors: dict[int, list[str]] = {}
        self._part_retry: dict[int, str] = {}
        self._held: list[StagedRecord] = []
        self._outbox_keys: set[str] | None = None
        self._ctx: MappingContext | None = None
        self._level: int | None = None

    # -- state kept as watermarks -----------------------------------------------------------------

    def _index(self, name: str) -> dict[str, Any]:
        return get_index(self.store, self.conn.id, name)

    def _put_index(self, name: str, data: dict[str, Any]) -> None:
        put_index(self.store, self.conn.id, name, data)

    # -- pull ------------------------------------------------------------------------------------

    def _project_ids(self) -> list[int]:
        projects = self._index("projects")
        assigned = self.store.project_assignments(procore_company_id=self.conn.procore_company_id)
        out = []
        for key in projects:
            pid = int(key)
            owner = assigned.get(pid)
            if self.conn.project_scope.value == "selected":
                if owner == self.conn.id:
                    out.append(pid)
            elif owner in (None, self.conn.id):
                out.append(pid)
        return sorted(out)

    def pull(self) -> None:
        """Stage every Procore record changed since its stream's watermark."""
        now = self.engine._clock()
        upper = now + dt.timedelta(days=1)
        last = self.store.get_watermark(self.conn.id, "procore:project_pull_at")
        pulled = set(self._index("pulled_projects"))
        due = last is None or now - dt.datetime.fromisoformat(last) >= (
            self.engine.config.project_pull_every
        )
        for resource, entity, scope in _PROCORE_STREAMS:
            if scope == "company":
                self._pull(resource, entity, None, None, upper)
                continue
            projects = [p for p in self._project_ids() if due or str(p) not in pulled]
            if scope == "project":
                for pid in projects:
                    self._pull(resource, entity, pid, None, upper)
            else:
                for cid, info in sorted(self._index("contracts").items()):
                    if info["project_id"] in projects:
                        self._pull(resource, entity, info["project_id"], int(cid), upper)
        if not self.dry:
            if due:
                self.store.set_watermark(self.conn.id, "procore:project_pull_at", now.isoformat())
            self._put_index("pulled_projects", {str(p): 1 for p in self._project_ids()})

    def _pull(
        self,
        resource: str,
        entity: Entity,
        project_id: int | None,
        parent_id: int | None,
        upper: dt.datetime,
    ) -> None:
        try:
            self._pull_stream(resource, entity, project_id, parent_id, upper)
        except procore.ReauthorizationRequiredError:
            raise
        except procore.ProcoreError as exc:
            # The stream's watermark did not move: the next run reads the same changes again.
            where = f" of project {project_id}" if project_id is not None else ""
            audit(
                self.store,
                self.conn.id,
                entity,
                Stage.RETRIED,
                detail=f"pulling Procore {resource}{where} failed: {exc}; retried next run",
            )

    def _pull_stream(
        self,
        resource: str,
        entity: Entity,
        project_id: int | None,
        parent_id: int | None,
        upper: dt.datetime,
    ) -> None:
        stream = (
            f"procore:{resource}"
            + (f":{project_id}" if project_id else "")
            + (f":{parent_id}" if parent_id else "")
        )
        mark = self.store.get_watermark(self.conn.id, stream)
        res = getattr(self.client, resource)
        span = None
        if mark:
            since = dt.datetime.fromisoformat(mark) - self.engine.config.procore_rewind
            # The upper bound only has to be past anything Procore has: a year past the later
            # of our clock and the watermark (Procore's clock) never cuts a change off.
            span = (since, max(upper, since) + dt.timedelta(days=365))
        pager = res.list(
            project_id=project_id,
            parent_id=parent_id,
            per_page=self.engine.config.per_page,
            updated_at=span,
        )
        records: list[Any] = []
        procore_now: dt.datetime | None = None
        for page in pager.pages():
            if procore_now is None:
                # Procore's clock when the first page was served: everything changed before
                # it is in this listing or was changed during it (then the rewind finds it).
                procore_now = self.client.last_response_date
            records.extend(page.items)
        newest: dt.datetime | None = None
        indexes: dict[str, dict[str, Any]] = {}

        def index(name: str) -> dict[str, Any]:
            if name not in indexes:
                indexes[name] = self._index(name)
            return indexes[name]

        if resource == "budget_line_items":
            # A project's budget is one record (one estimate): staged whole when any line moves.
            if records:
                lines = list(res.list(project_id=project_id, per_page=self.engine.config.per_page))
                version = max(procore_version(li) for li in lines)
                body = {"project_id": project_id, "line_items": [li.to_api() for li in lines]}
                self._stage(entity, str(project_id), version, json.dumps(body, default=str))
                newest = max(li.updated_at for li in records if li.updated_at is not None)
        else:
            for record in records:
                extra = self._pull_extras(resource, record, project_id, index)
                self._stage(
                    entity, str(record.id), procore_version(record), encode_procore(record, **extra)
                )
                if record.updated_at is not None and (newest is None or record.updated_at > newest):
                    newest = record.updated_at
        # The indexes first, then the watermark: a crash in between re-reads, never skips.
        for name, data in indexes.items():
            self._put_index(name, data)
        # The watermark is Procore's clock at the listing (else the newest change seen), so
        # what we write ourselves after it is listed once more at most, not on every run.
        mark_at = max((t for t in (newest, procore_now) if t is not None), default=None)
        if mark_at is not None:
            self.store.set_watermark(self.conn.id, stream, _utc(mark_at))

    def _pull_extras(
        self,
        resource: str,
        record: Any,
        project_id: int | None,
        index: Callable[[str], dict[str, Any]],
    ) -> dict[str, Any]:
        """What is staged with a pulled record besides it (its lines), and the indexes it feeds."""
        extra: dict[str, Any] = {"_resource": resource}
        if project_id is not None:
            extra["_project_id"] = project_id
        if resource in ("work_order_contracts", "purchase_order_contracts"):
            items = getattr(self.client, resource[:-1] + "_line_items").list(
                project_id=project_id, parent_id=record.id
            )
            extra["line_items"] = [li.to_api() for li in items]
            index("contracts")[str(record.id)] = {"project_id": project_id, "resource": resource}
        elif resource == "requisitions":
            items = self.client.requisition_items.list(project_id=project_id, parent_id=record.id)
            extra["items"] = [li.to_api() for li in items]
        elif resource == "projects":
            index("projects")[str(record.id)] = record.name or ""
            if record.name:
                index("project_names").setdefault(record.name.casefold(), record.id)
        elif resource == "vendors" and record.name:
            index("vendor_names").setdefault(record.name.casefold(), record.id)
        elif resource == "cost_codes":
            code = (record.full_code or record.code or "").casefold()
            index("cost_code_names")[code] = record.id
            if project_id is not None:
                index("project_cost_codes").setdefault(str(project_id), {})[code] = record.id
        return extra

    def _stage(self, entity: Entity, source_id: str, version: str, payload: str) -> None:
        staged = self.store.stage(
            self.conn.id,
            source=Side.PROCORE,
            entity=entity,
            source_id=source_id,
            version=version,
            payload=payload,
        )
        if staged is not None:
            self.report.pulled[entity.value] += 1
            audit(
                self.store,
                self.conn.id,
                entity,
                Stage.RECEIVED,
                procore_id=int(source_id) if source_id.isdigit() else None,
                amount=record_amount(json.loads(payload)),
                detail=f"from Procore, version {version}",
            )

    # -- process -----------------------------------------------------------------------------------

    def context(self) -> MappingContext:
        """The mapping context: cross-references and what the indexes know."""
        return mapping_context(self.store, self.conn)

    def process(self) -> None:
        """Map, verify and write every pending staged record this run can."""
        self._load_line_item_types()
        if self.dry:
            waiting = self._pass(self.store.list_staged(self.conn.id, status=ItemStatus.PENDING))
            self._flush_all()
        else:
            waiting = []
            while True:
                claimed = self.store.claim_staged(
                    self.worker,
                    limit=self.engine.config.batch_size,
                    lease=self.engine.config.lease,
                    connection_id=self.conn.id,
                )
                if not claimed:
                    break
                waiting.extend(self._pass(claimed))
            self._flush_all()
            # What waited on a dependency may be unblocked by what this run wrote.
            while waiting:
                self._level = None
                again = self._pass(waiting)
                self._flush_all()
                if len(again) == len(waiting):
                    break
                waiting = again
        for record in waiting:
            self._outcome(record, "wait", record.error)
        if not self.dry:
            for record in [*waiting, *self._held]:
                self.store.finish_staged(
                    record.id, ItemStatus.PENDING, error=record.error, worker=self.worker
                )

    def _load_line_item_types(self) -> None:
        types = self._index("line_item_types")
        if types:
            return
        found = {t.name: t.id for t in self.client.line_item_types.list() if t.name and t.id}
        if found and not self.dry:
            self._put_index("line_item_types", found)

    def _pass(self, records: Sequence[StagedRecord]) -> list[StagedRecord]:
        """Handle records in dependency order; return those still waiting.

        Procore writes collect in batches across passes, so records spread over many claims
        still go out in full batches; a batch is sent when it is full, and every batch is sent
        before a record of a higher dependency level is mapped (it may refer to them).
        """
        waiting: list[StagedRecord] = []
        limit = self.engine.config.batch_size
        for record in sorted(records, key=lambda r: (_ORDER[r.entity], r.id)):
            level = _ORDER[record.entity]
            if self._ctx is None or level != self._level:
                # Send what this level may refer to (lower levels); batches of higher levels
                # keep filling (a later claim may start over at a lower level).
                lower = {
                    k: v for k, v in self._batches.items() if _ORDER[v[0].record.entity] < level
                }
                for key in lower:
                    del self._batches[key]
                self._flush(lower)
                self._ctx = self.context()
                self._outbox_keys = None
                self._level = level
            try:
                if record.source is Side.QUICKBOOKS:
                    self._from_quickbooks(record, self._ctx, self._batches)
                else:
                    self._from_procore(record, self._ctx)
            except _Wait as wait:
                waiting.append(attrs.evolve(record, error=wait.reason))
            except procore.ReauthorizationRequiredError:
                raise
            except procore.ProcoreError as exc:
                # Procore failed even after the client's retries: try again next run.
                why = f"Procore failed: {exc}"
                self._outcome(record, "wait", why)
                if not self.dry:
                    audit(
                        self.store,
                        self.conn.id,
                        record.entity,
                        Stage.RETRIED,
                        **_ids(record),
                        detail=f"{why}; retried on the next run",
                    )
                self._held.append(attrs.evolve(record, error=why))
            for key in [k for k, items in self._batches.items() if len(items) >= limit]:
                self._flush({key: self._batches.pop(key)})
        return waiting

    def _flush_all(self) -> None:
        batches, self._batches = self._batches, {}
        self._flush(batches)

    # -- outcomes ----------------------------------------------------------------------------------

    def _outcome(self, record: StagedRecord, action: str, detail: str) -> None:
        self.report.outcomes.append(
            PlannedWrite(
                entity=record.entity,
                source=record.source,
                source_id=record.source_id,
                action=action,
                detail=detail,
            )
        )

    def _finish(
        self, record: StagedRecord, status: ItemStatus, stage: Stage, detail: str, **ids: Any
    ) -> None:
        action = {
            ItemStatus.SKIPPED: "skip",
            ItemStatus.BLOCKED: "block",
            ItemStatus.FAILED: "fail",
        }.get(status, "write")
        self._outcome(record, action, detail)
        if self.dry:
            return
        self.store.finish_staged(
            record.id, status, error="" if status is ItemStatus.DONE else detail, worker=self.worker
        )
        audit(
            self.store, self.conn.id, record.entity, stage, **{**_ids(record), **ids}, detail=detail
        )

    def _skip(self, record: StagedRecord, result: Skip | str) -> None:
        reason = result if isinstance(result, str) else result.reason
        if isinstance(result, Skip) and result.code == "missing_mapping":
            raise _Wait(reason)
        self._finish(record, ItemStatus.SKIPPED, Stage.SKIPPED, reason)

    def _verified(self, record: StagedRecord, verdict: Verdict) -> bool:
        """Apply a verdict: ``False`` when the record is blocked (and so recorded)."""
        approved = self.store.get_watermark(self.conn.id, f"approved:{record.id}")
        if verdict.blocked and approved is None:
            self._finish(record, ItemStatus.BLOCKED, Stage.BLOCKED, verdict.reason)
            return False
        if verdict.findings and not self.dry:
            why = f"approved by {approved}: {verdict.reason}" if verdict.blocked else verdict.reason
            audit(
                self.store, self.conn.id, record.entity, Stage.VERIFIED, **_ids(record), detail=why
            )
        return True

    def _enqueue(
        self, record: StagedRecord, key: str, write: QbWrite, amount: Decimal | None
    ) -> None:
        detail = f"{write.kind} queued for QuickBooks"
        self.report.moved[_direction(record.entity, Side.QUICKBOOKS)] += 1
        self._outcome(record, "write", detail)
        if self.dry:
            return
        self.store.enqueue(
            self.conn.id,
            target=Side.QUICKBOOKS,
            entity=write.entity,
            key=key,
            payload=write.to_json(),
            rank=RANKS.get(write.kind, 50),
        )
        pid = write.procore_id
        audit(
            self.store,
            self.conn.id,
            record.entity,
            Stage.MAPPED,
            procore_id=pid,
            amount=amount,
            detail=detail,
        )
        self.store.finish_staged(record.id, ItemStatus.DONE, worker=self.worker)

    # -- QuickBooks -> Procore -------------------------------------------------------------------

    def _updates_from(self, entity: Entity) -> Side | None:
        return self.engine.config.source_of_truth.get(entity)

    def _from_quickbooks(
        self,
        record: StagedRecord,
        ctx: MappingContext,
        batches: dict[tuple[str, int | None], list[_Pending]],
    ) -> None:
        qb = decode_qb(record.payload)
        if isinstance(qb, (qbxml.TxnDeletedRet, qbxml.ListDeletedRet)):
            self._deleted(record, qb, ctx)
            return
        xref = self.store.get_xref(self.conn.id, record.entity, qb_id=record.source_id)
        if (
            xref is not None
            and xref.edit_sequence == record.version
            and xref.procore_id is not None
        ):
            self._finish(
                record, ItemStatus.SKIPPED, Stage.SKIPPED, "our own write, read back (echo)"
            )
            return
        linked = xref is not None and xref.procore_id is not None
        if linked and self._updates_from(record.entity) is Side.PROCORE:
            self._finish(
                record,
                ItemStatus.SKIPPED,
                Stage.SKIPPED,
                f"Procore is the source of truth for {record.entity.value} updates",
            )
            return
        if isinstance(qb, qbxml.VendorRet):
            self._to_batch(record, reg.QB_VENDOR_TO_VENDOR, qb, ctx, batches, ("vendors", None))
        elif isinstance(qb, qbxml.CustomerRet):
            self._to_batch(record, reg.JOB_TO_PROJECT, qb, ctx, batches, ("projects", None))
        elif isinstance(qb, qbxml.ItemServiceRet):
            self._item(record, qb)
        elif isinstance(qb, qbxml.PurchaseOrderRet):
            if xref is not None:
                if not self.dry:
                    self.store.link(
                        self.conn.id,
                        Entity.COMMITMENT,
                        qb_id=record.source_id,
                        edit_sequence=record.version,
                    )
                self._finish(
                    record, ItemStatus.DONE, Stage.MAPPED, "purchase order's EditSequence noted"
                )
            else:
                self._skip(
                    record, "purchase orders are created from Procore commitments, not read back"
                )
        elif isinstance(qb, qbxml.BillRet):
            self._bill(record, qb, ctx, linked, batches)
        elif isinstance(qb, (qbxml.CheckRet, qbxml.CreditCardChargeRet)):
            self._direct_costs(record, qb, ctx, batches)
        elif isinstance(qb, qbxml.BillPaymentCheckRet):
            self._bill_payment(record, qb, ctx)
        else:
            self._skip(record, f"{type(qb).__name__} records are not synced")

    def _to_batch(  # noqa: PLR0917 - private step; its arguments read in call order
        self,
        record: StagedRecord,
        spec: reg.MappingSpec[Any, Any],
        source: Any,
        ctx: MappingContext,
        batches: dict[tuple[str, int | None], list[_Pending]],
        target: tuple[str, int | None],
    ) -> None:
        result = self.engine.registry.map(spec, source, ctx)
        if isinstance(result, Skip):
            self._skip(record, result)
            return
        payload = result.record.to_api()
        twin = self._procore_twin(spec.entity, payload.get("name"))
        if twin is not None and "id" not in payload:
            # The same vendor or project already exists in Procore, not linked to anything:
            # link it (the upsert by id sets its origin_id) instead of creating a duplicate.
            payload["id"] = twin
        if not self.dry:
            audit(
                self.store,
                self.conn.id,
                spec.entity,
                Stage.MAPPED,
                qb_id=record.source_id,
                amount=record_amount(source),
                detail=f"{spec.name}" + (f": matches Procore {twin} by name" if twin else ""),
            )
        self._open_parts[record.id] += 1
        batches.setdefault(target, []).append(
            _Pending(
                record=record,
                entity=spec.entity,
                qb_id=record.source_id,
                payload=payload,
                amount=record_amount(source),
            )
        )

    def _procore_twin(self, entity: Entity, name: object) -> int | None:
        """An unlinked Procore vendor or project of this name, if there is one."""
        if entity not in (Entity.VENDOR, Entity.PROJECT) or not isinstance(name, str) or not name:
            return None
        index = "vendor_names" if entity is Entity.VENDOR else "project_names"
        found = self._index(index).get(name.casefold())
        if found is None:
            return None
        if self.store.get_xref(self.conn.id, entity, procore_id=int(found)) is not None:
            return None
        return int(found)

    def _item(self, record: StagedRecord, item: qbxml.ItemServiceRet) -> None:
        xref = self.store.get_xref(self.conn.id, Entity.COST_CODE, qb_id=record.source_id)
        if xref is not None:
            if not self.dry:
                self.store.link(
                    self.conn.id,
                    Entity.COST_CODE,
                    qb_id=record.source_id,
                    edit_sequence=record.version,
                )
            self._finish(record, ItemStatus.DONE, Stage.MAPPED, "Service item already linked")
            return
        names = self._index("cost_code_names")
        code = names.get((item.name or "").casefold())
        if code is None:
            self._skip(
                record,
                f"Service item {item.name!r} is not a Procore cost code"
                " (cost codes flow from Procore)",
            )
            return
        if (
            not self.dry
            and self.store.get_xref(self.conn.id, Entity.COST_CODE, procore_id=int(code)) is None
        ):
            self.store.link(
                self.conn.id,
                Entity.COST_CODE,
                qb_id=record.source_id,
                procore_id=int(code),
                edit_sequence=record.version,
            )
        self._finish(
            record,
            ItemStatus.DONE,
            Stage.MAPPED,
            f"Service item {item.name!r} linked to Procore cost code {code} by name",
            procore_id=int(code),
        )

    def _bill(
        self,
        record: StagedRecord,
        bill: qbxml.BillRet,
        ctx: MappingContext,
        linked: bool,
        batches: dict[tuple[str, int | None], list[_Pending]],
    ) -> None:
        vendor = bill.vendor_ref.list_id if bill.vendor_ref is not None else None
        pvendor = None if vendor is None else ctx.refs.procore_id(Entity.VENDOR, vendor)
        to_po = any(
            link.txn_type == qbxml.TxnType.PURCHASE_ORDER
            and ctx.refs.procore_id(Entity.COMMITMENT, link.txn_id) is not None
            for link in bill.linked_txn
        )
        if not (to_po or (pvendor is not None and pvendor in ctx.vendor_commitments)):
            self._direct_costs(record, bill, ctx, batches)
            return
        if linked:
            self._skip(record, "the bill's subcontractor invoice exists; change it in Procore")
            return
        facts = bill_facts(bill, ctx)
        result = self.engine.registry.map(reg.BILL_TO_REQUISITION, bill, ctx)
        commitment = None
        if isinstance(result, Mapped):
            rq = result.record.requisition
            commitment = self._commitment_facts(rq.commitment_id, exclude=None)
        if not self._verified(record, verify_invoice(facts, commitment, self.conn.verification)):
            return
        if isinstance(result, Skip):
            self._skip(record, result)
            return
        self._create_requisition(record, result.record)

    def _create_requisition(self, record: StagedRecord, invoice: SubcontractorInvoice) -> None:
        rq = invoice.requisition
        if self.dry:
            self._outcome(record, "write", f"subcontractor invoice {rq.invoice_number} for Procore")
            return
        res = self.client.requisitions
        found = (
            res.find_by_origin_id(rq.origin_id or "", project_id=rq.project_id)
            if record.attempts > 1
            else None
        )
        body = rq.to_api()
        body.pop("commitment_id", None)
        created = found or res.create(
            body, project_id=rq.project_id, extra_body={"commitment_id": rq.commitment_id}
        )
        # Before the record is marked done: a crash in between must not lose what the
        # payments of this invoice will need to find its commitment.
        if created.id is not None and rq.commitment_id is not None:
            index = self._index("invoice_commitments")
            index[str(created.id)] = rq.commitment_id
            self._put_index("invoice_commitments", index)
        self._written(
            record,
            Entity.INVOICE,
            record.source_id,
            created,
            f"subcontractor invoice {created.id}",
            amount=rq.total_claimed_amount,
        )

    def _direct_costs(
        self,
        record: StagedRecord,
        txn: qbxml.BillRet | qbxml.CheckRet | qbxml.CreditCardChargeRet,
        ctx: MappingContext,
        batches: dict[tuple[str, int | None], list[_Pending]],
    ) -> None:
        result = self.engine.registry.map(reg.JOB_COSTS_TO_DIRECT_COSTS, txn, ctx)
        if isinstance(result, Skip):
            self._skip(record, result)
            return
        for cost in result.record:
            project = (cost.extra or {}).get("project_id")
            payload = cost.to_api()
            payload.pop("project_id", None)
            self._open_parts[record.id] += 1
            batches.setdefault(("direct_costs", project), []).append(
                _Pending(
                    record=record,
                    entity=Entity.DIRECT_COST,
                    qb_id=cost.origin_id or "",
                    payload=payload,
                    amount=cost.grand_total,
                )
            )

    def _bill_payment(
        self,
        record: StagedRecord,
        payment: qbxml.BillPaymentCheckRet,
        ctx: MappingContext,
    ) -> None:
        result = self.engine.registry.map(reg.BILL_PAYMENT_TO_PAYMENTS, payment, ctx)
        if isinstance(result, Skip):
            self._skip(record, result)
            return
        if self.dry:
            self._outcome(record, "write", f"{len(result.record)} payment(s) issued for Procore")
            return
        for paid in result.record:
            if self.store.get_xref(self.conn.id, Entity.PAYMENT, qb_id=paid.origin_id) is not None:
                continue  # this part was written before a crash
            res = self.client.contract_payments
            project = self._index("contracts").get(str(paid.contract_id), {}).get("project_id")
            scope = {"project_id": project, "parent_id": paid.contract_id}
            found = (
                res.find_by_origin_id(paid.origin_id or "", **scope)
                if record.attempts > 1
                else None
            )
            created = found or res.create(paid, **scope)
            self.store.link(
                self.conn.id,
                Entity.PAYMENT,
                qb_id=paid.origin_id,
                procore_id=created.id,
                origin_id=paid.origin_id,
                origin_data=paid.origin_data,
            )
            self._echo(Entity.PAYMENT, created)
            audit(
                self.store,
                self.conn.id,
                Entity.PAYMENT,
                Stage.WRITTEN,
                qb_id=paid.origin_id,
                procore_id=created.id,
                amount=paid.amount,
                detail="payment issued written to Procore",
            )
        self.report.moved[_direction(Entity.PAYMENT, Side.PROCORE)] += 1
        self._finish(
            record, ItemStatus.DONE, Stage.MAPPED, f"{len(result.record)} payment(s) issued"
        )

    def _deleted(
        self,
        record: StagedRecord,
        deleted: qbxml.TxnDeletedRet | qbxml.ListDeletedRet,
        ctx: MappingContext,
    ) -> None:
        spec: reg.MappingSpec[Any, ProcoreDeletion] = (
            reg.TXN_DELETED_TO_DELETION
            if isinstance(deleted, qbxml.TxnDeletedRet)
            else reg.LIST_DELETED_TO_DELETION
        )
        result = self.engine.registry.map(spec, deleted, ctx)
        if isinstance(result, Skip):
            self._finish(record, ItemStatus.SKIPPED, Stage.SKIPPED, result.reason)
            return
        gone: ProcoreDeletion = result.record
        if self.dry:
            self._outcome(
                record,
                "write",
                f"{gone.action} {gone.entity.value} {list(gone.procore_ids)} in Procore",
            )
            return
        done = self._mirror_deletion(gone)
        for pid in gone.procore_ids:
            self.store.link(self.conn.id, gone.entity, procore_id=pid, deleted=True)
        self._finish(
            record,
            ItemStatus.DONE,
            Stage.DELETED,
            f"deleted in QuickBooks: {done}",
        )

    def _mirror_deletion(self, gone: ProcoreDeletion) -> str:
        """Remove or deactivate the Procore side; return what was done, in words."""
        ids = list(gone.procore_ids)
        if gone.action == "deactivate":
            if gone.entity is Entity.VENDOR:
                self.client.vendors.sync([{"id": pid, "is_active": False} for pid in ids])
            else:
                self.client.projects.sync([{"id": pid, "active": False} for pid in ids])
            return f"deactivated Procore {gone.entity.value} {ids}"
        if gone.entity is Entity.DIRECT_COST:
            projects = self._index("direct_cost_projects")
            for pid in ids:
                self.client.direct_costs.delete(pid, project_id=projects.get(str(pid)))
            return f"deleted Procore direct cost(s) {ids}"
        # Procore offers no API delete for subcontractor invoices or payments issued.
        return (
            f"Procore {gone.entity.value} {ids} must be deleted in Procore by a person"
            " (Procore has no API delete for it)"
        )

    # -- batches to Procore -----------------------------------------------------------------

    def _flush(self, batches: dict[tuple[str, int | None], list[_Pending]]) -> None:
        for (resource, project_id), items in list(batches.items()):
            del batches[(resource, project_id)]
            if not items:
                continue
            if self.dry:
                for p in items:
                    self.report.moved[_direction(p.entity, Side.PROCORE)] += 1
                    self._outcome(p.record, "write", f"{resource} upsert (origin_id {p.qb_id})")
                continue
            self._send_batch(resource, project_id, items)
            parts = collections.Counter(p.record.id for p in items)
            for p in items:
                rid = p.record.id
                if rid not in parts:
                    continue
                self._open_parts[rid] -= parts.pop(rid)
                if self._open_parts[rid] <= 0:
                    del self._open_parts[rid]
                    self._settle(p, resource)

    def _send_batch(self, resource: str, project_id: int | None, items: list[_Pending]) -> None:
        """One batch upsert; each part's outcome is noted for `_settle`."""
        res = getattr(self.client, resource)
        try:
            result = res.sync([p.payload for p in items], project_id=project_id)
        except procore.ReauthorizationRequiredError:
            raise
        except procore.ProcoreError as exc:
            # Procore failed the whole batch even after the client's retries: every record
            # in it stays pending for the next run (the upsert by origin_id is safe to repeat).
            for rid in {p.record.id for p in items}:
                self._part_retry[rid] = f"Procore {resource} upsert failed: {exc}"
            return
        if resource == "direct_costs":
            # Where each direct cost lives, for mirroring a deletion (written before any of
            # these records is marked done).
            homes = self._index("direct_cost_projects")
            homes.update({str(i.id): project_id for i in result.items if i.id is not None})
            self._put_index("direct_cost_projects", homes)
        for item in result.items:
            pending = items[item.index]
            if item.status == "failed" or item.id is None:
                self._part_errors.setdefault(pending.record.id, []).append(
                    f"Procore refused the {resource} upsert: {dict(item.errors)}"
                )
                continue
            self.store.link(
                self.conn.id,
                pending.entity,
                qb_id=pending.qb_id,
                procore_id=item.id,
                origin_id=pending.payload.get("origin_id"),
                origin_data=pending.payload.get("origin_data"),
                edit_sequence=pending.record.version
                if pending.qb_id == pending.record.source_id
                else None,
            )
            if item.entity is not None:
                self._echo(pending.entity, item.entity)
            where = f"project {project_id} " if project_id is not None else ""
            audit(
                self.store,
                self.conn.id,
                pending.entity,
                Stage.WRITTEN,
                qb_id=pending.qb_id,
                procore_id=item.id,
                amount=pending.amount,
                detail=f"{where}{resource} {item.status} in Procore".strip(),
            )

    def _settle(self, pending: _Pending, resource: str) -> None:
        """Every part of a record has been sent: record how it went."""
        record = pending.record
        retry = self._part_retry.pop(record.id, None)
        errors = self._part_errors.pop(record.id, [])
        if retry is not None:
            self._outcome(record, "wait", retry)
            audit(
                self.store,
                self.conn.id,
                record.entity,
                Stage.RETRIED,
                **_ids(record),
                detail=f"{retry}; retried on the next run",
            )
            # Held (still claimed) until the run ends: released now, this run would claim it
            # again at once.
            self._held.append(attrs.evolve(record, error=retry))
        elif errors:
            self._finish(record, ItemStatus.FAILED, Stage.FAILED, "; ".join(errors))
        else:
            self.report.moved[_direction(pending.entity, Side.PROCORE)] += 1
            self._outcome(record, "write", f"{resource} upserted")
            self.store.finish_staged(record.id, ItemStatus.DONE, worker=self.worker)

    def _written(  # noqa: PLR0917 - private step; its arguments read in call order
        self,
        record: StagedRecord,
        entity: Entity,
        qb_id: str,
        created: procore.ProcoreModel,
        detail: str,
        amount: Decimal | None,
    ) -> None:
        self.store.link(
            self.conn.id,
            entity,
            qb_id=qb_id,
            procore_id=created.id,
            origin_id=getattr(created, "origin_id", None) or qb_id,
        )
        self._echo(entity, created)
        audit(
            self.store,
            self.conn.id,
            entity,
            Stage.WRITTEN,
            qb_id=qb_id,
            procore_id=created.id,
            amount=amount,
            detail=f"{detail} written to Procore",
        )
        self.report.moved[_direction(entity, Side.PROCORE)] += 1
        self._outcome(record, "write", detail)
        self.store.finish_staged(record.id, ItemStatus.DONE, worker=self.worker)

    def _echo(self, entity: Entity, written: procore.ProcoreModel) -> None:
        """Stage the version we wrote as handled, so pulling it back is not a change."""
        if written.id is None:
            return
        echo = self.store.stage(
            self.conn.id,
            source=Side.PROCORE,
            entity=entity,
            source_id=str(written.id),
            version=procore_version(written),
            payload=encode_procore(written),
        )
        if echo is not None:
            self.store.finish_staged(echo.id, ItemStatus.DONE, error="written by qbprocore")

    # -- Procore -> QuickBooks --------------------------------------------------------------

    def _from_procore(self, record: StagedRecord, ctx: MappingContext) -> None:
        data = decode_procore(record.payload)
        resource = data.pop("_resource", None)
        data.pop("_project_id", None)
        entity = record.entity
        pid = int(record.source_id)
        xref = (
            self.store.get_xref(self.conn.id, entity, procore_id=pid)
            if entity is not Entity.BUDGET
            else None
        )
        origin = data.get("origin_id")
        if (
            xref is None
            and origin
            and entity
            in (Entity.VENDOR, Entity.PROJECT, Entity.INVOICE, Entity.PAYMENT, Entity.DIRECT_COST)
        ):
            # Made from a QuickBooks record (by us, or by an earlier integration): link it.
            if not self.dry:
                self.store.link(
                    self.conn.id, entity, qb_id=str(origin), procore_id=pid, origin_id=str(origin)
                )
            self._finish(
                record, ItemStatus.DONE, Stage.MAPPED, f"linked to QuickBooks record {origin}"
            )
            return
        if xref is not None and xref.qb_id is not None:
            updates = _LIST_UPDATES.get(entity)
            if updates is not None and self._updates_from(entity) is Side.PROCORE:
                spec, model, kind = updates
                self._modify(record, spec, model.from_api(data), ctx, kind, pid, xref.qb_id)
            else:
                owner = (
                    "QuickBooks is the source of truth for updates"
                    if self._updates_from(entity) is Side.QUICKBOOKS
                    else "updates of this record are not mirrored"
                )
                self._finish(
                    record,
                    ItemStatus.SKIPPED,
                    Stage.SKIPPED,
                    f"already in QuickBooks ({xref.qb_id}); {owner}",
                )
            return
        if entity is Entity.VENDOR:
            self._add(
                record, reg.VENDOR_TO_QB_VENDOR, procore.Vendor.from_api(data), ctx, "Vendor", pid
            )
        elif entity is Entity.PROJECT:
            self._add(
                record, reg.PROJECT_TO_JOB, procore.Project.from_api(data), ctx, "Customer", pid
            )
        elif entity is Entity.COST_CODE:
            self._cost_code(record, procore.CostCode.from_api(data), ctx)
        elif entity is Entity.BUDGET:
            self._budget(record, data, ctx)
        elif entity is Entity.COMMITMENT:
            self._commitment(record, data, resource or "work_order_contracts", ctx)
        elif entity is Entity.CHANGE_ORDER:
            self._change_order(record, data, ctx)
        elif entity is Entity.INVOICE:
            self._requisition(record, data, ctx)
        elif entity is Entity.PAYMENT:
            self._payment(record, data, ctx)
        else:
            self._skip(record, f"Procore {entity.value} records are not written to QuickBooks")

    def _add(  # noqa: PLR0917 - private step; its arguments read in call order
        self,
        record: StagedRecord,
        spec: reg.MappingSpec[Any, Any],
        source: Any,
        ctx: MappingContext,
        kind: str,
        procore_id: int,
        *,
        key: str | None = None,
    ) -> None:
        result = self.engine.registry.map(spec, source, ctx)
        if isinstance(result, Skip):
            self._skip(record, result)
            return
        add = result.record
        key = key or f"add:{spec.entity.value}:{procore_id}"
        if kind in ("Vendor", "ItemService"):
            marker = add.name
        elif kind == "Customer":
            parent = add.parent_ref.full_name if add.parent_ref is not None else None
            marker = f"{parent}:{add.name}" if parent else add.name
        else:
            marker = external_guid(key)
            add = attrs.evolve(add, external_guid=marker)
        rq_cls: Any = getattr(qbxml, f"{kind}AddRq")
        field = type(add).__name__
        snake = "".join(
            "_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(field)
        )
        request = qbxml.dumps(rq_cls(**{snake: add})).decode("ascii")
        write = QbWrite(
            kind=kind, entity=spec.entity, procore_id=procore_id, request=request, marker=marker
        )
        self._enqueue(record, key, write, record_amount(add))

    def _modify(  # noqa: PLR0917 - private step; its arguments read in call order
        self,
        record: StagedRecord,
        spec: reg.MappingSpec[Any, Any],
        source: Any,
        ctx: MappingContext,
        kind: str,
        procore_id: int,
        qb_id: str,
    ) -> None:
        """A Procore update of a linked vendor or project, as a QuickBooks Mod.

        The Mod carries what the create mapping writes; its EditSequence is fetched just
        before it is sent (see `QuickBooksWorkSource`).
        """
        result = self.engine.registry.map(spec, source, ctx)
        if isinstance(result, Skip):
            self._skip(record, result)
            return
        mod_cls: Any = getattr(qbxml, f"{kind}Mod")
        wanted = {f.attr for f in mod_cls.__qbxml__.fields}
        add = result.record
        fields = {
            f.attr: getattr(add, f.attr)
            for f in type(add).__qbxml__.fields
            if f.attr in wanted and getattr(add, f.attr) not in (None, ())
        }
        mod = mod_cls(list_id=qb_id, edit_sequence="0", **fields)
        rq_cls: Any = getattr(qbxml, f"{kind}ModRq")
        snake = "vendor_mod" if kind == "Vendor" else "customer_mod"
        request = qbxml.dumps(rq_cls(**{snake: mod})).decode("ascii")
        write = QbWrite(
            kind=f"{kind}Mod",
            entity=spec.entity,
            procore_id=procore_id,
            request=request,
            marker=qb_id,
            txn_id=qb_id,
        )
        self._enqueue(record, f"mod:{spec.entity.value}:{procore_id}:{record.version}", write, None)

    def _cost_code(
        self, record: StagedRecord, cost_code: procore.CostCode, ctx: MappingContext
    ) -> None:
        """One Service item per code, made by the first cost code with that code.

        The same code in other projects resolves to that item (see `RefTable.alias`).
        """
        code = (cost_code.full_code or cost_code.code or "").casefold()
        pid = int(record.source_id)
        codes = self._index("cost_code_codes")
        if not self.dry and codes.get(str(pid)) != code:
            codes[str(pid)] = code
            self._put_index("cost_code_codes", codes)
        twins = [int(k) for k, v in codes.items() if v == code and int(k) != pid]
        for twin in twins:
            qb_id = ctx.refs.qb_id(Entity.COST_CODE, twin)
            if qb_id is not None:
                if not self.dry:
                    aliases = self._index("cost_code_alias")
                    aliases[str(pid)] = qb_id
                    self._put_index("cost_code_alias", aliases)
                self._finish(
                    record,
                    ItemStatus.DONE,
                    Stage.MAPPED,
                    f"cost code {code} uses the Service item of the same code ({qb_id})",
                )
                return
        key = f"add:cost_code:{code}"
        if twins and any(o.key == key for o in self.store.list_outbox(self.conn.id)):
            raise _Wait(f"the Service item for cost code {code} is being created")
        self._add(record, reg.COST_CODE_TO_ITEM, cost_code, ctx, "ItemService", pid, key=key)

    def _budget(self, record: StagedRecord, data: dict[str, Any], ctx: MappingContext) -> None:
        project_id = int(data["project_id"])
        project = procore.Project(id=project_id, name=self._index("projects").get(str(project_id)))
        lines = tuple(procore.BudgetLineItem.from_api(li) for li in data.get("line_items", []))
        budget = Budget(project=project, line_items=lines)
        if self.store.get_xref(self.conn.id, Entity.BUDGET, procore_id=project_id) is not None:
            self._skip(record, "the project's budget is already an estimate in QuickBooks")
            return
        self._add(record, reg.BUDGET_TO_ESTIMATE, budget, ctx, "Estimate", project_id)

    def _commitment(
        self, record: StagedRecord, data: dict[str, Any], resource: str, ctx: MappingContext
    ) -> None:
        cls = (
            procore.WorkOrderContract
            if resource == "work_order_contracts"
            else procore.PurchaseOrderContract
        )
        commitment = cls.from_api(data)
        vendor = (commitment.vendor or {}).get("id")
        if vendor is not None and commitment.id is not None and not self.dry:
            index = self._index("vendor_commitments")
            index.setdefault(str(vendor), commitment.id)
            self._put_index("vendor_commitments", index)
        facts = commitment_facts(commitment)
        if not self._verified(record, verify_commitment(facts, self.conn.verification)):
            return
        self._add(
            record,
            reg.COMMITMENT_TO_PURCHASE_ORDER,
            commitment,
            ctx,
            "PurchaseOrder",
            int(record.source_id),
        )

    def _change_order(
        self, record: StagedRecord, data: dict[str, Any], ctx: MappingContext
    ) -> None:
        co = procore.CommitmentChangeOrder.from_api(data)
        contract = co.contract_id
        po = None if contract is None else ctx.refs.qb_id(Entity.COMMITMENT, contract)
        if po is None:
            raise _Wait(
                f"change order {co.number or co.id}: its commitment {contract} is not a"
                " purchase order yet"
            )
        if not self.store.get_xref(self.conn.id, Entity.COMMITMENT, qb_id=po):
            raise _Wait("purchase order not linked")
        status_ok = (co.status or "").casefold() in {
            s.casefold() for s in self.conn.mapping.change_order_statuses
        }
        if not status_ok:
            self._skip(
                record,
                f"change order {co.number or co.id} is {co.status!r}; only approved ones"
                " reach QuickBooks",
            )
            return
        write = QbWrite(
            kind="PurchaseOrderMod",
            entity=Entity.CHANGE_ORDER,
            procore_id=co.id,
            change_order=co.to_api(),
            txn_id=po,
        )
        self._enqueue(record, f"co:{co.id}", write, co.grand_total)

    def _staged_procore(
        self,
    ) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, procore.Requisition]]]:
        """Commitments (latest version by id) and their invoices as staged, read once a run."""
        if self._procore_seen is None:
            commitments: dict[int, dict[str, Any]] = {}
            invoices: dict[int, dict[str, procore.Requisition]] = {}
            for record in self.store.list_staged(self.conn.id):
                if record.source is not Side.PROCORE or not record.source_id.isdigit():
                    continue
                if record.entity is Entity.COMMITMENT:
                    commitments[int(record.source_id)] = decode_procore(record.payload)
                elif record.entity is Entity.INVOICE:
                    data = decode_procore(record.payload)
                    fields = {k: v for k, v in data.items() if not k.startswith("_")}
                    fields.pop("items", None)
                    rq = procore.Requisition.from_api(fields)
                    if rq.commitment_id is not None:
                        invoices.setdefault(rq.commitment_id, {})[record.source_id] = rq
            self._procore_seen = (commitments, invoices)
        return self._procore_seen

    def _commitment_of(
        self, commitment_id: int | None
    ) -> procore.WorkOrderContract | procore.PurchaseOrderContract | None:
        if commitment_id is None:
            return None
        data = dict(self._staged_procore()[0].get(commitment_id) or {})
        if not data:
            return None
        resource = data.pop("_resource", "work_order_contracts")
        data.pop("_project_id", None)
        if resource == "purchase_order_contracts":
            return procore.PurchaseOrderContract.from_api(data)
        return procore.WorkOrderContract.from_api(data)

    def _commitment_facts(
        self, commitment_id: int | None, *, exclude: int | None
    ) -> CommitmentFacts | None:
        """A commitment with the invoices billed against it before ``exclude``."""
        commitment = self._commitment_of(commitment_id)
        if commitment is None or commitment_id is None:
            return None
        earlier = [
            rq
            for rq in self._staged_procore()[1].get(commitment_id, {}).values()
            if rq.id != exclude and (exclude is None or (rq.id or 0) < exclude)
        ]
        return commitment_facts(commitment, earlier_invoices=earlier)

    def _requisition(self, record: StagedRecord, data: dict[str, Any], ctx: MappingContext) -> None:
        items = tuple(procore.RequisitionItem.from_api(i) for i in data.pop("items", []))
        rq = procore.Requisition.from_api(data)
        invoice = SubcontractorInvoice(requisition=rq, items=items)
        amount = (
            sum(
                (
                    (i.work_completed_this_period or Decimal(0))
                    + (i.materials_presently_stored or Decimal(0))
                    for i in items
                ),
                Decimal(0),
            )
            if items
            else (rq.total_claimed_amount or Decimal(0))
        )
        unmapped = []
        coming: list[str] = []  # dependencies on their way to QuickBooks
        for i in items:
            cc = (i.cost_code or {}).get("id")
            if cc is not None and ctx.refs.qb_id(Entity.COST_CODE, int(cc)) is None:
                code = (i.cost_code or {}).get("full_code") or str(cc)
                unmapped.append(code)
                if self._on_its_way(f"add:cost_code:{str(code).casefold()}"):
                    coming.append(f"cost code {code}")
        facts = InvoiceFacts(
            invoice_id=str(rq.id),
            vendor_id=str(rq.vendor_id or ""),
            invoice_number=rq.invoice_number,
            amount=amount,
            vendor_mapped=rq.vendor_id is not None
            and ctx.refs.qb_id(Entity.VENDOR, rq.vendor_id) is not None,
            unmapped_cost_codes=tuple(unmapped),
        )
        if not facts.vendor_mapped and self._on_its_way(f"add:vendor:{rq.vendor_id}"):
            coming.append(f"vendor {rq.vendor_name or rq.vendor_id}")
        if coming:
            # A missing mapping blocks only when nothing is on its way to fill it.
            raise _Wait(f"invoice {rq.invoice_number}: waiting for {', '.join(coming)}")
        if rq.commitment_id is not None and rq.id is not None and not self.dry:
            index = self._index("invoice_commitments")
            index[str(rq.id)] = rq.commitment_id
            self._put_index("invoice_commitments", index)
        commitment = self._commitment_facts(rq.commitment_id, exclude=rq.id)
        if not self._verified(record, verify_invoice(facts, commitment, self.conn.verification)):
            return
        self._add(record, reg.REQUISITION_TO_BILL, invoice, ctx, "Bill", int(record.source_id))

    def _on_its_way(self, key: str) -> bool:
        """Whether the outbox holds an unfinished write with this key."""
        if self._outbox_keys is None:
            open_ = (ItemStatus.PENDING, ItemStatus.CLAIMED)
            self._outbox_keys = {
                o.key for o in self.store.list_outbox(self.conn.id) if o.status in open_
            }
        return key in self._outbox_keys

    def _payment(self, record: StagedRecord, data: dict[str, Any], ctx: MappingContext) -> None:
        payment = procore.ContractPayment.from_api(data)
        commitment = self._commitment_of(payment.contract_id)
        if commitment is None:
            raise _Wait(
                f"payment {payment.id}: its commitment {payment.contract_id} is not synced yet"
            )
        self._add(
            record,
            reg.PAYMENT_TO_BILL_PAYMENT,
            CommitmentPayment(payment=payment, commitment=commitment),
            ctx,
            "BillPaymentCheck",
            int(record.source_id),
        )
