"""A Web Connector endpoint for the security tests, and raw WSGI/ASGI callers.

The callers drive `qbwc.wsgi_app` / `qbwc.asgi_app` with hand-built environs and ASGI
messages (no HTTP client in between), so the fuzzer can send what no well-behaved client
would: wrong Content-Length, odd methods and content types, bodies split anywhere.
"""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import attrs
from lxml import etree

from qbprocore import qbwc, qbxml
from qbprocore.testing import FakeQuickBooks, FakeWebConnector

FUZZ_USER, FUZZ_PASSWORD = "fuzz", "fuzz-password-Xq7"
DEMO_USER, DEMO_PASSWORD = "demo", "demo-password-Kp3"
MAX_BODY = 8192


class Clock:
    """A manual clock (seconds since the epoch)."""

    def __init__(self, start: float = 1_767_632_400.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class VendorReader:
    """Reads every vendor once per session and remembers the names per tenant."""

    def __init__(self) -> None:
        self.sent: set[str] = set()
        self.finished: set[str] = set()
        self.names: dict[str | None, list[str]] = {}

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        return session.session_id not in self.finished

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | None:
        if session.session_id in self.sent:
            return None
        self.sent.add(session.session_id)
        query = qbxml.VendorQueryRq(request_id="v", iterator=qbxml.Iterator.START, max_returned=3)
        return qbwc.WorkRequest(messages=[query])

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        names = self.names.setdefault(session.tenant, [])
        for rs in received.responses:
            names += [v.name for v in getattr(rs, "vendor_ret", [])]
        if not received.continuing:
            self.finished.add(session.session_id)


def make_service(store: qbwc.SessionStore | None = None) -> qbwc.WebConnectorService:
    """A service with two users in two tenants and a deterministic clock."""
    auth = qbwc.PasswordAuthenticator(n=2**8)  # low cost: the fuzzer authenticates a lot
    auth.add_user(FUZZ_USER, FUZZ_PASSWORD, tenant="fuzz-tenant")
    auth.add_user(DEMO_USER, DEMO_PASSWORD, tenant="demo-tenant")
    counter = itertools.count(1)
    return qbwc.WebConnectorService(
        authenticator=auth,
        work=VendorReader(),
        store=store,
        clock=Clock(),
        random_bytes=lambda n: next(counter).to_bytes(n, "big"),
    )


@attrs.frozen
class HttpRequest:
    """One raw HTTP request as the fuzzer builds it."""

    body: bytes
    method: str = "POST"
    content_type: str | None = "text/xml; charset=utf-8"
    content_length: str | None = "auto"  # "auto": the body's real length; None: no header
    query: str = ""
    soap_action: str | None = None
    chunk_sizes: tuple[int, ...] = ()  # ASGI: how the body is split (the rest in one chunk)

    @property
    def length_header(self) -> str | None:
        return str(len(self.body)) if self.content_length == "auto" else self.content_length


@attrs.frozen
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def call_wsgi(app: Callable[..., Any], rq: HttpRequest) -> HttpResponse:
    """Call a WSGI app the way a server does; an exception from the app propagates."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": rq.method,
        "PATH_INFO": "/qbwc",
        "SCRIPT_NAME": "",
        "QUERY_STRING": rq.query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(rq.body),
        "wsgi.errors": io.StringIO(),
    }
    if rq.content_type is not None:
        environ["CONTENT_TYPE"] = rq.content_type
    if rq.length_header is not None:
        environ["CONTENT_LENGTH"] = rq.length_header
    if rq.soap_action is not None:
        environ["HTTP_SOAPACTION"] = rq.soap_action
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started.append((status, headers))

    body = b"".join(app(environ, start_response))
    assert len(started) == 1, "start_response must be called exactly once"
    status, headers = started[0]
    return HttpResponse(int(status.split()[0]), {k.lower(): v for k, v in headers}, body)


def _chunks(body: bytes, sizes: tuple[int, ...]) -> Iterator[bytes]:
    pos = 0
    for size in sizes:
        if pos >= len(body):
            break
        yield body[pos : pos + size]
        pos += size
    yield body[pos:]


def call_asgi(app: Any, rq: HttpRequest, loop: asyncio.AbstractEventLoop) -> HttpResponse:
    """Call an ASGI app with the body in ``rq.chunk_sizes`` pieces; exceptions propagate."""
    headers = []
    if rq.content_type is not None:
        headers.append((b"content-type", rq.content_type.encode("latin-1")))
    if rq.length_header is not None:
        headers.append((b"content-length", rq.length_header.encode("latin-1")))
    if rq.soap_action is not None:
        headers.append((b"soapaction", rq.soap_action.encode("utf-8")))
    headers.append((b"host", b"testserver"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": rq.method,
        "scheme": "http",
        "path": "/qbwc",
        "root_path": "",
        "query_string": rq.query.encode("latin-1"),
        "headers": headers,
        "server": ("testserver", 80),
    }
    pieces = list(_chunks(rq.body, rq.chunk_sizes))
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(pieces) - 1}
        for i, p in enumerate(pieces)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    loop.run_until_complete(app(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert len(starts) == 1, "exactly one http.response.start"
    assert bodies, "a response body message"
    out = {k.decode("latin-1"): v.decode("latin-1") for k, v in starts[0]["headers"]}
    return HttpResponse(starts[0]["status"], out, b"".join(m.get("body", b"") for m in bodies))


def soap_call(operation: str, params: dict[str, str]) -> bytes:
    """A well-formed SOAP 1.1 call, as the Web Connector writes it."""
    soap = qbwc.SOAP_ENV_NS
    env = etree.Element(f"{{{soap}}}Envelope", nsmap={"soap": soap})
    body = etree.SubElement(env, f"{{{soap}}}Body")
    call = etree.SubElement(body, f"{{{qbwc.INTUIT_NS}}}{operation}")
    for name, value in params.items():
        etree.SubElement(call, f"{{{qbwc.INTUIT_NS}}}{name}").text = value
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def result_of(operation: str, body: bytes) -> str | list[str]:
    """The text (or string array) of a SOAP answer's ``…Result`` element."""
    root = etree.fromstring(body)
    found = root.find(f".//{{{qbwc.INTUIT_NS}}}{operation}Result")
    assert found is not None, body[:300]
    if qbwc.OPERATIONS[operation].result == "array":
        return [s.text or "" for s in found]
    return found.text or ""


def fault_string(body: bytes) -> str:
    """The faultstring of a SOAP fault answer (fails the test when it is not one)."""
    root = etree.fromstring(body)
    fault = root.find(f".//{{{qbwc.SOAP_ENV_NS}}}Fault")
    assert fault is not None, body[:300]
    return fault.findtext("faultstring") or ""


def full_session_works(
    *, service: qbwc.WebConnectorService, wsgi_app: Any = None, asgi_app: Any = None
) -> None:
    """A normal update by the demo user reads all its vendors through the endpoint."""
    qb = FakeQuickBooks()
    names = [f"Vendor {i:02d}" for i in range(7)]
    qb.add_vendors(names)
    reader = service.work
    assert isinstance(reader, VendorReader)
    before = len(reader.names.get("demo-tenant", []))
    with FakeWebConnector(
        wsgi_app=wsgi_app, asgi_app=asgi_app, username=DEMO_USER, password=DEMO_PASSWORD
    ) as wc:
        result = wc.update(qb)
    assert result.status == "done", result
    assert result.progress[-1] == 100
    assert reader.names["demo-tenant"][before:] == names
