"""The documentation stays true: its code runs, its tables match the code, the site builds.

- Every ```` ```python ```` block of the pages in ``RUN`` is executed, the blocks of one page in
  order and in one namespace (so later blocks use names from earlier ones). A block whose first
  line is ``# not run: <reason>`` is skipped. Tracebacks point at the Markdown line.
- The status-code table in the qbXML guide and the message-class table on the reference page are
  written by hand; tests here check they match ``STATUS_CODES`` and ``REQUEST_TYPES`` /
  ``RESPONSE_TYPES``, and print the expected text when they don't.
- ``mkdocs build --strict`` runs only when mkdocs and its plugins are importable.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qbprocore import qbxml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RUN = ["index.md", "guides/qbxml.md", "reference/qbxml.md"]
NOT_RUN = "# not run:"

# An opening fence (possibly indented, e.g. inside an admonition) and its language.
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[^\n]*$")


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """Return ``(first code line number, code)`` for each ``python`` block of ``page``."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        start = i + 1
        end = start
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        if m.group("lang") == "python":
            body = [
                line[len(indent) :] if line.startswith(indent) else line
                for line in lines[start:end]
            ]
            blocks.append((start + 1, textwrap.dedent("\n".join(body))))
        i = end + 1
    return blocks


def _is_run(code: str) -> bool:
    first = code.lstrip().splitlines()[0] if code.strip() else ""
    return not first.startswith(NOT_RUN)


@pytest.mark.parametrize("name", RUN)
def test_page_code_runs(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every python block of the page runs, in order, in one namespace."""
    page = DOCS / name
    blocks = python_blocks(page)
    assert blocks, f"{name} has no python blocks"
    namespace: dict[str, object] = {"__name__": f"docs.{name}"}
    for line, code in blocks:
        if not _is_run(code):
            reason = code.lstrip().splitlines()[0][len(NOT_RUN) :].strip()
            assert reason, f"{name}:{line}: '# not run:' needs a reason"
            continue
        # Pad with blank lines so a traceback's line number is the line in the Markdown file.
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)
    capsys.readouterr()


def test_block_extraction_handles_indented_and_skipped_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n```python\nx = 1\n```\n\n!!! note\n    ```python\n    y = x + 1\n    ```\n"
        "```bash\nls\n```\n```python\n# not run: needs QuickBooks\nboom()\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert blocks == [(3, "x = 1"), (8, "y = x + 1"), (14, "# not run: needs QuickBooks\nboom()")]
    assert [_is_run(code) for _, code in blocks] == [True, True, False]


# -- the status-code table in the guide ----------------------------------------------------------

STATUS_START = "<!-- status-table:start -->"
STATUS_END = "<!-- status-table:end -->"


def status_table() -> str:
    """The Markdown table the guide must contain, built from ``qbxml.STATUS_CODES``."""
    rows = [
        "| code | severity | name | meaning | retry hint | what to do |",
        "|---:|---|---|---|---|---|",
    ]
    for info in qbxml.STATUS_CODES.values():
        rows.append(
            f"| {info.code} | {info.severity} | {info.name} | {info.meaning} |"
            f" `{info.retry.value}` | {info.hint} |"
        )
    return "\n".join(rows)


def _between(text: str, start: str, end: str) -> str:
    assert start in text, f"marker {start} missing"
    assert end in text, f"marker {end} missing"
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def test_status_table_matches_status_codes() -> None:
    """The guide's status table lists exactly the rows of STATUS_CODES (paste the expected text)."""
    guide = (DOCS / "guides" / "qbxml.md").read_text(encoding="utf-8")
    expected = status_table()
    assert _between(guide, STATUS_START, STATUS_END) == expected, (
        "docs/guides/qbxml.md's status table is out of date; replace it with:\n\n" + expected
    )


def test_retry_hints_are_all_explained() -> None:
    """Every RetryHint value is explained in the guide."""
    guide = (DOCS / "guides" / "qbxml.md").read_text(encoding="utf-8")
    missing = [h.value for h in qbxml.RetryHint if f"`{h.value}`" not in guide]
    assert not missing, f"retry hints not in the guide: {missing}"


# -- the message-class table on the reference page -----------------------------------------------

MESSAGES_START = "<!-- message-classes:start -->"
MESSAGES_END = "<!-- message-classes:end -->"


def test_reference_lists_every_message_class() -> None:
    """Every request and response class appears on the reference page, and nothing stale does."""
    page = (DOCS / "reference" / "qbxml.md").read_text(encoding="utf-8")
    table = _between(page, MESSAGES_START, MESSAGES_END)
    named = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", table))
    types = [*qbxml.REQUEST_TYPES, *qbxml.RESPONSE_TYPES]
    missing = [cls.__name__ for cls in types if cls.__name__ not in named]
    assert not missing, f"message classes missing from docs/reference/qbxml.md: {missing}"
    unknown = sorted(name for name in named if not hasattr(qbxml, name))
    assert not unknown, f"docs/reference/qbxml.md names classes qbxml does not have: {unknown}"


PARTS_START = "<!-- message-parts:start -->"
PARTS_END = "<!-- message-parts:end -->"


def test_reference_parts_table_names_real_classes() -> None:
    """Every class the "lines and other parts" table names exists in qbprocore.qbxml."""
    page = (DOCS / "reference" / "qbxml.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", _between(page, PARTS_START, PARTS_END)))
    assert named
    unknown = sorted(name for name in named if not hasattr(qbxml, name))
    assert not unknown, f"docs/reference/qbxml.md names classes qbxml does not have: {unknown}"


# -- the error tree ------------------------------------------------------------------------------


def test_the_error_tree_is_drawn_once_on_the_exceptions_page() -> None:
    """The reference index points at the tree (checked in test_docs_site) and draws none."""
    page = (DOCS / "reference" / "index.md").read_text(encoding="utf-8")
    section = page.split("## The error tree", 1)[1].split("\n## ", 1)[0]
    assert "](exceptions.md)" in section
    assert "```text" not in section, "a second copy of the error tree would drift"


def test_index_quick_start_is_the_readme_quick_start() -> None:
    """docs/index.md shows exactly the README's two quick-start commands."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)
    assert len(commands) == 2, "README's quick start should be two bash blocks"
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    shown = re.findall(r"```bash\n(.*?)\n```", index.split("## Quick start", 1)[1], flags=re.S)
    assert shown[:2] == commands


def test_pages_in_nav_exist() -> None:
    """The pages this suite covers are in mkdocs.yml's nav (other engineers edit it too)."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for name in [*RUN, "reference/index.md", "benchmarks.md"]:
        assert name in config, f"{name} is not in mkdocs.yml's nav"
        assert (DOCS / name).is_file()


def test_benchmarks_page_has_the_figures_marker() -> None:
    """The benchmark runner's qbXML figures are pasted after this marker."""
    assert "<!-- qbxml-figures -->" in (DOCS / "benchmarks.md").read_text(encoding="utf-8")


# -- the site builds -----------------------------------------------------------------------------


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict`` succeeds (skipped when the docs tools are not installed)."""
    missing = [
        name
        for name in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
        if _missing(name)
    ]
    if missing:
        pytest.skip(f"docs tools not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True
