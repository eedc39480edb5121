"""The ``qbprocore`` command.

``qbprocore demo`` runs a complete simulated two-way sync on the embedded SQLite store (see
`qbprocore._demo`).
"""

from __future__ import annotations

import argparse
import pathlib
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qbprocore`` console command."""
    parser = argparse.ArgumentParser(
        prog="qbprocore",
        description="qbprocore: connect QuickBooks Desktop to Procore.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run a complete simulated sync: a construction company in a simulated QuickBooks"
        " and Procore, synced both ways through the real Web Connector endpoint and engine",
        description="Builds a construction company in FakeQuickBooks and FakeProcore, serves"
        " the Web Connector endpoint on 127.0.0.1 with the embedded SQLite store, drives it"
        " with FakeWebConnector and syncs both ways; prints what moved, what verification"
        " held back and why, and a reconciliation. Exits 1 if a duplicate is found.",
    )
    demo.add_argument(
        "--json", action="store_true", help="print the summary as one JSON object (for scripts)"
    )
    demo.add_argument(
        "--database",
        type=pathlib.Path,
        default=None,
        help="SQLite file to create (default: ./qbprocore-demo.db; replaced if it exists)",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from qbprocore._demo import run_demo

        result = run_demo(sys.stdout, database=args.database, as_json=args.json)
        return 0 if result["duplicates"] == 0 else 1
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
