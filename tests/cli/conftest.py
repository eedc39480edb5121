"""Fixtures for the command-line and server tests: config files, a demo store, a live server."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qbprocore import qbwc
from qbprocore.cli import main

PASSWORD = "wc-pass-5f1b2c"
# A cheap scrypt cost keeps logins fast; the hash carries its parameters.
PASSWORD_HASH = qbwc.hash_password(PASSWORD, n=2**10)


def write_config(path: Path, text: str) -> Path:
    """Write a TOML config file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A config with a SQLite database in ``tmp_path`` and one Web Connector user for ``acme``."""
    return write_config(
        tmp_path / "qbprocore.toml",
        f"""
database = "sqlite:///sync.db"

[server]
public_url = "https://qb.example.com"
sync_every = 0

[[users]]
username = "acme-books"
connection = "acme"
password_hash = "{PASSWORD_HASH}"
""",
    )


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``qbprocore`` in process: ``cli("connections", "list", ...) -> (code, out, err)``."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store left behind by ``qbprocore demo`` (connection ``demo``, two blocked invoices)."""
    import io

    from qbprocore._demo import run_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    run_demo(io.StringIO(), database=path)
    return path


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store (tests may change it)."""
    target = tmp_path / "demo.db"
    shutil.copy(demo_db, target)
    return target


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll until ``condition()`` holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
