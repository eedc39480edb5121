"""Defaults shared by the auth and client modules."""

from __future__ import annotations

import httpx

__all__ = ["DEFAULT_TIMEOUT", "USER_AGENT"]

#: Default timeouts: connect fast, allow a slow sync batch of 1,000 items to answer.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: Sent on every request (API and token endpoint) so Procore can tell who is calling.
USER_AGENT = "qbprocore/0.1.0 (+https://github.com/qbprocore/qbprocore)"
