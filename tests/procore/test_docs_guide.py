"""The ``python`` blocks of docs/guides/procore.md run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "procore.md"


def test_guide_code_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(), flags=re.S | re.M)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "guide"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{GUIDE.name}#block{number}", "exec")
        exec(code, namespace)
    out = capsys.readouterr().out
    assert "Fake Builders Inc" in out
    assert "***" in out  # the printed token is redacted
    assert out.rstrip().endswith("2501")  # 2,500 seeded + the one vendor the sync created


def test_reference_page_points_at_the_package() -> None:
    page = GUIDE.parents[1] / "reference" / "procore.md"
    assert "::: qbprocore.procore" in page.read_text()
