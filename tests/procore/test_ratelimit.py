"""Pacing from X-Rate-Limit-* headers: one limiter per (credential, company), no 429 storms."""

from __future__ import annotations

import asyncio
import threading

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
