"""Run the parsing tests through every road: SAX in C, the C walk, and pure Python."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qbprocore.qbxml import _parse


@pytest.fixture(params=["sax", "c", "python"])
def qbxml_walk(request: pytest.FixtureRequest) -> Iterator[str]:
    """Parse through libxml2's SAX interface, then the C walk, then the Python builders.

    The Python builders define the results. ``sax`` reads whole documents without a tree
    (`loads` only; what it declines takes the walk), ``c`` walks lxml's tree in C. The C roads
    are skipped where the extension is not built; `test_speedups` checks that they are built
    wherever the test session expects them.
    """
    if request.param != "python" and _parse._speedups is None:
        pytest.skip("qbprocore.qbxml._speedups is not built in this installation")
    if request.param == "sax" and not _parse._speedups.HAVE_SAX:
        pytest.skip("the extension found no libxml2 functions in lxml here")
    was = _parse.speedups_enabled(), _parse._sax_enabled
    _parse.use_speedups(request.param != "python")
    _parse._sax_enabled = request.param == "sax"
    try:
        yield request.param
    finally:
        _parse.use_speedups(was[0])
        _parse._sax_enabled = was[1]
