"""Characters XML 1.0 cannot carry, for every layer that writes XML."""

from __future__ import annotations

import re

__all__ = ["XML_ILLEGAL", "describe_illegal"]

XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""C0 controls other than tab, newline and return; surrogates; U+FFFE and U+FFFF."""


def describe_illegal(text: str) -> str:
    r"""``""`` when ``text`` can be written in XML, else its offending characters, named.

    Examples:
        >>> describe_illegal("A\x01B\x01")
        "'\\x01' (U+0001)"
        >>> describe_illegal("Acme & Sons")
        ''
    """
    bad = XML_ILLEGAL.findall(text)
    return ", ".join(f"{c!r} (U+{ord(c):04X})" for c in dict.fromkeys(bad))
