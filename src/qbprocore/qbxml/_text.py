"""Text that QuickBooks can store: character set and length checks for the serializer.

QuickBooks Desktop stores Latin-1 text reliably and mangles the rest, so every string written
into a document is checked here. Nothing is changed unless the caller asked for it
(`NORMALIZE`, ``truncate=True``), and every change is reported.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

from qbprocore._xmlchars import XML_ILLEGAL
from qbprocore.qbxml._config import Change, DumpConfig, TextPolicy
from qbprocore.qbxml._errors import QbxmlChangeWarning, QbxmlTextError

__all__ = ["check_text", "report_change"]

# Anything outside printable Latin-1 (C1 controls included), or illegal in XML.
_NOT_STORABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\xff]")

# Common typographic characters (pasted from word processors) and their plain forms.
_PLAIN = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "*",
    "\u20ac": "EUR",
    "\u2122": "(TM)",
    # Latin letters with no Unicode decomposition.
    "\u0141": "L",
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0152": "OE",
    "\u0153": "oe",
    "\u0131": "i",
    "\u0126": "H",
    "\u0127": "h",
    "\u2009": " ",
    "\u202f": " ",
}


def _plain(ch: str) -> str:
    if ch in _PLAIN:
        return _PLAIN[ch]
    if XML_ILLEGAL.match(ch):
        return ""
    # Decompose (ł has no decomposition; é → e + ◌́) and keep what Latin-1 can hold.
    decomposed = unicodedata.normalize("NFKD", ch)
    kept = "".join(
        c for c in decomposed if not _NOT_STORABLE.match(c) and not unicodedata.combining(c)
    )
    return kept or "?"


def report_change(cfg: DumpConfig, change: Change) -> None:
    """Hand ``change`` to ``cfg.on_change``, or warn with `QbxmlChangeWarning` without one."""
    if cfg.on_change is not None:
        cfg.on_change(change)
    else:
        warnings.warn(
            f"{change.field}: {change.action} {change.before!r} -> {change.after!r}"
            f" ({change.reason})",
            QbxmlChangeWarning,
            stacklevel=4,
        )


def check_text(value: str, field: str, max_length: int | None, cfg: DumpConfig) -> str:
    """Return ``value`` as it may be written, or raise `QbxmlTextError`.

    Args:
        value: The text to write.
        field: Dotted field path, for messages.
        max_length: The field's maximum length in characters, if it has one.
        cfg: The dump configuration (text policy, truncation, change reporting).
    """
    out = value
    bad = _NOT_STORABLE.findall(out)
    if bad:
        if cfg.text_policy is TextPolicy.REFUSE:
            chars = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in dict.fromkeys(bad))
            raise QbxmlTextError(
                f"{field}: QuickBooks cannot store {chars} in {value!r}; "
                "use TextPolicy.NORMALIZE to replace such characters",
                field=field,
                value=value,
            )
        out = _NOT_STORABLE.sub(lambda m: _plain(m.group()), out)
        report_change(
            cfg,
            Change(field, "normalized", value, out, "characters outside Latin-1 replaced"),
        )
    if max_length is not None and len(out) > max_length:
        if not cfg.truncate:
            raise QbxmlTextError(
                f"{field}: {len(out)} characters is over the limit of {max_length}: {out!r}",
                field=field,
                value=out,
                limit=max_length,
            )
        cut = out[:max_length]
        report_change(
            cfg,
            Change(field, "truncated", out, cut, f"cut to the limit of {max_length} characters"),
        )
        out = cut
    return out
