"""The docs site's quick start, tutorials, explanations and reference pages stay true.

- Every ``python`` block of the pages in ``PAGES`` runs, the blocks of one page in order and in
  one namespace; a ``text`` block right after a python block is what that block prints,
  exactly (a python block without one must print nothing). A block whose first line is
  ``# not run: <reason>`` is skipped. Tracebacks point at the Markdown line.
- The testing tutorial's pytest example passes when pytest runs it as a file.
- The exceptions page draws every public ``*Error`` of every layer under its real parent,
  with its builtin bases, and its tables list each one with its exact bases.
- The status-code page's table is ``qbxml.STATUS_CODES`` beside ``qbwc.DEFAULT_STATUS_ACTIONS``.
- The Web Connector explanation shows the diagram ``qbwc.state_diagram()`` draws today.
- The quick-start page shows the README's two quick-start commands.
- Every page is in mkdocs.yml's nav.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import qbprocore
from qbprocore import procore, qbwc, qbxml, sync
from tests.sync.test_docs_sync import blocks, run_page

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = ["tutorials/first-connector.md", "tutorials/testing-with-fakes.md"]
PAGES = [
    "quickstart.md",
    *TUTORIALS,
    "explanations/web-connector.md",
    "explanations/sync-model.md",
    "reference/exceptions.md",
    "reference/status-codes.md",
]


def _text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# -- code blocks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_page_code_runs_and_prints_what_the_page_shows(name: str) -> None:
    """Each python block runs; its printed output is the ``text`` block that follows it."""
    ran = run_page(DOCS / name)
    if name in TUTORIALS:
        assert ran >= 5, f"{name} has too few runnable blocks"


def test_fenced_blocks_are_read_whole(tmp_path: Path) -> None:
    """The block reader keeps languages, first lines and bodies (a page's fences must close)."""
    page = tmp_path / "page.md"
    page.write_text("intro\n```python\nprint(1)\n```\n\n```text\n1\n```\n", encoding="utf-8")
    assert blocks(page) == [("python", 3, "print(1)\n"), ("text", 7, "1\n")]
    for name in PAGES:
        text = _text(name)
        fences = re.findall(r"^```", text, flags=re.M)
        assert len(fences) == 2 * len(blocks(DOCS / name)), f"{name}: a fence is unbalanced"


# -- the testing tutorial's pytest example ----------------------------------------------------

PYTEST_EXAMPLE = "# tests/test_vendor_sync.py\n"


def test_testing_tutorial_pytest_example_passes_under_pytest(tmp_path: Path) -> None:
    """The test module the testing tutorial shows passes when pytest runs it as a file."""
    page = DOCS / "tutorials" / "testing-with-fakes.md"
    examples = [code for _, _, code in blocks(page) if code.startswith(PYTEST_EXAMPLE)]
    assert len(examples) == 1, f"expected one block starting with {PYTEST_EXAMPLE!r}"
    tests = re.findall(r"^def (test_\w+)", examples[0], flags=re.M)
    test_file = tmp_path / "test_vendor_sync.py"
    test_file.write_text(examples[0], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", test_file],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf"\b{len(tests)} passed\b", result.stdout), result.stdout


# -- the exceptions page ----------------------------------------------------------------------

LAYERS = {
    "qbprocore.qbxml": qbxml,
    "qbprocore.procore": procore,
    "qbprocore.qbwc": qbwc,
    "qbprocore.sync": sync,
}

# One line of the drawn tree: box-drawing prefix, class name, optional "(Builtin, ...)" bases.
_TREE_LINE = re.compile(
    r"^(?P<prefix>(?:[│ ] {3})*(?:[├└]── )?)(?P<name>\w+)(?: \((?P<bases>[\w, ]+)\))?\s*$"
)


def public_errors() -> dict[str, type[BaseException]]:
    """Every exception and warning class the package and its layers export, by name."""
    found: dict[str, type[BaseException]] = {"QbprocoreError": qbprocore.QbprocoreError}
    for module in LAYERS.values():
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                assert found.get(name, obj) is obj, f"two public classes are named {name}"
                found[name] = obj
    return found


def test_every_layer_exports_its_errors() -> None:
    """The check below covers every ``*Error`` class defined in a public layer package."""
    errors = public_errors()
    for prefix, module in LAYERS.items():
        for name in dir(module):
            obj = getattr(module, name)
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseException)
                and name.endswith("Error")
                and obj.__module__.startswith(prefix)
            ):
                assert name in errors, f"{prefix}.{name} is not in __all__"


def _builtin_bases(cls: type) -> set[str]:
    return {b.__name__ for b in cls.__bases__ if b.__module__ == "builtins"} - {"Exception"}


def test_exceptions_page_tree_matches_the_code() -> None:
    """The tree draws every public error under its real parent, with its builtin bases."""
    page = _text("reference/exceptions.md")
    section = page.split("## The error tree", 1)[1].split("\n## ", 1)[0]
    tree = re.search(r"```text\n(.*?)```", section, flags=re.S)
    assert tree is not None, "no ```text block under '## The error tree'"
    errors = public_errors()
    drawn: list[str] = []
    parents: list[str] = []  # the chain of names above the current line, by depth
    for line in tree.group(1).splitlines():
        if not line.strip():
            parents = []
            continue
        m = _TREE_LINE.match(line)
        assert m is not None, f"unreadable tree line: {line!r}"
        name, depth = m.group("name"), len(m.group("prefix")) // 4
        assert name in errors, f"the tree names {name}, which is not a public error"
        cls = errors[name]
        ours = [b for b in cls.__bases__ if b.__module__ != "builtins"]
        if depth:
            assert ours == [errors[parents[depth - 1]]], f"{name} is drawn under the wrong parent"
        else:
            assert not ours, f"{name} is drawn as a root but derives from {ours}"
        written = {b.strip() for b in (m.group("bases") or "").split(",") if b.strip()}
        assert written == _builtin_bases(cls), f"{name}: drawn with {written}"
        parents = [*parents[:depth], name]
        drawn.append(name)
    assert len(drawn) == len(set(drawn)), "a class is drawn twice"
    missing = sorted(set(errors) - set(drawn))
    assert not missing, f"public errors missing from the tree in reference/exceptions.md: {missing}"


def test_exceptions_page_tables_list_every_error_with_its_bases() -> None:
    """Each layer's table lists each of its errors once, with exactly its bases."""
    page = _text("reference/exceptions.md")
    for prefix, module in LAYERS.items():
        section = page.split(f"\n## `{prefix}`\n", 1)
        assert len(section) == 2, f"no '## `{prefix}`' section"
        rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section[1].split("\n## ", 1)[0], re.M)
        listed = {name: re.findall(r"`(\w+)`", bases) for name, bases in rows}
        assert len(listed) == len(rows), f"{prefix}: a class is listed twice"
        expected = {
            name: [b.__name__ for b in obj.__bases__]
            for name in module.__all__
            if isinstance(obj := getattr(module, name), type)
            and issubclass(obj, Exception)
            and not issubclass(obj, Warning)
        }
        assert listed == expected, f"{prefix}: the table should list {expected}"


# -- the status-code page -----------------------------------------------------------------------

STATUS_START = "<!-- status-codes:start -->"
STATUS_END = "<!-- status-codes:end -->"


def status_code_table() -> str:
    """The table the page must hold, built from ``STATUS_CODES`` and the default actions."""
    rows = [
        "| code | severity | name | meaning | action | what to do |",
        "|---:|---|---|---|---|---|",
    ]
    for info in qbxml.STATUS_CODES.values():
        action = qbwc.DEFAULT_STATUS_ACTIONS[info.code]
        rows.append(
            f"| {info.code} | {info.severity} | {info.name} | {info.meaning} |"
            f" `{action.value}` | {info.hint} |"
        )
    return "\n".join(rows)


def test_status_code_page_table_is_the_code() -> None:
    """The table is generated text: paste the expected table when a code changes."""
    page = _text("reference/status-codes.md")
    assert STATUS_START in page
    assert STATUS_END in page
    table = page.split(STATUS_START, 1)[1].split(STATUS_END, 1)[0].strip()
    expected = status_code_table()
    assert table == expected, (
        "docs/reference/status-codes.md's table is out of date; replace it with:\n\n" + expected
    )


def test_status_code_page_explains_every_action() -> None:
    """Each StatusAction has a row in the page's table of actions."""
    page = _text("reference/status-codes.md")
    section = page.split("## What each action means", 1)[1].split("\n## ", 1)[0]
    explained = re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.M)
    assert explained == [action.value for action in qbwc.StatusAction]


# -- the Web Connector explanation's state diagram ----------------------------------------------


def test_web_connector_page_diagram_is_generated_from_the_table() -> None:
    """The page's Mermaid state diagram is what ``qbwc.state_diagram()`` draws today."""
    page = _text("explanations/web-connector.md")
    diagrams = re.findall(r"^```mermaid\n(.*?)^```", page, flags=re.S | re.M)
    assert diagrams == [qbwc.state_diagram()], (
        "regenerate the diagram in docs/explanations/web-connector.md from"
        " qbwc.state_diagram():\n" + qbwc.state_diagram()
    )


def test_the_site_draws_state_diagrams_from_the_table_when_built() -> None:
    """The mkdocs hook replaces each state diagram, stale or not, and nothing else."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from mkdocs_hooks import on_page_markdown
    finally:
        sys.path.remove(str(ROOT / "tools"))
    other = "```mermaid\nflowchart LR\n    A --> B\n```"
    stale = "```mermaid\nstateDiagram-v2\n    [*] --> NEW\n```"
    page = f"# Page\n\n{stale}\n\ntext\n\n{other}\n\n{stale}\n"
    built = on_page_markdown(page, page=None, config=None, files=None)
    fresh = "```mermaid\n" + qbwc.state_diagram() + "```"
    assert built == f"# Page\n\n{fresh}\n\ntext\n\n{other}\n\n{fresh}\n"
    assert "hooks:\n" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "  - tools/mkdocs_hooks.py\n" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


# -- the quick start ------------------------------------------------------------------------------


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)


def test_quickstart_page_shows_the_readme_commands() -> None:
    """docs/quickstart.md shows exactly the README's two quick-start commands, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _bash_blocks(readme.split("## Quick start", 1)[1].split("\n## ", 1)[0])
    assert len(commands) == 2, "README's quick start should be two bash blocks"
    assert _bash_blocks(_text("quickstart.md")) == commands


# -- the nav --------------------------------------------------------------------------------------


def nav_pages(config: Path) -> list[str]:
    """The page paths listed in an mkdocs config's nav."""
    text = config.read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    nav = re.split(r"^\S", nav, maxsplit=1, flags=re.M)[0]
    return re.findall(r":\s*([\w./-]+\.md)\s*$", nav, flags=re.M)


def test_pages_are_in_the_nav() -> None:
    """Every page this suite covers is in mkdocs.yml's nav, and exists."""
    listed = nav_pages(ROOT / "mkdocs.yml")
    missing = [name for name in PAGES if name not in listed]
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"
    for name in PAGES:
        assert (DOCS / name).is_file(), name
