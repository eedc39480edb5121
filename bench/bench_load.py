"""Load: many company files syncing at once through the reference server on PostgreSQL.

Each tenant is a company file (`FakeQuickBooks` with its own vendors) whose Web Connector
(`FakeWebConnector`, over real HTTP) runs a full update against one reference server
(`qbprocore.server.create_app`) under uvicorn on 127.0.0.1, with sessions, staged records
and watermarks in one PostgreSQL database. A bounded pool of Web Connectors runs at once.

Reported: errors (a session that did not end ``done``, a failed call), call latency p50/p99,
calls per second, and tenant isolation (every tenant's records staged only in its own
connection, and all of them).

    python bench/bench_load.py --tenants 200 --vendors 60 --concurrency 40 [--json]

Needs PostgreSQL (``QBPROCORE_TEST_POSTGRES``, default
``postgresql://postgres@127.0.0.1:5432/test``); a schema of its own is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from qbprocore import procore, qbwc
from qbprocore.server import create_app, parse_config
from qbprocore.sync import Connection, ItemStatus, PostgresStore, Side
from qbprocore.testing import FakeQuickBooks, FakeWebConnector, serve_asgi

DSN = os.environ.get("QBPROCORE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "load-test-password"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_load(
    *, tenants: int, vendors: int, concurrency: int, dsn: str = DSN, timeout: float = 900
) -> dict[str, Any]:
    """Run the load test; return the figures (see the module docs)."""
    schema = f"qbp_load_{uuid.uuid4().hex[:10]}"
    store = PostgresStore(dsn, schema=schema)
    hashed = qbwc.hash_password(PASSWORD, n=2**10)
    users = []
    books: dict[str, FakeQuickBooks] = {}
    for n in range(tenants):
        tenant = f"t{n:03}"
        company_file = rf"C:\Books\{tenant}.QBW"
        store.put_connection(
            Connection(id=tenant, procore_company_id=1000 + n, company_file_id=company_file)
        )
        qb = FakeQuickBooks(company_file=company_file, company_name=f"Tenant {tenant}")
        qb.add_vendors(f"{tenant} vendor {v:03}" for v in range(vendors))
        books[tenant] = qb
        users.append(
            {
                "username": f"{tenant}-books",
                "connection": tenant,
                "company_file": company_file,
                "password_hash": hashed,
            }
        )
    config = parse_config(
        {"database": dsn, "server": {"sync_every": 0}, "users": users}, environ={}
    )
    app = create_app(config, store=store, token_store=procore.MemoryTokenStore())
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(tenant: str) -> None:
        with FakeWebConnector(username=f"{tenant}-books", password=PASSWORD, url=url) as wc:
            caller = wc._caller  # the transport of the simulated Windows program
            post = caller.post

            def timed(body: bytes, action: str) -> tuple[int, bytes]:
                started = time.perf_counter()
                status, answer = post(body, action)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    if status != 200:
                        errors.append(f"{tenant} {action}: HTTP {status}")
                return status, answer

            caller.post = timed  # type: ignore[method-assign]
            result = wc.update(books[tenant])
            if result.status != "done":
                with lock:
                    errors.append(f"{tenant}: update ended {result.status} ({result.last_error})")

    started = time.perf_counter()
    with (
        serve_asgi(app, lifespan="on") as base,
        ThreadPoolExecutor(max_workers=concurrency) as pool,
    ):
        url = f"{base}/qbwc"
        futures = [pool.submit(one, t) for t in books]
        for future in futures:
            exc = future.exception(timeout=timeout)
            if exc is not None:
                errors.append(f"{type(exc).__name__}: {exc}")
    elapsed = time.perf_counter() - started
    leaks = 0
    missing = 0
    for tenant in books:
        staged = [
            r
            for r in store.list_staged(tenant)
            if r.source is Side.QUICKBOOKS and r.status is ItemStatus.PENDING
        ]
        names = [r.payload for r in staged]
        leaks += sum(1 for p in names if f"{tenant} vendor" not in p)
        missing += vendors - sum(1 for r in staged if r.entity.value == "vendor")
    store.close()
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return {
        "tenants": tenants,
        "vendors_per_tenant": vendors,
        "concurrency": concurrency,
        "calls": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "calls_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * _percentile(latencies, 0.50), 2),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 2),
        "records_in_another_tenant": leaks,
        "records_missing": missing,
    }


def render(figures: dict[str, Any]) -> str:
    """The figures as a Markdown section for the benchmarks page."""
    rows = [
        ("company files (tenants), each a full Web Connector update", figures["tenants"]),
        ("vendors per company file", figures["vendors_per_tenant"]),
        ("Web Connectors at once", figures["concurrency"]),
        ("SOAP calls", figures["calls"]),
        ("errors", len(figures["errors"])),
        ("wall time", f"{figures['seconds']} s"),
        ("throughput", f"{figures['calls_per_second']} calls/s"),
        ("call latency p50 / p99", f"{figures['p50_ms']} ms / {figures['p99_ms']} ms"),
        ("records staged in another tenant's connection", figures["records_in_another_tenant"]),
        ("records missing", figures["records_missing"]),
    ]
    lines = ["## Load: company files at once on PostgreSQL", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines) + "\n"


def main() -> str:
    """Run at full size (for ``python -m bench``) and return the Markdown section."""
    try:
        import psycopg

        psycopg.connect(DSN, connect_timeout=3).close()
    except Exception as exc:
        return f"## Load: company files at once on PostgreSQL\n\nnot run: {exc}\n"
    return render(run_load(tenants=200, vendors=60, concurrency=40))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--vendors", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run_load(tenants=args.tenants, vendors=args.vendors, concurrency=args.concurrency)
    print(json.dumps(result, indent=2) if args.json else render(result))
    sys.exit(0 if not result["errors"] and not result["records_in_another_tenant"] else 1)
