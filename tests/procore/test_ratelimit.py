"""Pacing from X-Rate-Limit-* headers: one limiter per (credential, company), no 429 storms."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from qbprocore.procore import (
    AsyncProcoreClient,
    ProcoreAuth,
    ProcoreClient,
    RateLimiter,
    RateLimiterRegistry,
)
from qbprocore.testing import FakeClock, FakeProcore


def _client(fake: FakeProcore, clock: FakeClock, registry: RateLimiterRegistry) -> ProcoreClient:
    auth = ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
    )
    return ProcoreClient(
        auth=auth,
        company_id=fake.company_id,
        clock=clock,
        limiters=registry,
        http_client=httpx.Client(transport=fake.transport()),
    )


def test_spike_limit_is_paced_without_any_429(clock: FakeClock) -> None:
    fake = FakeProcore(clock=clock, spike_limit=10)
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(100)])
    client = _client(fake, clock, RateLimiterRegistry())
    assert len(list(client.vendors.list(per_page=2))) == 100
    assert [c.status for c in fake.calls].count(429) == 0
    assert len(fake.calls) == 50
    assert sum(clock.sleeps) >= 40  # 50 calls at 10 per 10 s need four window resets


def test_hourly_limit_waits_for_the_hour(clock: FakeClock) -> None:
    fake = FakeProcore(clock=clock, spike_limit=1000, hourly_limit=5)
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(8)])
    client = _client(fake, clock, RateLimiterRegistry())
    start = clock.time()
    assert len(list(client.vendors.list(per_page=1))) == 8
    assert [c.status for c in fake.calls].count(429) == 0
    assert clock.time() - start >= 3600


def test_threads_share_one_limiter_per_credential_and_company(clock: FakeClock) -> None:
    fake = FakeProcore(clock=clock, spike_limit=15)
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(60)])
    registry = RateLimiterRegistry()
    clients = [_client(fake, clock, registry) for _ in range(4)]
    # Warm up so the limiter knows the budget (the first answer teaches it).
    list(clients[0].companies.list())
    threads = [
        threading.Thread(target=lambda c=c: list(c.vendors.list(per_page=5))) for c in clients
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [c.status for c in fake.calls].count(429) == 0
    assert len({id(c.limiter) for c in clients}) == 1


def test_limiters_are_separate_per_company(clock: FakeClock) -> None:
    registry = RateLimiterRegistry()
    a = registry.get("cred", 1, clock=clock)
    assert registry.get("cred", 1, clock=clock) is a
    assert registry.get("cred", 2, clock=clock) is not a
    assert registry.get("other", 1, clock=clock) is not a


def test_asyncio_tasks_are_paced(clock: FakeClock) -> None:
    fake = FakeProcore(clock=clock, spike_limit=12)
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(40)])

    async def main() -> None:
        auth = ProcoreAuth.client_credentials(
            environment=fake.environment,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            clock=clock,
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
            client = AsyncProcoreClient(
                auth=auth,
                company_id=fake.company_id,
                http_client=http,
                clock=clock,
                limiters=RateLimiterRegistry(),
            )
            [c async for c in client.companies.list()]

            async def one() -> int:
                return len([v async for v in client.vendors.list(per_page=4)])

            assert await asyncio.gather(*(one() for _ in range(5))) == [40] * 5

    asyncio.run(main())
    assert [c.status for c in fake.calls].count(429) == 0


def test_limiter_accounts_for_requests_in_flight(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock, max_jitter=0.0)
    reset = clock.time() + 10
    assert limiter.reserve() == 0.0
    limiter.update(
        httpx.Headers(
            {
                "X-Rate-Limit-Limit": "3",
                "X-Rate-Limit-Remaining": "2",
                "X-Rate-Limit-Reset": str(reset),
            }
        )
    )
    limiter.release()
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == reset - clock.time()  # budget spent: wait for the reset
    clock.advance(10)
    assert limiter.reserve() == 0.0  # window rolled over


def test_429_blocks_all_users_of_the_limiter(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock, max_jitter=0.0)
    limiter.block_until(clock.time() + 5)
    assert limiter.reserve() == 5.0


def test_cold_start_with_more_workers_than_the_spike_limit(clock: FakeClock) -> None:
    """Thirty threads start at once: while the budget is unknown exactly one request (the
    probe) is in flight; the rest wait for its answer instead of overshooting the limit."""
    fake = FakeProcore(clock=clock, spike_limit=20)
    fake.seed("vendors", [{"name": "v"}])
    answered = threading.Event()
    early: list[str] = []
    guard = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith("/oauth"):
            with guard:
                if not answered.is_set():
                    early.append(request.url.path)
            # Widen the race: keep the probe in flight a moment (no assertion depends on time).
            time.sleep(0.002)
        response = fake.handle(request)
        if not request.url.path.startswith("/oauth"):
            answered.set()
        return response

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
        http_client=httpx.Client(transport=httpx.MockTransport(slow)),
    )
    auth.get_token(client.http)  # everyone starts with a token: they all reach the limiter
    barrier = threading.Barrier(30)

    def work() -> None:
        barrier.wait()
        for _ in range(3):
            list(client.vendors.list(per_page=10))

    threads = [threading.Thread(target=work) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(early) == 1
    statuses = [c.status for c in fake.calls]
    assert len(statuses) == 90
    assert statuses.count(429) == 0


def test_cold_start_with_many_asyncio_tasks(clock: FakeClock) -> None:
    fake = FakeProcore(clock=clock, spike_limit=10)
    fake.seed("vendors", [{"name": "v"}])

    async def main() -> None:
        auth = ProcoreAuth.client_credentials(
            environment=fake.environment,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            clock=clock,
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
            client = AsyncProcoreClient(
                auth=auth,
                company_id=fake.company_id,
                http_client=http,
                clock=clock,
                limiters=RateLimiterRegistry(),
            )

            async def one() -> int:
                return len([v async for v in client.vendors.list()])

            assert await asyncio.gather(*(one() for _ in range(25))) == [1] * 25

    asyncio.run(main())
    assert [c.status for c in fake.calls].count(429) == 0


def test_unknown_budget_admits_one_probe(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock, max_jitter=0.0)
    assert limiter.reserve() == 0.0
    assert limiter.reserve() is None  # wait for the probe's answer
    limiter.release()
    assert limiter.reserve() == 0.0  # no answer carried headers: probe again


def test_a_late_answer_from_an_old_window_does_not_rewind_the_budget(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock, max_jitter=0.0)
    now = clock.time()

    def headers(remaining: int, reset: float) -> httpx.Headers:
        return httpx.Headers(
            {
                "X-Rate-Limit-Limit": "20",
                "X-Rate-Limit-Remaining": str(remaining),
                "X-Rate-Limit-Reset": str(reset),
            }
        )

    limiter.update(headers(0, now + 20))  # the newer window is spent
    limiter.update(headers(15, now + 10))  # a late answer from the window before it
    assert limiter.remaining == 0
    assert limiter.reset_at == now + 20
    assert limiter.reserve() == 20.0


def _http_date(epoch: float) -> str:
    import email.utils

    return email.utils.formatdate(epoch, usegmt=True)


def test_reset_is_read_on_the_servers_clock(clock: FakeClock) -> None:
    """Our clock runs 300 s behind Procore's: the wait is the 5 s Procore means, not 305 s."""
    limiter = RateLimiter(clock=clock, max_jitter=0.0)
    server_now = clock.time() + 300
    assert limiter.reserve() == 0.0
    limiter.update(
        httpx.Headers(
            {
                "Date": _http_date(server_now),
                "X-Rate-Limit-Limit": "10",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": str(server_now + 5),
            }
        )
    )
    limiter.release()
    assert limiter.reserve() == 5.0


def test_429_wait_uses_the_servers_clock(clock: FakeClock) -> None:
    from qbprocore.procore import RetryPolicy

    server_now = clock.time() - 120  # our clock runs two minutes ahead
    response = httpx.Response(
        429,
        headers={"Date": _http_date(server_now), "X-Rate-Limit-Reset": str(server_now + 8)},
    )
    wait = RetryPolicy(jitter=0.0).wait_for_response(response, 0, now=clock.time(), rand=0.0)
    assert wait == 8.0  # not 0 (we would hammer Procore for two minutes)


def test_sub_second_date_differences_are_ignored(clock: FakeClock) -> None:
    from qbprocore.procore._clock import server_offset

    headers = httpx.Headers({"Date": _http_date(clock.time() + 0.6)})
    assert server_offset(headers, clock.time()) == 0.0
    assert server_offset(httpx.Headers({"Date": "not a date"}), clock.time()) == 0.0
    assert server_offset(httpx.Headers({}), clock.time()) == 0.0
