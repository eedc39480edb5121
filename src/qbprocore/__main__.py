"""``python -m qbprocore``: the ``qbprocore`` command (see `qbprocore.cli`)."""

from __future__ import annotations

from qbprocore.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
