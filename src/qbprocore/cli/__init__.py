"""The ``qbprocore`` command: demo, serve, qwc, connections, audit, replay and key helpers.

Run ``qbprocore --help`` (or ``python -m qbprocore --help``) for every command with
examples; `main` is the entry point, for scripts and tests:

    from qbprocore.cli import main

    exit_code = main(["connections", "list", "--config", "qbprocore.toml"])
"""

from __future__ import annotations

from qbprocore.cli._main import main

__all__ = ["main"]
