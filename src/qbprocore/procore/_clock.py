"""Time and randomness as parameters, so tests and benchmarks never really sleep."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What the client needs from time: wall clock, sleeping, and jitter.

    ``time()`` is wall-clock epoch seconds because Procore speaks epoch seconds
    (``X-Rate-Limit-Reset``) and tokens expire at wall-clock instants.
    """

    def time(self) -> float:
        """Current epoch seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        ...

    async def asleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds``."""
        ...

    def random(self) -> float:
        """A float in ``[0, 1)`` used for jitter."""
        ...


class SystemClock:
    """The real clock: `time`, `sleep`, `sleep`."""

    def __init__(self, *, rng: random.Random | None = None) -> None:
        # Jitter does not need cryptographic randomness; a private Random keeps it seedable.
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def time(self) -> float:
        """Current epoch seconds."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Block the calling thread."""
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        """Suspend the calling task."""
        if seconds > 0:
            await asyncio.sleep(seconds)

    def random(self) -> float:
        """A float in ``[0, 1)``."""
        return self._rng.random()


def server_offset(headers: Mapping[str, str], local_now: float) -> float:
    """Estimated server clock minus ours, from a response's ``Date`` header.

    Procore's ``X-Rate-Limit-Reset`` is an instant on *its* clock; a host whose clock is off by
    half a minute would otherwise wait far too long or come back too early. ``Date`` has
    one-second resolution, so offsets under a second are treated as none.

    Args:
        headers: Response headers.
        local_now: Our clock's epoch seconds when the response arrived.

    Returns:
        Seconds to add to our clock to read the server's (0.0 when unknown or negligible).
    """
    raw = headers.get("Date") or headers.get("date")
    if not raw:
        return 0.0
    try:
        server = email.utils.parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError):
        return 0.0
    offset = float(server) - local_now
    return offset if abs(offset) >= 1.0 else 0.0
