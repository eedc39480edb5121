"""The retry policy: which failures are retried, how long to wait, and when to stop.

Table-driven like openai-python's: status → (retry idempotent?, retry non-idempotent?).
A non-idempotent request (a create) is only retried when the server certainly did not act on
it: a 429 (rejected before processing) or a connection that was never established. A create
whose answer was lost may have committed; retrying it blindly would duplicate the record, so
the error reaches the caller: ``Resource.create`` then looks the record up by origin_id before
sending it again, and batch writes go through the ``…/sync`` endpoints keyed by origin_id.
"""

from __future__ import annotations

import contextlib
import email.utils

import attrs
import httpx

from qbprocore.procore._clock import server_offset

__all__ = ["RetryPolicy"]

# status: (idempotent requests, non-idempotent requests)
_RETRY_TABLE: dict[int, tuple[bool, bool]] = {
    408: (True, False),
    429: (True, True),
    500: (True, False),
    502: (True, False),
    503: (True, False),
    504: (True, False),
}


def _retry_after(headers: httpx.Headers, now: float) -> float | None:
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(when.timestamp()) - now)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How the client retries.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        backoff_base: First backoff in seconds; doubles each retry.
        backoff_cap: Upper bound of one backoff.
        total_deadline: Give up when the next wait would end later than this many seconds
            after the first attempt started.
        jitter: Fraction of each wait added at random (0.25 → up to +25 %).
    """

    max_retries: int = attrs.field(default=5, validator=attrs.validators.ge(0))
    backoff_base: float = attrs.field(default=0.5, validator=attrs.validators.gt(0))
    backoff_cap: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))
    total_deadline: float = attrs.field(default=300.0, validator=attrs.validators.gt(0))
    jitter: float = attrs.field(default=0.25, validator=attrs.validators.ge(0))

    def retryable_status(self, status: int, *, idempotent: bool) -> bool:
        """Whether a response with ``status`` may be retried."""
        rule = _RETRY_TABLE.get(status)
        if rule is None:
            return False
        return rule[0] if idempotent else rule[1]

    def retryable_exception(self, exc: httpx.TransportError, *, idempotent: bool) -> bool:
        """Whether a transport failure may be retried.

        A `ConnectError` (or connect timeout) happened before any byte of the
        request left, so even a create is safe to resend.
        """
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return True
        return idempotent

    def backoff(self, attempt: int, rand: float) -> float:
        """Capped exponential backoff with jitter for retry number ``attempt`` (0-based)."""
        base: float = min(self.backoff_cap, self.backoff_base * 2.0**attempt)
        return base * (1 + self.jitter * rand)

    def wait_for_response(
        self, response: httpx.Response, attempt: int, *, now: float, rand: float
    ) -> float:
        """Seconds to wait before retrying after ``response``.

        429 waits until ``X-Rate-Limit-Reset`` (or ``Retry-After`` when sent), 503 honours
        ``Retry-After``; both add jitter. Other statuses back off exponentially.
        """
        # Reset instants and HTTP dates are on Procore's clock; compare them with its time.
        server_now = now + server_offset(response.headers, now)
        retry_after = _retry_after(response.headers, server_now)
        if response.status_code == 429:
            reset = response.headers.get("X-Rate-Limit-Reset")
            waits = [retry_after] if retry_after is not None else []
            if reset is not None:
                with contextlib.suppress(ValueError):
                    waits.append(max(0.0, float(reset) - server_now))
            if waits:
                return max(waits) + self.jitter * rand
        elif retry_after is not None:
            return retry_after + self.jitter * rand
        return self.backoff(attempt, rand)
