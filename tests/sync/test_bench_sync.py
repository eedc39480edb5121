"""The sync benchmark's structural targets (issue requirement 10), at a small scale.

No timings: only what does not depend on the machine — QuickBooks round trips per read
stream, Procore calls against the batch minimum, and the incremental run's budget.

Scale 0.02 (10 jobs, 6 items, 1,000 bills) with 1,500 vendors: the staged QuickBooks records
(about 2,500) take several claims of `EngineConfig.batch_size` (1,000), so batching across
claims is exercised, and the vendors take two pages of a Procore list (1,000 a page), as at
full scale; it runs in a few seconds.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_sync.py"
SCALE = 0.02
SIZES = {"vendors": 1500}


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_sync_under_test", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load()


@pytest.fixture(scope="module")
def figures(bench: ModuleType) -> dict[str, Any]:
    result: dict[str, Any] = bench.run(SCALE, trace=False, sizes=SIZES)
    return result


def test_everything_reaches_procore(bench: ModuleType, figures: dict[str, Any]) -> None:
    n = figures["counts"]
    assert n == {**bench.counts(SCALE), **SIZES}
    init = figures["initial"]
    assert init["update_status"] == "done"
    assert init["moved"] == {
        "direct_cost -> procore": n["bills"],  # three lines, one job: one direct cost each
        "project -> procore": n["jobs"],
        "vendor -> procore": n["vendors"],
    }
    assert init["actions"].get("wait", 0) == 0
    assert init["actions"].get("fail", 0) == 0
    totals = figures["procore_totals"]
    # + the Procore-only vendor; + the cost code library and the new job; + 3 new bills.
    assert totals == {
        "vendors": n["vendors"] + 1,
        "projects": n["jobs"] + 2,
        "direct_costs": n["bills"] + 3,
    }


def test_initial_reads_take_records_over_max_returned_round_trips(
    figures: dict[str, Any],
) -> None:
    max_returned = figures["max_returned"]
    streams = figures["initial"]["qbwc"]["streams"]
    n = figures["counts"]
    assert streams["Vendor"]["records"] == n["vendors"]
    assert streams["Customer"]["records"] == n["jobs"] + 1
    assert streams["ItemService"]["records"] == n["items"]
    assert streams["Bill"]["records"] == n["bills"]
    for name, stream in streams.items():
        expected = max(1, math.ceil(stream["records"] / max_returned))
        assert stream["round_trips"] <= expected + 1, name
    assert figures["initial"]["qbwc"]["writes"] == 0
    assert figures["targets"]["initial_round_trips"]["met"]


def test_initial_procore_writes_within_10_percent_of_the_batch_minimum(
    figures: dict[str, Any],
) -> None:
    # Here exactly the minimum: 2 vendor batches, 1 project batch, 1 per project of direct
    # costs.
    procore = figures["initial"]["procore"]
    assert procore["status_429"] == 0
    assert procore["token_calls"] == 1
    assert procore["writes"] <= 1.1 * procore["write_minimum"]


def test_procore_lists_waste_no_pages(figures: dict[str, Any]) -> None:
    for name in ("initial", "incremental"):
        procore = figures[name]["procore"]
        assert procore["lists"] == procore["list_minimum"], name


def test_incremental_run_takes_at_most_two_round_trips_per_entity_type(
    figures: dict[str, Any],
) -> None:
    inc = figures["incremental"]
    assert inc["update_status"] == "done"
    assert inc["qbwc"]["per_entity_type"]
    assert max(inc["qbwc"]["per_entity_type"].values()) <= 2
    assert inc["moved"]["vendor -> procore"] == 4
    assert inc["moved"]["project -> procore"] == 1
    assert inc["moved"]["direct_cost -> procore"] == 3
    assert inc["pulled"] == {"project": 1, "vendor": 1}


def test_incremental_procore_writes_are_the_batch_minimum(figures: dict[str, Any]) -> None:
    procore = figures["incremental"]["procore"]
    assert procore["writes"] == procore["write_minimum"] == 3


def test_incremental_procore_calls_are_lists_of_projects_and_vendors_and_minimal_writes(
    figures: dict[str, Any],
) -> None:
    procore = figures["incremental"]["procore"]
    assert procore["token_calls"] == 0
    assert procore["status_429"] == 0
    writes = {k: v for k, v in procore["by_kind"].items() if not k.endswith(" list")}
    lists = {k for k in procore["by_kind"] if k.endswith(" list")}
    # Vendors (4 modified), the new job's project, the 3 new bills of one job: one call each.
    assert writes == {"direct_costs sync": 1, "projects sync": 1, "vendors sync": 1}
    # Project-scoped streams are not due (EngineConfig.project_pull_every).
    assert lists == {"projects list", "vendors list"}


def test_incremental_run_makes_at_most_five_procore_calls(figures: dict[str, Any]) -> None:
    procore = figures["incremental"]["procore"]
    assert procore["calls"] + procore["token_calls"] <= 5


def test_main_prints_the_report_and_json(bench: ModuleType) -> None:
    text = bench.main(["--scale", "0.002", "--no-tracemalloc", "--no-settle"])
    assert text.startswith("## Sync engine")
    assert "| target | value | limit | met |" in text
    data = json.loads(bench.main(["--scale", "0.002", "--json"]))
    assert data["counts"] == {"vendors": 10, "jobs": 1, "items": 1, "bills": 100}
    assert data["tracemalloc"] is True
    assert data["initial"]["tracemalloc_peak_mb"] is not None
    assert "settle" in data
