"""Client-side pacing from Procore's ``X-Rate-Limit-*`` headers.

Procore counts requests per token *and* company in two windows (an hour and a 10-second
spike window) and reports whichever is nearer to running out. One `RateLimiter` per
(credential, company) learns from every response and makes callers wait for the reset before
the budget is gone, instead of spending a request to learn it from a 429. Threads and asyncio
tasks share it: state changes happen under a short lock; waiting happens outside it.
"""

from __future__ import annotations

import math
import threading

import httpx

from qbprocore.procore._clock import Clock, server_offset

__all__ = ["RateLimiter", "RateLimiterRegistry"]


def _number(headers: httpx.Headers, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    # "inf"/"nan" parse as floats but are no budget or instant (int() of them fails).
    return value if math.isfinite(value) else None


class RateLimiter:
    """Budget of one (credential, company) pair as last reported by Procore.

    Args:
        clock: Time and jitter source.
        max_jitter: Up to this many seconds are added to each wait so that many workers
            released by the same reset do not stampede.
    """

    def __init__(self, *, clock: Clock, max_jitter: float = 0.25) -> None:
        self._clock = clock
        self._max_jitter = max_jitter
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self.limit: int | None = None
        self.remaining: float | None = None
        self.reset_at: float | None = None
        self._blocked_until = 0.0
        self._newest_reset = 0.0  # survives roll-overs, to recognise late answers
        self._skew = 0.0  # server clock minus ours: resets are instants on Procore's clock
        self._in_flight = 0
        #: Seconds callers were told to wait in total (for benchmarks and diagnostics).
        self.waited = 0.0

    def reserve(self) -> float | None:
        """Claim one request slot, or say how to wait before trying again.

        While the budget is unknown (the first request of this credential and company) only
        one request goes out; the others wait for its answer, so a cold start with many
        workers cannot overshoot a small spike limit before the first headers arrive.

        Returns:
            ``0.0`` when the caller may send now (the slot is counted as in flight and must
            be given back with `release`); seconds to sleep; or ``None`` to wait for an
            answer already in flight (`wait_for_answer`) and then try again.
        """
        local = self._clock.time()
        with self._lock:
            now = local + self._skew  # Procore's time, which its reset instants refer to
            if self.reset_at is not None and now >= self.reset_at:
                # The reported window rolled over: a fresh window of the known size, with its
                # reset unknown until the next answer. Requests still in flight may land in the
                # new window, so they are charged to it.
                self.remaining = None if self.limit is None else float(self.limit - self._in_flight)
                self.reset_at = None
            wait = 0.0
            if local < self._blocked_until:
                wait = self._blocked_until - local
            elif self.remaining is None or (self.remaining < 1 and self.reset_at is None):
                if self._in_flight > 0:
                    return None  # an answer in flight will tell us the budget
            elif self.remaining < 1 and self.reset_at is not None:
                wait = self.reset_at - now
            if wait <= 0:
                self._in_flight += 1
                if self.remaining is not None:
                    self.remaining -= 1
                return 0.0
        wait += self._clock.random() * self._max_jitter
        self.waited += wait
        return wait

    def wait_for_answer(self, timeout: float = 0.5) -> None:
        """Block (real time, at most ``timeout`` s) until a request in flight is answered."""
        with self._answered:
            if self._in_flight > 0:
                self._answered.wait(timeout)

    def release(self) -> None:
        """Give back the in-flight slot claimed by `reserve`."""
        with self._answered:
            self._in_flight = max(0, self._in_flight - 1)
            self._answered.notify_all()

    def update(self, headers: httpx.Headers) -> None:
        """Learn the budget from a response's headers (call before `release`)."""
        limit = _number(headers, "X-Rate-Limit-Limit")
        remaining = _number(headers, "X-Rate-Limit-Remaining")
        reset = _number(headers, "X-Rate-Limit-Reset")
        if remaining is None or reset is None:
            return
        skew = server_offset(headers, self._clock.time())
        with self._lock:
            self._skew = skew
            same_limit = limit is None or self.limit is None or int(limit) == self.limit
            if same_limit and reset < self._newest_reset:
                # A late answer from an earlier instance of the same window: applying it would
                # rewind the budget to a window that is already over.
                return
            others = max(0, self._in_flight - 1)  # sent by us, not yet counted by the server
            reported = remaining - others
            if self.reset_at is not None and reset == self.reset_at and self.remaining is not None:
                # Same window: responses can arrive out of order, keep the lower estimate.
                self.remaining = min(self.remaining, reported)
            else:
                self.remaining = reported
            self.reset_at = reset
            self._newest_reset = max(self._newest_reset, reset)
            if limit is not None:
                self.limit = int(limit)

    def block_until(self, when: float) -> None:
        """Hold every caller until ``when`` (our clock; after a 429 or a 503)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, when)
            self.remaining = 0


class RateLimiterRegistry:
    """One `RateLimiter` per (credential key, company id), created on demand.

    Clients built with the same registry (the default is process-wide) share limiters, so
    several clients for one service account and company still pace as one.
    """

    def __init__(self, *, max_jitter: float = 0.25) -> None:
        self._lock = threading.Lock()
        self._limiters: dict[tuple[str, int | None], RateLimiter] = {}
        self._max_jitter = max_jitter

    def get(self, key: str, company_id: int | None, *, clock: Clock) -> RateLimiter:
        """The limiter for ``(key, company_id)``."""
        with self._lock:
            limiter = self._limiters.get((key, company_id))
            if limiter is None:
                limiter = RateLimiter(clock=clock, max_jitter=self._max_jitter)
                self._limiters[(key, company_id)] = limiter
            return limiter


DEFAULT_REGISTRY = RateLimiterRegistry()
