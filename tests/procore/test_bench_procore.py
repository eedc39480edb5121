"""The Procore benchmark's scenarios, at small sizes, keep their call-count guarantees."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_procore.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_procore_under_test", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_upsert_uses_the_minimum_number_of_calls(bench: ModuleType) -> None:
    figures = bench.bench_upsert(2500)
    assert figures["api_calls"] == 3
    assert figures["token_calls"] == 1
    assert figures["ratio"] <= 1.1
    assert figures["created"] == 2500


def test_a_lost_answer_costs_one_call_and_no_duplicate(bench: ModuleType) -> None:
    figures = bench.bench_upsert(2500, faults=1)
    assert figures["api_calls"] == 4
    assert figures["stored"] == 2500


def test_listing_costs_one_call_per_page(bench: ModuleType) -> None:
    figures = bench.bench_list(3500, per_page=1000)
    assert figures["records"] == 3500
    assert figures["api_calls"] == 4
