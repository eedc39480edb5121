"""FakeProcore's request and response fields agree with Procore's endpoint descriptions.

The descriptions (``../shared/reference/procore/endpoint-details``, generated from Procore's
OpenAPI document) are read in place; these tests skip when that folder is absent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from qbprocore.procore import RESOURCES, ProcoreAuth, ProcoreClient, RateLimiterRegistry
from qbprocore.testing import FakeClock, FakeProcore

# Reference operations the fake must route (method, path template as Procore documents it).
ROUTED = [
    ("GET", "/rest/v1.0/companies"),
    ("GET", "/rest/v1.0/projects/{id}"),
    ("GET", "/rest/v1.1/projects"),
    ("GET", "/rest/v1.0/vendors"),
    ("GET", "/rest/v1.0/vendors/{id}"),
    ("POST", "/rest/v1.0/vendors"),
    ("PATCH", "/rest/v1.0/vendors/{id}"),
    ("PATCH", "/rest/v1.0/vendors/sync"),
    ("GET", "/rest/v1.0/cost_codes"),
    ("GET", "/rest/v1.0/cost_codes/{id}"),
    ("GET", "/rest/v1.0/line_item_types"),
    ("GET", "/rest/v1.0/line_item_types/{id}"),
    ("GET", "/rest/v1.0/work_order_contracts"),
    ("GET", "/rest/v1.0/work_order_contracts/{id}"),
    ("POST", "/rest/v1.0/work_order_contracts"),
    ("PATCH", "/rest/v1.0/work_order_contracts/{id}"),
    ("PATCH", "/rest/v1.0/work_order_contracts/sync"),
    ("GET", "/rest/v1.0/purchase_order_contracts"),
    ("GET", "/rest/v1.0/purchase_order_contracts/{id}"),
    ("POST", "/rest/v1.0/purchase_order_contracts"),
    ("PATCH", "/rest/v1.0/purchase_order_contracts/{id}"),
    ("PATCH", "/rest/v1.0/purchase_order_contracts/sync"),
    ("GET", "/rest/v1.0/projects/{project_id}/commitment_change_orders"),
    ("GET", "/rest/v1.0/projects/{project_id}/commitment_change_orders/{id}"),
    ("GET", "/rest/v1.1/requisitions"),
    ("GET", "/rest/v1.1/requisitions/{id}"),
    ("POST", "/rest/v1.1/requisitions"),
    ("PATCH", "/rest/v1.1/requisitions/{id}"),
    ("GET", "/rest/v1.1/budget_line_items/{id}"),
    ("POST", "/rest/v1.1/budget_line_items"),
]


def _load(reference_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    folder = reference_dir / "procore" / "endpoint-details"
    ops = {}
    for file in folder.glob("*.json"):
        data = json.loads(file.read_text())
        ops[(data["method"], data["path"])] = data
    return ops


def _props(schema: dict[str, Any]) -> set[str]:
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    return set(schema.get("properties", {}))


def _ok_schema(op: dict[str, Any]) -> dict[str, Any]:
    for code in ("200", "201"):
        if code in op["responses"]:
            return op["responses"][code].get("schema", {})  # type: ignore[no-any-return]
    return {}


@pytest.fixture(scope="module")
def ops(reference_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return _load(reference_dir)


def _fake_templates() -> set[tuple[str, str]]:
    pairs = set()
    for spec in RESOURCES:
        pairs.add(("GET", spec.list_path))
        pairs.add(("GET", spec.single_path))
        if spec.create_path:
            pairs.add(("POST", spec.create_path))
        if spec.update_path:
            pairs.add(("PATCH", spec.update_path))
        if spec.sync_path:
            pairs.add((spec.sync_method, spec.sync_path))
    return {(m, re.sub(r"\{[a-z_]+\}", "{}", p)) for m, p in pairs}


def test_reference_operations_are_routed(ops: dict[tuple[str, str], dict[str, Any]]) -> None:
    routed = _fake_templates()
    for method, path in ROUTED:
        assert (method, path) in ops, f"reference lacks {method} {path}"
        assert (method, re.sub(r"\{[a-z_]+\}", "{}", path)) in routed, f"{method} {path}"


@pytest.fixture
def setup() -> tuple[FakeProcore, ProcoreClient, list[httpx.Request]]:
    clock = FakeClock()
    fake = FakeProcore(clock=clock)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fake.handle(request)

    auth = ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
    )
    client = ProcoreClient(
        auth=auth,
        company_id=fake.company_id,
        clock=clock,
        limiters=RateLimiterRegistry(),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    return fake, client, seen


def test_vendor_sync_request_fields_match_reference(
    ops: dict[tuple[str, str], dict[str, Any]],
    setup: tuple[FakeProcore, ProcoreClient, list[httpx.Request]],
) -> None:
    _fake, client, seen = setup
    op = ops[("PATCH", "/rest/v1.0/vendors/sync")]
    body_schema = op["requestBody"]["schema"]
    item_fields = set(body_schema["properties"]["updates"]["items"]["properties"])
    item = {
        "origin_id": "QB-1",
        "origin_data": "{}",
        "name": "Acme",
        "city": "Austin",
        "zip": "78701",
        "is_active": True,
        "state_code": "TX",
        "country_code": "US",
    }
    assert set(item) <= item_fields
    result = client.vendors.sync([item])
    assert result.ok
    sent = json.loads(seen[-1].content)
    assert set(body_schema["required"]) <= set(sent) <= set(body_schema["properties"])
    entity_keys = set(result.items[0].entity.to_api()) if result.items[0].entity else set()
    # Vendor responses are untyped in the reference; the entity must echo the documented
    # request fields plus Procore's bookkeeping fields.
    assert entity_keys - item_fields <= {"id", "created_at", "updated_at", "deleted_at"}


def test_work_order_contract_create_and_sync_match_reference(
    ops: dict[tuple[str, str], dict[str, Any]],
    setup: tuple[FakeProcore, ProcoreClient, list[httpx.Request]],
) -> None:
    fake, client, seen = setup
    project = fake.add_project(name="Tower")
    post = ops[("POST", "/rest/v1.0/work_order_contracts")]
    wrapper_fields = set(
        post["requestBody"]["schema"]["properties"]["work_order_contract"]["properties"]
    )
    fields = {
        "title": "Concrete",
        "vendor_id": 1,
        "origin_id": "PO-1",
        "status": "Draft",
        "number": "SC-001",
        "executed": False,
    }
    assert set(fields) <= wrapper_fields
    created = client.work_order_contracts.create(fields, project_id=project)
    sent = json.loads(seen[-1].content)
    assert set(sent) <= set(post["requestBody"]["schema"]["properties"])
    response_fields = _props(_ok_schema(post))
    assert set(created.to_api()) <= response_fields
    assert created.vendor == {"id": 1, "company": None}
    sync = ops[("PATCH", "/rest/v1.0/work_order_contracts/sync")]
    sync_items = set(sync["requestBody"]["schema"]["properties"]["updates"]["items"]["properties"])
    fake.clock.advance(1)  # type: ignore[attr-defined]  # created vs updated is told by timestamps
    result = client.work_order_contracts.sync(
        [{"origin_id": "PO-1", "title": "Concrete rev"}], project_id=project
    )
    assert {"origin_id", "title"} <= sync_items
    assert result.items[0].status == "updated"
    assert result.items[0].id == created.id


@pytest.mark.parametrize(
    ("resource", "op_path", "scope", "row"),
    [
        (
            "purchase_order_contracts",
            "/rest/v1.0/purchase_order_contracts",
            "project",
            {"title": "PO", "vendor_id": 1, "origin_id": "P1", "number": "1", "status": "Draft"},
        ),
        (
            "line_item_types",
            "/rest/v1.0/line_item_types",
            "company",
            {"name": "Labor", "code": "L", "base_type": "labor", "origin_id": "T1"},
        ),
        (
            "projects",
            "/rest/v1.0/projects",
            "company",
            {"name": "Tower", "project_number": "42", "origin_id": "J1", "active": True},
        ),
        (
            "requisitions",
            "/rest/v1.1/requisitions",
            "project",
            {"invoice_number": "INV-1", "status": "draft", "origin_id": "B1", "commitment_id": 5},
        ),
    ],
)
def test_list_response_fields_are_documented(
    ops: dict[tuple[str, str], dict[str, Any]],
    setup: tuple[FakeProcore, ProcoreClient, list[httpx.Request]],
    resource: str,
    op_path: str,
    scope: str,
    row: dict[str, Any],
) -> None:
    fake, client, seen = setup
    documented = _props(_ok_schema(ops[("GET", op_path)]))
    assert set(row) - {"vendor_id"} <= documented  # written as vendor_id, read as vendor
    project = fake.add_project(name="Host") if scope == "project" else None
    fake.seed(resource, [row], project_id=project)
    pager = getattr(client, resource).list(project_id=project, per_page=50)
    listed = [r for r in pager if r.origin_id == row["origin_id"]]
    assert len(listed) == 1
    assert set(listed[0].to_api()) <= documented
    request = seen[-1]
    params = {p["name"] for p in ops[("GET", op_path)]["parameters"]}
    assert set(request.url.params) <= params


def test_client_list_parameters_are_documented(
    ops: dict[tuple[str, str], dict[str, Any]],
    setup: tuple[FakeProcore, ProcoreClient, list[httpx.Request]],
) -> None:
    import datetime as dt

    fake, client, seen = setup
    project = fake.add_project()
    start = dt.date(2024, 1, 1)
    list(
        client.work_order_contracts.list(
            project_id=project,
            per_page=1000,
            updated_at=(start, start),
            origin_id="x",
            include_deleted="with",
        )
    )
    documented = {p["name"] for p in ops[("GET", "/rest/v1.0/work_order_contracts")]["parameters"]}
    assert set(seen[-1].url.params) <= documented
    include = next(
        p
        for p in ops[("GET", "/rest/v1.0/work_order_contracts")]["parameters"]
        if p["name"] == "filters[include_deleted]"
    )
    assert set(include["schema"]["enum"]) == {"only", "with"}
