"""Fixtures for the command-line and server tests: config files, a demo store, a live server."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def free_socket() -> socket.socket:
    """A listening-ready socket bound to a free port on 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(app: Any, sock: socket.socket) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on ``sock``; yield its base URL."""
    import uvicorn

    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll until ``condition()`` holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
