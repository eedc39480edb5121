"""The README's main job: `python -m qbprocore demo` runs end to end and says what moved."""

from __future__ import annotations

import io
import subprocess
import sys

from qbprocore._demo import run_demo


def test_demo_reads_through_the_web_connector_and_upserts_exactly_once() -> None:
    out = io.StringIO()
    result = run_demo(out, vendors=130, page=50)
    assert result["status"] == "done"
    assert result["vendors_read"] == 130
    assert result["round_trips"] == 3  # ceil(130 / 50) pages of the iterator
    assert result["created"] == 130
    assert result["updated_on_rerun"] == 130
    assert result["procore_vendors"] == 130  # the second run created nothing
    assert result["procore_calls_first_run"] == 1  # one batch upsert
    text = out.getvalue()
    assert "duplicates: 0" in text
    assert "normalized" in text


def test_demo_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qbprocore", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "read 240 vendors" in done.stdout
    assert "Run again: 0 created, 240 updated" in done.stdout


def test_cli_without_a_command_shows_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qbprocore"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "demo" in done.stdout
