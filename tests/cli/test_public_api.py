"""Public names of `qbprocore.cli` and `qbprocore.server`: exported, unique, documented."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qbprocore import QbprocoreError, cli, server


@pytest.mark.parametrize("module", [cli, server], ids=lambda m: m.__name__)
def test_all_names_exist_are_unique_and_documented(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert len(names) == len(set(names))
    for name in names:
        value = getattr(module, name)
        if callable(value):
            assert value.__doc__, name


def test_config_error_is_a_qbprocore_value_error() -> None:
    assert issubclass(server.ConfigError, QbprocoreError)
    assert issubclass(server.ConfigError, ValueError)


def test_help_loads_no_layer() -> None:
    """``qbprocore --help`` stays fast: it imports neither the server nor the sync layer."""
    code = (
        "import sys; from qbprocore.cli import main; "
        "assert main(['--help']) == 0; "
        "print(sorted(m for m in sys.modules if m.startswith(('qbprocore.sync', "
        "'qbprocore.server', 'httpx'))), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "[]"
