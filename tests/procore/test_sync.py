"""Batch upserts: chunks of at most 1,000; created/updated/failed per item; 200 is not success."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbprocore.procore import (
    MAX_SYNC_BATCH,
    ProcoreClient,
    SyncFailedError,
    Vendor,
)
from qbprocore.procore._sync import classify
from qbprocore.testing import FakeClock, FakeProcore


def test_chunks_never_exceed_1000(fake: FakeProcore, client: ProcoreClient) -> None:
    items = [{"origin_id": f"QB-{i}", "name": f"Vendor {i}"} for i in range(2500)]
    result = client.vendors.sync(items)
    assert result.requests == 3
    assert len(fake.api_calls(path="/vendors/sync")) == 3
    assert len(result.created) == 2500
    assert result.ok
    assert [i.index for i in result.items] == list(range(2500))
    with pytest.raises(ValueError, match="chunk_size"):
        client.vendors.sync(items, chunk_size=MAX_SYNC_BATCH + 1)


def test_second_upsert_updates_by_origin_id(
    fake: FakeProcore, client: ProcoreClient, clock: FakeClock
) -> None:
    first = client.vendors.sync([{"origin_id": "QB-1", "name": "Acme"}])
    clock.advance(60)
    second = client.vendors.sync([{"origin_id": "QB-1", "name": "Acme Ltd"}])
    assert [i.status for i in first.items] == ["created"]
    assert [i.status for i in second.items] == ["updated"]
    assert second.items[0].id == first.items[0].id
    assert [r["name"] for r in fake.records("vendors")] == ["Acme Ltd"]


def test_per_item_failures_in_a_200_answer(fake: FakeProcore, client: ProcoreClient) -> None:
    result = client.vendors.sync(
        [
            {"origin_id": "QB-1", "name": "Good"},
            {"origin_id": "QB-2", "name": ""},
            {"id": 1, "name": "No such id"},
        ]
    )
    assert fake.api_calls(path="/vendors/sync")[0].status == 200
    assert not result.ok
    assert [i.status for i in result.items] == ["created", "failed", "failed"]
    assert result.items[1].errors == {"name": ["can't be blank"]}
    assert result.items[2].errors == {"id": ["Entity with this ID not found"]}
    with pytest.raises(SyncFailedError, match="2 of 3") as info:
        result.raise_for_failures()
    assert [f.index for f in info.value.failed] == [1, 2]


def test_models_are_accepted_as_items(client: ProcoreClient) -> None:
    result = client.vendors.sync([Vendor(origin_id="QB-9", name="From model")])
    assert result.ok
    assert result.items[0].entity is not None
    assert result.items[0].entity.name == "From model"


def test_keyed_batches_are_retried_unkeyed_are_not(
    fake: FakeProcore, client: ProcoreClient
) -> None:
    fake.inject_fault("lost_response", path="/vendors/sync")
    result = client.vendors.sync([{"origin_id": "QB-1", "name": "Acme"}])
    assert result.ok  # retried; the origin_id made the retry an update, not a duplicate
    assert len(fake.records("vendors")) == 1
    fake.inject_fault("lost_response", path="/vendors/sync")
    from qbprocore.procore import APITimeoutError

    with pytest.raises(APITimeoutError):
        client.vendors.sync([{"name": "No key"}])
    assert len(fake.records("vendors")) == 2  # committed once, not retried into a duplicate


def test_classify_matches_by_origin_id_then_id_then_order() -> None:
    sent: list[dict[str, Any]] = [
        {"origin_id": "b", "name": "B"},
        {"id": 7, "name": "Seven"},
        {"name": "unkeyed"},
    ]
    body = {
        "entities": [
            {
                "id": 7,
                "name": "Seven",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-02T00:00:00Z",
            },
            {
                "id": 8,
                "name": "unkeyed",
                "created_at": "2024-01-03T00:00:00Z",
                "updated_at": "2024-01-03T00:00:00Z",
            },
            {
                "id": 9,
                "origin_id": "b",
                "created_at": "2024-01-04T00:00:00Z",
                "updated_at": "2024-01-05T00:00:00Z",
            },
        ],
        "errors": [],
    }
    results = classify(sent, 10, body, Vendor)
    assert [(r.index, r.status, r.id) for r in results] == [
        (10, "updated", 9),
        (11, "updated", 7),
        (12, "created", 8),
    ]


def test_classify_reports_items_missing_from_the_answer() -> None:
    results = classify([{"origin_id": "x"}], 0, {"entities": [], "errors": []}, Vendor)
    assert results[0].status == "failed"
    assert "neither" in str(results[0].errors)


def test_sync_requires_an_endpoint(client: ProcoreClient) -> None:
    with pytest.raises(NotImplementedError, match="sync"):
        client.requisitions.sync([{"origin_id": "x"}], project_id=1)


def test_batch_over_1000_is_refused_by_the_fake(fake: FakeProcore, client: ProcoreClient) -> None:
    from qbprocore.procore import BadRequestError

    with pytest.raises(BadRequestError, match="1000"):
        client.request(
            "PATCH",
            "/rest/v1.0/vendors/sync",
            json={"company_id": fake.company_id, "updates": [{"name": "x"}] * 1001},
        )


def test_sync_body_shape(fake: FakeProcore, clock: FakeClock) -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sync"):
            bodies.append(request.content)
        return fake.handle(request)

    from qbprocore.procore import ProcoreAuth, RateLimiterRegistry

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
    client.vendors.sync(
        [{"origin_id": "QB-1", "name": "A", "origin_data": '{"edit_sequence":"1"}'}]
    )
    import json

    body = json.loads(bodies[0])
    assert body == {
        "company_id": fake.company_id,
        "updates": [{"origin_id": "QB-1", "name": "A", "origin_data": '{"edit_sequence":"1"}'}],
    }


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["origin", "id", "none"]), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_classify_gives_one_result_per_item_in_input_order(
    shapes: list[tuple[str, bool]],
) -> None:
    """Whatever mix of keys and failures Procore answers with, each item gets one result."""
    sent: list[dict[str, object]] = []
    entities: list[dict[str, object]] = []
    errors: list[dict[str, object]] = []
    for n, (key, fails) in enumerate(shapes):
        item: dict[str, object] = {"name": f"n{n}"}
        if key == "origin":
            item["origin_id"] = f"o{n}"
        elif key == "id":
            item["id"] = 1000 + n
        sent.append(item)
        if fails:
            errors.append({**item, "errors": {"name": ["bad"]}})
        else:
            entities.append({**item, "id": item.get("id", 5000 + n)})
    # Procore keeps the input order within entities and within errors.
    results = classify(sent, 7, {"entities": entities, "errors": errors}, Vendor)
    assert [r.index for r in results] == [7 + n for n in range(len(sent))]
    for result, (_key, fails) in zip(results, shapes, strict=True):
        assert (result.status == "failed") == fails
    assert sum(r.status == "failed" for r in results) == sum(f for _k, f in shapes)
