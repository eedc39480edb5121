"""FakeWebConnector follows the real Web Connector's call order, with a cap and a transcript."""

from __future__ import annotations

import pytest

from qbprocore import qbwc, qbxml
from qbprocore.testing import FakeQuickBooks, FakeWebConnector


class Reader:
    """Reads vendors with an iterator; optionally prepares first or never finishes."""

    def __init__(self, *, preparing: int = 0, endless: bool = False, work: bool = True) -> None:
        self.preparing = preparing
        self.endless = endless
        self.work = work
        self.done: set[str] = set()
        self.sent: set[str] = set()

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        return self.work and (self.endless or session.session_id not in self.done)

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | qbwc.Preparing | None:
        if self.preparing:
            self.preparing -= 1
            return qbwc.Preparing()
        if session.session_id in self.sent and not self.endless:
            return None
        self.sent.add(session.session_id)
        return qbwc.WorkRequest(messages=[qbxml.VendorQueryRq(request_id="v", max_returned=1)])

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        self.done.add(session.session_id)


def service(work: Reader, **kw: object) -> qbwc.WebConnectorService:
    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_user("demo", "pa55")
    return qbwc.WebConnectorService(authenticator=auth, work=work, **kw)  # type: ignore[arg-type]


def qb() -> FakeQuickBooks:
    q = FakeQuickBooks()
    q.add_vendor("Acme")
    return q


def test_call_order_of_a_normal_update() -> None:
    wc = FakeWebConnector(service=service(Reader()), username="demo", password="pa55")
    result = wc.update(qb())
    assert result.operations == [
        "serverVersion",
        "clientVersion",
        "authenticate",
        "sendRequestXML",
        "receiveResponseXML",
        "closeConnection",
    ]
    assert result.status == "done"
    assert result.progress == [100]
    assert len(result.requests) == 1


def test_transcript_redacts_secrets() -> None:
    wc = FakeWebConnector(service=service(Reader()), username="demo", password="pa55")
    result = wc.update(qb())
    text = repr(result.transcript)
    assert "pa55" not in text
    auth = result.transcript[2]
    assert auth.arguments == {"strUserName": "demo", "strPassword": "***"}
    assert auth.result == ["***", ""]
    assert all(e.arguments.get("ticket") in (None, "***") for e in result.transcript)
    assert result.transcript[3].arguments["strHCPResponse"].endswith("characters>")


@pytest.mark.parametrize(
    ("password", "work", "status"), [("wrong", True, "nvu"), ("pa55", False, "none")]
)
def test_authenticate_outcomes_end_the_update(password: str, work: bool, status: str) -> None:
    wc = FakeWebConnector(service=service(Reader(work=work)), username="demo", password=password)
    result = wc.update(qb())
    assert result.status == status
    assert result.operations == ["serverVersion", "clientVersion", "authenticate"]


def test_busy() -> None:
    svc = service(Reader())
    svc.call(qbwc.Authenticate(username="demo", password="pa55"))  # someone else's live session
    result = FakeWebConnector(service=svc, username="demo", password="pa55").update(qb())
    assert result.status == "busy"


def test_noop_pause_uses_the_injected_sleep() -> None:
    slept: list[float] = []
    wc = FakeWebConnector(
        service=service(Reader(preparing=1)), username="demo", password="pa55", sleep=slept.append
    )
    result = wc.update(qb())
    assert result.pauses == 1
    assert slept == [5.0]
    assert result.status == "done"


def test_round_trip_cap() -> None:
    wc = FakeWebConnector(
        service=service(Reader(endless=True)), username="demo", password="pa55", max_round_trips=4
    )
    with pytest.raises(qbwc.RoundTripLimitError, match="4 round trips"):
        wc.update(qb())


def test_exactly_one_target_is_required() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        FakeWebConnector(username="u", password="p")
    with pytest.raises(ValueError, match="exactly one"):
        FakeWebConnector(
            username="u", password="p", service=service(Reader()), url="http://127.0.0.1:1/"
        )


def test_single_calls_and_faults_by_hand() -> None:
    wc = FakeWebConnector(service=service(Reader()), username="demo", password="pa55")
    assert wc.call("serverVersion") == "qbprocore"
    assert wc.call("closeConnection", ticket="nope") == qbwc.END_OF_SESSION["closeConnection"]
    assert "pa55" not in repr(wc)


def _app(status: str, body: bytes) -> object:
    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response(status, [("Content-Type", "text/xml")])  # type: ignore[operator]
        return [body]

    return app


@pytest.mark.parametrize(
    ("status", "body", "text"),
    [
        ("500 Internal Server Error", qbwc.encode_fault(qbwc.SoapFaultError("broken")), "broken"),
        ("503 Service Unavailable", b"down for maintenance", "HTTP 503: down for maintenance"),
    ],
)
def test_faults_and_http_errors_end_the_update(status: str, body: bytes, text: str) -> None:
    with FakeWebConnector(wsgi_app=_app(status, body), username="demo", password="pa55") as wc:
        result = wc.update(qb())
    assert result.status == "fault"
    assert result.last_error == text
    assert result.operations == ["serverVersion"]
    assert result.transcript[0].http_status == int(status[:3])
