"""The real command in a child process: ``python -m qbprocore …``, including ``serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from lxml import etree

from qbprocore.sync import Entity, SQLiteStore
from qbprocore.testing import FakeQuickBooks, FakeWebConnector, free_socket
from tests.cli.conftest import PASSWORD, wait_for, write_config


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qbprocore", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_commands_in_a_child_process(config_file: Path, demo_db: Path) -> None:
    c = ("--config", str(config_file))
    assert _run("--help").returncode == 0
    done = _run("connections", "add", *c, "--company", "7", "--file", "acme-books", "--id", "acme")
    assert done.returncode == 0, done.stderr
    done = _run(
        "connections", "add", *c, "--company", "7", "--file", "b", "--id", "b", "--projects", "5"
    )
    assert done.returncode == 0, done.stderr
    done = _run("connections", "map-projects", *c, "acme", "6")
    assert done.returncode == 0, done.stderr
    for action in ("disconnect", "reconnect"):
        done = _run("connections", action, *c, "b")
        assert done.returncode == 0, done.stderr
    listed = json.loads(_run("connections", "list", *c, "--json").stdout)
    assert [r["id"] for r in listed] == ["acme", "b"]
    status = json.loads(_run("connections", "status", *c, "acme", "--json").stdout)
    assert status["selected_projects"] == [6]

    qwc = _run("qwc", *c, "acme")
    assert qwc.returncode == 0, qwc.stderr
    assert etree.fromstring(qwc.stdout.encode()).findtext("UserName") == "acme-books"

    missing = _run("connections", "status", *c, "nope")
    assert missing.returncode == 1
    assert "no connection 'nope'" in missing.stderr

    bad = _run("connections", "list", *c, env={"QBPROCORE_SERVER_PORT": "abc"})
    assert bad.returncode == 2
    assert "config key [server].port: expected an integer 1-65535, got 'abc'" in bad.stderr

    store = SQLiteStore(demo_db)
    vendor = next(x for x in store.list_xrefs("demo", Entity.VENDOR) if x.qb_id)
    store.close()
    d = ("--database", f"sqlite:///{demo_db}")
    audit = _run("audit", vendor.qb_id or "", "--json", *d)
    assert audit.returncode == 0, audit.stderr
    assert json.loads(audit.stdout)["events"]
    # Replay on a copy: the demo store is shared by other tests.
    copy = config_file.parent / "demo-copy.db"
    copy.write_bytes(demo_db.read_bytes())
    replay = _run("replay", "--database", f"sqlite:///{copy}")
    assert replay.returncode == 0, replay.stderr
    assert "queued 2 record(s)" in replay.stdout


def test_serve_in_a_child_process_logs_json_and_never_a_secret(tmp_path: Path) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the child binds it
    secret = "procore-secret-9c1d"
    path = write_config(
        tmp_path / "qbprocore.toml",
        f"""
database = "sqlite:///sync.db"
[server]
port = {port}
sync_every = 0
[procore]
client_id = "cid"
[[users]]
username = "acme-books"
connection = "acme"
password_env = "ACME_WC_PASSWORD"
""",
    )
    assert (
        _run(
            "connections",
            "add",
            "--config",
            str(path),
            "--company",
            "7",
            "--file",
            "f",
            "--id",
            "acme",
        ).returncode
        == 0
    )
    env = {"ACME_WC_PASSWORD": PASSWORD, "QBPROCORE_PROCORE_CLIENT_SECRET": secret}
    child = subprocess.Popen(
        [sys.executable, "-m", "qbprocore", "serve", "--config", str(path)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            if child.poll() is not None:
                raise AssertionError(f"serve exited: {child.communicate()[1]}")
            try:
                return httpx.get(f"{base}/health").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, "qbprocore serve to answer /health")
        qb = FakeQuickBooks()
        qb.add_vendors(["Acme Steel"])
        with FakeWebConnector(url=f"{base}/qbwc", username="acme-books", password=PASSWORD) as wc:
            assert wc.update(qb).status == "done"
    finally:
        child.terminate()
        _, err = child.communicate(timeout=60)
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    requests = [x for x in lines if x["logger"] == "qbprocore.server.access"]
    assert {(x["method"], x["path"], x["status"]) for x in requests} >= {
        ("GET", "/health", 200),
        ("POST", "/qbwc", 200),
    }
    assert PASSWORD not in err
    assert secret not in err
