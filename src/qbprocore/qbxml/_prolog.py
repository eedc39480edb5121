"""Find a DOCTYPE in an XML document's prolog without reading the rest of the document.

qbXML never has a DOCTYPE, and `loads` refuses one before lxml reads a byte, so that no
entity can be declared. A DOCTYPE can only stand in the prolog (before the root element):
anywhere else it, like an entity declaration outside one, is not well-formed, and lxml
refuses the document before anything is declared. So reading the prolog item by item is
exact, and costs nothing however large the document, unlike a search of every byte, which
took an eighth of the time a large response takes to parse. Markup is read as ASCII: the
check after parsing catches a DOCTYPE in an encoding whose markup is not (UTF-7). (The SOAP
codec, whose bodies are small, still searches every byte, to name a DOCTYPE as the reason
wherever it stands; so does `iterparse`, which sees the document a chunk at a time.)
"""

from __future__ import annotations

import re

__all__ = ["doctype_in_prolog"]

# What may stand before the root element besides a DOCTYPE: whitespace, the XML declaration
# and other processing instructions, comments.
_PROLOG_ITEM = re.compile(rb"[ \t\r\n]*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_SPACE = re.compile(rb"[ \t\r\n]*")
_BOM = b"\xef\xbb\xbf"


def doctype_in_prolog(data: bytes) -> bool:
    """True when what follows the prolog's items is a declaration (``<!`` opening no comment).

    Examples:
        >>> doctype_in_prolog(b'<?xml version="1.0"?><!-- hi --><!DOCTYPE x []><x/>')
        True
        >>> doctype_in_prolog(b'<?xml version="1.0"?><x><!DOCTYPE x></x>')
        False
    """
    pos = len(_BOM) if data.startswith(_BOM) else 0
    while (item := _PROLOG_ITEM.match(data, pos)) is not None:
        pos = item.end()
    space = _SPACE.match(data, pos)  # always matches, if only the empty string
    pos = space.end() if space else pos
    return data.startswith(b"<!", pos) and not data.startswith(b"<!--", pos)
