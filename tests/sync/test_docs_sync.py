"""The sync guide and the custom-mapping tutorial: their code runs and their outputs are real.

Each page's ``python`` blocks run in order in one namespace (a block whose first line is
``# not run: <reason>`` is skipped). A ``text`` block right after a python block is the output
that block prints, and must match it exactly.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["guides/sync.md", "tutorials/custom-mapping.md"]
NOT_RUN = "# not run:"

_BLOCK = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```\n", flags=re.S | re.M)


def blocks(page: Path) -> list[tuple[str, int, str]]:
    """``(language, first code line, code)`` for each fenced block of ``page``."""
    text = page.read_text(encoding="utf-8")
    return [
        (m.group("lang"), text.count("\n", 0, m.start("body")) + 1, m.group("body"))
        for m in _BLOCK.finditer(text)
    ]


@pytest.mark.parametrize("name", PAGES)
def test_page_code_runs_and_prints_what_the_page_shows(name: str) -> None:
    page = DOCS / name
    found = blocks(page)
    namespace: dict[str, object] = {"__name__": f"docs.{name}"}
    ran = 0
    for i, (lang, line, code) in enumerate(found):
        if lang != "python":
            continue
        if code.startswith(NOT_RUN):
            assert code[len(NOT_RUN) :].strip(), f"{name}:{line}: '# not run:' needs a reason"
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            # Pad so a traceback's line number is the line in the Markdown file.
            exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)
        ran += 1
        following = found[i + 1] if i + 1 < len(found) else None
        if following is not None and following[0] == "text":
            assert out.getvalue() == following[2], f"{name}:{line}: printed output differs"
        else:
            assert out.getvalue() == "", f"{name}:{line}: prints output the page does not show"
    assert ran >= 3, f"{name} has too few runnable blocks"


def test_pages_are_in_the_nav() -> None:
    config = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    for name in [*PAGES, "reference/sync.md"]:
        assert name in config, f"{name} is not in mkdocs.yml's nav"
        assert (DOCS / name).is_file()
