"""A manual clock for deterministic tests: sleeping advances time instantly."""

from __future__ import annotations

import asyncio
import random
import threading

__all__ = ["FakeClock"]


class FakeClock:
    """Implements `Clock` without ever really sleeping.

    ``sleep`` and ``asleep`` advance the clock by the requested amount and return at once, so
    a client that waits 3,600 s for a rate-limit reset finishes in microseconds, and the
    waits it *asked for* are recorded in `sleeps` for assertions. Share one instance
    between the client and `FakeProcore` so both see the same time.

    With several threads, sleeps add up (two threads each waiting 10 s move the clock 20 s),
    so time runs faster than it would for real; assert on what was requested
    (`sleeps`, call counts), not on elapsed fake time across threads.

    Args:
        start: Initial epoch seconds.
        seed: Seed of the jitter source.
    """

    def __init__(self, start: float = 1_800_000_000.0, *, seed: int = 0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # noqa: S311 - test jitter, not security
        #: Every sleep requested, in order.
        self.sleeps: list[float] = []

    def time(self) -> float:
        """Current (fake) epoch seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        """Advance time by ``seconds`` and return immediately."""
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self._now += seconds

    async def asleep(self, seconds: float) -> None:
        """Advance time and yield to the event loop once."""
        self.sleep(seconds)
        await asyncio.sleep(0)

    def random(self) -> float:
        """Seeded jitter."""
        with self._lock:
            return self._rng.random()
