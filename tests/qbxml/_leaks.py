"""How much memory a piece of parsing leaves behind: the leak checks of the C roads."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable


def bytes_left_behind(run: Callable[[], None], rounds: int = 40) -> int:
    """Bytes still allocated after ``rounds`` more calls of ``run``, once it is warmed up.

    A missing DECREF on any path leaves objects behind on every call: growth in proportion
    to the rounds, where a sound ``run`` grows by next to nothing.
    """
    for _ in range(5):
        run()
    gc.collect()
    tracemalloc.start()
    try:
        run()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            run()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
