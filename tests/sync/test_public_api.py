"""sync's public names, its error tree, what it may import, and its docstring examples."""

from __future__ import annotations

import ast
import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import qbprocore
from qbprocore import sync

SRC = Path(sync.__file__).parent


def test_all_names_exist_and_are_unique() -> None:
    names = sync.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(sync, name), name
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))


def _declared_all(path: Path) -> list[str]:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        targets = node.targets if isinstance(node, ast.Assign) else [target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets if t):
            assert isinstance(node, (ast.Assign, ast.AnnAssign))
            assert isinstance(node.value, ast.List)
            return [elt.value for elt in node.value.elts if isinstance(elt, ast.Constant)]
    return []


def test_private_modules_export_only_public_names() -> None:
    stray = [
        (path.name, name)
        for path in sorted(SRC.glob("_*.py"))
        if path.name != "__init__.py"
        for name in _declared_all(path)
        if name not in sync.__all__
    ]
    assert stray == []


def test_sync_imports_only_the_layers_below_and_never_testing() -> None:
    allowed = (
        "qbprocore.sync",
        "qbprocore.qbxml",
        "qbprocore.procore",
        "qbprocore.qbwc",
        "qbprocore._errors",
        "qbprocore._sqlite",
    )
    for path in SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("qbprocore") and name != "qbprocore":
                    assert name.startswith(allowed), (path.name, name)


def test_error_tree() -> None:
    assert issubclass(sync.SyncError, qbprocore.QbprocoreError)
    for error in (
        sync.StoreError,
        sync.ConnectionNotFoundError,
        sync.ConnectionConflictError,
        sync.AccessDeniedError,
        sync.MappingError,
    ):
        assert issubclass(error, sync.SyncError)
    assert issubclass(sync.ConnectionNotFoundError, LookupError)
    assert issubclass(sync.ConnectionConflictError, ValueError)
    assert issubclass(sync.MappingError, ValueError)
    assert issubclass(sync.AccessDeniedError, PermissionError)
    assert issubclass(sync.FeatureNotEnabledError, sync.AccessDeniedError)
    assert issubclass(sync.AdminOnlyError, sync.AccessDeniedError)


def test_importing_sync_writes_nothing_and_does_not_load_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys, qbprocore.sync; "
        "assert 'psycopg' not in sys.modules, 'psycopg imported eagerly'; "
        "assert 'qbprocore.testing' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60)
    assert list(tmp_path.iterdir()) == []


MODULES = sorted(p.stem for p in SRC.glob("_*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"qbprocore.sync.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
