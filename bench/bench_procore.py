"""Procore client benchmarks against FakeProcore: API-call efficiency and client overhead.

Call counts are exact and machine-independent: they are what the rate limit charges. Waits
use a FakeClock shared by client and fake, so a run that waits an hour for a window reset
finishes at once while still counting every 429. Client overhead is measured against a
constant-answer transport, per request, as the difference to raw httpx on the same transport.
"""

from __future__ import annotations

import math
import os
import threading
import time

import httpx

from qbprocore.procore import Clock, ProcoreAuth, ProcoreClient, RateLimiterRegistry, SystemClock
from qbprocore.testing import FakeClock, FakeProcore

ROUNDS = int(os.environ.get("QBPROCORE_BENCH_ROUNDS", "5"))
SPIKE = 20


def _client(
    fake: FakeProcore, clock: Clock, jitter: float = 0.25
) -> tuple[ProcoreClient, ProcoreAuth]:
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
        limiters=RateLimiterRegistry(max_jitter=jitter),
        http_client=httpx.Client(transport=fake.transport()),
    )
    return client, auth


def bench_upsert(n: int = 10_000, *, faults: int = 0) -> dict[str, float]:
    clock = FakeClock()
    fake = FakeProcore(clock=clock, hourly_limit=100_000, spike_limit=100_000)
    if faults:
        # One batch's answer is lost after Procore committed it: the keyed batch is resent and
        # becomes updates, never duplicates.
        fake.inject_fault("lost_response", path="/vendors/sync", times=faults)
    client, _auth = _client(fake, clock)
    vendors = [{"origin_id": f"8000{i:04X}-1700000000", "name": f"Vendor {i}"} for i in range(n)]
    start = time.perf_counter()
    result = client.vendors.sync(vendors)
    elapsed = time.perf_counter() - start
    api_calls = len(fake.calls)
    minimum = math.ceil(n / 1000) + 1
    return {
        "items": n,
        "stored": len(fake.records("vendors")),
        "created": len(result.created),
        "failed": len(result.failed),
        "api_calls": api_calls,
        "token_calls": fake.token_calls,
        "minimum": minimum,
        "ratio": (api_calls + fake.token_calls) / minimum,
        "seconds": elapsed,
    }


def bench_list(n: int = 50_000, per_page: int = 1000) -> dict[str, float]:
    clock = FakeClock()
    fake = FakeProcore(clock=clock, hourly_limit=100_000, spike_limit=100_000)
    fake.seed("vendors", [{"name": f"Vendor {i}", "origin_id": f"V{i}"} for i in range(n)])
    client, _auth = _client(fake, clock)
    start = time.perf_counter()
    count = sum(1 for _ in client.vendors.list(per_page=per_page))
    elapsed = time.perf_counter() - start
    return {
        "records": count,
        "api_calls": len(fake.calls),
        "expected": math.ceil(n / per_page),
        "seconds": elapsed,
    }


def _spike_run(client: ProcoreClient, threads: int, per_thread: int) -> None:
    def work() -> None:
        for _ in client.vendors.list(per_page=1):
            pass

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def _statuses(fake: FakeProcore) -> dict[str, float]:
    statuses = [c.status for c in fake.calls]
    first = statuses.index(429) if 429 in statuses else len(statuses)
    return {
        "requests": len(statuses),
        "429_total": statuses.count(429),
        "429_after_first": statuses[first + 1 :].count(429),
    }


def bench_spike(per_thread: int = 60, spike: int = 20) -> dict[str, dict[str, float]]:
    """Sequential on the fake clock (exact window arithmetic), then 8 threads on the real
    clock with a shortened spike window (so concurrent waits overlap as they really do; a
    shared fake clock would add them up and hide 429s)."""
    clock = FakeClock()
    fake = FakeProcore(clock=clock, spike_limit=spike, hourly_limit=100_000)
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(per_thread * 4)])
    client, _auth = _client(fake, clock)
    _spike_run(client, 1, per_thread * 4)
    sequential = {**_statuses(fake), "waited_s": sum(clock.sleeps)}

    real = SystemClock()
    # A 1 s window (Procore reports resets in whole seconds) with twice the limit: 240
    # requests take about six seconds instead of two minutes.
    fake = FakeProcore(clock=real, spike_limit=2 * spike, spike_window=1.0, hourly_limit=100_000)
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(per_thread // 2)])
    # Jitter scaled to the shortened window (0.25 s suits Procore's 10 s window).
    client, _auth = _client(fake, real, jitter=0.025)
    start = time.perf_counter()
    _spike_run(client, 8, per_thread)
    threaded = {**_statuses(fake), "seconds": time.perf_counter() - start}
    return {"sequential": sequential, "threaded": threaded}


def bench_overhead(requests: int = 2000) -> dict[str, float]:
    body = b'[{"id": 1, "name": "A"}]'
    headers = {
        "Content-Type": "application/json",
        "X-Rate-Limit-Limit": "1000000",
        "X-Rate-Limit-Remaining": "999999",
        "X-Rate-Limit-Reset": "4000000000",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(
                200, json={"access_token": "t", "expires_in": 5400, "token_type": "Bearer"}
            )
        return httpx.Response(200, content=body, headers=headers)

    transport = httpx.MockTransport(handler)
    clock = FakeClock()
    fake = FakeProcore(clock=clock)
    auth = ProcoreAuth.client_credentials(
        environment=fake.environment, client_id="id", client_secret="secret", clock=clock
    )
    raw = httpx.Client(transport=transport)
    client = ProcoreClient(
        auth=auth,
        company_id=1,
        clock=clock,
        limiters=RateLimiterRegistry(),
        http_client=httpx.Client(transport=transport),
    )
    url = f"{fake.environment.api_url}/rest/v1.0/vendors"
    client.request("GET", url)  # warm up: token, limiter

    def per_request(call: object) -> float:
        best = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(requests):
                call()  # type: ignore[operator]
            best.append((time.perf_counter() - start) / requests)
        return min(best)

    raw_s = per_request(lambda: raw.get(url, headers={"Authorization": "Bearer t"}).json())
    ours_s = per_request(lambda: client.request("GET", url).json())
    parse_s = per_request(lambda: list(client.vendors.list(per_page=1000)))
    return {
        "raw_us": raw_s * 1e6,
        "client_us": ours_s * 1e6,
        "overhead_us": (ours_s - raw_s) * 1e6,
        "list_page_us": parse_s * 1e6,
    }


def main() -> str:
    upsert = bench_upsert()
    lossy = bench_upsert(faults=1)
    listing = bench_list()
    spike = bench_spike(spike=SPIKE)
    seq, thr = spike["sequential"], spike["threaded"]
    overhead = bench_overhead()
    lines = [
        "## Procore client",
        "",
        "Against FakeProcore through its httpx transport. Waits use a FakeClock (no sleeping)"
        " except in the threaded spike run, which uses the real clock and a 1 s window.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| upsert {upsert['items']:,} vendors: API calls + token calls | "
        f"{upsert['api_calls']:.0f} + {upsert['token_calls']:.0f} "
        f"(minimum {upsert['minimum']:.0f}, ratio {upsert['ratio']:.2f}×) | ≤ 1.1× |",
        f"| upsert results (created / failed) | {upsert['created']:.0f} / {upsert['failed']:.0f}"
        " | all created |",
        f"| same with one answer lost after commit: calls, stored records | "
        f"{lossy['api_calls']:.0f} + {lossy['token_calls']:.0f} ({lossy['ratio']:.2f}×), "
        f"{lossy['stored']:,.0f} stored | no duplicates |",
        f"| list {listing['records']:,} records at per_page 1,000: API calls | "
        f"{listing['api_calls']:.0f} (expected {listing['expected']:.0f}) | ≈ 50 |",
        f"| spike limit {SPIKE}/10 s, sequential, {seq['requests']:.0f} requests (fake clock): "
        f"429s total / after the first | {seq['429_total']:.0f} / {seq['429_after_first']:.0f}"
        " | after the first: 0 |",
        f"| time waited for windows (fake clock) | {seq['waited_s']:.1f} s | ≈ 10 s per "
        f"{SPIKE} requests |",
        f"| spike limit {2 * SPIKE}/1 s, 8 threads, {thr['requests']:.0f} requests (real clock): "
        f"429s total / after the first | {thr['429_total']:.0f} / {thr['429_after_first']:.0f}"
        f" | after the first: 0 ({thr['seconds']:.1f} s wall) |",
        f"| client overhead per request (vs raw httpx, same transport) | "
        f"{overhead['overhead_us']:.0f} µs ({overhead['client_us']:.0f} vs "
        f"{overhead['raw_us']:.0f} µs) | reported |",
        f"| one list call incl. model parsing (1 record) | {overhead['list_page_us']:.0f} µs | — |",
        f"| wall time: upsert 10k / list 50k (fake included) | {upsert['seconds']:.2f} s / "
        f"{listing['seconds']:.2f} s | — |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
