"""Type stubs for the C walk (`_speedups.c`); see `qbprocore.qbxml._parse`."""

from typing import Any

from lxml import etree

class Fallback(Exception):  # noqa: N818 - a signal to the caller, not an error
    """The C walk leaves this element to the Python builder."""

class Plan:
    """The model specs, compiled for the C walk."""

    def __init__(
        self,
        specs: tuple[Any, ...],
        date_fromisoformat: Any,
        datetime_fromisoformat: Any,
        decimal: Any,
    ) -> None: ...
    def build(self, spec: int, element: etree._Element, /) -> Any:
        """Build the model of spec number ``spec`` from an lxml element, or raise Fallback."""
    def parse(
        self, data: bytes, requests: dict[str, int], responses: dict[str, int], /
    ) -> tuple[str, str | None, list[Any], str | None] | None:
        """Read a whole document through libxml2's SAX interface, or None to decline."""

HAVE_SAX: bool
"""Whether `Plan.parse` found libxml2's functions in the library lxml.etree is linked with."""

def char_data(data: bytes, minimum: int, /) -> tuple[int, int, str] | None:
    """The longest run of text in ``data`` (at least ``minimum`` bytes), decoded, or None."""
