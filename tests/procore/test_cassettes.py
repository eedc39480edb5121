"""Replays of vcrpy cassettes that pin Procore's payload shapes (no network, no transport).

The cassettes are built by ``cassettes/build_cassettes.py`` after Procore's documented
examples; replay uses ``record_mode="none"`` and a transport that fails if reached, so every
answer below comes from the cassette.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml

from qbprocore.procore import (
    Environment,
    ProcoreAuth,
    ProcoreClient,
    RateLimiterRegistry,
    RetryPolicy,
    UnprocessableEntityError,
)
from qbprocore.testing import FakeClock

CASSETTES = Path(__file__).parent / "cassettes"
ENV = Environment(
    name="production", login_url="https://login.procore.com", api_url="https://api.procore.com"
)


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"cassette miss: {request.method} {request.url}")


def _client(clock: FakeClock) -> ProcoreClient:
    auth = ProcoreAuth.client_credentials(
        environment=ENV, client_id="cassette-client-id", client_secret="replay-secret", clock=clock
    )
    return ProcoreClient(
        auth=auth,
        company_id=8089,
        clock=clock,
        limiters=RateLimiterRegistry(),
        retry=RetryPolicy(jitter=0.0),
        http_client=httpx.Client(transport=httpx.MockTransport(_unreachable)),
    )


def _replay(name: str) -> Any:
    return vcr.VCR(record_mode="none").use_cassette(str(CASSETTES / name))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_709_550_000.0)


def test_sync_actions_cassette_classifies_created_updated_failed(clock: FakeClock) -> None:
    client = _client(clock)
    with _replay("project_sync_actions.yaml") as cassette:
        first = client.projects.sync(
            [
                {"origin_id": "abc", "name": "New Project ABC"},
                {"origin_id": "def", "name": "New Project DEF"},
            ]
        )
        second = client.projects.sync(
            [
                {"origin_id": "abc", "name": "Updated Project ABC"},
                {"id": 0, "name": "No project has this id value"},
            ]
        )
        assert cassette.all_played
    assert [(i.status, i.id) for i in first.items] == [("created", 6), ("created", 7)]
    assert [i.status for i in second.items] == ["updated", "failed"]
    assert second.items[1].errors == {"id": ["Entity with this ID not found"]}
    entity = second.items[0].entity
    assert entity is not None
    assert entity.extra["project_stage"] == {"id": 3, "name": "Course of Construction"}


def test_vendor_pages_cassette_follows_links_and_keeps_types(clock: FakeClock) -> None:
    client = _client(clock)
    with _replay("vendor_pages.yaml") as cassette:
        vendors = list(client.vendors.list(per_page=2))
        assert cassette.all_played
    assert [v.id for v in vendors] == [562949953421312, 562949953421313, 562949953421314]
    assert vendors[0].origin_data == '{"edit_sequence": "1709550000"}'
    assert vendors[0].updated_at is not None
    assert vendors[0].updated_at.utcoffset() is not None
    assert client.limiter.limit == 3600


def test_errors_cassette(clock: FakeClock) -> None:
    client = _client(clock)
    with _replay("errors.yaml") as cassette:
        with pytest.raises(UnprocessableEntityError) as info:
            client.vendors.create({"name": ""})
        companies = list(client.companies.list())
        assert cassette.all_played
    assert info.value.request_id == "req-422"
    assert info.value.errors == [{"field": "name", "messages": ["can't be blank"]}]
    assert [c.name for c in companies] == ["Example GC"]
    assert clock.sleeps[0] >= 10.0  # the 429's Retry-After / reset was honoured


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_cassettes_hold_no_secrets(path: Path) -> None:
    text = path.read_text()
    assert "DO-NOT-LEAK" not in text
    data = yaml.safe_load(text)
    for interaction in data["interactions"]:
        auth = interaction["request"]["headers"].get("authorization")
        assert auth in (None, ["<FILTERED>"])
        body = interaction["request"]["body"] or ""
        assert "client_secret=<FILTERED>" in body or "client_secret" not in body


def test_sync_cassette_entities_have_the_documented_field_set(reference_dir: Path) -> None:
    documented = json.loads(
        (reference_dir / "procore/docs-samples/using_sync_actions__block06.json").read_text()
    )
    expected = set(documented["entities"][0])
    data = yaml.safe_load((CASSETTES / "project_sync_actions.yaml").read_text())
    body = json.loads(data["interactions"][1]["response"]["body"]["string"])
    assert set(body) == set(documented)
    for entity in body["entities"]:
        assert set(entity) == expected
    errors = json.loads(
        (reference_dir / "procore/docs-samples/using_sync_actions__block04.json").read_text()
    )["errors"]
    recorded = json.loads(data["interactions"][2]["response"]["body"]["string"])["errors"]
    assert [set(e) for e in recorded] == [set(e) for e in errors]
    assert [e["errors"] for e in recorded] == [e["errors"] for e in errors]
