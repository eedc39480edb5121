"""qbXML status codes: what they mean and how a connector should react.

Every ``*Rs`` element carries ``statusCode``, ``statusSeverity`` and ``statusMessage``. The
ranges are fixed by Intuit: 0–499 information, 500–999 warnings, 1000 and up errors. Two
facts trip up connectors: **status 1 is "no match"** (an empty query result, not a failure),
and warnings such as 500 still carry data. The table below adds a retry hint that the sync
layer's status policy builds on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["STATUS_CODES", "RetryHint", "StatusInfo", "describe_status"]


class RetryHint(str, enum.Enum):
    """How a connector should react to a status code."""

    NONE = "none"
    """Success or information: nothing to do."""
    IGNORE = "ignore"
    """Not an error (e.g. status 1, no match): carry on."""
    REFRESH_AND_RETRY = "refresh-and-retry"
    """Re-query the object for its current EditSequence, then send the change again."""
    LINK_EXISTING = "link-existing"
    """The object already exists: find it and link to it instead of adding it."""
    WAIT_FOR_DEPENDENCY = "wait-for-dependency"
    """A referenced object is missing: send its dependency first, then retry."""
    RETRY_LATER = "retry-later"
    """The record is in use or locked in QuickBooks: try again in a later session."""
    FIX_REQUEST = "fix-request"
    """The request itself is wrong; retrying it unchanged will fail the same way."""
    FAIL = "fail"
    """QuickBooks cannot do this (feature off, permission, internal error): report it."""


@attrs.frozen
class StatusInfo:
    """One row of the status table.

    Attributes:
        code: The qbXML ``statusCode``.
        name: A short name (``"EditSequence out of date"``).
        meaning: What QuickBooks is saying.
        retry: How a connector should react.
        hint: What to do, in words a person can act on.
    """

    code: int
    name: str
    meaning: str
    retry: RetryHint
    hint: str

    @property
    def severity(self) -> str:
        """The severity implied by the code's range (``Info``, ``Warn`` or ``Error``)."""
        if self.code < 500:
            return "Info"
        if self.code < 1000:
            return "Warn"
        return "Error"


def _row(code: int, name: str, meaning: str, retry: RetryHint, hint: str) -> StatusInfo:
    return StatusInfo(code, name, meaning, retry, hint)


_R = RetryHint

_TABLE = [
    _row(0, "OK", "QuickBooks processed the request.", _R.NONE, "Nothing to do."),
    _row(
        1,
        "no match",
        "A query found no matching object.",
        _R.IGNORE,
        "Not an error: the result set is empty.",
    ),
    _row(
        500,
        "some objects not found",
        "Part of a query could not be resolved; the rest was returned.",
        _R.IGNORE,
        "A warning: use the records returned and log the message.",
    ),
    _row(
        501,
        "not in this qbXML version",
        "An object cannot be represented in the requested qbXML version.",
        _R.IGNORE,
        "A warning: negotiate a newer qbXML version to see it.",
    ),
    _row(
        530,
        "unsupported field",
        "A field is not supported by this QuickBooks edition.",
        _R.IGNORE,
        "A warning: the field was ignored.",
    ),
    _row(
        531,
        "unsupported enum value",
        "An enum value is not supported by this QuickBooks edition.",
        _R.IGNORE,
        "A warning: the value was ignored.",
    ),
    _row(
        550,
        "notes not saved",
        "The object was saved but its notes were not.",
        _R.IGNORE,
        "A warning: the object exists; report the lost notes.",
    ),
    _row(
        560,
        "deprecated field",
        "A deprecated field was used.",
        _R.IGNORE,
        "A warning: stop sending the field.",
    ),
    _row(
        570,
        "cannot link to transaction",
        "The transaction to link is already closed.",
        _R.IGNORE,
        "A warning: the object was saved without the link.",
    ),
    _row(
        1000,
        "internal error",
        "QuickBooks had an internal error processing the request.",
        _R.RETRY_LATER,
        "Retry in a later session; report it if it persists.",
    ),
    _row(
        1010,
        "system not available",
        "QuickBooks is not available.",
        _R.RETRY_LATER,
        "Retry in a later session.",
    ),
    _row(
        1030,
        "unsupported message",
        "This request is not supported by this QuickBooks edition or version.",
        _R.FAIL,
        "Do not retry: negotiate the qbXML version or drop the request.",
    ),
    _row(
        1060,
        "invalid request ID",
        "The requestID is invalid (too long: the maximum is 50 characters).",
        _R.FIX_REQUEST,
        "Use a shorter requestID.",
    ),
    _row(
        3000,
        "invalid object ID",
        "An object ID (ListID/TxnID) in the request is invalid.",
        _R.FIX_REQUEST,
        "Check the cross-reference for this object.",
    ),
    _row(
        3020,
        "invalid date",
        "A date in the request could not be converted.",
        _R.FIX_REQUEST,
        "Send dates as YYYY-MM-DD.",
    ),
    _row(
        3100,
        "name already in use",
        "An object with this name already exists.",
        _R.LINK_EXISTING,
        "Query the existing object by name and link to it instead of adding it.",
    ),
    _row(
        3120,
        "object not found",
        "An object named in the request does not exist.",
        _R.FIX_REQUEST,
        "The object was deleted or never synced: re-sync its cross-reference.",
    ),
    _row(
        3140,
        "invalid reference",
        "The request refers to an object that does not exist (a missing dependency).",
        _R.WAIT_FOR_DEPENDENCY,
        "Send the referenced vendor, job, item or account first, then retry.",
    ),
    _row(
        3150,
        "missing required element",
        "A required element is missing from the request.",
        _R.FIX_REQUEST,
        "Fix the request.",
    ),
    _row(
        3170,
        "cannot modify: record in use",
        "The object could not be modified, usually because it is open or in use.",
        _R.RETRY_LATER,
        "Retry in a later session, once nobody has the record open.",
    ),
    _row(
        3175,
        "record locked",
        "The record is locked by another user or process.",
        _R.RETRY_LATER,
        "Retry in a later session.",
    ),
    _row(
        3176,
        "record in use",
        "The record is in use and cannot be changed now.",
        _R.RETRY_LATER,
        "Retry in a later session.",
    ),
    _row(
        3180,
        "could not save",
        "QuickBooks could not save the object (often a list in use).",
        _R.RETRY_LATER,
        "Retry in a later session; read the message for the cause.",
    ),
    _row(
        3200,
        "EditSequence out of date",
        "The object changed in QuickBooks since its EditSequence was read.",
        _R.REFRESH_AND_RETRY,
        "Re-query the object for its current EditSequence, then send the Mod again.",
    ),
    _row(
        3210,
        "cannot process",
        "QuickBooks rejected the object (a business rule failed); see the message.",
        _R.FIX_REQUEST,
        "Fix the data the message names.",
    ),
    _row(
        3250,
        "feature not enabled",
        "The feature this request needs is turned off in the company file.",
        _R.FAIL,
        "Ask the user to enable the feature in QuickBooks preferences.",
    ),
    _row(
        3260,
        "insufficient permission",
        "The QuickBooks user lacks the permission this request needs.",
        _R.FAIL,
        "Ask the QuickBooks admin to grant the permission.",
    ),
    _row(
        3261,
        "no personal-data permission",
        "The application may not access personal data in this company file.",
        _R.FAIL,
        "Ask the admin to allow personal-data access for the application.",
    ),
]

STATUS_CODES: Mapping[int, StatusInfo] = MappingProxyType({row.code: row for row in _TABLE})
"""Status codes that matter to a connector, keyed by code (read-only)."""


def describe_status(code: int) -> StatusInfo:
    """Return the table row for ``code``, or a generic row derived from its range."""
    known = STATUS_CODES.get(code)
    if known is not None:
        return known
    if code < 500:
        return StatusInfo(code, "info", "Informational status.", _R.NONE, "Nothing to do.")
    if code < 1000:
        return StatusInfo(code, "warning", "A warning.", _R.IGNORE, "Log the message.")
    if 9100 <= code < 9200:
        return StatusInfo(
            code, "macro error", "A macro-related error.", _R.FIX_REQUEST, "Fix the macro use."
        )
    return StatusInfo(
        code, "error", "An error.", _R.FAIL, "Read statusMessage; do not retry unchanged."
    )
