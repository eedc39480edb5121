"""The README's main job: `qbprocore demo` syncs a whole company both ways and says what moved."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from qbprocore._demo import run_demo
from qbprocore.sync import SQLiteStore

_ROWS = {
    # Procore -> QuickBooks
    "cost_code -> quickbooks",
    "project -> quickbooks",
    "vendor -> quickbooks",
    "budget -> quickbooks",
    "commitment -> quickbooks",
    "change_order -> quickbooks",
    "invoice -> quickbooks",
    "payment -> quickbooks",
    # QuickBooks -> Procore
    "vendor -> procore",
    "project -> procore",
    "direct_cost -> procore",
    "invoice -> procore",
    "payment -> procore",
}


def test_demo_moves_every_feature_map_row_and_blocks_what_it_must(tmp_path: Path) -> None:
    out = io.StringIO()
    db = tmp_path / "demo.db"
    summary = run_demo(out, database=db)
    assert set(summary["moved"]) == _ROWS
    assert all(n > 0 for n in summary["moved"].values())
    assert summary["deletions_mirrored"] == 1
    assert summary["duplicates"] == 0
    rules = sorted(b["rule"] for b in summary["blocked"])
    assert rules == ["cumulative_over_commitment", "negative_invoice"]
    kinds = {(d["kind"], d["label"]) for d in summary["reconciliation"]["differences"]}
    assert kinds == {("only_in_procore", "IW-1002"), ("only_in_procore", "SD-77")}
    text = out.getvalue()
    assert "Duplicates found on either side: 0" in text
    assert "negative_invoice" in text
    # The store is left behind, readable.
    store = SQLiteStore(db)
    assert store.get_connection("demo") is not None
    store.close()


def test_demo_command_prints_one_json_object(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qbprocore", "demo", "--json", "--database", str(tmp_path / "d.db")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["duplicates"] == 0
    assert set(summary["moved"]) == _ROWS
    assert {b["rule"] for b in summary["blocked"]} == {
        "cumulative_over_commitment",
        "negative_invoice",
    }


def test_cli_without_a_command_shows_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qbprocore"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "demo" in done.stdout
