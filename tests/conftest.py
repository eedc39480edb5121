"""Shared test fixtures: where the read-only reference data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE = SHARED / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/reference``, or skip the test when the checkout has no ``shared/`` beside it."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (../shared is absent)")
    return REFERENCE
