"""The request pipeline: headers, timeouts, retries, backoff, deadlines, logging."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
import pytest

from qbprocore.procore import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    APIConnectionError,
    APITimeoutError,
    AppNotConnectedError,
    AsyncProcoreClient,
    InternalServerError,
    ProcoreAuth,
    ProcoreClient,
    ProcoreError,
    RateLimiterRegistry,
    RateLimitError,
    RetryPolicy,
    ServiceUnavailableError,
)
from qbprocore.testing import FakeClock, FakeProcore

Handler = Callable[[httpx.Request], httpx.Response]


def _scripted(fake: FakeProcore, clock: FakeClock, answers: list[object], **kw: object):  # type: ignore[no-untyped-def]
    """A client whose API answers come from ``answers`` in order (token calls go to the fake)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth"):
            return fake.handle(request)
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, httpx.Response)
        return answer

    auth = ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
    )
    client = ProcoreClient(
        auth=auth,
        company_id=42,
        clock=clock,
        limiters=RateLimiterRegistry(),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        **kw,  # type: ignore[arg-type]
    )
    return client, seen


def test_every_call_carries_company_auth_and_user_agent(
    fake: FakeProcore, client: ProcoreClient
) -> None:
    list(client.companies.list())
    client.vendors.sync([{"origin_id": "A", "name": "A"}])
    assert fake.calls
    for call in fake.calls:
        assert call.company_id == str(fake.company_id)
        assert call.user_agent == USER_AGENT


def test_company_is_required_except_for_listing_companies(
    fake: FakeProcore, auth: ProcoreAuth
) -> None:
    http = httpx.Client(transport=fake.transport())
    client = ProcoreClient(auth=auth, http_client=http, limiters=RateLimiterRegistry())
    with pytest.raises(TypeError, match="company_id"):
        client.vendors.list().pages().__next__()
    with pytest.raises(TypeError, match="Procore-Company-Id"):
        client.request("GET", "/rest/v1.0/projects/1/vendors")


def test_default_timeout_is_sent_with_each_request(fake: FakeProcore, clock: FakeClock) -> None:
    client, seen = _scripted(fake, clock, [httpx.Response(200, json=[])])
    client.request("GET", "/rest/v1.0/vendors")
    timeout = seen[0].extensions["timeout"]
    assert timeout == DEFAULT_TIMEOUT.as_dict()
    assert timeout["connect"] == 10.0


def test_idempotent_get_retries_5xx_with_capped_backoff_and_logs(
    fake: FakeProcore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    answers: list[object] = [
        httpx.Response(500),
        httpx.Response(502),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"ok": True}),
    ]
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=3.0, jitter=0.0)
    client, seen = _scripted(fake, clock, answers, retry=policy)
    with caplog.at_level(logging.WARNING, logger="qbprocore.procore.http"):
        assert client.request("GET", "/rest/v1.0/vendors").json() == {"ok": True}
    assert len(seen) == 4
    assert clock.sleeps == [1.0, 2.0, 3.0]  # 1, 2, then capped at 3 (not 4)
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 3
    assert "500" in retries[0].getMessage()
    assert "ReadTimeout" in retries[2].getMessage()


def test_jitter_is_added_to_backoff(fake: FakeProcore, clock: FakeClock) -> None:
    client, _ = _scripted(
        fake,
        clock,
        [httpx.Response(500), httpx.Response(200, json={})],
        retry=RetryPolicy(backoff_base=1.0, jitter=0.5),
    )
    client.request("GET", "/x")
    assert 1.0 < clock.sleeps[0] <= 1.5


def test_create_is_not_retried_on_5xx_or_timeout(fake: FakeProcore, clock: FakeClock) -> None:
    client, seen = _scripted(fake, clock, [httpx.Response(500)])
    with pytest.raises(InternalServerError):
        client.request("POST", "/rest/v1.0/vendors", json={"vendor": {"name": "x"}})
    assert len(seen) == 1
    client, seen = _scripted(fake, clock, [httpx.ReadTimeout("lost")])
    with pytest.raises(APITimeoutError):
        client.request("POST", "/rest/v1.0/vendors", json={})
    assert len(seen) == 1


def test_create_is_retried_when_the_server_certainly_did_not_act(
    fake: FakeProcore, clock: FakeClock
) -> None:
    """A 429 is refused before processing and a ConnectError never reached the server."""
    answers: list[object] = [
        httpx.Response(429, headers={"X-Rate-Limit-Reset": str(int(clock.time()) + 5)}),
        httpx.ConnectError("refused"),
        httpx.Response(201, json={"id": 1}),
    ]
    client, seen = _scripted(fake, clock, answers)
    assert client.request("POST", "/rest/v1.0/vendors", json={}).status_code == 201
    assert len(seen) == 3


def test_429_waits_until_reset_plus_jitter(fake: FakeProcore, clock: FakeClock) -> None:
    reset = int(clock.time()) + 30
    answers: list[object] = [
        httpx.Response(
            429,
            headers={
                "X-Rate-Limit-Reset": str(reset),
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Limit": "3600",
            },
        ),
        httpx.Response(200, json=[]),
    ]
    client, _ = _scripted(fake, clock, answers, retry=RetryPolicy(jitter=0.5))
    start = clock.time()
    client.request("GET", "/x")
    waited = clock.time() - start
    assert 30.0 <= waited <= 30.5 + 0.25  # reset, plus retry jitter, plus limiter jitter


def test_429_honours_a_longer_retry_after(fake: FakeProcore, clock: FakeClock) -> None:
    answers: list[object] = [
        httpx.Response(
            429, headers={"X-Rate-Limit-Reset": str(int(clock.time()) + 2), "Retry-After": "20"}
        ),
        httpx.Response(200, json=[]),
    ]
    client, _ = _scripted(fake, clock, answers, retry=RetryPolicy(jitter=0.0))
    client.request("GET", "/x")
    assert clock.sleeps[0] == 20.0


def test_503_honours_retry_after(fake: FakeProcore, clock: FakeClock) -> None:
    answers: list[object] = [
        httpx.Response(503, headers={"Retry-After": "17"}),
        httpx.Response(200, json=[]),
    ]
    client, _ = _scripted(fake, clock, answers, retry=RetryPolicy(jitter=0.0))
    client.request("GET", "/x")
    assert clock.sleeps[0] == 17.0


def test_retries_stop_at_the_total_deadline(fake: FakeProcore, clock: FakeClock) -> None:
    answers: list[object] = [httpx.Response(503, headers={"Retry-After": "100"})] * 5
    client, seen = _scripted(
        fake, clock, answers, retry=RetryPolicy(total_deadline=250.0, jitter=0.0)
    )
    with pytest.raises(ServiceUnavailableError) as info:
        client.request("GET", "/x")
    assert len(seen) == 3  # waits of 100 + 100 fit; a third would pass 250 s
    assert info.value.retry_after == 100.0


def test_retries_stop_after_max_retries(fake: FakeProcore, clock: FakeClock) -> None:
    client, seen = _scripted(
        fake, clock, [httpx.Response(500)] * 10, retry=RetryPolicy(max_retries=2)
    )
    with pytest.raises(InternalServerError):
        client.request("GET", "/x")
    assert len(seen) == 3


def test_rate_limit_error_when_retries_run_out(fake: FakeProcore, clock: FakeClock) -> None:
    reset = int(clock.time()) + 9
    client, _ = _scripted(
        fake,
        clock,
        [httpx.Response(429, headers={"X-Rate-Limit-Reset": str(reset)})],
        retry=RetryPolicy(max_retries=0),
    )
    with pytest.raises(RateLimitError) as info:
        client.request("GET", "/x")
    assert info.value.reset_at == reset


def test_4xx_is_not_retried(fake: FakeProcore, clock: FakeClock) -> None:
    client, seen = _scripted(fake, clock, [httpx.Response(404, json={"errors": "nope"})])
    with pytest.raises(ProcoreError):
        client.request("GET", "/x")
    assert len(seen) == 1
    assert clock.sleeps == []


def test_connection_errors_map_to_the_tree(fake: FakeProcore, clock: FakeClock) -> None:
    client, _ = _scripted(
        fake, clock, [httpx.ConnectError("dns")] * 3, retry=RetryPolicy(max_retries=2)
    )
    with pytest.raises(APIConnectionError):
        client.request("GET", "/x")


def test_app_not_connected_company(fake: FakeProcore, client: ProcoreClient) -> None:
    other = client.with_company(123456789012)
    with pytest.raises(AppNotConnectedError) as info:
        list(other.vendors.list())
    assert info.value.status_code == 403
    assert info.value.request_id is None or isinstance(info.value.request_id, str)


def test_pagination_links_off_the_api_host_are_refused(fake: FakeProcore, clock: FakeClock) -> None:
    page = httpx.Response(
        200,
        json=[{"id": 1}],
        headers={"Link": '<https://evil.example/rest/v1.0/vendors?page=2>; rel="next"'},
    )
    client, _ = _scripted(fake, clock, [page])
    with pytest.raises(ProcoreError, match="off the API host"):
        list(client.vendors.list(per_page=1))


def test_async_client_retries_the_same_way(fake: FakeProcore, clock: FakeClock) -> None:
    answers: list[object] = [
        httpx.Response(503, headers={"Retry-After": "3"}),
        httpx.Response(200, json=[{"id": 5, "name": "A"}]),
    ]

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth"):
            return fake.handle(request)
        answer = answers.pop(0)
        assert isinstance(answer, httpx.Response)
        return answer

    async def main() -> list[int | None]:
        auth = ProcoreAuth.client_credentials(
            environment=fake.environment,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            clock=clock,
        )
        async with AsyncProcoreClient(
            auth=auth,
            company_id=1,
            clock=clock,
            limiters=RateLimiterRegistry(),
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            retry=RetryPolicy(jitter=0.0),
        ) as client:
            return [v.id async for v in client.vendors.list()]

    assert asyncio.run(main()) == [5]
    assert clock.sleeps == [3.0]


def test_async_create_not_retried_after_lost_response(fake: FakeProcore, clock: FakeClock) -> None:
    async def main() -> None:
        auth = ProcoreAuth.client_credentials(
            environment=fake.environment,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            clock=clock,
        )
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncProcoreClient(
                auth=auth,
                company_id=fake.company_id,
                http_client=http,
                clock=clock,
                limiters=RateLimiterRegistry(),
            )
            fake.inject_fault("lost_response", method="POST")
            with pytest.raises(APITimeoutError):
                await client.vendors.create({"name": "Once"})

    asyncio.run(main())
    assert [r["name"] for r in fake.records("vendors")] == ["Once"]  # committed exactly once
