"""Configuration objects for building and parsing qbXML documents."""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs

__all__ = [
    "DEFAULT_VERSION",
    "Change",
    "DumpConfig",
    "ParseConfig",
    "TextPolicy",
    "VersionPolicy",
]

DEFAULT_VERSION = "13.0"
"""The qbXML version documents are built for unless told otherwise: the broad baseline that
QuickBooks 2013 and every later US/CA desktop edition accept."""


class TextPolicy(str, enum.Enum):
    """What to do with characters QuickBooks cannot store.

    QuickBooks Desktop reliably stores only Latin-1 text. Characters outside it (and control
    characters XML cannot carry) are either refused or normalised.
    """

    REFUSE = "refuse"
    """Raise `QbxmlTextError` naming the field, value and characters."""
    NORMALIZE = "normalize"
    """Replace them (curly quotes → straight, é stays, ł → l, 中 → ?) and report each change."""


class VersionPolicy(str, enum.Enum):
    """What to do with a field newer than the qbXML version a document is built for."""

    REFUSE = "refuse"
    """Raise `QbxmlVersionError` naming the field and its version."""
    DROP = "drop"
    """Leave the field out of the document and report the drop."""


@attrs.frozen
class Change:
    """A change the serializer made to a value on the caller's explicit instruction.

    Attributes:
        field: Dotted path of the field, e.g. ``"VendorAddRq.vendor_add.name"``.
        action: ``"normalized"``, ``"truncated"`` or ``"dropped"``.
        before: The value as given.
        after: The value written (``None`` when dropped).
        reason: Why, in words a person can act on.
    """

    field: str
    action: str
    before: object
    after: object
    reason: str


@attrs.frozen(kw_only=True)
class DumpConfig:
    """How `dumps` builds a document.

    Attributes:
        version: qbXML version written in ``<?qbxml version?>``; fields newer than it follow
            ``version_policy``.
        on_error: ``onError`` of ``QBXMLMsgsRq``: ``"stopOnError"`` (default) or
            ``"continueOnError"``.
        validate: Validate the built document against qbprocore's schema (default on).
        text_policy: Characters QuickBooks cannot store: refuse (default) or normalise.
        truncate: Cut text longer than the field's maximum instead of raising; each cut is
            reported.
        version_policy: Fields newer than ``version``: refuse (default) or drop.
        on_change: Called with a `Change` for every normalisation, truncation or drop.
            Without it, each change is reported as a `QbxmlChangeWarning`.
    """

    version: str = DEFAULT_VERSION
    on_error: str = "stopOnError"
    validate: bool = True
    text_policy: TextPolicy = TextPolicy.REFUSE
    truncate: bool = False
    version_policy: VersionPolicy = VersionPolicy.REFUSE
    on_change: Callable[[Change], None] | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class ParseConfig:
    """How `loads` and `iterparse` read input.

    Attributes:
        max_bytes: Refuse input larger than this many bytes (``None``: no limit). For
            `iterparse` the limit applies to the bytes read so far.
    """

    max_bytes: int | None = None
