"""Load, in small: several company files at once through the reference server on PostgreSQL.

The full run (200 company files) is ``python bench/bench_load.py``; its figures are in the
benchmarks page. Here a handful of tenants prove the properties: no errors, and every
tenant's records in its own connection only.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.sync.conftest import POSTGRES_DSN, postgres_unavailable

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_load.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load_under_test", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_concurrent_company_files_stay_apart_and_error_free() -> None:
    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    figures = _bench().run_load(tenants=8, vendors=25, concurrency=4, dsn=POSTGRES_DSN)
    assert figures["errors"] == []
    assert figures["records_in_another_tenant"] == 0
    assert figures["records_missing"] == 0
    # Every tenant's session made its calls: authenticate … closeConnection.
    assert figures["calls"] >= 8 * 20
