"""Test doubles that sit behind qbprocore's real seams.

- :class:`FakeProcore` — an in-memory Procore (OAuth2 server and REST API) usable as an httpx
  transport or an ASGI app.
- :class:`FakeClock` — a clock whose sleeps return at once and advance time, so retry and
  rate-limit waits cost nothing in tests.

Nothing in the library imports this package; it may import everything.
"""

from __future__ import annotations

from qbprocore.testing._fake_procore import FakeProcore, RecordedCall
from qbprocore.testing._procore_clock import FakeClock

__all__ = ["FakeClock", "FakeProcore", "RecordedCall"]
