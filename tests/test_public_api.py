"""Public names: every package re-exports exactly what it documents, and import is cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import qbprocore
from qbprocore import qbxml


@pytest.mark.parametrize("module", [qbprocore, qbxml], ids=lambda m: m.__name__)
def test_all_names_exist_and_are_unique(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), name


def test_every_public_qbxml_class_is_exported() -> None:
    from qbprocore.qbxml import _models

    public = {
        n for n in vars(_models) if not n.startswith("_") and isinstance(getattr(_models, n), type)
    }
    public -= {
        "A",
        "C",
        "F",
        "Decimal",
        "QbxmlEnum",
        "QbxmlModel",
        "QbxmlRequest",
        "QbxmlResponse",
        "UnknownElement",
    }
    assert public <= set(qbxml.__all__)


def test_error_root() -> None:
    assert issubclass(qbxml.QbxmlError, qbprocore.QbprocoreError)
    assert issubclass(qbxml.QbxmlValueError, ValueError)
    assert issubclass(qbxml.QbxmlParseError, ValueError)
    assert issubclass(qbxml.QbxmlSecurityError, qbxml.QbxmlParseError)


def test_importing_qbprocore_loads_no_layer_and_writes_nothing(tmp_path: object) -> None:
    code = (
        "import sys, qbprocore; "
        "print(sorted(m for m in sys.modules if m.startswith(('qbprocore.', 'lxml', 'httpx'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=str(tmp_path)
    ).stdout
    assert out.strip() == "['qbprocore._errors']"
