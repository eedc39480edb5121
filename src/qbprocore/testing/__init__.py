"""Test doubles that sit behind qbprocore's real seams.

- `FakeProcore` — an in-memory Procore (OAuth2 server and REST API) usable as an httpx
  transport or an ASGI app.
- `FakeClock` — a clock whose sleeps return at once and advance time, so retry and
  rate-limit waits cost nothing in tests.
- `FakeQuickBooks` — an in-memory QuickBooks company file answering qbXML requests.
- `FakeWebConnector` — drives a Web Connector endpoint (in-process, WSGI, ASGI or a URL) in the
  real call order, with a round-trip cap and a transcript.
- `SimulatedConnector` — all of the above wired to the real endpoint, engine and store: one
  connection you can `SimulatedConnector.cycle` like a deployment does on a schedule.
- `serve_asgi` — an ASGI app (the reference server, `FakeProcore`) served by uvicorn on
  127.0.0.1 in a thread, for a real HTTP server in demos and tests.

Nothing in the library imports this package; it may import everything.
"""

from __future__ import annotations

from qbprocore.testing._fake_procore import FakeProcore, RecordedCall
from qbprocore.testing._fake_quickbooks import FakeQuickBooks, QuickBooksAnswer
from qbprocore.testing._fake_web_connector import FakeWebConnector, TranscriptEntry, UpdateResult
from qbprocore.testing._harness import Cycle, SimulatedConnector
from qbprocore.testing._procore_clock import FakeClock
from qbprocore.testing._serve import free_socket, serve_asgi

__all__ = [
    "Cycle",
    "FakeClock",
    "FakeProcore",
    "FakeQuickBooks",
    "FakeWebConnector",
    "QuickBooksAnswer",
    "RecordedCall",
    "SimulatedConnector",
    "TranscriptEntry",
    "UpdateResult",
    "free_socket",
    "serve_asgi",
]
