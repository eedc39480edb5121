"""Run the parsing tests through both builders: the C walk and the pure-Python one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qbprocore.qbxml import _parse


@pytest.fixture(params=["c", "python"])
def qbxml_walk(request: pytest.FixtureRequest) -> Iterator[str]:
    """Parse with the C walk, then again with the Python builders (which define the results).

    The C walk is skipped where it is not built; `test_speedups` checks that it is built
    wherever the test session expects it.
    """
    if request.param == "c" and _parse._speedups is None:
        pytest.skip("qbprocore.qbxml._speedups is not built in this installation")
    was = _parse.speedups_enabled()
    _parse.use_speedups(request.param == "c")
    try:
        yield request.param
    finally:
        _parse.use_speedups(was)
