"""qbXML benchmarks: eager and streaming parse against the lxml floor, build+validate, import.

All data is generated here. Each parse figure is a ratio to ``lxml.etree.fromstring`` on the
same bytes, measured in the same run (best CPU time of several rounds, each result freed after
its timing), so the figures travel between machines better than seconds do. Peak memory of the
streaming run is measured in a child process (its resident-set peak minus its baseline).
"""

from __future__ import annotations

import datetime
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from lxml import etree

from qbprocore import qbxml

ROUNDS = int(os.environ.get("QBPROCORE_BENCH_ROUNDS", "5"))
TZ = datetime.timezone(datetime.timedelta(hours=-8))
NOW = datetime.datetime(2026, 11, 21, 9, 30, 0, tzinfo=TZ)


def vendor(n: int) -> qbxml.VendorRet:
    return qbxml.VendorRet(
        list_id=f"8000{n:04X}-1700000000",
        time_created=NOW,
        time_modified=NOW,
        edit_sequence="1700000000",
        name=f"Vendor {n}",
        is_active=True,
        company_name=f"Vendor {n} Construction LLC",
        vendor_address=qbxml.Address(
            addr1=f"{n} Main Street", city="Springfield", state="IL", postal_code="62701"
        ),
        phone="555-123-4567",
        terms_ref=qbxml.Ref(list_id="80000002-1700000000", full_name="Net 30"),
        is_vendor_eligible_for_1099=True,
        balance=Decimal("12345.67"),
    )


def bill(n: int) -> qbxml.BillRet:
    lines = [
        qbxml.ItemLineRet(
            txn_line_id=f"{n:X}-{i}",
            item_ref=qbxml.Ref(list_id="80000010-1700000000", full_name=f"0{i}-100 Concrete"),
            desc=f"Pay application {n} line {i}",
            quantity=Decimal("1"),
            cost=Decimal("1250.00"),
            amount=Decimal("1250.00"),
            customer_ref=qbxml.Ref(list_id="80000020-1700000000", full_name="Harbor Tower:Ph 1"),
            billable_status="NotBillable",
        )
        for i in range(3)
    ]
    return qbxml.BillRet(
        txn_id=f"{n:X}-1700000000",
        time_created=NOW,
        time_modified=NOW,
        edit_sequence="1700000000",
        txn_number=n,
        vendor_ref=qbxml.Ref(list_id="80000001-1700000000", full_name="Acme Concrete"),
        ap_account_ref=qbxml.Ref(list_id="80000030-1700000000", full_name="Accounts Payable"),
        txn_date=datetime.date(2026, 11, 1),
        due_date=datetime.date(2026, 12, 1),
        amount_due=Decimal("3750.00"),
        ref_number=f"INV-{n}",
        memo=f"Harbor Tower pay application {n}",
        is_paid=False,
        item_line_ret_or_item_group_line_ret=list(lines),
        open_amount=Decimal("3750.00"),
    )


def response(records: list[qbxml.VendorRet] | list[qbxml.BillRet]) -> bytes:
    if records and isinstance(records[0], qbxml.VendorRet):
        rs: qbxml.QbxmlResponse = qbxml.VendorQueryRs(
            request_id="1", status_code=0, status_severity="Info", vendor_ret=records
        )
    else:
        rs = qbxml.BillQueryRs(
            request_id="1", status_code=0, status_severity="Info", bill_ret=records
        )
    return qbxml.dumps(rs, validate=False)


def interleaved(fns: dict[str, Callable[[], object]], rounds: int = ROUNDS) -> dict[str, float]:
    """Best CPU time of each function, running them in turn each round.

    Alternating keeps a slow patch of the machine (another process, frequency scaling) from
    landing on one side of a ratio only.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            started = time.process_time()
            result = fn()
            times[name].append(time.process_time() - started)
            del result
            gc.collect()
    return {name: min(values) for name, values in times.items()}


def eager(data: bytes, label: str) -> list[str]:
    def bare_walk() -> int:
        # What any typed parser on lxml must at least do: visit each element and read its tag
        # and text from Python. No objects are built.
        count = 0
        for el in etree.fromstring(data).iter():
            el.tag  # noqa: B018 - reading is the point
            el.text  # noqa: B018
            count += 1
        return count

    fns: dict[str, Callable[[], object]] = {
        "floor": lambda: etree.fromstring(data),
        "walk": bare_walk,
        "loads": lambda: qbxml.loads(data),
        "iterparse": lambda: sum(1 for _ in qbxml.iterparse(data)),
    }
    try:
        import xmltodict

        fns["xmltodict"] = lambda: xmltodict.parse(data)
    except ImportError:  # pragma: no cover - the bench extra installs it
        pass
    t = interleaved(fns)
    floor = t["floor"]
    rows = [
        f"| {label} | {len(data) / 1e6:.1f} MB | lxml.etree.fromstring"
        f" | {floor * 1000:.0f} ms | 1.00× |",
        f"| {label} | | fromstring + a bare Python walk reading every tag and text"
        f" | {t['walk'] * 1000:.0f} ms | {t['walk'] / floor:.2f}× |",
        f"| {label} | | **qbprocore.qbxml.loads (typed)** | {t['loads'] * 1000:.0f} ms"
        f" | **{t['loads'] / floor:.2f}×** |",
        f"| {label} | | qbprocore.qbxml.iterparse (typed, streaming) |"
        f" {t['iterparse'] * 1000:.0f} ms | {t['iterparse'] / floor:.2f}× |",
    ]
    if "xmltodict" in t:
        rows.append(
            f"| {label} | | xmltodict.parse (untyped dicts of str) |"
            f" {t['xmltodict'] * 1000:.0f} ms | {t['xmltodict'] / floor:.2f}× |"
        )
    return rows


_STREAM_CHILD = """
import resource, sys, time
from qbprocore import qbxml
from lxml import etree
path = sys.argv[1]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
n = 0
for record in qbxml.iterparse(path, records=["BillRet"]):
    n += 1
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, elapsed, (peak - base) / 1024)
"""

_FLOOR_CHILD = """
import sys, time
from lxml import etree
data = open(sys.argv[1], "rb").read()
t = time.perf_counter()
etree.fromstring(data, etree.XMLParser(huge_tree=True))
print(time.perf_counter() - t)
"""


def streaming_large(bill_records: list[qbxml.BillRet]) -> list[str]:
    """Stream a BillQueryRs ten times the size of the eager one, in a child process."""
    one = response(bill_records)
    head, _, rest = one.partition(b"<BillRet>")
    body, _, tail = (b"<BillRet>" + rest).rpartition(b"</BillRet>")
    body += b"</BillRet>"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bills-x10.xml"
        with path.open("wb") as fh:
            fh.write(head)
            for _ in range(10):
                fh.write(body)
            fh.write(tail)
        size = path.stat().st_size
        out = subprocess.run(
            [sys.executable, "-c", _STREAM_CHILD, str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        floor = float(
            subprocess.run(
                [sys.executable, "-c", _FLOOR_CHILD, str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    count, elapsed, growth = int(out[0]), float(out[1]), float(out[2])
    return [
        f"| BillQueryRs ×10 | {size / 1e6:.0f} MB | iterparse, {count} BillRet streamed"
        f" | {elapsed:.1f} s | {elapsed / floor:.2f}× of fromstring ({floor:.1f} s);"
        f" peak RSS growth **{growth:.1f} MB** |",
    ]


def build_and_validate() -> list[str]:
    def make() -> bytes:
        return qbxml.dumps(
            qbxml.BillAddRq(
                request_id="b1",
                bill_add=qbxml.BillAdd(
                    vendor_ref=qbxml.Ref(full_name="Acme Concrete"),
                    txn_date=datetime.date(2026, 11, 20),
                    ref_number="INV-1001",
                    memo="Pay application 1",
                    expense_line_add=[
                        qbxml.ExpenseLineAdd(
                            account_ref=qbxml.Ref(full_name="Job Costs"),
                            amount=Decimal("1250.00") + i,
                            memo=f"Line {i}",
                            customer_ref=qbxml.Ref(full_name="Harbor Tower:Phase 1"),
                        )
                        for i in range(5)
                    ],
                ),
            )
        )

    make()  # compile the schema once, as a server would at its first request
    samples = []
    for _ in range(2000):
        started = time.perf_counter()
        make()
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples)
    return [f"| build + validate a 5-line BillAddRq | median **{median * 1e6:.0f} µs** |"]


def import_times() -> list[str]:
    rows = []
    for module in ("qbprocore", "qbprocore.qbxml"):
        samples = []
        for _ in range(7):
            code = (
                f"import time; t = time.perf_counter(); import {module};"
                " print(time.perf_counter() - t)"
            )
            out = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
            samples.append(float(out))
        rows.append(
            f"| cold `import {module}` | median **{statistics.median(samples) * 1000:.0f} ms** |"
        )
    return rows


def main() -> str:
    vendors = [vendor(n) for n in range(20_000)]
    bills = [bill(n) for n in range(20_000)]
    vendor_data = response(vendors)
    bill_data = response(bills)
    lines = [
        "## qbXML (`bench/bench_qbxml.py`)",
        "",
        f"Python {sys.version.split()[0]}, lxml {'.'.join(map(str, etree.LXML_VERSION))},"
        f" {os.cpu_count()} cores; best of {ROUNDS} rounds.",
        "",
        "| document | size | parser | time | ratio to lxml |",
        "|---|---|---|---|---|",
        *eager(vendor_data, "20,000 VendorRet"),
        *eager(bill_data, "20,000 BillRet × 3 lines"),
        *streaming_large(bills),
        "",
        "| operation | figure |",
        "|---|---|",
        *build_and_validate(),
        *import_times(),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
