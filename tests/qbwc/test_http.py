"""WSGI and ASGI adapters: through httpx's transports and through real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
import uvicorn
from lxml import etree

from qbprocore import qbwc
from qbprocore.testing import FakeQuickBooks, FakeWebConnector

from .conftest import Clock, VendorReader, make_service
from .test_soap import envelope


@pytest.fixture
def service(authenticator: qbwc.PasswordAuthenticator, clock: Clock) -> qbwc.WebConnectorService:
    return make_service(authenticator, VendorReader(max_returned=5), clock)


def quickbooks(n: int = 12) -> FakeQuickBooks:
    qb = FakeQuickBooks()
    qb.add_vendors(f"Vendor {i:03d}" for i in range(n))
    return qb


class AsyncOverSync:
    """Run httpx.AsyncClient calls from sync test code."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kw))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(params=["wsgi", "asgi"])
def client(request: pytest.FixtureRequest, service: qbwc.WebConnectorService) -> Iterator[Any]:
    if request.param == "wsgi":
        with httpx.Client(
            transport=httpx.WSGITransport(app=qbwc.wsgi_app(service, max_body=4096)),
            base_url="http://testserver",
        ) as c:
            yield c
    else:
        c = AsyncOverSync(qbwc.asgi_app(service, max_body=4096))
        yield c
        c.close()


def test_wsdl_is_served_with_the_request_address(client: Any) -> None:
    r = client.request("GET", "/qbwc?wsdl")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(r.content)
    address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None
    assert address.get("location") == "http://testserver/qbwc"
    assert client.request("GET", "/qbwc?WSDL").status_code == 200


def test_plain_get_and_other_methods(client: Any) -> None:
    assert client.request("GET", "/qbwc").status_code == 200
    r = client.request("PUT", "/qbwc", content=b"x")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"


def test_body_size_limit(client: Any) -> None:
    body = envelope("clientVersion", {"strVersion": "x" * 5000})
    r = client.request("POST", "/qbwc", content=body, headers={"Content-Type": "text/xml"})
    assert r.status_code == 413


def test_content_type_is_checked(client: Any) -> None:
    body = envelope("serverVersion", {})
    r = client.request("POST", "/qbwc", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    for ctype in ("text/xml; charset=utf-8", "application/soap+xml", "application/xml"):
        ok = client.request("POST", "/qbwc", content=body, headers={"Content-Type": ctype})
        assert ok.status_code == 200, ctype


@pytest.mark.parametrize(
    "action",
    [None, "", '"http://developer.intuit.com/serverVersion"', "serverVersion", '"wrong"'],
)
def test_soap_action_is_tolerated(client: Any, action: str | None) -> None:
    headers = {"Content-Type": "text/xml"}
    if action is not None:
        headers["SOAPAction"] = action
    r = client.request("POST", "/qbwc", content=envelope("serverVersion", {}), headers=headers)
    assert r.status_code == 200
    assert b"<serverVersionResult>qbprocore</serverVersionResult>" in r.content


def test_malformed_envelope_is_a_500_fault(client: Any) -> None:
    r = client.request("POST", "/qbwc", content=b"<oops", headers={"Content-Type": "text/xml"})
    assert r.status_code == 500
    assert b"Fault" in r.content
    assert b"soap:Client" in r.content


def test_full_session_over_wsgi_transport(service: qbwc.WebConnectorService) -> None:
    wc = FakeWebConnector(
        wsgi_app=qbwc.wsgi_app(service), username="demo", password="demo", path="/any/path"
    )
    with wc:
        result = wc.update(quickbooks())
    assert result.status == "done"
    assert result.progress[-1] == 100


def test_full_session_over_asgi_transport(service: qbwc.WebConnectorService) -> None:
    with FakeWebConnector(asgi_app=qbwc.asgi_app(service), username="demo", password="demo") as wc:
        result = wc.update(quickbooks())
    assert result.status == "done"
    assert len(service.work.names) == 12  # type: ignore[attr-defined]


# -- real servers on 127.0.0.1 ---------------------------------------------------------------


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def wsgi_server(service: qbwc.WebConnectorService) -> Iterator[str]:
    server: WSGIServer = make_server(
        "127.0.0.1", 0, qbwc.wsgi_app(service), handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/qbwc"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def asgi_server(service: qbwc.WebConnectorService) -> Iterator[str]:
    config = uvicorn.Config(
        qbwc.asgi_app(service), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        thread.join(0.01)
        assert thread.is_alive(), "uvicorn did not start"
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/qbwc"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.parametrize("server", ["wsgi_server", "asgi_server"])
def test_full_session_over_a_real_server(
    request: pytest.FixtureRequest, service: qbwc.WebConnectorService, server: str
) -> None:
    url = request.getfixturevalue(server)
    with FakeWebConnector(url=url, username="demo", password="demo") as wc:
        result = wc.update(quickbooks())
    assert result.status == "done"
    assert result.progress == [41, 83, 100]
    wsdl = httpx.get(f"{url}?wsdl", timeout=10)
    assert f'location="{url}"'.encode() in wsdl.content


def test_asgi_limit_holds_without_content_length(service: qbwc.WebConnectorService) -> None:
    async def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 1000

    client = AsyncOverSync(qbwc.asgi_app(service, max_body=4096))
    try:
        r = client.request("POST", "/qbwc", content=chunks(), headers={"Content-Type": "text/xml"})
    finally:
        client.close()
    assert r.status_code == 413


def test_wsgi_limit_holds_without_content_length(service: qbwc.WebConnectorService) -> None:
    import io

    app = qbwc.wsgi_app(service, max_body=4096)
    seen: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "text/xml",
        "wsgi.input": io.BytesIO(b"x" * 10_000),
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "testserver",
        "PATH_INFO": "/qbwc",
    }
    body = b"".join(app(environ, lambda status, headers: seen.append(status)))
    assert seen == ["413 Content Too Large"]
    assert b"4096" in body
