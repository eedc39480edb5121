"""Listing: lazy, every page via Link headers, explicit per_page, documented filters."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbprocore.procore import ProcoreAuth, ProcoreClient, RateLimiterRegistry
from qbprocore.testing import FakeClock, FakeProcore


def test_list_is_lazy(fake: FakeProcore, client: ProcoreClient) -> None:
    pager = client.vendors.list(per_page=10)
    assert fake.calls == []
    next(iter(pager), None)
    assert len(fake.calls) == 1


def test_all_pages_are_returned_with_explicit_per_page(
    fake: FakeProcore, client: ProcoreClient
) -> None:
    fake.seed("vendors", [{"name": f"v{i}", "origin_id": f"o{i}"} for i in range(25)])
    names = [v.name for v in client.vendors.list(per_page=10)]
    assert names == [f"v{i}" for i in range(25)]
    assert len(fake.api_calls(path="/vendors")) == 3


def test_pages_expose_total_and_links(fake: FakeProcore, client: ProcoreClient) -> None:
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(5)])
    pages = list(client.vendors.list(per_page=2).pages())
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert {p.total for p in pages} == {5}
    assert pages[-1].next_url is None
    assert pages[0].next_url is not None
    assert "page=2" in pages[0].next_url


def test_per_page_is_validated() -> None:
    from qbprocore.procore._pagination import check_per_page

    with pytest.raises(ValueError, match="per_page"):
        check_per_page(0)
    with pytest.raises(ValueError, match="per_page"):
        check_per_page(5000)


def _capture(fake: FakeProcore, clock: FakeClock) -> tuple[ProcoreClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith("/oauth"):
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
    return client, seen


def test_filters_are_sent_in_procore_syntax(fake: FakeProcore, clock: FakeClock) -> None:
    client, seen = _capture(fake, clock)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    end = dt.datetime(2024, 1, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    list(
        client.vendors.list(
            per_page=1000,
            updated_at=(start, end),
            origin_id=["QB-1", "QB-2"],
            include_deleted="with",
            filters={"search": "acme"},
        )
    )
    params = seen[0].url.params
    assert params["per_page"] == "1000"
    assert params["page"] == "1"
    assert params["company_id"] == str(fake.company_id)
    assert params["filters[updated_at]"] == "2024-01-01T00:00:00Z...2024-02-01T04:59:59Z"
    assert params["filters[origin_id]"] == "QB-1,QB-2"
    assert params["filters[include_deleted]"] == "with"
    assert params["filters[search]"] == "acme"


def test_naive_datetimes_are_refused(client: ProcoreClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        client.vendors.list(updated_at=(dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1)))


def test_filters_select_records(fake: FakeProcore, client: ProcoreClient, clock: FakeClock) -> None:
    old = fake.seed("vendors", [{"name": "old", "origin_id": "A"}])[0]
    clock.advance(86400 * 3)
    fake.seed("vendors", [{"name": "new", "origin_id": "B"}, {"name": "gone", "origin_id": "C"}])
    fake.delete("vendors", fake.records("vendors")[-1]["id"])
    since = dt.datetime.fromtimestamp(clock.time() - 3600, dt.timezone.utc)
    until = dt.datetime.fromtimestamp(clock.time() + 3600, dt.timezone.utc)
    assert [v.name for v in client.vendors.list(updated_at=(since, until))] == ["new"]
    assert [v.name for v in client.vendors.list(origin_id="A")] == ["old"]
    assert [v.id for v in client.vendors.list(origin_id="A")] == [old["id"]]
    assert [v.name for v in client.vendors.list(include_deleted="only")] == ["gone"]
    assert len(list(client.vendors.list(include_deleted="with"))) == 3
    with pytest.raises(ValueError, match="include_deleted"):
        client.vendors.list(include_deleted="all")  # type: ignore[arg-type]


def test_project_scoped_and_nested_resources_need_their_ids(
    fake: FakeProcore, client: ProcoreClient
) -> None:
    with pytest.raises(TypeError, match="project_id"):
        client.work_order_contracts.list()
    with pytest.raises(TypeError, match="parent_id"):
        client.work_order_contract_line_items.list(project_id=1)
    project = fake.add_project(name="Tower")
    contract = client.work_order_contracts.sync(
        [{"origin_id": "PO-1", "vendor_id": 1, "title": "Concrete"}], project_id=project
    ).items[0]
    assert contract.id is not None
    lines = client.work_order_contract_line_items.sync(
        [{"origin_id": "PO-1|1", "amount": "100.00", "description": "Pour"}],
        project_id=project,
        parent_id=contract.id,
    )
    assert lines.ok
    listed = list(
        client.work_order_contract_line_items.list(project_id=project, parent_id=contract.id)
    )
    assert [str(li.amount) for li in listed] == ["100.00"]


def test_link_header_absent_falls_back_to_page_numbers(fake: FakeProcore, clock: FakeClock) -> None:
    rows = [{"id": i} for i in range(1, 6)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth"):
            return fake.handle(request)
        page, per = int(request.url.params["page"]), int(request.url.params["per_page"])
        return httpx.Response(200, json=rows[(page - 1) * per : page * per])

    auth = ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
    )
    client = ProcoreClient(
        auth=auth,
        company_id=1,
        clock=clock,
        limiters=RateLimiterRegistry(),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    assert [v.id for v in client.vendors.list(per_page=2)] == [1, 2, 3, 4, 5]


@settings(max_examples=25, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=60), per_page=st.integers(min_value=1, max_value=25)
)
def test_every_record_exactly_once_in_ceil_n_over_per_page_calls(total: int, per_page: int) -> None:
    clock = FakeClock()
    fake = FakeProcore(clock=clock)
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(total)])
    client, _seen = _capture(fake, clock)
    names = [v.name for v in client.vendors.list(per_page=per_page)]
    assert names == [f"v{i}" for i in range(total)]
    assert len(fake.api_calls(path="/vendors")) == max(1, -(-total // per_page))
