"""Every resource of the issue is reachable: list, get, and create/sync where Procore has them."""

from __future__ import annotations

from typing import Any

import pytest

from qbprocore.procore import RESOURCES, ProcoreClient, ProcoreModel, ResourceSpec
from qbprocore.testing import FakeClock, FakeProcore

REQUIRED = {
    "companies", "projects", "vendors", "project_vendors", "cost_codes", "line_item_types",
    "budget_views", "budget_view_detail_rows", "budget_line_items", "work_order_contracts",
    "work_order_contract_line_items", "purchase_order_contracts",
    "purchase_order_contract_line_items", "commitment_change_orders", "potential_change_orders",
    "potential_change_order_line_items", "requisitions", "requisition_items",
    "contract_payments", "direct_costs", "direct_cost_line_items",
}  # fmt: skip

ROW: dict[str, Any] = {"name": "Row", "code": "01-100", "vendor_id": 7, "title": "Row"}


def test_the_issue_resources_all_exist() -> None:
    assert {spec.name for spec in RESOURCES} == REQUIRED


def _scope(fake: FakeProcore, spec: ResourceSpec) -> dict[str, int]:
    kwargs: dict[str, int] = {}
    if spec.scope == "project":
        kwargs["project_id"] = fake.add_project()
    if spec.parent:
        kwargs["parent_id"] = 123456789012
    return kwargs


@pytest.mark.parametrize(
    "spec", [s for s in RESOURCES if s.name != "companies"], ids=lambda s: s.name
)
def test_list_and_get_every_resource(
    spec: ResourceSpec, fake: FakeProcore, client: ProcoreClient
) -> None:
    kwargs = _scope(fake, spec)
    resource = getattr(client, spec.name)
    row = {**ROW, "origin_id": f"{spec.name}-1", "amount": "12.34"}
    if spec.name == "projects":
        seeded = [fake.add_project(name="Row")]
    else:
        seeded = [r["id"] for r in fake.seed(spec.name, [row], **kwargs)]
    listed = list(resource.list(**kwargs))
    assert seeded[0] in [r.id for r in listed]
    assert all(isinstance(r, spec.model) for r in listed)
    got = resource.get(seeded[0], **kwargs)
    assert isinstance(got, ProcoreModel)
    assert got.id == seeded[0]
    if "amount" in got.to_api() and hasattr(got, "amount"):
        assert got.to_api()["amount"] == "12.34"  # money comes back as a Decimal


@pytest.mark.parametrize("spec", [s for s in RESOURCES if s.sync_path], ids=lambda s: s.name)
def test_sync_every_resource_that_has_a_sync_endpoint(
    spec: ResourceSpec, fake: FakeProcore, client: ProcoreClient, clock: FakeClock
) -> None:
    kwargs = _scope(fake, spec)
    resource = getattr(client, spec.name)
    item = {**ROW, "origin_id": f"{spec.name}-sync"}
    first = resource.sync([item], **kwargs)
    clock.advance(2)
    second = resource.sync([{**item, "name": "Renamed"}], **kwargs)
    assert first.ok, first.failed
    assert second.ok, second.failed
    assert second.items[0].id == first.items[0].id
    assert second.items[0].status == "updated"
    listed = list(resource.list(**kwargs))
    assert [r.id for r in listed] == [first.items[0].id]  # filed where the list finds it


@pytest.mark.parametrize("spec", [s for s in RESOURCES if s.create_path], ids=lambda s: s.name)
def test_create_and_update_where_procore_has_them(
    spec: ResourceSpec, fake: FakeProcore, client: ProcoreClient
) -> None:
    kwargs = {
        k: v
        for k, v in _scope(fake, spec).items()
        if k == "project_id" or (k == "parent_id" and spec.parent_param)
    }
    resource = getattr(client, spec.name)
    created = resource.create({**ROW, "origin_id": f"{spec.name}-c"}, **kwargs)
    assert created.id is not None
    assert created.origin_id == f"{spec.name}-c"
    if spec.update_path:
        updated = resource.update(created.id, {"title": "Updated"}, **kwargs)
        assert updated.id == created.id
        assert updated.to_api().get("title") == "Updated"


def test_create_whose_answer_was_lost_is_found_by_origin_id(
    fake: FakeProcore, client: ProcoreClient
) -> None:
    fake.inject_fault("lost_response", method="POST", path="/vendors")
    vendor = client.vendors.create({"name": "Acme", "origin_id": "QB-1"})
    assert vendor.origin_id == "QB-1"
    assert len(fake.records("vendors")) == 1  # committed once, found, not created again
    assert [c.method for c in fake.calls] == ["POST", "GET"]


def test_create_that_did_not_commit_is_sent_once_more(
    fake: FakeProcore, client: ProcoreClient
) -> None:
    fake.inject_fault("status", status=500, method="POST", path="/vendors")
    vendor = client.vendors.create({"name": "Acme", "origin_id": "QB-2"})
    assert vendor.id is not None
    assert [c.method for c in fake.calls] == ["POST", "GET", "POST"]
    assert len(fake.records("vendors")) == 1


def test_create_without_origin_id_raises_when_the_outcome_is_unknown(
    fake: FakeProcore, client: ProcoreClient
) -> None:
    from qbprocore.procore import APITimeoutError

    fake.inject_fault("timeout", method="POST")
    with pytest.raises(APITimeoutError):
        client.vendors.create({"name": "No key"})
    assert [c.method for c in fake.calls] == ["POST"]


def test_async_create_recovers_by_origin_id(fake: FakeProcore, clock: FakeClock) -> None:
    import asyncio

    import httpx

    from qbprocore.procore import AsyncProcoreClient, ProcoreAuth, RateLimiterRegistry

    async def main() -> None:
        auth = ProcoreAuth.client_credentials(
            environment=fake.environment,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            clock=clock,
        )
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            aclient = AsyncProcoreClient(
                auth=auth,
                company_id=fake.company_id,
                http_client=http,
                clock=clock,
                limiters=RateLimiterRegistry(),
            )
            fake.inject_fault("lost_response", method="POST")
            vendor = await aclient.vendors.create({"name": "A", "origin_id": "QB-9"})
            assert vendor.origin_id == "QB-9"
            assert await aclient.vendors.find_by_origin_id("nope") is None

    asyncio.run(main())
    assert len(fake.records("vendors")) == 1
