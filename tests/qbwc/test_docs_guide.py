"""docs/guides/qbwc.md: its python blocks run, and its state diagram is the table's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qbprocore import qbwc

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "guides" / "qbwc.md"


def test_guide_code_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = GUIDE.read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) >= 10
    namespace: dict[str, object] = {"__name__": "guide"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{GUIDE.name}#block{number}", "exec"), namespace)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[:2] == ["Subcontractor 000", "Subcontractor 001"]
    assert "1.1 3100 link-existing" in lines
    assert "after None retry-later" in lines
    assert "E:This service needs QuickBooks Web Connector 2.1.0.30 or later" in out
    assert "AppURL AppURL must use https" in out
    assert "0x80040400" in out
    assert "'strPassword': '***'" in out  # the transcript shows no password


def test_printed_outputs_shown_on_the_page_are_real() -> None:
    text = GUIDE.read_text()
    assert "1.1 3100 link-existing\nafter None retry-later" in text


def test_state_diagram_on_the_page_is_generated_from_the_table() -> None:
    text = GUIDE.read_text()
    blocks = re.findall(r"^```mermaid\n(.*?)^```", text, flags=re.S | re.M)
    assert blocks == [qbwc.state_diagram()], (
        "regenerate the diagram in docs/guides/qbwc.md from qbwc.state_diagram():\n"
        + qbwc.state_diagram()
    )


def test_reference_page_points_at_the_package() -> None:
    assert "::: qbprocore.qbwc" in (DOCS / "reference" / "qbwc.md").read_text()


def test_status_table_matches_the_default_policy() -> None:
    text = GUIDE.read_text()
    section = text.split("## Status codes", 1)[1].split("\n## ", 1)[0]
    listed: dict[int, str] = {}
    for line in section.splitlines():
        m = re.match(r"^\| `([A-Z_]+)` \| ([^|]+) \|", line)
        if m:
            for code in re.findall(r"\b\d+\b", m.group(2)):
                listed[int(code)] = m.group(1)
    expected = {code: action.name for code, action in qbwc.DEFAULT_STATUS_ACTIONS.items()}
    assert listed == expected
