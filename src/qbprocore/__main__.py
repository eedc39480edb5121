"""The ``qbprocore`` command.

``qbprocore demo`` runs the most complete end-to-end job the library offers so far (see
`qbprocore._demo`): a contractor's vendors read from QuickBooks through the real Web Connector
endpoint and upserted into Procore, twice, without duplicates.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qbprocore`` console command."""
    parser = argparse.ArgumentParser(
        prog="qbprocore",
        description="qbprocore: connect QuickBooks Desktop to Procore.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "demo",
        help="read a simulated QuickBooks company through the Web Connector endpoint and upsert"
        " its vendors into a simulated Procore, printing what moved",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from qbprocore._demo import run_demo

        result = run_demo(sys.stdout)
        return (
            0
            if result["status"] == "done" and result["procore_vendors"] == result["vendors_read"]
            else 1
        )
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
