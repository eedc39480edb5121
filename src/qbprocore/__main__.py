"""The ``qbprocore`` command.

``qbprocore demo`` runs the most complete end-to-end job the library offers so far: a qbXML
exchange as the Web Connector would carry it (version negotiation from QuickBooks' HostQuery,
schema-valid requests for a construction company's vendors, cost-code items, a purchase order
and bills, QuickBooks' responses, and a streamed parse of a large bill query).
"""

from __future__ import annotations

import argparse
import datetime
import io
import sys
import time
from decimal import Decimal
from typing import TextIO


def _demo(out: TextIO) -> int:
    from qbprocore import qbxml

    tz = datetime.timezone(datetime.timedelta(hours=-5))
    now = datetime.datetime(2026, 11, 21, 9, 30, tzinfo=tz)

    def say(text: str = "") -> None:
        print(text, file=out)

    say("qbprocore demo: one qbXML exchange, end to end")
    say()

    # 1. The Web Connector's first call carries QuickBooks' HostQueryRs: negotiate from it.
    host = qbxml.HostQueryRs(
        request_id="0",
        status_code=0,
        status_severity="Info",
        status_message="Status OK",
        host_ret=qbxml.HostRet(
            product_name="QuickBooks Enterprise Solutions: Contractor 24.0",
            major_version="34",
            minor_version="0",
            country="US",
            supported_qbxml_version=[f"{v}.0" for v in range(1, 17) if v != 9],
        ),
    )
    host_doc = qbxml.loads(qbxml.dumps(host))
    version = qbxml.negotiate_version(host_doc.responses[0])
    say(f"1. QuickBooks speaks qbXML up to 16.0; negotiated version {version}")

    # 2. Requests a connector sends: vendors and cost codes first, then commitments and bills.
    vendors = [
        qbxml.VendorAdd(name=name, company_name=name, is_vendor_eligible_for_1099=True)
        for name in ("Acme Concrete", "Brightline Electric", "Côté Drywall")
    ]
    cost_codes = [
        qbxml.ItemServiceAdd(
            name=code,
            sales_or_purchase=qbxml.SalesOrPurchase(
                desc=desc, account_ref=qbxml.Ref(full_name="Job Costs")
            ),
        )
        for code, desc in (("03-300", "Cast-in-place concrete"), ("26-100", "Electrical"))
    ]
    po = qbxml.PurchaseOrderAdd(
        vendor_ref=qbxml.Ref(full_name="Acme Concrete"),
        ref_number="SC-001",
        purchase_order_line_add_or_purchase_order_line_group_add=[
            qbxml.PurchaseOrderLineAdd(
                item_ref=qbxml.Ref(full_name="03-300"),
                quantity=Decimal("1"),
                rate=Decimal("48250.00"),
                customer_ref=qbxml.Ref(full_name="Harbor Tower:Phase 1"),
            )
        ],
    )
    bill = qbxml.BillAdd(
        vendor_ref=qbxml.Ref(full_name="Acme Concrete"),
        ref_number="INV-1001",
        txn_date=datetime.date(2026, 11, 20),
        expense_line_add=[
            qbxml.ExpenseLineAdd(
                account_ref=qbxml.Ref(full_name="Job Costs"),
                amount=Decimal("12062.50"),
                customer_ref=qbxml.Ref(full_name="Harbor Tower:Phase 1"),
                memo="Pay app #1 — footings",  # an em dash QuickBooks can't store
            )
        ],
    )
    changes: list[qbxml.Change] = []
    requests: list[qbxml.QbxmlRequest] = [
        *(qbxml.VendorAddRq(request_id=f"v{i}", vendor_add=v) for i, v in enumerate(vendors)),
        *(
            qbxml.ItemServiceAddRq(request_id=f"i{i}", item_service_add=c)
            for i, c in enumerate(cost_codes)
        ),
        qbxml.PurchaseOrderAddRq(request_id="po1", purchase_order_add=po),
        qbxml.BillAddRq(request_id="b1", bill_add=bill),
    ]
    config = qbxml.DumpConfig(
        version=version, text_policy=qbxml.TextPolicy.NORMALIZE, on_change=changes.append
    )
    sizes = []
    for rq in requests:
        sizes.append(len(qbxml.dumps(rq, config=config)))
    say(f"2. Built and validated {len(requests)} requests ({sum(sizes)} bytes, one per message)")
    for change in changes:
        say(f"   note: {change.field}: {change.before!r} -> {change.after!r} ({change.reason})")

    # 3. QuickBooks answers; one vendor already exists (3100: link it instead of adding).
    answers = [
        qbxml.VendorAddRs(
            request_id="v0",
            status_code=3100,
            status_severity="Error",
            status_message='The name "Acme Concrete" of the list element is already in use.',
        ),
        *(
            qbxml.VendorAddRs(
                request_id=f"v{i}",
                status_code=0,
                status_severity="Info",
                vendor_ret=qbxml.VendorRet(
                    list_id=f"8000000{i}-1700000000",
                    time_created=now,
                    time_modified=now,
                    edit_sequence="1700000000",
                    name=v.name,
                ),
            )
            for i, v in enumerate(vendors)
            if i
        ),
    ]
    doc = qbxml.loads(qbxml.dumps(*answers))
    for rs in doc.responses:
        info = rs.status
        say(
            f"3. {type(rs).__name__} {rs.request_id}: status {rs.status_code}"
            f" ({info.name}) -> {info.retry.value}"
        )

    # 4. A large BillQueryRs, streamed with flat memory.
    bills = [
        qbxml.BillRet(
            txn_id=f"{n:X}-1700000000",
            time_created=now,
            time_modified=now,
            edit_sequence="1700000000",
            vendor_ref=qbxml.Ref(list_id="80000001-1700000000", full_name="Acme Concrete"),
            txn_date=datetime.date(2026, 11, 1),
            amount_due=Decimal("100.00") + n,
            ref_number=f"INV-{n}",
            expense_line_ret=[
                qbxml.ExpenseLineRet(
                    txn_line_id=f"{n:X}-1",
                    account_ref=qbxml.Ref(full_name="Job Costs"),
                    amount=Decimal("100.00") + n,
                )
            ],
        )
        for n in range(2000)
    ]
    data = qbxml.dumps(
        qbxml.BillQueryRs(request_id="q1", status_code=0, status_severity="Info", bill_ret=bills)
    )
    started = time.perf_counter()
    total = Decimal(0)
    count = 0
    for record in qbxml.iterparse(io.BytesIO(data), records=["BillRet"]):
        if isinstance(record, qbxml.BillRet) and record.amount_due is not None:
            total += record.amount_due
            count += 1
    elapsed = time.perf_counter() - started
    say(
        f"4. Streamed {count} bills ({len(data) / 1e6:.1f} MB) in {elapsed * 1000:.0f} ms;"
        f" total due {total}"
    )
    say()
    say("Done. Next: the Web Connector session layer and the two-way sync (see README).")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qbprocore`` console command."""
    parser = argparse.ArgumentParser(
        prog="qbprocore",
        description="qbprocore: connect QuickBooks Desktop to Procore.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("demo", help="run an end-to-end qbXML exchange and print what happened")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(sys.stdout)
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
