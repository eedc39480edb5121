"""The sync guide and the custom-mapping tutorial: their code runs and their outputs are real.

Each page's ``python`` blocks run in order in one namespace (a block whose first line is
``# not run: <reason>`` is skipped). A ``text`` block right after a python block is the output
that block prints, and must match it exactly.
"""

from __future__ import annotations

import contextlib
import difflib
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


def run_page(page: Path) -> int:
    """Run ``page``'s python blocks in order in one namespace; return how many ran.

    A ``text`` block right after a python block is what that block prints, exactly; a
    python block without one must print nothing. Tracebacks point at the Markdown line.
    (The other docs tests run their pages with this too.)
    """
    name = page.name
    found = blocks(page)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
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
        printed = out.getvalue()
        if following is not None and following[0] == "text":
            assert printed == following[2], (
                f"{name}:{line}: printed output differs from the page:\n"
                + _diff(following[2], printed)
            )
        else:
            assert printed == "", f"{name}:{line}: prints output the page does not show:\n{printed}"
    return ran


def _diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "page", "printed", lineterm=""
    )
    return "\n".join(lines)


@pytest.mark.parametrize("name", PAGES)
def test_page_code_runs_and_prints_what_the_page_shows(name: str) -> None:
    assert run_page(DOCS / name) >= 3, f"{name} has too few runnable blocks"


def test_pages_are_in_the_nav() -> None:
    config = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    for name in [*PAGES, "reference/sync.md"]:
        assert name in config, f"{name} is not in mkdocs.yml's nav"
        assert (DOCS / name).is_file()
