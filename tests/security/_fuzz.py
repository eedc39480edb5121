"""Hypothesis settings shared by the fuzz targets, and the per-target input counter.

The normal suite runs a small, derandomized sample of each target so it stays fast and
reproducible. ``nox -s fuzz`` sets ``QBPROCORE_FUZZ_EXAMPLES`` (100,000 by default there):
then every target runs that many generated inputs with fresh randomness each run and no
example database, and prints how many inputs it really executed.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

__all__ = ["FUZZ_EXAMPLES", "LARGE_INPUTS_OK", "Counter", "fuzz_settings"]

_ENV = os.environ.get("QBPROCORE_FUZZ_EXAMPLES", "").strip()
#: Inputs per target in a dedicated fuzz run, or ``None`` in the normal suite.
FUZZ_EXAMPLES: int | None = int(_ENV) if _ENV else None


#: Hypothesis warns when it renders a large input (a 60 kB document) for its reports; the
#: suite turns warnings into errors, but large inputs are the point of a fuzz target.
LARGE_INPUTS_OK = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def fuzz_settings(normal: int) -> settings:
    """Settings for a target: ``normal`` examples in the suite, the fuzz count under nox."""
    checks = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    if FUZZ_EXAMPLES is None:
        return settings(
            max_examples=normal, deadline=None, derandomize=True, suppress_health_check=checks
        )
    return settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=False,
        database=None,
        suppress_health_check=checks,
    )


class Counter:
    """Counts the inputs a target executed and reports them (always, under ``nox -s fuzz``)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.inputs = 0
        self.refused: dict[str, int] = {}

    def saw(self, outcome: str) -> None:
        """Count one executed input and how it ended (an HTTP status, an error class …)."""
        self.inputs += 1
        self.refused[outcome] = self.refused.get(outcome, 0) + 1

    def report(self) -> None:
        """Print the count; a fuzz run also appends it to ``QBPROCORE_FUZZ_REPORT``."""
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(self.refused.items()))
        line = f"fuzz {self.target}: {self.inputs} inputs, 0 crashes ({outcomes})"
        if FUZZ_EXAMPLES is not None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            path = os.environ.get("QBPROCORE_FUZZ_REPORT")
            if path:
                with open(path, "a", encoding="utf-8") as out:
                    out.write(line + "\n")
