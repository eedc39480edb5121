"""examples/procore_vendors.py against FakeProcore served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from qbprocore.testing import FakeClock, FakeProcore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "procore_vendors.py"


@pytest.fixture
def served() -> Iterator[tuple[FakeProcore, str]]:
    # A manual clock starting now: tests can seed records "earlier" and then move time on.
    fake = FakeProcore(clock=FakeClock(start=time.time()))
    config = uvicorn.Config(fake, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
        assert thread.is_alive(), "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield fake, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _run(url: str, fake: FakeProcore, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [
        sys.executable,
        str(EXAMPLE),
        "--login-url",
        url,
        "--api-url",
        url,
        "--client-id",
        fake.client_id,
        "--company-id",
        str(fake.company_id),
        "--per-page",
        "2",
        *extra,
    ]
    env = {**os.environ, "PROCORE_CLIENT_SECRET": fake.client_secret}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_lists_every_vendor_across_pages(served: tuple[FakeProcore, str]) -> None:
    fake, url = served
    fake.seed("vendors", [{"name": f"Vendor {i}", "origin_id": f"QB-{i}"} for i in range(5)])
    done = _run(url, fake)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [v["name"] for v in lines] == [f"Vendor {i}" for i in range(5)]
    assert len(fake.api_calls(path="/rest/v1.0/vendors")) == 3  # all pages at per_page 2
    assert fake.token_calls == 1
    assert all(c.company_id == str(fake.company_id) for c in fake.calls)


def test_upsert_prints_one_line_per_item(served: tuple[FakeProcore, str], tmp_path: Path) -> None:
    fake, url = served
    fake.seed("vendors", [{"name": "Old name", "origin_id": "QB-1"}])
    fake.clock.advance(60)  # type: ignore[attr-defined]  # created vs updated is told by timestamps
    upserts = tmp_path / "vendors.json"
    upserts.write_text(
        json.dumps(
            [
                {"origin_id": "QB-1", "name": "New name"},
                {"origin_id": "QB-2", "name": "Fresh vendor"},
                {"origin_id": "QB-3", "name": ""},
            ]
        )
    )
    done = _run(url, fake, "--upsert", str(upserts))
    assert done.returncode == 1  # one item failed
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    results, vendors = lines[:3], lines[3:]
    assert [(r["origin_id"], r["status"]) for r in results] == [
        ("QB-1", "updated"),
        ("QB-2", "created"),
        ("QB-3", "failed"),
    ]
    assert results[2]["errors"] == {"name": ["can't be blank"]}
    assert sorted(v["name"] for v in vendors) == ["Fresh vendor", "New name"]


def test_upsert_items_need_origin_ids(served: tuple[FakeProcore, str], tmp_path: Path) -> None:
    fake, url = served
    upserts = tmp_path / "vendors.json"
    upserts.write_text(json.dumps([{"name": "No key"}]))
    done = _run(url, fake, "--upsert", str(upserts))
    assert done.returncode == 2
    assert "origin_id" in done.stderr
    assert fake.calls == []


def test_secret_never_printed(served: tuple[FakeProcore, str]) -> None:
    fake, url = served
    done = _run(url, fake)
    assert fake.client_secret not in done.stdout + done.stderr
