"""List (and optionally batch-upsert) a Procore company's vendors with a service account.

Usage::

    python examples/procore_vendors.py --login-url https://login.procore.com
        --api-url https://api.procore.com --client-id ID --client-secret SECRET
        --company-id 1234 [--upsert vendors.json]

With ``--upsert``, FILE.json holds a JSON array of vendor objects in Procore's field names,
each with an ``origin_id`` (e.g. the QuickBooks ListID); they are upserted through
``PATCH /rest/v1.0/vendors/sync`` in batches of up to 1,000 and one JSON line is printed per
item (``created``, ``updated`` or ``failed`` with its errors). Then every vendor of the
company is printed, one JSON object per line, across all pages.

The secret may also come from the ``PROCORE_CLIENT_SECRET`` environment variable, which keeps
it out of the process list. Exit status: 0 on success, 1 if any upserted item failed, 2 on
bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from qbprocore.procore import Environment, ProcoreAuth, ProcoreClient, ProcoreError


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--login-url", required=True, help="OAuth host, e.g. https://login.procore.com"
    )
    parser.add_argument("--api-url", required=True, help="API host, e.g. https://api.procore.com")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", default=os.environ.get("PROCORE_CLIENT_SECRET"))
    parser.add_argument("--company-id", required=True, type=int)
    parser.add_argument("--upsert", type=Path, metavar="FILE.json", help="vendors to upsert")
    parser.add_argument("--per-page", type=int, default=1000, help="page size (default 1000)")
    args = parser.parse_args(argv)
    if not args.client_secret:
        parser.error("--client-secret (or PROCORE_CLIENT_SECRET) is required")
    return args


def _load_upserts(path: Path) -> list[dict[str, Any]]:
    items = json.loads(path.read_text())
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError(f"{path}: expected a JSON array of vendor objects")
    missing = [n for n, item in enumerate(items) if not item.get("origin_id")]
    if missing:
        # Upserts are keyed by origin_id; an unkeyed vendor would be created again on every run.
        raise ValueError(f"{path}: items {missing[:10]} have no origin_id")
    return items


def _print(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, sort_keys=True, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the example; returns the exit status."""
    args = _parse(argv)
    environment = Environment.custom(login_url=args.login_url, api_url=args.api_url)
    auth = ProcoreAuth.client_credentials(
        environment=environment, client_id=args.client_id, client_secret=args.client_secret
    )
    try:
        upserts = _load_upserts(args.upsert) if args.upsert else []
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    status = 0
    try:
        with ProcoreClient(auth=auth, company_id=args.company_id) as client:
            if upserts:
                result = client.vendors.sync(upserts)
                for item in result.items:
                    _print(item.to_json())
                status = 0 if result.ok else 1
            for vendor in client.vendors.list(per_page=args.per_page):
                _print(vendor.to_api())
    except ProcoreError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
