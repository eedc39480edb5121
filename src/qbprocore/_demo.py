"""``qbprocore demo``: the most complete end-to-end run the library offers so far.

A contractor's QuickBooks company file (`FakeQuickBooks`) is read through the real Web
Connector endpoint (`qbprocore.qbwc`, driven by `FakeWebConnector` exactly as the Windows
program would call it), and its vendors are upserted into Procore (`FakeProcore`, through the
real `qbprocore.procore` client) keyed by QuickBooks ListID, so that running it again changes
nothing. The full two-way sync with verification replaces this when `qbprocore.sync` lands.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any, TextIO

import httpx

from qbprocore import procore, qbwc, qbxml
from qbprocore.testing import FakeClock, FakeProcore, FakeQuickBooks, FakeWebConnector

__all__ = ["run_demo"]

# The simulated Web Connector's login (in a real .qwc the password is typed into QBWC).
_USER = "demo"
_PASSWORD = "demo"  # noqa: S105 - a demo credential for an in-process fake, not a secret

_TRADES = [
    "Concrete",
    "Electric",
    "Drywall",
    "Plumbing",
    "Mechanical",
    "Roofing",
    "Glazing",
    "Masonry",
    "Steel",
    "Excavation",
]
_NAMES = ["Acme", "Brightline", "Côté", "Harbor", "Summit", "Keystone", "Ironwood", "Northgate"]


class _VendorReader:
    """A work source: one iterator query for every vendor, pages of ``page`` records."""

    def __init__(self, page: int) -> None:
        self.page = page
        self.vendors: list[qbxml.VendorRet] = []
        self.asked: set[str] = set()
        self.finished: set[str] = set()

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        return session.session_id not in self.finished

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | None:
        if session.session_id in self.asked:
            return None
        self.asked.add(session.session_id)
        query = qbxml.VendorQueryRq(
            iterator=qbxml.Iterator.START,
            max_returned=self.page,
            active_status=qbxml.ActiveStatus.ALL,
        )
        return qbwc.WorkRequest(messages=[query])

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        self.vendors.extend(r for r in received.iter_records() if isinstance(r, qbxml.VendorRet))
        if not received.continuing:
            self.finished.add(session.session_id)


def _company(vendors: int) -> FakeQuickBooks:
    quickbooks = FakeQuickBooks()
    for n in range(vendors):
        trade = _TRADES[n % len(_TRADES)]
        name = f"{_NAMES[n % len(_NAMES)]} {trade} {n // len(_NAMES) + 1}"
        quickbooks.add_vendor(
            name,
            company_name=f"{name} LLC",
            is_vendor_eligible_for_1099=n % 3 != 0,
            vendor_address=qbxml.Address(city="Boston", state="MA"),
        )
    return quickbooks


def _procore_vendor(vendor: qbxml.VendorRet) -> dict[str, Any]:
    # Procore's own QuickBooks Desktop connector keys records by ListID in origin_id and keeps
    # the EditSequence in origin_data; an upsert by origin_id is safe to repeat.
    return {
        "origin_id": vendor.list_id,
        "origin_data": json.dumps({"edit_sequence": vendor.edit_sequence}),
        "name": vendor.name,
        "business_phone": vendor.phone,
        "is_active": vendor.is_active is not False,
    }


def run_demo(out: TextIO, *, vendors: int = 240, page: int = 100) -> dict[str, Any]:
    """Run the demo, print what happened to ``out``, and return the figures."""

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    started = time.perf_counter()
    say("qbprocore demo: QuickBooks Desktop -> Web Connector -> qbprocore -> Procore")
    say()

    quickbooks = _company(vendors)
    reader = _VendorReader(page)
    users = qbwc.PasswordAuthenticator()
    users.add_user(_USER, _PASSWORD)
    service = qbwc.WebConnectorService(authenticator=users, work=reader)
    app = qbwc.wsgi_app(service)
    with FakeWebConnector(username=_USER, password=_PASSWORD, wsgi_app=app) as wc:
        update = wc.update(quickbooks)
    round_trips = update.operations.count("sendRequestXML")
    say(
        f"1. Web Connector update: {update.status}; {round_trips} sendRequestXML round trips,"
        f" progress {update.progress}"
    )
    say(f"   read {len(reader.vendors)} vendors from the company file (pages of {page})")

    clock = FakeClock()
    fake = FakeProcore(clock=clock)
    auth = procore.ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
    )
    client = procore.ProcoreClient(
        auth=auth,
        company_id=fake.company_id,
        clock=clock,
        http_client=httpx.Client(transport=fake.transport()),
    )
    batch = [_procore_vendor(v) for v in reader.vendors]
    first = client.vendors.sync(batch)
    calls_first = len(fake.calls)
    say(
        f"2. Procore upsert: {len(first.created)} created, {len(first.updated)} updated,"
        f" {len(first.failed)} failed in {calls_first} API call(s)"
    )
    clock.advance(3600)  # the next scheduled run, an hour later
    again = client.vendors.sync(batch)
    stored = len(fake.records("vendors"))
    say(
        f"3. Run again: {len(again.created)} created, {len(again.updated)} updated;"
        f" Procore holds {stored} vendors (duplicates: {stored - len(reader.vendors)})"
    )

    # What qbprocore refuses or reports instead of writing silently.
    changes: list[qbxml.Change] = []
    memo = "Pay app #1 — footings"  # an em dash QuickBooks can't store
    bill = qbxml.BillAddRq(
        bill_add=qbxml.BillAdd(
            vendor_ref=qbxml.Ref(list_id=reader.vendors[0].list_id),
            expense_line_add=[
                qbxml.ExpenseLineAdd(
                    account_ref=qbxml.Ref(full_name="Job Costs"),
                    amount=Decimal("12062.50"),
                    memo=memo,
                )
            ],
        )
    )
    cfg = qbxml.DumpConfig(text_policy=qbxml.TextPolicy.NORMALIZE, on_change=changes.append)
    qbxml.dumps(bill, config=cfg)
    for change in changes:
        say(f"4. qbXML: {change.field} {change.action}: {change.before!r} -> {change.after!r}")
    elapsed = time.perf_counter() - started
    say()
    say(f"Done in {elapsed:.2f} s. The two-way sync with verification arrives with qbprocore.sync.")
    client.close()
    return {
        "vendors_read": len(reader.vendors),
        "round_trips": round_trips,
        "created": len(first.created),
        "updated_on_rerun": len(again.updated),
        "procore_vendors": stored,
        "procore_calls_first_run": calls_first,
        "status": update.status,
    }
