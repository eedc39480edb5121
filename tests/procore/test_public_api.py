"""The package surface: ``__all__`` is complete and the layer imports nothing it should not."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import qbprocore.procore as procore

SRC = Path(procore.__file__).parent


def test_all_names_exist_and_are_public() -> None:
    for name in procore.__all__:
        assert hasattr(procore, name), name
    assert len(set(procore.__all__)) == len(procore.__all__)


def test_every_public_class_in_private_modules_is_reexported() -> None:
    exported = set(procore.__all__)
    for module in SRC.glob("_*.py"):
        tree = ast.parse(module.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                names = ast.literal_eval(node.value)
                missing = {n for n in names if n not in exported}
                assert not missing, f"{module.name}: {missing}"


def test_procore_imports_only_the_error_root_of_qbprocore() -> None:
    for module in SRC.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("qbprocore")
            ):
                assert node.module == "qbprocore._errors" or node.module.startswith(
                    "qbprocore.procore"
                ), f"{module.name} imports {node.module}"


def test_errors_derive_from_the_library_root() -> None:
    from qbprocore import QbprocoreError

    assert issubclass(procore.ProcoreError, QbprocoreError)
    assert issubclass(procore.UnprocessableEntityError, ValueError)
    assert issubclass(procore.AppNotConnectedError, procore.PermissionDeniedError)
    assert issubclass(procore.ServiceUnavailableError, procore.InternalServerError)
    assert issubclass(procore.ReauthorizationRequiredError, procore.OAuthError)


def test_import_writes_nothing(tmp_path: Path) -> None:
    """Importing the layer (and building a client) creates no file anywhere we can see."""
    code = (
        "import qbprocore.procore as p, qbprocore.testing;"
        "a = p.ProcoreAuth.client_credentials(environment=p.PRODUCTION,"
        " client_id='x', client_secret='y'); p.ProcoreClient(auth=a, company_id=1).close()"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["home"]
