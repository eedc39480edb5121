"""Web Connector endpoint benchmarks: a 20,000-vendor read, per-call overhead, peak memory.

1. **20,000-vendor read**: FakeWebConnector → endpoint → FakeQuickBooks, in-process, pages of
   100 with an iterator. Measured side by side with qbwc-kit (installed from PyPI by this
   benchmark into a temporary directory) in the same run: both endpoints are driven by the
   same FakeWebConnector through a WSGI app and read from the same FakeQuickBooks, so the
   only difference is the endpoint. The time FakeQuickBooks spends building its answers is
   measured separately and subtracted for an "endpoint only" figure.
2. **Per-call overhead** of the SQLite session store against the in-memory store: a session of
   many small round trips (MaxReturned 1), time per SOAP call with each store.
3. **Peak memory** while the endpoint handles one ~50 MB ``receiveResponseXML``, measured in a
   fresh subprocess as the growth of the peak resident set size over the resident size just
   before the call, divided by the body size. The peak is reset just before the call (Linux's
   ``/proc/self/clear_refs``), so building the body does not count; where it cannot be, the
   figure is an upper bound and says so.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from lxml import etree

from qbprocore import qbwc, qbxml
from qbprocore.testing import FakeQuickBooks, FakeWebConnector

VENDORS = int(os.environ.get("QBPROCORE_BENCH_VENDORS", "20000"))
PAGE = 100
QBWC_KIT = "qbwc-kit==0.1.3"
ROUNDS = int(os.environ.get("QBPROCORE_BENCH_ROUNDS", "7"))


class _Timed(FakeQuickBooks):
    """FakeQuickBooks that adds up the time it spends answering."""

    spent = 0.0

    def process(self, request: str | bytes) -> Any:
        start = time.perf_counter()
        try:
            return super().process(request)
        finally:
            self.spent += time.perf_counter() - start


def _quickbooks(n: int) -> _Timed:
    qb = _Timed()
    qb.add_vendors(f"Vendor {i:05d}" for i in range(n))
    return qb


class _ReadVendors:
    def __init__(self, page: int) -> None:
        self.page = page
        self.count = 0
        self.asked: set[str] = set()
        self.finished: set[str] = set()

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        return session.session_id not in self.finished

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | None:
        if session.session_id in self.asked:
            return None
        self.asked.add(session.session_id)
        query = qbxml.VendorQueryRq(
            request_id="vendors", iterator=qbxml.Iterator.START, max_returned=self.page
        )
        return qbwc.WorkRequest(messages=[query])

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        for rs in received.responses:
            self.count += len(rs.records)
        if not received.continuing:
            self.finished.add(session.session_id)


def _auth() -> qbwc.PasswordAuthenticator:
    auth = qbwc.PasswordAuthenticator()
    auth.add_user("bench", "bench")
    return auth


def _ours(store: qbwc.SessionStore | None = None, page: int = PAGE) -> tuple[Any, _ReadVendors]:
    work = _ReadVendors(page)
    service = qbwc.WebConnectorService(authenticator=_auth(), work=work, store=store)
    return service, work


def _run(
    app: Callable[..., Iterable[bytes]], qb: _Timed, bodies: list[bytes] | None = None
) -> tuple[float, int, float, float]:
    """Total seconds, round trips, seconds inside the WSGI app (the endpoint), and of those
    the seconds spent on ``authenticate`` (one password check per session).

    With ``bodies``, the request bodies are kept there (for `endpoint_floor`).
    """
    inside = [0.0]
    authenticating = [0.0]

    def timed(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if bodies is not None:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            bodies.append(body)
            environ["wsgi.input"] = io.BytesIO(body)
        start = time.perf_counter()
        try:
            return list(app(environ, start_response))
        finally:
            spent = time.perf_counter() - start
            inside[0] += spent
            if environ.get("HTTP_SOAPACTION", "").strip('"').endswith("/authenticate"):
                authenticating[0] += spent

    with FakeWebConnector(
        wsgi_app=timed, username="bench", password="bench", max_round_trips=10**6
    ) as wc:
        start = time.perf_counter()
        result = wc.update(qb)
        elapsed = time.perf_counter() - start
    assert result.status == "done", result.last_error
    return elapsed, len(result.requests), inside[0], authenticating[0]


Endpoint = Callable[[list[bytes] | None], dict[str, float]]


def ours(n: int = VENDORS) -> Endpoint:
    """A function that runs the read once through qbprocore's endpoint."""

    def run(bodies: list[bytes] | None = None) -> dict[str, float]:
        qb = _quickbooks(n)
        service, work = _ours()
        elapsed, trips, inside, authenticating = _run(qbwc.wsgi_app(service), qb, bodies)
        assert work.count == n, work.count
        return {
            "seconds": elapsed,
            "round_trips": trips,
            "quickbooks_seconds": qb.spent,
            "endpoint_seconds": inside,
            "authenticate_seconds": authenticating,
        }

    return run


def _install_qbwc_kit() -> str | None:
    target = tempfile.mkdtemp(prefix="qbwc-kit-")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            target,
            QBWC_KIT,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return target if done.returncode == 0 else None


def qbwc_kit(n: int = VENDORS) -> tuple[Endpoint, str] | None:
    """A function that runs the read once through qbwc-kit (installed from PyPI), its version."""
    target = _install_qbwc_kit()
    if target is None:
        return None
    sys.path.insert(0, target)
    try:
        import qbwc_kit  # type: ignore[import-not-found]
        from qbwc_kit import qbxml as kit_qbxml  # type: ignore[import-not-found]
    except ImportError:
        # Installed with --no-deps (to keep our own versions of lxml and friends): a release
        # that needs something we lack is reported as not installable, not a crash.
        return None
    finally:
        sys.path.remove(target)

    def run(bodies: list[bytes] | None = None) -> dict[str, float]:
        counted = {"records": 0}

        class ReadVendors:
            name = "vendors"

            def run(self, ctx: Any) -> Any:
                request = kit_qbxml.query("Vendor", max_returned=PAGE, iterator="Start")
                while True:
                    result = yield kit_qbxml.QBXMLRequest([request])
                    page = result.first().raise_for_status()
                    counted["records"] += len(page.records)
                    if not page.has_more:
                        return
                    request.iterator = "Continue"
                    request.iterator_id = page.iterator_id

        service = qbwc_kit.QBWCService(
            authenticator=qbwc_kit.StaticAuthenticator("bench", "bench", [ReadVendors()])
        )

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            # The thinnest WSGI wrapper around qbwc-kit's dispatch(body) -> body.
            length = int(environ.get("CONTENT_LENGTH") or 0)
            out = service.dispatch(environ["wsgi.input"].read(length)).encode("utf-8")
            start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
            return [out]

        qb = _quickbooks(n)
        elapsed, trips, inside, authenticating = _run(app, qb, bodies)
        assert counted["records"] == n, counted
        return {
            "endpoint_seconds": inside,
            "authenticate_seconds": authenticating,
            "seconds": elapsed,
            "round_trips": trips,
            "quickbooks_seconds": qb.spent,
        }

    return run, str(qbwc_kit.__dict__.get("__version__", QBWC_KIT.split("==")[1]))


def best_of(endpoints: dict[str, Endpoint], rounds: int = ROUNDS) -> dict[str, dict[str, float]]:
    """Each endpoint's fastest run (by time inside it), the endpoints taking turns."""
    best: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for name, run in endpoints.items():
            result = run(None)
            if name not in best or result["endpoint_seconds"] < best[name]["endpoint_seconds"]:
                best[name] = result
    return best


_SOAP_PAYLOADS = (
    "{http://developer.intuit.com/}response",
    "{http://developer.intuit.com/}strHCPResponse",
)


def endpoint_floor(bodies: list[bytes]) -> dict[str, float]:
    """What any endpoint that reads the qbXML with lxml and checks a memory-hard hash costs.

    Parsing the qbXML carried in each SOAP body with lxml and building nothing, plus one
    scrypt check with qbprocore's parameters. Best of three. The envelopes themselves are left
    out: an endpoint has to read them too, but how is its own choice (qbprocore decodes their
    long escaped text in one pass, see `qbprocore.qbwc._soap`), so they are not part of a floor.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    payloads = [
        el.text.encode("utf-8")
        for body in bodies
        for el in etree.fromstring(body, parser).iter(*_SOAP_PAYLOADS)
        if el.text
    ]
    auth = _auth()
    best = {"lxml_seconds": float("inf"), "scrypt_seconds": float("inf")}
    for _ in range(3):
        start = time.perf_counter()
        for payload in payloads:
            etree.fromstring(payload, parser)
        best["lxml_seconds"] = min(best["lxml_seconds"], time.perf_counter() - start)
        start = time.perf_counter()
        assert auth.authenticate("bench", "bench") is not None
        best["scrypt_seconds"] = min(best["scrypt_seconds"], time.perf_counter() - start)
    best["seconds"] = best["lxml_seconds"] + best["scrypt_seconds"]
    best["payloads"] = len(payloads)
    return best


def bench_store_overhead(calls: int = 400, rounds: int = ROUNDS) -> dict[str, float]:
    """Milliseconds per SOAP call with each store (best of ``rounds``, the stores taking turns)."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores: dict[str, qbwc.SessionStore] = {
            "memory": qbwc.MemorySessionStore(),
            "sqlite": qbwc.SQLiteSessionStore(os.path.join(tmp, "sessions.db")),
        }
        for _ in range(rounds):
            for name, store in stores.items():
                qb = _quickbooks(calls // 2)
                service, _work = _ours(store=store, page=1)
                with FakeWebConnector(
                    service=service, username="bench", password="bench", max_round_trips=10**6
                ) as wc:
                    start = time.perf_counter()
                    result = wc.update(qb)
                    elapsed = time.perf_counter() - start - qb.spent
                per_call = 1000 * elapsed / len(result.transcript)
                key = f"{name}_per_call_ms"
                out[key] = min(out.get(key, per_call), per_call)
        out["calls"] = float(len(result.transcript))
        stores["sqlite"].close()  # type: ignore[attr-defined]
    out["sqlite_overhead_ms"] = out["sqlite_per_call_ms"] - out["memory_per_call_ms"]
    return out


_MEMORY_CHILD = textwrap.dedent(
    """
    import gc, sys
    from qbprocore import qbwc, qbxml

    target = int(sys.argv[1])
    vendor = (
        "<VendorRet><ListID>80000001-1767632400</ListID>"
        "<TimeCreated>2026-01-05T09:00:00-08:00</TimeCreated>"
        "<TimeModified>2026-01-05T09:00:00-08:00</TimeModified>"
        "<EditSequence>1767632400</EditSequence><Name>Vendor {i:07d}</Name>"
        "<IsActive>true</IsActive><CompanyName>Vendor {i:07d} LLC</CompanyName>"
        "<Phone>555-0100</Phone><Email>ap{i}@example.com</Email><Balance>0.00</Balance>"
        "</VendorRet>"
    )
    parts, size, i = [], 0, 0
    while size < target - 600:  # the body (escaped qbXML + envelope) is what counts
        part = vendor.format(i=i)
        parts.append(part)
        size += len(part) + 3 * part.count("<") + 3 * part.count(">")  # &lt; / &gt;
        i += 1
    qbxml_text = (
        '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>'
        '<VendorQueryRs requestID="big" statusCode="0" statusSeverity="Info" statusMessage="OK">'
        + "".join(parts) + "</VendorQueryRs></QBXMLMsgsRs></QBXML>"
    )
    del parts

    class Work:
        count = 0
        sent = False
        def has_work(self, s): return not self.sent or self.count == 0
        def next_request(self, s):
            if self.sent: return None
            self.sent = True
            return qbwc.WorkRequest(messages=[qbxml.VendorQueryRq(request_id="big")])
        def receive(self, s, r):
            for record in r.iter_records():  # one at a time: a real source stages each
                self.count += 1

    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_user("u", "p")
    work = Work()
    service = qbwc.WebConnectorService(authenticator=auth, work=work)
    ticket = service.call(qbwc.Authenticate(username="u", password="p"))[0]
    service.call(qbwc.SendRequestXML(ticket=ticket))
    escaped = qbxml_text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>' + ticket
        + "</ticket><response>" + escaped + "</response><hresult></hresult><message></message>"
        "</receiveResponseXML></soap:Body></soap:Envelope>"
    ).encode()
    del escaped, qbxml_text

    def status(field):  # bytes, from /proc/self/status
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise LookupError(field)

    gc.collect()
    try:
        # Reset the peak resident set (VmHWM) to the current one, so the peak read after the
        # call is the call's own, not that of building the body above.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    before = status("VmRSS")
    peak_before = status("VmHWM")
    answer = service.handle(body)
    peak = status("VmHWM")
    assert answer.status == 200 and work.count > 0, answer
    # Without the reset, the peak may still be the body's construction: an overstatement.
    grew = max(peak, peak_before) - before
    print(len(body), work.count, grew, int(reset))
    """
)


def bench_peak_memory(target: int = 50 * 1024 * 1024) -> dict[str, float] | None:
    if not os.path.exists("/proc/self/statm"):
        return None
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(target)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    size, records, grew, reset = (int(x) for x in done.stdout.split())
    return {
        "body_mb": size / 2**20,
        "records": records,
        "peak_growth_mb": grew / 2**20,
        "peak_reset": reset,
    }


def _ratio_without_authenticate(theirs: dict[str, float], mine: dict[str, float]) -> float:
    def rest(run: dict[str, float]) -> float:
        return run["endpoint_seconds"] - run["authenticate_seconds"]

    return rest(theirs) / rest(mine)


def compare_read() -> dict[str, Any]:
    """The side-by-side read: each endpoint's best run, the floor, qbwc-kit's version or None."""
    endpoints: dict[str, Endpoint] = {"qbprocore.qbwc": ours()}
    kit = qbwc_kit()
    if kit is not None:
        endpoints[f"qbwc-kit {kit[1]}"] = kit[0]
    best = best_of(endpoints)
    bodies: list[bytes] = []
    ours()(bodies)
    return {
        "best": best,
        "floor": endpoint_floor(bodies),
        "bodies": len(bodies),
        "kit": None if kit is None else kit[1],
    }


def compare_read_in_a_fresh_process() -> dict[str, Any]:
    """`compare_read` in a child process of its own.

    Both endpoints' times depend on the heap they run in (a larger heap makes each garbage
    collection longer, and qbwc-kit's dict-and-list records are more of what the collector
    visits), so run after other benchmarks in one process the ratio came out 1.9x, alone
    1.5x. A fresh process gives every run the same start.
    """
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from bench import bench_qbwc as b; print(json.dumps(b.compare_read()))",
        ],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> str:
    read = compare_read_in_a_fresh_process()
    best: dict[str, dict[str, float]] = read["best"]
    floor: dict[str, float] = read["floor"]
    kit: str | None = read["kit"]
    store = bench_store_overhead()
    memory = bench_peak_memory()
    n = VENDORS
    mine = best["qbprocore.qbwc"]
    lines = [
        "## qbwc: Web Connector endpoint",
        "",
        f"### {n:,}-vendor read (pages of {PAGE}, in-process, through a WSGI app)",
        "",
        f"Best of {ROUNDS} runs each, the endpoints taking turns.",
        "",
        "| endpoint | round trips | total s | vendors/s | inside the endpoint s"
        " | of which authenticate s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, run in best.items():
        lines.append(
            f"| {name} | {run['round_trips']:.0f} | {run['seconds']:.2f}"
            f" | {n / run['seconds']:,.0f} | {run['endpoint_seconds']:.3f}"
            f" | {run['authenticate_seconds']:.3f} |"
        )
    lines.append(
        f"| floor: lxml parses of the qbXML in the same {read['bodies']} bodies"
        f" ({floor['payloads']:.0f} documents), plus one scrypt check | | | |"
        f" {floor['seconds']:.3f}"
        f" ({floor['lxml_seconds']:.3f} + {floor['scrypt_seconds']:.3f})"
        f" | {floor['scrypt_seconds']:.3f} |"
    )
    if kit is None:
        lines.append(f"| {QBWC_KIT} | — | could not be installed from PyPI here | | | |")
    else:
        theirs = best[f"qbwc-kit {kit}"]
        lines += [
            "",
            f"Throughput ratio (qbprocore / qbwc-kit): end to end"
            f" {theirs['seconds'] / mine['seconds']:.2f}×, inside the endpoint"
            f" {theirs['endpoint_seconds'] / mine['endpoint_seconds']:.2f}× (target ≥ 2×)."
            f" Twice qbwc-kit's speed inside the endpoint means"
            f" {theirs['endpoint_seconds'] / 2:.3f} s; the floor alone is"
            f" {floor['seconds']:.3f} s. For reference only, leaving out authenticate (a"
            " fixed cost per session, not per record) on both sides:"
            f" {_ratio_without_authenticate(theirs, mine):.2f}×.",
        ]
    lines += [
        "",
        "The time inside the endpoint is the time spent inside each WSGI app (adapter, SOAP,"
        " session, parsing, the work source), without FakeQuickBooks (the same for both:"
        f" {mine['quickbooks_seconds']:.2f} s) and the FakeWebConnector driver. qbprocore"
        " parses every page into validated, typed records and checks a scrypt password hash"
        " once per session; qbwc-kit parses into dicts and compares plain text.",
        "",
        f"### Per-call time by session store ({store['calls']:.0f} SOAP calls, MaxReturned 1)",
        "",
        f"Best of {ROUNDS} sessions each, the stores taking turns; FakeQuickBooks' time left out.",
        "",
        "| store | ms per call |",
        "|---|---:|",
        f"| MemorySessionStore | {store['memory_per_call_ms']:.3f} |",
        f"| SQLiteSessionStore | {store['sqlite_per_call_ms']:.3f} |",
        "",
        f"SQLite overhead: {store['sqlite_overhead_ms']:.3f} ms per call.",
        "",
    ]
    if memory is None:
        lines.append("Peak memory: not measured (needs /proc).")
    else:
        ratio = memory["peak_growth_mb"] / memory["body_mb"]
        lines += [
            "### Peak memory for one large receiveResponseXML",
            "",
            f"Body {memory['body_mb']:.1f} MB ({memory['records']:,.0f} vendors): peak resident"
            f" set grew by {memory['peak_growth_mb']:.0f} MB = {ratio:.1f}× the payload"
            " (target < 4×)."
            + (
                ""
                if memory["peak_reset"]
                else " (An upper bound: the peak could not be reset before the call, so it may"
                " be that of building the body.)"
            ),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
