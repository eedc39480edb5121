"""Secrets never reach logs, reprs or error messages.

Two full flows run with every logger at DEBUG, captured: a Web Connector session (normal
update, a wrong password, an out-of-order call, a failing work source, a malformed envelope)
and a Procore token life (authorization code, API calls, refresh, 401 refresh-and-retry, a
wrong client secret, a revoked refresh token). Then every captured log line (and traceback),
the repr of every object involved and the text of every error raised are scanned for the
password, the tickets, the client secret, the authorization code and every access and
refresh token issued.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from qbprocore import qbwc
from qbprocore.procore import (
    FileTokenStore,
    OAuthError,
    ProcoreAuth,
    ProcoreClient,
    ProcoreError,
    RateLimiterRegistry,
    ReauthorizationRequiredError,
    TokenCipher,
)
from qbprocore.testing import FakeClock, FakeProcore, FakeQuickBooks, FakeWebConnector

from ._endpoint import Clock, VendorReader, soap_call

PASSWORD = "Pw-" + secrets.token_urlsafe(12)
CLIENT_SECRET = "Cs-" + secrets.token_urlsafe(16)


def _texts_of_error(exc: BaseException) -> list[str]:
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return out


def _scan(haystacks: Iterable[str], needles: dict[str, str]) -> list[str]:
    leaks = []
    for text in haystacks:
        for name, secret in needles.items():
            if secret and secret in text:
                leaks.append(f"{name} in: {text[:200]!r}")
    return leaks


def _log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = []
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    return texts


class FailingReader(VendorReader):
    """Fails inside receive, as a host's work source might."""

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        raise RuntimeError("database unavailable")


def test_qbwc_session_logs_reprs_and_errors_never_show_password_or_ticket(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    issued: list[bytes] = []

    def random_bytes(n: int) -> bytes:
        issued.append(secrets.token_bytes(n))
        return issued[-1]

    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_user("demo", PASSWORD, tenant="t1")
    errors: list[BaseException] = []
    reprs: list[str] = []
    for work in (VendorReader(), FailingReader()):
        store = qbwc.SQLiteSessionStore(tmp_path / f"{type(work).__name__}.db")
        service = qbwc.WebConnectorService(
            authenticator=auth, work=work, store=store, clock=Clock(), random_bytes=random_bytes
        )
        app = qbwc.wsgi_app(service)
        qb = FakeQuickBooks()
        qb.add_vendors(["Acme", "Beta"])
        with FakeWebConnector(wsgi_app=app, username="demo", password=PASSWORD) as wc:
            result = wc.update(qb)
            reprs += [repr(result), repr(wc), *(repr(e) for e in result.transcript)]
            wc.call("authenticate", strUserName="demo", strPassword=PASSWORD + "x")  # nvu
            # An out-of-order call on a live session: the session ends with a logged error.
            answer = wc.call("authenticate", strUserName="demo", strPassword=PASSWORD)
            assert isinstance(answer, list)
            ticket = answer[0]
            wc.call("receiveResponseXML", ticket=ticket, response="", hresult="", message="")
            reprs.append(repr(store.load(qbwc.ticket_key(ticket))))
            wc.call("getLastError", ticket=ticket)
            for operation, params in (
                ("authenticate", {"strUserName": "demo", "strPassword": PASSWORD}),
                ("sendRequestXML", {"ticket": ticket, "strHCPResponse": "<x/>"}),
                ("receiveResponseXML", {"ticket": ticket, "response": "<QBXML/>"}),
                ("closeConnection", {"ticket": ticket}),
            ):
                reprs.append(repr(qbwc.decode_call(soap_call(operation, params))))
            wc.call("closeConnection", ticket=ticket)
        # A malformed envelope that carries the password: the fault must not echo it.
        broken = soap_call("authenticate", {"strUserName": "demo", "strPassword": PASSWORD})
        fault = service.handle(broken[:-30])
        reprs += [fault.body.decode(), repr(fault)]
        try:
            qbwc.decode_call(broken.replace(b"</soap:Body>", b"<x></soap:Body>"))
        except qbwc.SoapFaultError as exc:
            errors.append(exc)
        reprs += [repr(service), repr(auth), repr(store)]
        store.close()
    assert issued, "tickets were issued"
    tickets = {
        f"ticket {i}": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        for i, raw in enumerate(issued)
    }
    needles = {"password": PASSWORD, **tickets}
    haystacks = _log_texts(caplog) + reprs + [t for e in errors for t in _texts_of_error(e)]
    assert any("work source failed" in t for t in haystacks), "the failure path was logged"
    assert any("not allowed in state" in t for t in haystacks), "the out-of-order path was logged"
    # The scanner finds what it looks for: the password is in the request it sent.
    assert _scan([broken.decode()], needles)
    assert _scan(haystacks, needles) == []


class Recorder:
    """Wraps FakeProcore's transport and keeps every token it issues (to search for them)."""

    def __init__(self, fake: FakeProcore) -> None:
        self.fake = fake
        self.tokens: dict[str, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.fake.handle(request)
        if request.url.path == "/oauth/token" and response.status_code == 200:
            body = json.loads(response.read())
            for kind in ("access_token", "refresh_token"):
                if body.get(kind):
                    self.tokens[f"{kind} {len(self.tokens)}"] = body[kind]
        return response


def test_procore_token_flow_logs_reprs_and_errors_never_show_secrets_or_tokens(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    fake = FakeProcore(clock=clock, client_secret=CLIENT_SECRET)
    recorder = Recorder(fake)
    cipher = TokenCipher([TokenCipher.generate_key()])
    store = FileTokenStore(tmp_path / "tokens.json", cipher=cipher)
    errors: list[BaseException] = []
    reprs: list[str] = []
    codes: dict[str, str] = {}
    with httpx.Client(transport=httpx.MockTransport(recorder)) as http:
        auth = ProcoreAuth.authorization_code(
            environment=fake.environment,
            client_id=fake.client_id,
            client_secret=CLIENT_SECRET,
            redirect_uri="https://app.example/callback",
            store=store,
            clock=clock,
        )
        url, state = auth.authorization_url()
        location = http.get(url).headers["Location"]
        codes["authorization code"] = httpx.URL(location).params["code"]
        token = auth.exchange_code(http, location, state=state)
        client = ProcoreClient(
            auth=auth,
            company_id=fake.company_id,
            http_client=http,
            clock=clock,
            limiters=RateLimiterRegistry(),
        )
        list(client.vendors.list(per_page=10))
        clock.advance(fake.token_lifetime)  # the next call refreshes
        list(client.vendors.list(per_page=10))
        fake.expire_tokens()  # a 401: refresh once and retry
        list(client.vendors.list(per_page=10))
        fake.revoke_refresh_tokens()
        clock.advance(fake.token_lifetime)
        try:
            list(client.vendors.list(per_page=10))
        except ReauthorizationRequiredError as exc:
            errors.append(exc)
        wrong = ProcoreAuth.client_credentials(
            environment=fake.environment,
            client_id=fake.client_id,
            client_secret=CLIENT_SECRET + "-wrong",
            clock=clock,
        )
        try:
            wrong.get_token(http)
        except OAuthError as exc:
            errors.append(exc)
        reprs += [repr(auth), repr(client), repr(token), repr(store), repr(cipher)]
        reprs += [repr(auth.credentials), repr(wrong), repr(store.load(auth.key))]
    assert len(errors) == 2, errors
    assert all(isinstance(e, ProcoreError) for e in errors)
    assert len(recorder.tokens) >= 4, recorder.tokens.keys()  # code grant + two refreshes
    stored = (tmp_path / "tokens.json").read_text()
    needles: dict[str, Any] = {
        "client secret": CLIENT_SECRET,
        **codes,
        **recorder.tokens,
    }
    assert _scan([stored], recorder.tokens) == [], "tokens are encrypted at rest"
    haystacks = _log_texts(caplog) + reprs + [t for e in errors for t in _texts_of_error(e)]
    assert any("refresh" in t for t in _log_texts(caplog)), "the refresh path was logged"
    assert _scan(haystacks, needles) == []
