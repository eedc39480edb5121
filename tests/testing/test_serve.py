"""`serve_asgi`: a real HTTP server on 127.0.0.1 for demos, tests and benchmarks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qbprocore.testing import FakeProcore, free_socket, serve_asgi


def test_serves_an_app_over_real_http_and_stops_on_exit() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    with serve_asgi(FakeProcore(), sock=sock) as base:
        assert base == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/rest/v1.0/me").status_code == 401  # no token
    assert sock.fileno() == -1  # closed
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/rest/v1.0/me", timeout=2)


async def _failing_startup(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "no database"})


def test_an_app_that_fails_to_start_is_reported_not_waited_for() -> None:
    with (
        pytest.raises(RuntimeError, match="uvicorn did not start"),
        serve_asgi(_failing_startup, lifespan="on", timeout=10),
    ):
        pytest.fail("served an app whose startup failed")
