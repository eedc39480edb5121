"""qbXML benchmarks: eager and streaming parse against the lxml floor, build+validate, import.

All data is generated here. Each parse figure is a ratio to ``lxml.etree.fromstring`` on the
same bytes, measured in the same run (best CPU time of several rounds, each result freed after
its timing), so the figures travel between machines better than seconds do. Peak memory of the
streaming run is measured in a child process (its resident-set peak minus its baseline).
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
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


# One parser, one document, one fresh process. The one-time set-up (imports, the typed
# parser's compiled tables) is done on a small document of the same kind first; then the large
# document is parsed once on the process's fresh heap ("first") and again several times
# ("steady"), each result freed before the next parse.
_EAGER_CHILD = """
import gc, sys, time
from lxml import etree
from qbprocore import qbxml
parser, path, warm_path, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
data = open(path, "rb").read()
warm = open(warm_path, "rb").read()

def bare_walk(data):
    # What any typed parser on lxml must at least do: visit each element and read its tag
    # and text from Python. No objects are built.
    count = 0
    for el in etree.fromstring(data).iter():
        el.tag
        el.text
        count += 1
    return count

def xmltodict_parse(data):
    import xmltodict
    return xmltodict.parse(data)

fn = {
    "floor": etree.fromstring,
    "walk": bare_walk,
    "loads": qbxml.loads,
    "iterparse": lambda data: sum(1 for _ in qbxml.iterparse(data)),
    "xmltodict": xmltodict_parse,
}[parser]
fn(warm)
times = []
for _ in range(1 + repeats):
    gc.collect()
    started = time.process_time()
    result = fn(data)
    times.append(time.process_time() - started)
    del result
print(times[0], min(times[1:]))
"""

PARSERS = {
    "floor": "lxml.etree.fromstring",
    "walk": "fromstring + a bare Python walk reading every tag and text",
    "loads": "**qbprocore.qbxml.loads (typed)**",
    "iterparse": "qbprocore.qbxml.iterparse (typed, streaming)",
    "xmltodict": "xmltodict.parse (untyped dicts of str)",
}


def in_children(
    path: Path, warm_path: Path, rounds: int = ROUNDS
) -> dict[str, tuple[float, float]]:
    """Best first-parse and best steady-state CPU time of each parser, over fresh processes.

    Each parser runs in processes of its own, so that none inherits the heap another left:
    lxml's parse time swings by up to 2x with the allocator's state (measured: 56-64 ms
    right after other parsers in one process, 90-99 ms for the first parse in a fresh
    one, 113-122 ms when one process does nothing but parse and free the same 12.7 MB), and
    in one shared process the order of the contenders decided their ratios. Rounds
    alternate between parsers, so a slow patch of the machine lands on all of them.
    """
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        for parser in PARSERS:
            if parser == "xmltodict" and importlib.util.find_spec("xmltodict") is None:
                continue  # pragma: no cover - the bench extra installs it
            out = subprocess.run(
                [sys.executable, "-c", _EAGER_CHILD, parser, str(path), str(warm_path), "3"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            first, steady = float(out[0]), float(out[1])
            was = best.get(parser, (first, steady))
            best[parser] = (min(was[0], first), min(was[1], steady))
    return best


def eager(records: list[qbxml.VendorRet] | list[qbxml.BillRet], label: str) -> list[str]:
    data = response(records)
    with tempfile.TemporaryDirectory() as tmp:
        path, warm_path = Path(tmp) / "large.xml", Path(tmp) / "small.xml"
        path.write_bytes(data)
        warm_path.write_bytes(response(records[:10]))
        t = in_children(path, warm_path)
    floor_first, floor_steady = t["floor"]
    rows = []
    for parser, name in PARSERS.items():
        if parser not in t:
            continue  # pragma: no cover
        first, steady = t[parser]
        size = f"{len(data) / 1e6:.1f} MB" if parser == "floor" else ""
        rows.append(
            f"| {label} | {size} | {name} | {first * 1000:.0f} ms | {first / floor_first:.2f}×"
            f" | {steady * 1000:.0f} ms | {steady / floor_steady:.2f}× |"
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
    lines = [
        "## qbXML (`bench/bench_qbxml.py`)",
        "",
        f"Python {sys.version.split()[0]}, lxml {'.'.join(map(str, etree.LXML_VERSION))},"
        f" {os.cpu_count()} cores; best of {ROUNDS} fresh processes per parser.",
        "",
        "Eager parse, each parser in fresh processes of its own: the first parse of the"
        " document in a process, and the best of three more in the same process (steady).",
        "",
        "| document | size | parser | first parse | ratio to lxml | steady | ratio to lxml |",
        "|---|---|---|---|---|---|---|",
        *eager(vendors, "20,000 VendorRet"),
        *eager(bills, "20,000 BillRet × 3 lines"),
        "",
        "| document | size | parser | time | ratio |",
        "|---|---|---|---|---|",
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
