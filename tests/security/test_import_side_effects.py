"""Importing the library has no side effects: no file written, no logging configured.

Every public module (each package and non-private module under ``qbprocore``, except
``qbprocore.sync``, which is still being built, and ``__main__``, which is a program) is
imported in a fresh interpreter whose HOME, working directory and TMPDIR are an empty
temporary directory, with bytecode writing off (so the interpreter's own caches do not
count). Afterwards that directory must still be empty and the root logger untouched.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import qbprocore

SCRIPT = """
import importlib, json, logging, sys
names = json.loads(sys.argv[1])
for name in names:
    importlib.import_module(name)
root = logging.getLogger()
print(json.dumps({"imported": len(names), "root_handlers": len(root.handlers),
                  "root_level": root.level}))
"""


def public_modules() -> list[str]:
    names = ["qbprocore"]
    for info in pkgutil.walk_packages(qbprocore.__path__, "qbprocore."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or parts[1] == "sync":
            continue
        names.append(info.name)
    return names


def test_public_modules_are_the_finished_layers() -> None:
    names = public_modules()
    for layer in ("qbprocore.qbxml", "qbprocore.qbwc", "qbprocore.procore", "qbprocore.testing"):
        assert layer in names


def test_importing_every_public_module_writes_no_file_and_configures_no_logging(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QBPROCORE", "PYTHON", "XDG_"))}
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        TMPDIR=str(home),
        TEMP=str(home),
        TMP=str(home),
        PYTHONDONTWRITEBYTECODE="1",
    )
    names = public_modules()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(names)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"imported": len(names), "root_handlers": 0, "root_level": 30}
    assert sorted(p.name for p in home.rglob("*")) == []
    assert done.stderr == ""
