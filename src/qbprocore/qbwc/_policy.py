"""Policies: answers that are a host's choice rather than the protocol's.

- `StatusPolicy`: what to do about each qbXML status code (the table the sync layer uses).
- `ClientVersionPolicy`: which Web Connector versions to refuse (``E:``) or warn about (``W:``).
- `ConnectionErrorPolicy`: whether to retry another company file after ``connectionError``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import attrs

from qbprocore import qbxml
from qbprocore.qbwc._state import parse_client_version

__all__ = [
    "DEFAULT_STATUS_ACTIONS",
    "ClientVersionPolicy",
    "ConnectionErrorPolicy",
    "StatusAction",
    "StatusPolicy",
]


class StatusAction(str, enum.Enum):
    """What a connector does about one qbXML response."""

    OK = "ok"
    """Success: use the result."""
    IGNORE = "ignore"
    """Not an error (status 1 "no match", warnings such as 500): carry on."""
    REFRESH_AND_RETRY = "refresh-and-retry"
    """3200 EditSequence out of date: re-query the object, then send the change again."""
    LINK_EXISTING = "link-existing"
    """3100 name already in use: find the existing object and link to it."""
    WAIT_FOR_DEPENDENCY = "wait-for-dependency"
    """3140 invalid reference: send the referenced object first, then retry."""
    RETRY_LATER = "retry-later"
    """Record in use or locked (3170/3175/3176/3180), QuickBooks busy, or never run: retry in
    a later session."""
    SKIP_AND_REPORT = "skip-and-report"
    """The request itself is wrong: skip it and report it; it would fail the same way again."""
    FAIL = "fail"
    """QuickBooks cannot do this (feature off, permission): stop and tell a person."""


_FROM_HINT: Mapping[qbxml.RetryHint, StatusAction] = {
    qbxml.RetryHint.NONE: StatusAction.OK,
    qbxml.RetryHint.IGNORE: StatusAction.IGNORE,
    qbxml.RetryHint.REFRESH_AND_RETRY: StatusAction.REFRESH_AND_RETRY,
    qbxml.RetryHint.LINK_EXISTING: StatusAction.LINK_EXISTING,
    qbxml.RetryHint.WAIT_FOR_DEPENDENCY: StatusAction.WAIT_FOR_DEPENDENCY,
    qbxml.RetryHint.RETRY_LATER: StatusAction.RETRY_LATER,
    qbxml.RetryHint.FIX_REQUEST: StatusAction.SKIP_AND_REPORT,
    qbxml.RetryHint.FAIL: StatusAction.FAIL,
}

DEFAULT_STATUS_ACTIONS: Mapping[int, StatusAction] = MappingProxyType(
    {code: _FROM_HINT[info.retry] for code, info in qbxml.STATUS_CODES.items()}
)
"""The default action for every status code in `qbxml.STATUS_CODES` (read-only).

Codes not listed fall back on their range through `qbxml.describe_status`: other
information codes are OK, other warnings are ignored, other errors fail.
"""


@attrs.frozen(kw_only=True)
class StatusPolicy:
    """Maps a response's status code to a `StatusAction`.

    Attributes:
        overrides: Actions that replace the defaults for particular codes.

    Examples:
        >>> policy = StatusPolicy(overrides={3180: StatusAction.SKIP_AND_REPORT})
        >>> policy.action_for_code(3200).value
        'refresh-and-retry'
        >>> policy.action_for_code(3180).value
        'skip-and-report'
    """

    overrides: Mapping[int, StatusAction] = attrs.field(factory=dict)

    def action_for_code(self, code: int) -> StatusAction:
        """The action for a status code."""
        action = self.overrides.get(code) or DEFAULT_STATUS_ACTIONS.get(code)
        if action is not None:
            return action
        return _FROM_HINT[qbxml.describe_status(code).retry]

    def action(self, response: qbxml.QbxmlResponse | None) -> StatusAction:
        """The action for a response; a request that never ran (``None``) is retried later."""
        if response is None:
            return StatusAction.RETRY_LATER
        return self.action_for_code(response.status_code)


def _comparable(version: tuple[int, ...] | None) -> tuple[int, ...] | None:
    # "2.1" is "2.1.0.0": without trailing zeros, tuples compare as versions do.
    while version and version[-1] == 0:
        version = version[:-1]
    return version


@attrs.frozen(kw_only=True)
class ClientVersionPolicy:
    """Answers ``clientVersion``: refuse too-old Web Connectors, warn about old ones.

    Attributes:
        minimum: Versions below this are refused with ``"E:<message>"`` (the Web Connector
            stops and shows the message).
        recommended: Versions below this get ``"W:<message>"`` (the user may continue).
        message: Extra text appended to the refusal or warning (e.g. where to download).

    A version that cannot be read is let through: refusing it would lock out a user over our
    parsing, and the Web Connector has always sent dotted numbers.

    Examples:
        >>> ClientVersionPolicy(minimum="2.1.0.30").answer("2.0.1.4")
        'E:This service needs QuickBooks Web Connector 2.1.0.30 or later; you have 2.0.1.4.'
        >>> ClientVersionPolicy(minimum="2.1.0.30").answer("2.3.0.36")
        ''
    """

    minimum: str | None = None
    recommended: str | None = None
    message: str = ""

    def answer(self, version: str) -> str:
        """``""`` (go on), ``"W:…"`` (warn) or ``"E:…"`` (refuse) for a Web Connector version."""
        have = _comparable(parse_client_version(version))
        if have is None:
            return ""
        extra = f" {self.message}" if self.message else ""
        minimum = _comparable(parse_client_version(self.minimum or ""))
        if minimum is not None and have < minimum:
            return (
                f"E:This service needs QuickBooks Web Connector {self.minimum} or later;"
                f" you have {version}.{extra}"
            )
        recommended = _comparable(parse_client_version(self.recommended or ""))
        if recommended is not None and have < recommended:
            return (
                f"W:QuickBooks Web Connector {self.recommended} or later is recommended;"
                f" you have {version}.{extra}"
            )
        return ""


@attrs.frozen(kw_only=True)
class ConnectionErrorPolicy:
    """Answers ``connectionError``: try other company files, then give up with ``"done"``.

    Attributes:
        retry_company_files: Company-file paths to try, in order, one per ``connectionError``
            of a session. When they are used up the answer is ``"done"``.
    """

    retry_company_files: Sequence[str] = ()

    def answer(self, *, attempt: int, hresult: str, message: str) -> str:
        """The answer to the ``attempt``-th (1-based) ``connectionError`` of a session."""
        del hresult, message  # the default policy does not depend on the cause
        if attempt <= len(self.retry_company_files):
            return self.retry_company_files[attempt - 1]
        return "done"
