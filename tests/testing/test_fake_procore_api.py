"""The testing package's public surface."""

from __future__ import annotations

import qbprocore.testing as testing


def test_all_names_exist() -> None:
    for name in ("FakeClock", "FakeProcore", "RecordedCall"):
        assert name in testing.__all__
    for name in testing.__all__:
        assert hasattr(testing, name), name


def test_fake_clock_sleeps_without_sleeping_and_records() -> None:
    clock = testing.FakeClock(start=100.0)
    clock.sleep(30.0)
    clock.advance(5.0)
    assert clock.time() == 135.0
    assert clock.sleeps == [30.0]
    assert 0.0 <= clock.random() < 1.0
