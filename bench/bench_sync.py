"""Sync engine benchmark: an initial and an incremental sync through the fakes.

Issue requirement 10: initial sync of 5,000 vendors, 500 jobs, 300 items and 50,000 three-line
bills — QBWC round trips ≈ records / MaxReturned, Procore calls within 10% of the batch
minimum, wall time and peak memory reported; an incremental run after 10 changes: at most 2
round trips per entity type and at most 5 Procore calls.

Everything runs in this process on `qbprocore.testing.SimulatedConnector`: FakeQuickBooks
behind FakeWebConnector, the real Web Connector endpoint, the real engine on a SQLite store
and FakeProcore behind the real Procore client. A cycle is one Web Connector update followed
by one engine run, as a deployment schedules them: the engine runs with `EngineConfig`'s
defaults (as deployed), and Procore's, the engine's and the endpoint's time is one FakeClock
moved on by ``--interval`` (5 minutes) before each cycle after the first. The cycles: the
initial sync; a *settle* cycle with no changes (what a quiet cycle right after it costs);
then ten changes (four vendors modified, three bills and a job added in QuickBooks, a project
renamed and a vendor added in Procore) and the incremental cycle; last a quiet cycle once
`EngineConfig.project_pull_every` has passed, when the project-scoped Procore streams are
pulled again for every project.

Setup. QuickBooks holds the vendors, one customer with the jobs under it, the Service items
and the bills; each bill has three item lines coded to one job, jobs taken in turn (bills for
many jobs are entered interleaved, as in a real company file). Procore holds the line item
type ``Other`` and one *cost code library* project with one cost code per item, named like
the items: Procore cost codes live in projects, and the engine links items to cost codes by
name from the projects it pulls, before the projects made from the jobs exist. Bills not
linked to purchase orders become direct costs, upserted per project.

Figures. Round trips are ``sendRequestXML`` calls, split into reads and writes per entity
type; the records each read returned are counted in the responses. Procore calls are the
requests FakeProcore recorded, by method and path (ids folded). The *write minimum* is
``ceil(records / 1000)`` per resource and project written (Procore's batch limit); the *list
minimum* is ``ceil(Total / per_page)`` pages per distinct list the engine polls (so it says
whether pages are wasted, not whether the engine polls too many lists: the per-project lists
are reported by kind). Wall time is per cycle. Memory: ``tracemalloc`` peak per cycle (on by
default; it slows Python down, so ``--no-tracemalloc`` gives the plain wall times) and the
process's peak resident set (``ru_maxrss``) after seeding and after each cycle.

Run: ``python bench/bench_sync.py [--scale 0.1] [--json]`` (``--scale`` shrinks every count
proportionally), or through ``nox -s bench`` with the other benchmarks
(``QBPROCORE_BENCH_SYNC_SCALE`` sets the scale there). At full scale it takes a few minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from qbprocore import qbxml
from qbprocore.sync import EngineConfig, MappingSettings, SQLiteStore
from qbprocore.testing import FakeClock, FakeProcore, FakeQuickBooks, SimulatedConnector

VENDORS = 5_000
JOBS = 500
ITEMS = 300
BILLS = 50_000
LINES = 3
MAX_RETURNED = 500
PROCORE_BATCH = 1000  # most items per Procore sync request
PROCORE_PER_PAGE = 1000  # EngineConfig.per_page default
CUSTOMER = "Bench Builders"
LIBRARY = "Cost code library"
TZ = dt.timezone(dt.timedelta(hours=-8))

# QuickBooks read streams by the request that reads them, and the record each answer holds.
_RET_OF_QUERY = {
    "HostQueryRq": "HostRet",
    "ItemServiceQueryRq": "ItemServiceRet",
    "CustomerQueryRq": "CustomerRet",
    "VendorQueryRq": "VendorRet",
    "PurchaseOrderQueryRq": "PurchaseOrderRet",
    "BillQueryRq": "BillRet",
    "CheckQueryRq": "CheckRet",
    "CreditCardChargeQueryRq": "CreditCardChargeRet",
    "BillPaymentCheckQueryRq": "BillPaymentCheckRet",
    "ListDeletedQueryRq": "ListDeletedRet",
    "TxnDeletedQueryRq": "TxnDeletedRet",
}
_RQ_NAME = re.compile(r"<(\w+?)(Query|Add|Mod|Del)Rq\b")
_ID = re.compile(r"/\d+")
_PAGING = {"page", "per_page"}


class QbClock:
    """QuickBooks' clock: moves ``step`` per reading; `jump` moves it on (a later day)."""

    def __init__(self, start: dt.datetime, step: dt.timedelta) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> dt.datetime:
        self.now += self.step
        return self.now

    def jump(self, delta: dt.timedelta) -> None:
        self.now += delta


class Tally:
    """Counts the records each QuickBooks answer carries, per request type."""

    def __init__(self, qb: FakeQuickBooks) -> None:
        self.records: Counter[str] = Counter()
        self.answer_bytes = 0
        self._process = qb.process

        def process(request: str | bytes) -> Any:
            answer = self._process(request)
            text = request.decode() if isinstance(request, bytes) else request
            match = _RQ_NAME.search(text)
            ret = _RET_OF_QUERY.get(f"{match.group(1)}QueryRq") if match else None
            if ret and match and match.group(2) == "Query":
                self.records[match.group(1)] += answer.response.count(f"<{ret}>")
            self.answer_bytes += len(answer.response)
            return answer

        qb.process = process  # type: ignore[method-assign]

    def take(self) -> tuple[dict[str, int], int]:
        out, size = dict(self.records), self.answer_bytes
        self.records.clear()
        self.answer_bytes = 0
        return out, size


class ProcoreTap:
    """Sees every request FakeProcore answers: lists with their query and ``Total``."""

    def __init__(self, fake: FakeProcore) -> None:
        self.lists: list[tuple[str, str, int]] = []  # (path, query less paging, total)
        handle = fake.handle

        def tapped(request: httpx.Request) -> httpx.Response:
            response = handle(request)
            if request.method == "GET" and request.url.path.startswith("/rest/"):
                query = sorted(
                    (k, v) for k, v in request.url.params.multi_items() if k not in _PAGING
                )
                total = int(response.headers.get("Total", "0") or 0)
                self.lists.append((request.url.path, repr(query), total))
            return response

        fake.handle = tapped  # type: ignore[method-assign]

    def take(self) -> list[tuple[str, str, int]]:
        out, self.lists = self.lists, []
        return out


def counts(scale: float) -> dict[str, int]:
    """The record counts at ``scale`` (each at least 1)."""
    return {
        "vendors": max(1, round(VENDORS * scale)),
        "jobs": max(1, round(JOBS * scale)),
        "items": max(1, round(ITEMS * scale)),
        "bills": max(1, round(BILLS * scale)),
    }


def item_name(i: int) -> str:
    return f"{i // 100 + 1:02d}-{i % 100:02d}0"


def job_name(j: int) -> str:
    return f"Job {j:04d}"


def seed(sim: SimulatedConnector, n: dict[str, int]) -> None:
    """Fill QuickBooks and Procore (see the module docs)."""
    qb = sim.quickbooks
    qb.add_customer(CUSTOMER)
    for j in range(n["jobs"]):
        qb.add_job(job_name(j), CUSTOMER)
    for i in range(n["items"]):
        qb.add_item_service(item_name(i))
    for v in range(n["vendors"]):
        qb.add_vendor(
            f"Vendor {v:05d}",
            company_name=f"Vendor {v:05d} Construction LLC",
            vendor_address=qbxml.Address(
                addr1=f"{v} Main Street", city="Springfield", state="IL", postal_code="62701"
            ),
            phone="555-123-4567",
        )
    for b in range(n["bills"]):
        job = f"{CUSTOMER}:{job_name(b % n['jobs'])}"
        lines = [
            (item_name((b * LINES + k) % n["items"]), Decimal(100 + (b + k) % 900), job)
            for k in range(LINES)
        ]
        qb.add_bill(
            f"Vendor {b % n['vendors']:05d}",
            lines,
            ref_number=f"INV-{b:06d}",
            memo=f"Pay application {b}",
        )
    fake = sim.procore
    fake.seed("line_item_types", [{"name": "Other", "code": "O"}])
    library = fake.add_project(name=LIBRARY)
    fake.seed(
        "cost_codes",
        [
            {"name": f"Cost code {item_name(i)}", "code": item_name(i), "full_code": item_name(i)}
            for i in range(n["items"])
        ],
        project_id=library,
    )


def change(sim: SimulatedConnector, n: dict[str, int], qb_clock: QbClock) -> list[str]:
    """The ten changes before the incremental cycle.

    QuickBooks' clock first moves on a day, out of reach of the read streams' two-hour rewind
    (seeding stamped a record every five minutes, so the rewind would re-read seeded records).
    """
    qb_clock.jump(dt.timedelta(days=1))  # out of reach of the read streams' rewind
    qb = sim.quickbooks
    done = []
    for vendor in qb.vendors[:4]:
        qb.modify_vendor(vendor.list_id or "", phone="555-987-6543")
        done.append(f"QuickBooks: vendor {vendor.name} modified")
    job = job_name(0)
    for k in range(3):
        qb.add_bill(
            "Vendor 00000",
            [
                (item_name(k % n["items"]), Decimal("250.00"), f"{CUSTOMER}:{job}")
                for _ in range(LINES)
            ],
            ref_number=f"INV-NEW-{k}",
        )
        done.append(f"QuickBooks: bill INV-NEW-{k} added ({job})")
    qb.add_job("Job new", CUSTOMER)
    done.append("QuickBooks: job 'Job new' added")
    # Procore: a project renamed and a vendor added (by people, not by the connector).
    renamed = job_name(min(1, n["jobs"] - 1))
    project = next(p for p in sim.procore.records("projects") if p["name"] == renamed)
    sim.client.projects.sync([{"id": project["id"], "name": f"{renamed} (renamed)"}])
    done.append(f"Procore: project {renamed} renamed")
    sim.procore.seed("vendors", [{"name": "Procore-only Vendor", "is_active": True}])
    done.append("Procore: vendor 'Procore-only Vendor' added")
    return done


def _rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


def _kind(method: str, path: str) -> str:
    path = _ID.sub("/{id}", path).removeprefix("/rest/v1.0/").removeprefix("/rest/v1.1/")
    path = path.removeprefix("projects/{id}/")
    if path.endswith("/sync"):
        return f"{path.removesuffix('/sync')} sync"
    if method == "GET":
        return f"{path} list"
    return f"{method} {path}"


def _quickbooks(requests: list[str], records: dict[str, int], max_returned: int) -> dict[str, Any]:
    reads: Counter[str] = Counter()
    writes: Counter[str] = Counter()
    for text in requests:
        match = _RQ_NAME.search(text)
        if match is None:
            continue
        (reads if match.group(2) == "Query" else writes)[match.group(1)] += 1
    streams = {
        name: {
            "round_trips": trips,
            "records": records.get(name, 0),
            "expected": max(1, math.ceil(records.get(name, 0) / max_returned)),
        }
        for name, trips in sorted(reads.items())
    }
    per_entity: Counter[str] = Counter()
    for name, trips in [*reads.items(), *writes.items()]:
        per_entity[name] += trips
    return {
        "round_trips": len(requests),
        "reads": sum(reads.values()),
        "writes": sum(writes.values()),
        "streams": streams,
        "writes_by_type": dict(sorted(writes.items())),
        "per_entity_type": dict(sorted(per_entity.items())),
        "records_read": sum(records.values()),
    }


def _write_minimum(fake: FakeProcore, before: dict[tuple[str, int | None], dict[int, str]]) -> int:
    """``ceil(n / 1000)`` per collection the cycle wrote (records created or updated)."""
    return sum(math.ceil(len(ids) / PROCORE_BATCH) for ids in _written(fake, before).values())


def _collections(fake: FakeProcore) -> dict[tuple[str, int | None], dict[int, str]]:
    """Every record's ``updated_at``, per written collection."""
    projects = fake.records("projects")
    out: dict[tuple[str, int | None], dict[int, str]] = {
        ("vendors", None): {r["id"]: r["updated_at"] for r in fake.records("vendors")},
        ("projects", None): {r["id"]: r["updated_at"] for r in projects},
    }
    for project in projects:
        out[("direct_costs", project["id"])] = {
            r["id"]: r["updated_at"] for r in fake.records("direct_costs", project_id=project["id"])
        }
    return out


def _written(
    fake: FakeProcore, before: dict[tuple[str, int | None], dict[int, str]]
) -> dict[tuple[str, int | None], set[int]]:
    out = {}
    for key, stamps in _collections(fake).items():
        old = before.get(key, {})
        changed = {i for i, stamp in stamps.items() if old.get(i) != stamp}
        if changed:
            out[key] = changed
    return out


def _procore(
    fake: FakeProcore, start: int, token_start: int, write_minimum: int, lists: int
) -> dict[str, Any]:
    calls = fake.calls[start:]
    kinds = Counter(_kind(c.method, c.path) for c in calls)
    writes = sum(n for k, n in kinds.items() if not k.endswith(" list"))
    list_calls = sum(n for k, n in kinds.items() if k.endswith(" list"))
    tokens = fake.token_calls - token_start
    return {
        "calls": len(calls),
        "token_calls": tokens,
        "status_429": sum(1 for c in calls if c.status == 429),
        "writes": writes,
        "write_minimum": write_minimum,
        "lists": list_calls,
        "list_minimum": lists,
        "minimum": write_minimum + lists,
        "by_kind": dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _list_minimum(lists: list[tuple[str, str, int]], per_page: int) -> int:
    """``ceil(total / per_page)`` pages (at least one) per distinct list the cycle polled."""
    totals: dict[tuple[str, str], int] = {}
    for path, query, total in lists:
        totals[(path, query)] = max(total, totals.get((path, query), 0))
    return sum(max(1, math.ceil(total / per_page)) for total in totals.values())


def cycle(
    sim: SimulatedConnector,
    tally: Tally,
    tap: ProcoreTap,
    *,
    max_returned: int,
    trace: bool,
) -> dict[str, Any]:
    """One scheduled cycle, measured."""
    before = _collections(sim.procore)
    start, token_start = len(sim.procore.calls), sim.procore.token_calls
    gc.collect()
    if trace:
        tracemalloc.reset_peak()
        traced_before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    update = sim.update(max_round_trips=100_000)
    t1 = time.perf_counter()
    report = sim.run()
    t2 = time.perf_counter()
    peak = (tracemalloc.get_traced_memory()[1] - traced_before) / 2**20 if trace else None
    records, answer_bytes = tally.take()
    lists = _list_minimum(tap.take(), PROCORE_PER_PAGE)
    figures = {
        "update_status": update.status,
        "qbwc": _quickbooks(update.requests, records, max_returned),
        "answer_mb": answer_bytes / 1e6,
        "procore": _procore(
            sim.procore, start, token_start, _write_minimum(sim.procore, before), lists
        ),
        "moved": dict(sorted(report.moved.items())),
        "pulled": dict(sorted(report.pulled.items())),
        "actions": dict(sorted(Counter(o.action for o in report.outcomes).items())),
        "wait_reasons": dict(
            Counter(o.detail.split(":")[0] for o in report.outcomes if o.action == "wait")
        ),
        "seconds_update": t1 - t0,
        "seconds_run": t2 - t1,
        "seconds": t2 - t0,
        "tracemalloc_peak_mb": peak,
        "ru_maxrss_mb": _rss_mb(),
    }
    del update, report
    return figures


def run(
    scale: float = 1.0,
    *,
    max_returned: int = MAX_RETURNED,
    trace: bool = True,
    settle: bool = True,
    interval: dt.timedelta = dt.timedelta(minutes=5),
    sizes: Mapping[str, int] | None = None,
    hook: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Seed, sync, change, sync again; return every figure (see the module docs).

    ``sizes`` overrides counts of `counts` (``{"vendors": 1500}``).
    """
    n = {**counts(scale), **(sizes or {})}
    say = hook or (lambda _msg: None)
    qb_clock = QbClock(dt.datetime(2026, 1, 5, 8, 0, tzinfo=TZ), dt.timedelta(minutes=5))
    # One time for Procore, its client, the engine and the endpoint: a FakeClock, moved on by
    # the schedule's interval before each cycle, so that watermarks and
    # EngineConfig.project_pull_every follow the schedule, not how long the benchmark takes.
    clock = FakeClock()
    fake = FakeProcore(clock=clock, hourly_limit=10**9, spike_limit=10**9)
    tap = ProcoreTap(fake)
    with tempfile.TemporaryDirectory(prefix="qbprocore-bench-") as tmp:
        sim = SimulatedConnector(
            store=SQLiteStore(Path(tmp) / "sync.db"),
            quickbooks=FakeQuickBooks(clock=qb_clock),
            procore_fake=fake,
            mapping=MappingSettings(),
            max_returned=max_returned,
            clock=lambda: dt.datetime.fromtimestamp(clock.time(), dt.timezone.utc),
            # The engine as deployed (the harness's default pulls every stream every cycle).
            engine_config=EngineConfig(worker="bench"),
        )
        assert sim.clock is clock, "the harness must share FakeProcore's FakeClock"

        def scheduled() -> dict[str, Any]:
            clock.advance(interval.total_seconds())
            return cycle(sim, tally, tap, max_returned=max_returned, trace=trace)

        try:
            started = time.perf_counter()
            seed(sim, n)
            figures: dict[str, Any] = {
                "scale": scale,
                "counts": n,
                "max_returned": max_returned,
                "python": sys.version.split()[0],
                "seed_seconds": time.perf_counter() - started,
                "rss_after_seed_mb": _rss_mb(),
                "tracemalloc": trace,
                "interval_minutes": interval.total_seconds() / 60,
                "project_pull_every_minutes": (
                    sim.engine.config.project_pull_every.total_seconds() / 60
                ),
            }
            say(f"seeded {n} in {figures['seed_seconds']:.1f} s")
            tally = Tally(sim.quickbooks)
            if trace:
                tracemalloc.start()
            try:
                figures["initial"] = cycle(sim, tally, tap, max_returned=max_returned, trace=trace)
                say(f"initial cycle: {figures['initial']['seconds']:.1f} s")
                if settle:
                    figures["settle"] = scheduled()
                    say(f"settle cycle: {figures['settle']['seconds']:.1f} s")
                # The changes are made in the interval before the incremental cycle.
                clock.advance(interval.total_seconds())
                figures["changes"] = change(sim, n, qb_clock)
                tally.take()
                tap.take()
                figures["incremental"] = cycle(
                    sim, tally, tap, max_returned=max_returned, trace=trace
                )
                say(f"incremental cycle: {figures['incremental']['seconds']:.1f} s")
                if settle:
                    # A quiet cycle once the project-scoped streams are due again.
                    clock.advance(sim.engine.config.project_pull_every.total_seconds())
                    figures["due"] = cycle(sim, tally, tap, max_returned=max_returned, trace=trace)
                    say(f"quiet cycle, project streams due: {figures['due']['seconds']:.1f} s")
            finally:
                if trace:
                    tracemalloc.stop()
            figures["procore_totals"] = {
                "vendors": len(fake.records("vendors")),
                "projects": len(fake.records("projects")),
                "direct_costs": sum(
                    len(fake.records("direct_costs", project_id=p["id"]))
                    for p in fake.records("projects")
                ),
            }
        finally:
            sim.close()
    figures["targets"] = targets(figures)
    return figures


def targets(f: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each structural target: the figure, the limit and whether it is met."""
    init, inc = f["initial"], f["incremental"]
    streams = init["qbwc"]["streams"]
    worst = max(
        (s["round_trips"] - s["expected"] for s in streams.values()),
        default=0,
    )
    pw = init["procore"]
    ratio_writes = pw["writes"] / max(1, pw["write_minimum"])
    ratio_all = (pw["calls"] + pw["token_calls"]) / max(1, pw["minimum"] + 1)
    inc_trips = max(inc["qbwc"]["per_entity_type"].values(), default=0)
    return {
        "initial_round_trips": {
            "value": worst,
            "limit": "≤ ceil(records / MaxReturned) + 1 per stream",
            "met": worst <= 1,
        },
        "initial_procore_writes": {
            "value": round(ratio_writes, 3),
            "limit": "≤ 1.1 × write minimum",
            "met": ratio_writes <= 1.1,
        },
        "initial_procore_all": {
            "value": round(ratio_all, 3),
            "limit": "≤ 1.1 × (write + list minimum + token)",
            "met": ratio_all <= 1.1,
        },
        "incremental_round_trips": {
            "value": inc_trips,
            "limit": "≤ 2 per entity type",
            "met": inc_trips <= 2,
        },
        "incremental_procore_calls": {
            "value": inc["procore"]["calls"] + inc["procore"]["token_calls"],
            "limit": "≤ 5",
            "met": inc["procore"]["calls"] + inc["procore"]["token_calls"] <= 5,
        },
    }


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} MB"


def _cycle_rows(name: str, c: dict[str, Any]) -> Iterator[str]:
    q, p = c["qbwc"], c["procore"]
    yield (
        f"| {name} | {q['round_trips']} ({q['reads']} reads, {q['writes']} writes)"
        f" | {q['records_read']:,} | {p['calls']:,} + {p['token_calls']} token"
        f" ({p['writes']:,} writes / min {p['write_minimum']:,};"
        f" {p['lists']:,} lists / min {p['list_minimum']:,})"
        f" | {c['seconds']:.1f} s ({c['seconds_update']:.1f} + {c['seconds_run']:.1f})"
        f" | {_mb(c['tracemalloc_peak_mb'])} | {c['ru_maxrss_mb']:,.0f} MB |"
    )


def render(f: dict[str, Any]) -> str:
    """The figures as a Markdown section for docs/benchmarks.md."""
    n = f["counts"]
    cycles = [("initial", f["initial"])]
    if "settle" in f:
        cycles.append((f"quiet, {f['interval_minutes']:.0f} min later (settle)", f["settle"]))
    cycles.append(("incremental (10 changes)", f["incremental"]))
    if "due" in f:
        minutes = f["project_pull_every_minutes"]
        cycles.append((f"quiet, {minutes:.0f} min later (project streams due)", f["due"]))
    lines = [
        "## Sync engine (`bench/bench_sync.py`)",
        "",
        f"Scale {f['scale']}: {n['vendors']:,} vendors, {n['jobs']:,} jobs, {n['items']:,}"
        f" Service items, {n['bills']:,} bills × {LINES} item lines; MaxReturned"
        f" {f['max_returned']}; Python {f['python']}. Seeding took {f['seed_seconds']:.1f} s"
        f" (peak RSS {f['rss_after_seed_mb']:,.0f} MB after it)."
        + (" Wall times include tracemalloc's overhead." if f["tracemalloc"] else ""),
        "",
        "| cycle | QBWC round trips | QB records read | Procore calls | wall (update + run)"
        " | tracemalloc peak | peak RSS |",
        "|---|---|---:|---|---|---:|---:|",
    ]
    for name, c in cycles:
        lines.extend(_cycle_rows(name, c))
    lines += [
        "",
        "Procore *writes / min*: sync requests against `ceil(records written / 1000)` per"
        " resource and project; *lists / min*: list requests against `ceil(Total / per_page)`"
        " per distinct list polled. QuickBooks records read include the re-reads of each"
        " stream's rewind.",
        "",
        "Initial cycle, QuickBooks reads per stream:",
        "",
        "| stream | round trips | records | ceil(records / MaxReturned) |",
        "|---|---:|---:|---:|",
    ]
    for name, s in f["initial"]["qbwc"]["streams"].items():
        lines.append(f"| {name} | {s['round_trips']} | {s['records']:,} | {s['expected']} |")
    for label, key in (("Initial", "initial"), ("Incremental", "incremental")):
        kinds = f[key]["procore"]["by_kind"]
        lines += [
            "",
            f"{label} cycle, Procore calls by kind:",
            "",
            "| kind | calls |",
            "|---|---:|",
        ]
        lines += [f"| {k} | {v:,} |" for k, v in kinds.items()]
    inc = f["incremental"]
    lines += [
        "",
        "Incremental cycle, round trips per entity type: "
        + ", ".join(f"{k} {v}" for k, v in inc["qbwc"]["per_entity_type"].items())
        + ".",
        "",
        "Changes: " + "; ".join(f["changes"]) + ".",
        "",
        "| target | value | limit | met |",
        "|---|---|---|---|",
    ]
    for name, t in f["targets"].items():
        lines.append(f"| {name} | {t['value']} | {t['limit']} | {'yes' if t['met'] else 'NO'} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="bench_sync", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("QBPROCORE_BENCH_SYNC_SCALE", "1.0")),
        help="shrink every count (default 1.0, or $QBPROCORE_BENCH_SYNC_SCALE)",
    )
    parser.add_argument("--max-returned", type=int, default=MAX_RETURNED)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="plain wall times, no traced peak"
    )
    parser.add_argument("--no-settle", action="store_true", help="skip the no-change cycle")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="minutes between scheduled cycles (5)"
    )
    args = parser.parse_args(argv or [])
    figures = run(
        args.scale,
        max_returned=args.max_returned,
        trace=not args.no_tracemalloc,
        settle=not args.no_settle,
        interval=dt.timedelta(minutes=args.interval),
        hook=lambda msg: print(f"[bench_sync] {msg}", file=sys.stderr, flush=True),
    )
    if args.json:
        return json.dumps(figures, indent=2, default=str)
    return render(figures)


if __name__ == "__main__":
    print(main(sys.argv[1:]))
