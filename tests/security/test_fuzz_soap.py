"""Fuzz target (a): the SOAP endpoint through `qbwc.wsgi_app` and `qbwc.asgi_app`.

Inputs: well-formed calls of every operation with random parameters (and a live ticket of
the fuzz user), the same calls mutated (truncated, bytes flipped, hostile fragments spliced
in: DOCTYPE, entity bombs, XXE, deep nesting, UTF-16), random bytes, bodies over the limit,
and random methods, content types, Content-Length values, query strings and body chunking.

What must hold for every input: the app answers (no exception escapes it, so no server 500
from a crash); the status is one the adapters are designed to give; a 500 carries a SOAP
fault (the designed answer to a malformed envelope); a body with a DOCTYPE or entity
declaration is refused as such; a body over the limit gets 413; no file named by an external
entity is ever read into an answer. Afterwards a normal full session with `FakeWebConnector`
and `FakeQuickBooks` still works on the same service and store (no state corruption).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbprocore import qbwc

from ._endpoint import (
    FUZZ_PASSWORD,
    FUZZ_USER,
    MAX_BODY,
    HttpRequest,
    HttpResponse,
    call_asgi,
    call_wsgi,
    fault_string,
    full_session_works,
    make_service,
    result_of,
    soap_call,
)
from ._fuzz import LARGE_INPUTS_OK, Counter, fuzz_settings

CANARY = "canary-7f3a9c-not-for-the-wire"
_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LIVE = "<live ticket>"  # replaced by the fuzz user's real ticket for this input


def _bomb(levels: int) -> bytes:
    decls = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, levels)
    )
    return f"<!DOCTYPE e [{decls}]>".encode()


def hostile_fragments(secret_file: Path) -> list[bytes]:
    uri = secret_file.as_uri().encode()
    return [
        b'<!DOCTYPE e [<!ENTITY x SYSTEM "' + uri + b'">]>',
        b'<!DOCTYPE e SYSTEM "' + uri + b'">',
        b'<!DOCTYPE e [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
        _bomb(9),
        b"<!ENTITY x 'y'>",
        b"&x;",
        b"&lt;&#0;&#x110000;&#xD800;",
        b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="' + uri + b'"/>',
        b"<![CDATA[</soap:Body>]]>",
        b"<?xml-stylesheet href='" + uri + b"'?>",
        b"<!-- -->",
        b"<a>" * 3000 + b"</a>" * 3000,
        b"<a " + b" ".join(b'x%d="1"' % i for i in range(500)) + b"/>",
        b"\x00",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b'<?xml version="1.0" encoding="UTF-16"?>',
        b'xsi:nil="true"',
        b"</soap:Envelope>",
        b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">',
    ]


xml_text = st.text(max_size=30).map(lambda s: _XML_CHARS.sub("", s))
# Past 4,096 bytes a parameter's text is decoded by the codec's one-pass reader, not by lxml
# (qbprocore.qbwc._soap._parse_body): the mutations below then land inside such a text too.


def _past_long_text(text: str) -> str:
    """``text`` repeated until, escaped, it is over 4,096 bytes (and well under MAX_BODY)."""
    unit = text or "&<x>"
    escaped = len(unit.encode()) + 4 * sum(unit.count(c) for c in "&<>")
    return unit * (4200 // escaped + 1)


long_text = xml_text.map(_past_long_text)


@st.composite
def soap_bodies(draw: st.DrawFn, fragments: list[bytes]) -> bytes:
    operation = draw(st.sampled_from(sorted(qbwc.OPERATIONS)))
    params: dict[str, str] = {}
    for xml_name, attr in qbwc.OPERATIONS[operation].params:
        if attr == "session_ticket":
            params[xml_name] = draw(st.one_of(st.just(LIVE), xml_text))
        elif attr == "username":
            params[xml_name] = draw(st.sampled_from([FUZZ_USER, "demo", ""]) | xml_text)
        elif attr in ("major_version", "minor_version"):
            params[xml_name] = draw(st.one_of(st.integers(-(2**70), 2**70).map(str), xml_text))
        else:
            params[xml_name] = draw(st.one_of(xml_text, xml_text, long_text))
    body = soap_call(operation, params)
    if draw(st.booleans()):
        return body
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cut", "flip", "splice", "drop", "utf16"]))
        at = draw(st.integers(0, len(body)))
        if kind == "cut":
            body = body[:at]
        elif kind == "flip" and body:
            i = min(at, len(body) - 1)
            body = body[:i] + bytes([draw(st.integers(0, 255))]) + body[i + 1 :]
        elif kind == "splice":
            body = body[:at] + draw(st.sampled_from(fragments)) + body[at:]
        elif kind == "drop":
            body = body[:at] + body[at + draw(st.integers(1, 40)) :]
        else:
            body = body.decode("utf-8", "replace").encode("utf-16")
    return body


@st.composite
def http_requests(draw: st.DrawFn, fragments: list[bytes]) -> HttpRequest:
    body = draw(
        st.one_of(
            soap_bodies(fragments),
            soap_bodies(fragments),
            st.binary(max_size=300),
            st.integers(MAX_BODY + 1, MAX_BODY * 3).map(lambda n: b"<" * n),
        )
    )
    odd = draw(st.integers(0, 9)) == 0  # most inputs reach the SOAP decoder
    return HttpRequest(
        body=body,
        method=draw(st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "post", "X"]))
        if odd
        else "POST",
        content_type=draw(
            st.sampled_from(
                [None, "", "application/json", "text/xml;;;", "TEXT/XML", "application/soap+xml"]
            )
        )
        if odd
        else "text/xml; charset=utf-8",
        content_length=draw(
            st.sampled_from([None, "0", "-1", "abc", "1_0", "99999999999999999999", "1e3"])
        )
        if odd
        else draw(st.sampled_from(["auto", None])),
        query=draw(st.sampled_from(["", "wsdl", "WSDL&x=1", "a=%zz&&=", "wsdl=" + "x" * 300]))
        if odd
        else "",
        soap_action=draw(st.one_of(st.none(), st.sampled_from(sorted(qbwc.OPERATIONS)), xml_text)),
        chunk_sizes=tuple(draw(st.lists(st.integers(0, 64), max_size=4))),
    )


def _login(send: Callable[[HttpRequest], HttpResponse]) -> str:
    body = soap_call("authenticate", {"strUserName": FUZZ_USER, "strPassword": FUZZ_PASSWORD})
    answer = result_of("authenticate", send(HttpRequest(body=body)).body)
    assert answer[1] not in ("nvu", "busy"), answer
    return answer[0]


def check_answer(rq: HttpRequest, rs: HttpResponse, body: bytes) -> str:
    """The oracle for one request; returns a short outcome name for the counts."""
    assert rs.status in (200, 405, 411, 413, 415, 500), rs.status
    assert rs.headers["content-length"] == str(len(rs.body)) or rq.method == "HEAD"
    assert CANARY.encode() not in rs.body
    assert FUZZ_PASSWORD.encode() not in rs.body  # no answer ever echoes a password
    posted = rq.method.upper() == "POST"
    ctype_ok = rq.content_type in (None, "", "text/xml; charset=utf-8", "TEXT/XML")
    ctype_ok = ctype_ok or rq.content_type == "application/soap+xml"
    honest_length = rq.content_length in ("auto", None)
    if posted and ctype_ok and honest_length and len(body) > MAX_BODY:
        assert rs.status == 413, rs.status
        assert b"request body over" in rs.body
    if rs.status == 500:
        text = fault_string(rs.body)  # a 500 is always a SOAP fault, never a crash page
        if honest_length and (b"<!DOCTYPE" in body or b"<!ENTITY" in body):
            assert "DOCTYPE" in text, text
        return "500 fault"
    if rs.status == 200 and posted:
        assert rs.body.startswith(b"<?xml"), rs.body[:100]
    return str(rs.status)


def _fuzz(
    send: Callable[[HttpRequest], HttpResponse],
    requests: st.SearchStrategy[HttpRequest],
    counter: Counter,
    normal: int,
) -> None:
    @fuzz_settings(normal=normal)
    @given(rq=requests)
    def run(rq: HttpRequest) -> None:
        body = rq.body
        ticket = None
        if LIVE.encode() in body:
            ticket = _login(send)
            body = body.replace(LIVE.encode(), ticket.encode())
            rq = HttpRequest(
                body=body,
                method=rq.method,
                content_type=rq.content_type,
                content_length=rq.content_length,
                query=rq.query,
                soap_action=rq.soap_action,
                chunk_sizes=rq.chunk_sizes,
            )
        counter.saw(check_answer(rq, send(rq), body))
        if ticket is not None:
            # End the fuzz user's session so its lock is free for the next input.
            close = soap_call("closeConnection", {"ticket": ticket})
            assert send(HttpRequest(body=close)).status == 200

    run()
    counter.report()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(CANARY)
    return path


@LARGE_INPUTS_OK
def test_wsgi_endpoint_survives_hostile_requests_and_still_serves_a_full_session(
    secret_file: Path, tmp_path: Path
) -> None:
    """No input makes the WSGI app raise or answer outside its design; state stays sound."""
    with qbwc.SQLiteSessionStore(tmp_path / "sessions.db") as store:
        service = make_service(store)
        app = qbwc.wsgi_app(service, max_body=MAX_BODY)
        counter = Counter("soap-wsgi")
        _fuzz(
            lambda rq: call_wsgi(app, rq),
            http_requests(hostile_fragments(secret_file)),
            counter,
            normal=300,
        )
        full_session_works(service=service, wsgi_app=app)


@LARGE_INPUTS_OK
def test_asgi_endpoint_survives_hostile_requests_and_still_serves_a_full_session(
    secret_file: Path,
) -> None:
    """Same for the ASGI app, with bodies split into arbitrary chunks."""
    service = make_service()
    app = qbwc.asgi_app(service, max_body=MAX_BODY)
    loop = asyncio.new_event_loop()
    try:
        counter = Counter("soap-asgi")
        _fuzz(
            lambda rq: call_asgi(app, rq, loop),
            http_requests(hostile_fragments(secret_file)),
            counter,
            normal=300,
        )
    finally:
        loop.close()
    full_session_works(service=service, asgi_app=app)


def _post(app: Any, body: bytes, **kw: Any) -> HttpResponse:
    return call_wsgi(app, HttpRequest(body=body, **kw))


@pytest.fixture
def app() -> Any:
    return qbwc.wsgi_app(make_service(), max_body=MAX_BODY)


def test_doctype_with_an_external_entity_is_refused_without_reading_the_file(
    app: Any, secret_file: Path
) -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "'
        + secret_file.as_uri().encode()
        + b'">]>'
        + soap_call("serverVersion", {}).split(b"?>", 1)[1]
    ).replace(b"</soap:Body>", b"&x;</soap:Body>")
    rs = _post(app, body)
    assert rs.status == 500
    assert "DOCTYPE" in fault_string(rs.body)
    assert CANARY.encode() not in rs.body
    assert FUZZ_PASSWORD.encode() not in rs.body  # no answer ever echoes a password


def test_entity_expansion_bomb_is_refused_quickly_with_a_clear_fault(app: Any) -> None:
    body = b'<?xml version="1.0"?>' + _bomb(10) + b"<e>&a9;</e>"
    rs = _post(app, body)
    assert rs.status == 500
    assert "DOCTYPE or entity declaration" in fault_string(rs.body)


def test_utf16_doctype_that_hides_from_the_byte_scan_is_still_refused(app: Any) -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e [<!ENTITY x "y">]><e>&x;</e>'
    rs = _post(app, text.encode("utf-16"))
    assert rs.status == 500
    text_of_fault = fault_string(rs.body)
    assert "DOCTYPE" in text_of_fault or "entity" in text_of_fault.lower()


@pytest.mark.parametrize("length_header", ["auto", None])
def test_a_body_over_the_limit_gets_413_with_or_without_content_length(
    app: Any, length_header: str | None
) -> None:
    rs = _post(app, b"x" * (MAX_BODY + 1), content_length=length_header)
    assert rs.status == 413
    assert rs.body == f"request body over {MAX_BODY} bytes\n".encode()


def test_a_streamed_asgi_body_over_the_limit_gets_413_without_content_length() -> None:
    app = qbwc.asgi_app(make_service(), max_body=MAX_BODY)
    loop = asyncio.new_event_loop()
    try:
        rq = HttpRequest(body=b"x" * (MAX_BODY + 10), content_length=None, chunk_sizes=(1000,) * 9)
        assert call_asgi(app, rq, loop).status == 413
    finally:
        loop.close()


def test_a_malformed_envelope_gets_a_soap_fault_not_a_crash(app: Any) -> None:
    rs = _post(app, b"<soap:Envelope")
    assert rs.status == 500
    assert "not well-formed" in fault_string(rs.body)
