"""Serve an ASGI app on 127.0.0.1 in a background thread, for demos, tests and benchmarks."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

__all__ = ["free_socket", "serve_asgi"]


def free_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, for when the URL is needed before the app."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve_asgi(
    app: Any,
    *,
    sock: socket.socket | None = None,
    lifespan: Literal["auto", "on", "off"] = "auto",
    timeout: float = 30,
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yield its base URL (``http://127.0.0.1:N``).

    Args:
        app: An ASGI application, e.g. the reference server (`qbprocore.server.create_app`)
            or `FakeProcore`.
        sock: A socket from `free_socket`, when the port must be known before the app is
            made (default: a new one).
        lifespan: uvicorn's lifespan mode: ``"on"`` for the reference server, whose startup
            must run (a failure there stops the server instead of being taken for an app
            without one); ``"auto"`` serves apps with or without a lifespan.
        timeout: Seconds to wait for the server to start, and for it to stop on exit.

    Raises:
        RuntimeError: uvicorn did not start in time (its thread died, or the wait ran out).

    Examples:
        >>> from qbprocore.testing import FakeProcore
        >>> import httpx
        >>> with serve_asgi(FakeProcore()) as base:
        ...     httpx.get(base + "/rest/v1.0/me").status_code  # no token: refused
        401
    """
    import uvicorn  # only the callers that serve need it

    sock = sock or free_socket()
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan=lifespan)
    server = uvicorn.Server(config)

    def run() -> None:
        # uvicorn calls sys.exit() when the app's startup fails; here that is reported to
        # the caller as a RuntimeError below, not left to kill the thread with a traceback.
        with contextlib.suppress(SystemExit):
            server.run(sockets=[sock])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"uvicorn did not start serving {app!r} on 127.0.0.1")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
