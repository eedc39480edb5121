"""Resources hanging off the client (``client.vendors.list(...)``), defined by one table.

Each `ResourceSpec` names the paths Procore uses for one resource. Paths are versioned
per resource (``/rest/v1.0/…``, ``/rest/v1.1/…``) and scoped either by a ``company_id`` or a
``project_id`` (in the query or in the path); some resources sit under a parent record
(``parent_id``: the contract of a line item, the requisition of an item...).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import attrs

from qbprocore.procore import _models as m
from qbprocore.procore._errors import (
    APIConnectionError,
    InternalServerError,
    NotFoundError,
    json_body,
)
from qbprocore.procore._pagination import AsyncPager, Pager, check_per_page
from qbprocore.procore._sync import (
    MAX_SYNC_BATCH,
    SyncItemResult,
    SyncResult,
    as_payload,
    classify,
    is_idempotent_batch,
)

if TYPE_CHECKING:
    from qbprocore.procore._client import AsyncProcoreClient, ProcoreClient

__all__ = ["RESOURCES", "AsyncResource", "Resource", "ResourceSpec"]

_log = logging.getLogger("qbprocore.procore.http")

# Failures after which a POST may or may not have committed.
_AMBIGUOUS = (APIConnectionError, InternalServerError)


def _origin_of(payload: Mapping[str, Any], exc: Exception) -> str:
    """The record's origin_id, or re-raise ``exc`` when there is none to look it up by."""
    origin = payload.get("origin_id")
    if not origin:
        raise exc
    return str(origin)


M = TypeVar("M", bound=m.ProcoreModel)
Scope = Literal["none", "company", "project"]
IncludeDeleted = Literal["only", "with"]


@attrs.frozen(kw_only=True)
class ResourceSpec:
    """Where one resource lives.

    Attributes:
        name: Attribute name on the client.
        model: Model class of its records.
        scope: ``"company"`` (``company_id``), ``"project"`` (``project_id``) or ``"none"``.
        list_path: Collection path; may contain ``{project_id}`` and ``{parent_id}``.
        item_path: Single-record path with ``{id}``; defaults to ``list_path + "/{id}"``.
        create_path: POST path for creates, when Procore has one.
        wrapper: JSON key wrapping a single record in create/update bodies (``"vendor"``).
        update_path: PATCH path for updates by id, when Procore has one.
        sync_path: The batch upsert path, when Procore has one.
        sync_method: HTTP method of the sync endpoint (PATCH, or POST for budget lines).
        parent: What ``parent_id`` means for this resource (for error messages).
        parent_param: Query/body parameter that carries ``parent_id`` when the parent is not
            in the path (``contract_id`` for contract payments).
        sync_item_parent: Item field naming the parent in a project-wide sync of nested
            records (``direct_cost_id`` for direct cost line items).
        delete_path: DELETE path by id, when Procore has one.
    """

    name: str
    model: type[m.ProcoreModel]
    scope: Scope
    list_path: str
    item_path: str | None = None
    create_path: str | None = None
    wrapper: str | None = None
    update_path: str | None = None
    sync_path: str | None = None
    sync_method: str = "PATCH"
    delete_path: str | None = None
    parent: str | None = None
    parent_param: str | None = None
    sync_item_parent: str | None = None

    @property
    def single_path(self) -> str:
        """The single-record path template."""
        return self.item_path or f"{self.list_path}/{{id}}"


def _spec(**kwargs: Any) -> ResourceSpec:
    return ResourceSpec(**kwargs)


RESOURCES: tuple[ResourceSpec, ...] = (
    _spec(name="companies", model=m.Company, scope="none", list_path="/rest/v1.0/companies"),
    _spec(
        name="projects",
        model=m.Project,
        scope="company",
        list_path="/rest/v1.1/projects",
        item_path="/rest/v1.0/projects/{id}",
        sync_path="/rest/v1.0/projects/sync",
    ),
    _spec(
        name="vendors",
        model=m.Vendor,
        scope="company",
        list_path="/rest/v1.0/vendors",
        create_path="/rest/v1.0/vendors",
        wrapper="vendor",
        update_path="/rest/v1.0/vendors/{id}",
        sync_path="/rest/v1.0/vendors/sync",
    ),
    _spec(
        name="project_vendors",
        model=m.Vendor,
        scope="project",
        list_path="/rest/v1.0/projects/{project_id}/vendors",
        sync_path="/rest/v1.0/projects/{project_id}/vendors/sync",
    ),
    _spec(
        name="cost_codes",
        model=m.CostCode,
        scope="project",
        list_path="/rest/v1.0/cost_codes",
        sync_path="/rest/v1.0/cost_codes/sync",
    ),
    _spec(
        name="line_item_types",
        model=m.LineItemType,
        scope="company",
        list_path="/rest/v1.0/line_item_types",
        sync_path="/rest/v1.0/line_item_types/sync",
    ),
    _spec(
        name="budget_views",
        model=m.BudgetView,
        scope="project",
        list_path="/rest/v1.0/budget_views",
    ),
    _spec(
        name="budget_view_detail_rows",
        model=m.BudgetViewDetailRow,
        scope="project",
        list_path="/rest/v1.0/budget_views/{parent_id}/detail_rows",
        parent="budget view id",
    ),
    _spec(
        name="budget_line_items",
        model=m.BudgetLineItem,
        scope="project",
        list_path="/rest/v1.0/budget_line_items",
        item_path="/rest/v1.1/budget_line_items/{id}",
        create_path="/rest/v1.1/budget_line_items",
        wrapper="budget_line_item",
        sync_path="/rest/v1.0/budget_line_items/sync",
        sync_method="POST",
    ),
    _spec(
        name="work_order_contracts",
        model=m.WorkOrderContract,
        scope="project",
        list_path="/rest/v1.0/work_order_contracts",
        create_path="/rest/v1.0/work_order_contracts",
        wrapper="work_order_contract",
        update_path="/rest/v1.0/work_order_contracts/{id}",
        sync_path="/rest/v1.0/work_order_contracts/sync",
    ),
    _spec(
        name="work_order_contract_line_items",
        model=m.CommitmentLineItem,
        scope="project",
        list_path="/rest/v1.0/work_order_contracts/{parent_id}/line_items",
        sync_path="/rest/v1.0/work_order_contracts/{parent_id}/line_items/sync",
        parent="work order contract id",
    ),
    _spec(
        name="purchase_order_contracts",
        model=m.PurchaseOrderContract,
        scope="project",
        list_path="/rest/v1.0/purchase_order_contracts",
        create_path="/rest/v1.0/purchase_order_contracts",
        wrapper="purchase_order_contract",
        update_path="/rest/v1.0/purchase_order_contracts/{id}",
        sync_path="/rest/v1.0/purchase_order_contracts/sync",
    ),
    _spec(
        name="purchase_order_contract_line_items",
        model=m.CommitmentLineItem,
        scope="project",
        list_path="/rest/v1.0/purchase_order_contracts/{parent_id}/line_items",
        sync_path="/rest/v1.0/purchase_order_contracts/{parent_id}/line_items/sync",
        parent="purchase order contract id",
    ),
    _spec(
        name="commitment_change_orders",
        model=m.CommitmentChangeOrder,
        scope="project",
        list_path="/rest/v1.0/projects/{project_id}/commitment_change_orders",
    ),
    _spec(
        name="potential_change_orders",
        model=m.PotentialChangeOrder,
        scope="project",
        list_path="/rest/v1.0/potential_change_orders",
        sync_path="/rest/v1.0/potential_change_orders/sync",
    ),
    _spec(
        name="potential_change_order_line_items",
        model=m.PotentialChangeOrderLineItem,
        scope="project",
        list_path="/rest/v1.0/potential_change_orders/{parent_id}/line_items",
        sync_path="/rest/v1.0/potential_change_orders/{parent_id}/line_items/sync",
        parent="potential change order id",
    ),
    _spec(
        name="requisitions",
        model=m.Requisition,
        scope="project",
        list_path="/rest/v1.1/requisitions",
        create_path="/rest/v1.1/requisitions",
        wrapper="requisition",
        update_path="/rest/v1.1/requisitions/{id}",
    ),
    _spec(
        name="requisition_items",
        model=m.RequisitionItem,
        scope="project",
        list_path="/rest/v1.0/requisitions/{parent_id}/items",
        parent="requisition id",
    ),
    _spec(
        name="contract_payments",
        model=m.ContractPayment,
        scope="project",
        list_path="/rest/v1.0/contract_payments",
        create_path="/rest/v1.0/contract_payments",
        wrapper="contract_payment",
        update_path="/rest/v1.0/contract_payments/{id}",
        parent="commitment (contract) id",
        parent_param="contract_id",
    ),
    _spec(
        name="direct_costs",
        model=m.DirectCost,
        scope="project",
        list_path="/rest/v1.1/projects/{project_id}/direct_costs",
        create_path="/rest/v1.0/projects/{project_id}/direct_costs",
        delete_path="/rest/v1.0/projects/{project_id}/direct_costs/{id}",
        wrapper="direct_cost",
        sync_path="/rest/v1.0/projects/{project_id}/direct_costs/sync",
    ),
    _spec(
        name="direct_cost_line_items",
        model=m.DirectCostLineItem,
        scope="project",
        list_path="/rest/v1.0/projects/{project_id}/direct_costs/{parent_id}/line_items",
        # The line-item sync is project-wide: each item names its direct_cost_id.
        sync_path="/rest/v1.0/projects/{project_id}/direct_costs/line_items/sync",
        sync_item_parent="direct_cost_id",
        parent="direct cost id",
    ),
)


def _fmt_time(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("updated_at bounds must be timezone-aware datetimes (or dates)")
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


class _Base(Generic[M]):
    def __init__(self, spec: ResourceSpec, company_id: int | None) -> None:
        self._spec = spec
        self._company_id = company_id

    @property
    def spec(self) -> ResourceSpec:
        """This resource's paths."""
        return self._spec

    def _path(
        self,
        template: str,
        project_id: int | None,
        parent_id: int | None,
        record_id: int | None = None,
    ) -> str:
        spec = self._spec
        if ("{parent_id}" in template or spec.parent_param) and parent_id is None:
            raise TypeError(f"{spec.name} needs parent_id= (the {spec.parent})")
        if spec.scope == "project" and project_id is None:
            raise TypeError(f"{spec.name} needs project_id=")
        return template.format(project_id=project_id, parent_id=parent_id, id=record_id)

    def _scope_params(
        self, project_id: int | None, template: str, parent_id: int | None = None
    ) -> dict[str, Any]:
        spec = self._spec
        params: dict[str, Any] = {}
        if spec.scope == "company":
            if self._company_id is None:
                raise TypeError(f"{spec.name} needs a client with company_id set")
            params["company_id"] = self._company_id
        elif spec.scope == "project" and "{project_id}" not in template:
            params["project_id"] = project_id
        if spec.parent_param:
            params[spec.parent_param] = parent_id
        return params

    def _list_params(
        self,
        *,
        project_id: int | None,
        parent_id: int | None,
        per_page: int,
        updated_at: tuple[dt.datetime | dt.date, dt.datetime | dt.date] | None,
        origin_id: str | Sequence[str] | None,
        include_deleted: IncludeDeleted | None,
        filters: Mapping[str, Any] | None,
    ) -> tuple[str, dict[str, Any]]:
        check_per_page(per_page)
        path = self._path(self._spec.list_path, project_id, parent_id)
        params = self._scope_params(project_id, self._spec.list_path, parent_id)
        if updated_at is not None:
            start, end = updated_at
            params["filters[updated_at]"] = f"{_fmt_time(start)}...{_fmt_time(end)}"
        if origin_id is not None:
            params["filters[origin_id]"] = (
                origin_id if isinstance(origin_id, str) else ",".join(origin_id)
            )
        if include_deleted is not None:
            if include_deleted not in ("only", "with"):
                raise ValueError(
                    f"include_deleted must be 'only' or 'with', got {include_deleted!r}"
                )
            params["filters[include_deleted]"] = include_deleted
        for key, value in (filters or {}).items():
            params[key if key.startswith("filters[") else f"filters[{key}]"] = value
        return path, params

    def _require(self, what: str, value: str | None) -> str:
        if value is None:
            raise NotImplementedError(f"Procore has no {what} endpoint for {self._spec.name}")
        return value

    def _body(
        self, project_id: int | None, template: str, parent_id: int | None = None, **rest: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        scope = self._spec.scope
        if scope == "company" and self._company_id is not None:
            body["company_id"] = self._company_id
        elif scope == "project" and "{project_id}" not in template:
            body["project_id"] = project_id
        if self._spec.parent_param:
            body[self._spec.parent_param] = parent_id
        body.update(rest)
        return body

    def _chunks(
        self,
        items: Iterable[Mapping[str, Any] | m.ProcoreModel],
        chunk_size: int,
        parent_id: int | None = None,
    ) -> list[list[dict[str, Any]]]:
        if not 1 <= chunk_size <= MAX_SYNC_BATCH:
            raise ValueError(f"chunk_size must be between 1 and {MAX_SYNC_BATCH}, got {chunk_size}")
        payloads = [as_payload(item) for item in items]
        key = self._spec.sync_item_parent
        if key and parent_id is not None:
            # A project-wide sync of nested records: each item names its parent.
            payloads = [{key: parent_id, **p} for p in payloads]
        return [payloads[i : i + chunk_size] for i in range(0, len(payloads), chunk_size)]


class Resource(_Base[M]):
    """A Procore resource on the sync client."""

    def __init__(self, client: ProcoreClient, spec: ResourceSpec) -> None:
        super().__init__(spec, client.company_id)
        self._client = client

    def list(
        self,
        *,
        project_id: int | None = None,
        parent_id: int | None = None,
        per_page: int = 100,
        updated_at: tuple[dt.datetime | dt.date, dt.datetime | dt.date] | None = None,
        origin_id: str | Sequence[str] | None = None,
        include_deleted: IncludeDeleted | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> Pager[M]:
        """Every record, fetched lazily page by page.

        Args:
            project_id: The project, for project-scoped resources.
            parent_id: The parent record, for nested resources (see the spec's ``parent``).
            per_page: Page size, always sent (≤ 2000; 1000 is a good bulk value).
            updated_at: ``(start, end)`` range for ``filters[updated_at]``; aware datetimes
                or dates.
            origin_id: One origin id, or several (comma-joined).
            include_deleted: ``"only"`` for deleted records, ``"with"`` for both.
            filters: Further ``filters[...]`` parameters, keys with or without the prefix.

        Returns:
            A lazy iterator over the records.
        """
        path, params = self._list_params(
            project_id=project_id,
            parent_id=parent_id,
            per_page=per_page,
            updated_at=updated_at,
            origin_id=origin_id,
            include_deleted=include_deleted,
            filters=filters,
        )
        model: type[M] = self._spec.model  # type: ignore[assignment]
        return Pager(
            self._client._get_page, path=path, params=params, model=model, per_page=per_page
        )

    def get(
        self, record_id: int, *, project_id: int | None = None, parent_id: int | None = None
    ) -> M:
        """One record by id."""
        template = self._spec.single_path
        path = self._path(template, project_id, parent_id, record_id)
        params = self._scope_params(project_id, template, parent_id)
        data = json_body(self._client.request("GET", path, params=params))
        return self._spec.model.from_api(data)  # type: ignore[return-value]

    def create(
        self,
        data: Mapping[str, Any] | m.ProcoreModel,
        *,
        project_id: int | None = None,
        parent_id: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> M:
        """Create one record with a POST — never retried blindly.

        When the outcome is unknown (a timeout, a dropped connection or a 5xx after the
        request was sent) and the record carries an ``origin_id``, the record is looked up
        by ``origin_id``: if Procore committed it, that record is returned; if not, the POST
        is sent once more. Without an ``origin_id`` the error is raised, because only the
        caller can tell whether a duplicate is acceptable. Prefer `sync` where Procore
        offers it.

        Args:
            data: The record, in Procore's field names.
            project_id: The project, for project-scoped resources.
            parent_id: The parent record, where the resource has one (the contract of a
                contract payment).
            extra_body: Top-level body fields besides the record (e.g. ``commitment_id`` for
                a requisition).

        Returns:
            The created record.
        """
        template = self._require("create", self._spec.create_path)
        path = self._path(template, project_id, parent_id)
        payload = as_payload(data)
        body = self._body(
            project_id,
            template,
            parent_id,
            **{self._spec.wrapper or "data": payload},
            **dict(extra_body or {}),
        )
        try:
            response = self._client.request("POST", path, json=body, idempotent=False)
        except _AMBIGUOUS as exc:
            origin = _origin_of(payload, exc)
            found = self.find_by_origin_id(origin, project_id=project_id, parent_id=parent_id)
            if found is not None:
                _log.info("create of origin_id %r had committed; using the stored record", origin)
                return found
            _log.warning("create of origin_id %r did not commit; sending it once more", origin)
            response = self._client.request("POST", path, json=body, idempotent=False)
        return self._spec.model.from_api(json_body(response))  # type: ignore[return-value]

    def find_by_origin_id(
        self, origin_id: str, *, project_id: int | None = None, parent_id: int | None = None
    ) -> M | None:
        """The record whose ``origin_id`` is ``origin_id`` (deleted ones excluded), or ``None``."""
        pager = self.list(
            project_id=project_id, parent_id=parent_id, per_page=1, origin_id=origin_id
        )
        page = next(pager.pages())
        return page.items[0] if page.items else None

    def update(
        self,
        record_id: int,
        data: Mapping[str, Any] | m.ProcoreModel,
        *,
        project_id: int | None = None,
        parent_id: int | None = None,
    ) -> M:
        """Update one record by id (PATCH; safe to retry)."""
        template = self._require("update", self._spec.update_path)
        path = self._path(template, project_id, parent_id, record_id)
        body = self._body(
            project_id, template, parent_id, **{self._spec.wrapper or "data": as_payload(data)}
        )
        response = self._client.request("PATCH", path, json=body, idempotent=True)
        return self._spec.model.from_api(json_body(response))  # type: ignore[return-value]

    def delete(
        self, record_id: int, *, project_id: int | None = None, parent_id: int | None = None
    ) -> None:
        """Delete one record by id (safe to retry: a record already gone is not an error)."""
        template = self._require("delete", self._spec.delete_path)
        path = self._path(template, project_id, parent_id, record_id)
        params = self._scope_params(project_id, template, parent_id)
        try:
            self._client.request("DELETE", path, params=params, idempotent=True)
        except NotFoundError:
            return

    def sync(
        self,
        items: Iterable[Mapping[str, Any] | m.ProcoreModel],
        *,
        project_id: int | None = None,
        parent_id: int | None = None,
        chunk_size: int = MAX_SYNC_BATCH,
        extra_body: Mapping[str, Any] | None = None,
    ) -> SyncResult[M]:
        """Batch upsert through the ``…/sync`` endpoint, in chunks of at most 1,000.

        Items keyed by ``origin_id`` are created when unknown and updated when known; items
        with an ``id`` are updated. A chunk is only retried automatically when every item in
        it is keyed (``id`` or ``origin_id``), since an unkeyed item would be created twice.

        Args:
            items: Mappings (or models) in Procore's field names.
            project_id: The project, for project-scoped resources.
            parent_id: The parent record, for nested resources.
            chunk_size: Items per request (1 to 1000).
            extra_body: Top-level body fields besides ``updates`` (e.g. ``contract_id`` for
                potential change orders).

        Returns:
            Per-item results: created, updated, failed with errors. Check
            `ok` — Procore answers 200 even when items failed.
        """
        template = self._require("sync", self._spec.sync_path)
        path = self._path(template, project_id, parent_id)
        results: list[SyncItemResult[M]] = []
        chunks = self._chunks(items, chunk_size, parent_id)
        for chunk in chunks:
            body = self._body(project_id, template, parent_id, **dict(extra_body or {}))
            body["updates"] = chunk
            response = self._client.request(
                self._spec.sync_method, path, json=body, idempotent=is_idempotent_batch(chunk)
            )
            results.extend(classify(chunk, len(results), json_body(response), self._spec.model))  # type: ignore[arg-type]
        return SyncResult(items=tuple(results), requests=len(chunks))


class AsyncResource(_Base[M]):
    """A Procore resource on the async client (same methods, awaitable)."""

    def __init__(self, client: AsyncProcoreClient, spec: ResourceSpec) -> None:
        super().__init__(spec, client.company_id)
        self._client = client

    def list(
        self,
        *,
        project_id: int | None = None,
        parent_id: int | None = None,
        per_page: int = 100,
        updated_at: tuple[dt.datetime | dt.date, dt.datetime | dt.date] | None = None,
        origin_id: str | Sequence[str] | None = None,
        include_deleted: IncludeDeleted | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> AsyncPager[M]:
        """Every record, fetched lazily (``async for``); see `list`."""
        path, params = self._list_params(
            project_id=project_id,
            parent_id=parent_id,
            per_page=per_page,
            updated_at=updated_at,
            origin_id=origin_id,
            include_deleted=include_deleted,
            filters=filters,
        )
        model: type[M] = self._spec.model  # type: ignore[assignment]
        return AsyncPager(
            self._client._get_page, path=path, params=params, model=model, per_page=per_page
        )

    async def get(
        self, record_id: int, *, project_id: int | None = None, parent_id: int | None = None
    ) -> M:
        """One record by id."""
        template = self._spec.single_path
        path = self._path(template, project_id, parent_id, record_id)
        params = self._scope_params(project_id, template, parent_id)
        response = await self._client.request("GET", path, params=params)
        return self._spec.model.from_api(json_body(response))  # type: ignore[return-value]

    async def create(
        self,
        data: Mapping[str, Any] | m.ProcoreModel,
        *,
        project_id: int | None = None,
        parent_id: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> M:
        """Create one record (never retried blindly); see `create`."""
        template = self._require("create", self._spec.create_path)
        path = self._path(template, project_id, parent_id)
        payload = as_payload(data)
        body = self._body(
            project_id,
            template,
            parent_id,
            **{self._spec.wrapper or "data": payload},
            **dict(extra_body or {}),
        )
        try:
            response = await self._client.request("POST", path, json=body, idempotent=False)
        except _AMBIGUOUS as exc:
            origin = _origin_of(payload, exc)
            found = await self.find_by_origin_id(origin, project_id=project_id, parent_id=parent_id)
            if found is not None:
                _log.info("create of origin_id %r had committed; using the stored record", origin)
                return found
            _log.warning("create of origin_id %r did not commit; sending it once more", origin)
            response = await self._client.request("POST", path, json=body, idempotent=False)
        return self._spec.model.from_api(json_body(response))  # type: ignore[return-value]

    async def find_by_origin_id(
        self, origin_id: str, *, project_id: int | None = None, parent_id: int | None = None
    ) -> M | None:
        """The record whose ``origin_id`` is ``origin_id``, or ``None``."""
        pages = self.list(
            project_id=project_id, parent_id=parent_id, per_page=1, origin_id=origin_id
        ).pages()
        async for page in pages:
            return page.items[0] if page.items else None
        return None

    async def update(
        self,
        record_id: int,
        data: Mapping[str, Any] | m.ProcoreModel,
        *,
        project_id: int | None = None,
        parent_id: int | None = None,
    ) -> M:
        """Update one record by id."""
        template = self._require("update", self._spec.update_path)
        path = self._path(template, project_id, parent_id, record_id)
        body = self._body(
            project_id, template, parent_id, **{self._spec.wrapper or "data": as_payload(data)}
        )
        response = await self._client.request("PATCH", path, json=body, idempotent=True)
        return self._spec.model.from_api(json_body(response))  # type: ignore[return-value]

    async def sync(
        self,
        items: Iterable[Mapping[str, Any] | m.ProcoreModel],
        *,
        project_id: int | None = None,
        parent_id: int | None = None,
        chunk_size: int = MAX_SYNC_BATCH,
        extra_body: Mapping[str, Any] | None = None,
    ) -> SyncResult[M]:
        """Batch upsert in chunks of at most 1,000; see `sync`."""
        template = self._require("sync", self._spec.sync_path)
        path = self._path(template, project_id, parent_id)
        results: list[SyncItemResult[M]] = []
        chunks = self._chunks(items, chunk_size, parent_id)
        for chunk in chunks:
            body = self._body(project_id, template, parent_id, **dict(extra_body or {}))
            body["updates"] = chunk
            response = await self._client.request(
                self._spec.sync_method, path, json=body, idempotent=is_idempotent_batch(chunk)
            )
            results.extend(classify(chunk, len(results), json_body(response), self._spec.model))  # type: ignore[arg-type]
        return SyncResult(items=tuple(results), requests=len(chunks))
