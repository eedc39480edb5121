"""Run every ``bench/bench_*.py`` module (or the ones named on the command line).

Each module exposes ``main() -> str`` returning a Markdown section with its figures; this
runner prints them one after another so the output can be pasted into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = argv or sorted(p.stem for p in here.glob("bench_*.py"))
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(module.main(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
