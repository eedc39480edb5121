"""The endpoint end to end (in-process): authentication, tickets, sessions, work, errors."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from qbprocore import qbwc, qbxml
from qbprocore.qbwc._snapshot import evolved
from qbprocore.testing import FakeQuickBooks, FakeWebConnector

from .conftest import (
    Clock,
    Script,
    VendorReader,
    check_a_session_can_move_its_lock,
    counting_random,
    make_service,
)


def connector(service: qbwc.WebConnectorService, **kw: object) -> FakeWebConnector:
    options: dict[str, object] = {"username": "demo", "password": "demo", **kw}
    return FakeWebConnector(service=service, **options)  # type: ignore[arg-type]


def qb_with_vendors(n: int) -> FakeQuickBooks:
    qb = FakeQuickBooks()
    qb.add_vendors(f"Vendor {i:05d}" for i in range(n))
    return qb


# -- sessionless calls -----------------------------------------------------------------------


def test_server_version_and_client_version_policy(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(
        authenticator,
        Script(),
        clock,
        server_version="acme-connector 1.2",
        client_version_policy=qbwc.ClientVersionPolicy(
            minimum="2.1.0.30", recommended="2.3.0.36", message="See example.com/qbwc."
        ),
    )
    assert service.call(qbwc.ServerVersion()) == "acme-connector 1.2"
    assert service.call(qbwc.ClientVersion(version="2.0.1.4")).startswith("E:")  # type: ignore[union-attr]
    warn = service.call(qbwc.ClientVersion(version="2.2.0.80"))
    assert isinstance(warn, str)
    assert warn.startswith("W:")
    assert warn.endswith("See example.com/qbwc.")
    assert service.call(qbwc.ClientVersion(version="2.3.0.36")) == ""
    assert service.call(qbwc.ClientVersion(version="garbled")) == ""


def test_refused_client_version_stops_the_update(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(
        authenticator,
        VendorReader(),
        clock,
        client_version_policy=qbwc.ClientVersionPolicy(minimum="3.0"),
    )
    result = connector(service).update(qb_with_vendors(1))
    assert result.status == "refused"
    assert result.operations == ["serverVersion", "clientVersion"]


# -- authenticate ----------------------------------------------------------------------------


def test_bad_credentials_answer_nvu(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, VendorReader(), clock)
    for user, password in [("demo", "wrong"), ("nobody", "demo"), ("", "")]:
        answer = service.call(qbwc.Authenticate(username=user, password=password))
        assert isinstance(answer, list)
        assert answer[1] == "nvu"
        assert answer[0]  # a ticket is still sent, but it leads nowhere
        assert service.call(qbwc.SendRequestXML(ticket=answer[0])) == ""


def test_no_work_answers_none_with_optional_wait(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, Script(), clock)
    assert service.call(qbwc.Authenticate(username="demo", password="demo"))[1:] == ["none"]  # type: ignore[index]
    waiting = make_service(authenticator, Script(), clock, no_work_wait=300, min_run_every=60)
    answer = waiting.call(qbwc.Authenticate(username="demo", password="demo"))
    assert answer[1:] == ["none", "300", "60"]  # type: ignore[index]


def test_accepted_answers_empty_or_the_company_file(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, VendorReader(), clock)
    assert service.call(qbwc.Authenticate(username="demo", password="demo"))[1:] == [""]  # type: ignore[index]
    answer = service.call(qbwc.Authenticate(username="acme", password="s3cret"))
    assert answer[1:] == [r"C:\Books\Acme.QBW"]  # type: ignore[index]


def test_second_session_for_the_same_company_file_is_busy(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, VendorReader(), clock)
    first = service.call(qbwc.Authenticate(username="demo", password="demo"))
    assert isinstance(first, list)
    assert first[1] == ""
    second = service.call(qbwc.Authenticate(username="demo", password="demo"))
    assert second[1] == "busy"  # type: ignore[index]
    # Another user (another company file) is not blocked.
    assert service.call(qbwc.Authenticate(username="acme", password="s3cret"))[1] != "busy"  # type: ignore[index]
    # Once the first session is closed, the file is free again.
    service.call(qbwc.CloseConnection(ticket=first[0]))
    assert service.call(qbwc.Authenticate(username="demo", password="demo"))[1] == ""  # type: ignore[index]


def _users(*rows: tuple[str, str, str | None]) -> qbwc.PasswordAuthenticator:
    auth = qbwc.PasswordAuthenticator(n=2**8)
    for name, company_file, tenant in rows:
        auth.add_user(name, "pw", company_file=company_file, tenant=tenant)
    return auth


def _status(service: qbwc.WebConnectorService, user: str) -> str:
    answer = service.call(qbwc.Authenticate(username=user, password="pw"))
    assert isinstance(answer, list)
    return answer[1]


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "sqlite"])
def test_busy_is_per_company_file_whoever_asks(clock: Clock, tmp_path: Path, durable: bool) -> None:
    auth = _users(
        ("alice", r"C:\Books\Shared.QBW", "t1"),
        ("bob", r"C:\Books\Shared.QBW", "t1"),
        ("carol", "c:/books/SHARED.qbw", "t1"),  # the same file, as Windows compares paths
        ("dave", r"C:\Books\Other.QBW", "t1"),
        ("erin", r"C:\Books\Shared.QBW", "t2"),  # another tenant's machine, another file
    )
    store = qbwc.SQLiteSessionStore(tmp_path / "s.db") if durable else None
    service = make_service(auth, VendorReader(), clock, store=store)
    assert _status(service, "alice") == r"C:\Books\Shared.QBW"
    assert _status(service, "bob") == "busy"
    assert _status(service, "carol") == "busy"
    assert _status(service, "dave") == r"C:\Books\Other.QBW"
    assert _status(service, "erin") == r"C:\Books\Shared.QBW"
    assert _status(service, "alice") == "busy"


def _open_file_session(
    service: qbwc.WebConnectorService, user: str, company_file: str, ticket: str | None = None
) -> tuple[str, str]:
    """Authenticate ``user`` (no company file named, unless ``ticket`` is given) and make the
    first send on ``company_file``: the ticket and what ``sendRequestXML`` answered."""
    if ticket is None:
        ticket, status = service.call(qbwc.Authenticate(username=user, password="pw"))  # type: ignore[misc]
        assert status == ""
    sent = service.call(
        qbwc.SendRequestXML(
            ticket=ticket,
            hcp_response=FakeQuickBooks(company_file=company_file).hcp_response(),
            company_file=company_file,
            major_version=16,
        )
    )
    assert isinstance(sent, str)
    return ticket, sent


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "sqlite"])
def test_a_session_on_the_open_file_takes_its_lock_at_the_first_send(
    clock: Clock, tmp_path: Path, durable: bool
) -> None:
    auth = _users(("frank", "", None), ("grace", "", None), ("heidi", r"C:\Books\Site.QBW", None))
    work = VendorReader()
    store = qbwc.SQLiteSessionStore(tmp_path / "s.db") if durable else None
    service = make_service(auth, work, clock, store=store)
    # Until its first send, a session on "the file open in QuickBooks" holds its user's slot.
    frank = service.call(qbwc.Authenticate(username="frank", password="pw"))[0]  # type: ignore[index]
    assert _status(service, "frank") == "busy"
    _, request = _open_file_session(service, "frank", r"C:\Books\Site.QBW", ticket=frank)  # type: ignore[arg-type]
    assert "<VendorQueryRq" in request
    # Now it holds the file: a session naming that file, however spelled, is busy ...
    assert _status(service, "heidi") == "busy"
    # ... and so is another open-file session, once its first send names the same file. The
    # work source is not asked, and getLastError says why.
    asked = len(work.sessions)
    grace, refused = _open_file_session(service, "grace", "c:/books/site.qbw")
    assert refused == ""
    assert len(work.sessions) == asked
    assert "Another session is updating this company file" in str(
        service.call(qbwc.GetLastError(ticket=grace))
    )
    assert service.call(qbwc.CloseConnection(ticket=grace)) == service.config.close_message
    # Another file is free, and the file is free again once the first session ends.
    _, other = _open_file_session(service, "grace", r"C:\Books\Elsewhere.QBW")
    assert "<VendorQueryRq" in other
    service.call(qbwc.CloseConnection(ticket=frank))
    assert _status(service, "heidi") == r"C:\Books\Site.QBW"


def test_connection_error_moves_the_lock_to_the_new_file_or_ends_the_session(
    clock: Clock,
) -> None:
    auth = _users(
        ("ivan", r"C:\Books\A.QBW", None),
        ("judy", r"C:\Books\B.QBW", None),
        ("ken", r"C:\Books\A.QBW", None),
    )
    policy = qbwc.ConnectionErrorPolicy(retry_company_files=["c:/books/b.qbw"])
    service = make_service(
        auth, VendorReader(), clock, config=qbwc.SessionConfig(connection_error_policy=policy)
    )

    def ticket(user: str) -> str:
        answer = service.call(qbwc.Authenticate(username=user, password="pw"))
        assert isinstance(answer, list)
        assert answer[1] not in ("busy", "none", "nvu")
        return answer[0]

    def connection_error(ticket: str) -> object:
        return service.call(qbwc.ConnectionFailed(ticket=ticket, hresult="0x80040408"))

    ivan, judy = ticket("ivan"), ticket("judy")
    # B is judy's: ivan's session may not move there; it ends, and A's lock goes with it.
    assert connection_error(ivan) == "done"
    assert "Another session is updating" in str(service.call(qbwc.GetLastError(ticket=ivan)))
    ken = ticket("ken")
    service.call(qbwc.CloseConnection(ticket=ken))
    service.call(qbwc.CloseConnection(ticket=judy))
    # With B free, a session moves there and holds B instead of A.
    ivan = ticket("ivan")
    assert connection_error(ivan) == "c:/books/b.qbw"
    assert _status(service, "judy") == "busy"
    assert _status(service, "ken") == r"C:\Books\A.QBW"


def test_busy_ends_when_the_live_session_expires(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, VendorReader(), clock)
    service.call(qbwc.Authenticate(username="demo", password="demo"))
    clock.advance(service.config.idle_timeout + 1)
    assert service.call(qbwc.Authenticate(username="demo", password="demo"))[1] == ""  # type: ignore[index]


# -- tickets ---------------------------------------------------------------------------------


def test_tickets_carry_256_random_bits_from_the_injected_source(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    asked: list[int] = []

    def random_bytes(n: int) -> bytes:
        asked.append(n)
        return bytes([len(asked)]) * n

    service = qbwc.WebConnectorService(
        authenticator=authenticator, work=VendorReader(), clock=clock, random_bytes=random_bytes
    )
    answer = service.call(qbwc.Authenticate(username="demo", password="demo"))
    assert asked == [32]
    assert isinstance(answer, list)
    assert len(answer[0]) == 43  # base64url of 32 bytes
    weak = qbwc.WebConnectorService(
        authenticator=authenticator, work=VendorReader(), clock=clock, random_bytes=lambda n: b"x"
    )
    with pytest.raises(qbwc.LocalProtocolError, match="128"):
        weak.call(qbwc.Authenticate(username="demo", password="demo"))


def test_the_store_never_holds_the_ticket(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, tmp_path: Path
) -> None:
    store = qbwc.SQLiteSessionStore(tmp_path / "s.db")
    service = make_service(authenticator, VendorReader(), clock, store=store)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    assert isinstance(ticket, str)
    snapshot = store.load(qbwc.ticket_key(ticket))
    store.close()
    assert snapshot is not None
    assert ticket not in snapshot.to_json()
    assert ticket.encode() not in (tmp_path / "s.db").read_bytes()
    assert ticket not in repr(snapshot)


TICKETED = [name for name, cls in qbwc.OPERATIONS.items() if cls.ticketed]


@pytest.mark.parametrize("operation", TICKETED)
def test_unknown_ticket_gets_a_clean_end_of_session(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, operation: str
) -> None:
    service = make_service(authenticator, VendorReader(), clock)
    event = qbwc.OPERATIONS[operation](ticket="no-such-ticket")  # type: ignore[call-arg]
    assert service.call(event) == qbwc.END_OF_SESSION[operation]
    # ... and over SOAP it is a normal 200 answer, never a fault.
    wc = connector(service)
    kwargs = {name: "" for name, _ in event.params}
    kwargs["wcTicket" if "wcTicket" in kwargs else "ticket"] = "no-such-ticket"
    if operation == "sendRequestXML":
        kwargs.update(qbXMLMajorVers="13", qbXMLMinorVers="0")
    assert wc.call(operation, **kwargs) == qbwc.END_OF_SESSION[operation]
    assert wc._transcript[-1].http_status == 200


def test_expired_ticket_gets_a_clean_end_and_is_forgotten(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    store = qbwc.MemorySessionStore()
    service = make_service(authenticator, VendorReader(), clock, store=store)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    clock.advance(service.config.idle_timeout)
    assert service.call(qbwc.SendRequestXML(ticket=ticket)) == ""  # type: ignore[arg-type]
    assert store.load(qbwc.ticket_key(ticket)) is None  # type: ignore[arg-type]


def test_a_busy_session_cannot_outlive_its_maximum_age(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    config = qbwc.SessionConfig(idle_timeout=100, max_session_age=250)
    qb = qb_with_vendors(1000)
    service = make_service(authenticator, VendorReader(max_returned=10), clock, config=config)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    answers = []
    for _ in range(5):
        clock.advance(60)
        request = service.call(qbwc.SendRequestXML(ticket=ticket, hcp_response=qb.hcp_response()))  # type: ignore[arg-type]
        if not request:
            answers.append("ended")
            break
        answers.append("request")
        service.call(
            qbwc.ReceiveResponseXML(ticket=ticket, response=qb.process(str(request)).response)  # type: ignore[arg-type]
        )
    # Calls at 60, 120, 180 and 240 s are served; at 300 s the 250 s maximum has passed.
    assert answers == ["request"] * 4 + ["ended"]


# -- full sessions ---------------------------------------------------------------------------


def test_reads_every_vendor_with_an_iterator(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    work = VendorReader(max_returned=100)
    service = make_service(authenticator, work, clock)
    qb = qb_with_vendors(250)
    result = connector(service).update(qb)
    assert result.status == "done"
    assert result.operations == [
        "serverVersion",
        "clientVersion",
        "authenticate",
        *["sendRequestXML", "receiveResponseXML"] * 3,
        "closeConnection",
    ]
    assert sorted(work.names) == [f"Vendor {i:05d}" for i in range(250)]
    assert result.progress == [40, 80, 100]
    assert result.close_message == "OK"
    # The Continue keeps the requestID and carries the iteratorID QuickBooks gave.
    docs = [qbxml.loads(r) for r in result.requests]
    queries = [d.requests[0] for d in docs]
    assert [q.request_id for q in queries] == ["vendors"] * 3
    assert [str(q.iterator) for q in queries] == ["Start", "Continue", "Continue"]  # type: ignore[attr-defined]
    assert queries[1].iterator_id == queries[2].iterator_id is not None  # type: ignore[attr-defined]
    assert [r.continuing for r in work.received] == [True, True, False]
    # HCP only on the first sendRequestXML.
    sends = [e for e in result.transcript if e.operation == "sendRequestXML"]
    assert sends[0].arguments["strHCPResponse"] != "<0 characters>"
    assert all(e.arguments["strHCPResponse"] == "<0 characters>" for e in sends[1:])
    # The qbXML version was negotiated from the HCP response (the fake speaks up to 16.0).
    assert docs[0].version == "16.0"
    assert work.sessions[0].qbxml_version == "16.0"


@pytest.mark.parametrize(
    ("hcp_versions", "major", "minor", "spoken"),
    [
        (["12.0", "13.0"], 16, 0, "13.0"),  # the HCP list wins over the parameters
        (["CA3.0", "2.0", "13.0", "8.0"], 16, 0, "13.0"),  # the highest one we share
        (None, 13, 0, "13.0"),  # no HCP response: the parameters, when we speak them
        ("<QBXML><broken", 14, 0, "14.0"),  # an unreadable one: the same
        (None, 99, 0, qbxml.DEFAULT_VERSION),  # a version we do not speak: the fallback
    ],
)
def test_the_qbxml_version_is_negotiated_from_the_first_call(
    authenticator: qbwc.PasswordAuthenticator,
    clock: Clock,
    hcp_versions: list[str] | str | None,
    major: int,
    minor: int,
    spoken: str,
) -> None:
    work = VendorReader()
    service = make_service(authenticator, work, clock)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    if isinstance(hcp_versions, list):
        hcp = FakeQuickBooks(supported_versions=hcp_versions).hcp_response()
    else:
        hcp = hcp_versions or ""
    request = service.call(
        qbwc.SendRequestXML(
            ticket=ticket,  # type: ignore[arg-type]
            hcp_response=hcp,
            company_file=r"C:\Books\Demo.QBW",
            major_version=major,
            minor_version=minor,
        )
    )
    assert qbxml.loads(str(request)).version == spoken
    assert work.sessions[0].qbxml_version == spoken


class Streamer(VendorReader):
    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        self.received.append(received)
        self.names += [r.name for r in received.iter_records()]  # type: ignore[attr-defined]
        if not received.continuing:
            self.finished.add(session.session_id)


@pytest.mark.parametrize("threshold", [100, 10**9])
def test_large_responses_are_streamed(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, threshold: int
) -> None:
    work = Streamer(max_returned=40)
    config = qbwc.SessionConfig(stream_threshold=threshold)
    service = make_service(authenticator, work, clock, config=config)
    result = connector(service).update(qb_with_vendors(100))
    assert result.status == "done"
    assert work.names == [f"Vendor {i:05d}" for i in range(100)]
    assert [r.streamed for r in work.received] == [threshold == 100] * 3
    assert [r.continuing for r in work.received] == [True, True, False]
    if threshold == 100:
        # Streamed: messages keep their status and iterator attributes, not their records.
        first = work.received[0].exchanges[0].response
        assert first is not None
        assert first.records == ()
        assert first.iterator_remaining_count == 60  # type: ignore[attr-defined]


def test_version_falls_back_when_the_host_is_older(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    work = VendorReader()
    service = make_service(authenticator, work, clock)
    qb = FakeQuickBooks(supported_versions=("11.0", "12.0", "13.0"))
    qb.add_vendor("Acme")
    result = connector(service).update(qb)
    assert qbxml.loads(result.requests[0]).version == "13.0"


def test_unusable_hcp_response_falls_back_to_the_version_parameters(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, reference_dir: Path
) -> None:
    # The qbwc gem's captured strHCPResponse is not well-formed upstream (a typo).
    hcp = (reference_dir / "qbxml/qbwc-qbwc/SEND_REQUEST_PARAMS.strHCPResponse.xml").read_text()
    service = make_service(authenticator, VendorReader(), clock)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    request = service.call(
        qbwc.SendRequestXML(ticket=ticket, hcp_response=hcp, major_version=12, minor_version=0)  # type: ignore[arg-type]
    )
    assert qbxml.loads(str(request)).version == "12.0"


def test_noop_pause_while_work_is_prepared(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    work = VendorReader(preparing=2)
    service = make_service(authenticator, work, clock)
    slept: list[float] = []
    result = connector(service, sleep=slept.append).update(qb_with_vendors(3))
    assert result.status == "done"
    assert result.pauses == 2
    assert slept == [5.0, 5.0]
    assert result.operations[3:9] == [
        "sendRequestXML",
        "getLastError",
        "sendRequestXML",
        "getLastError",
        "sendRequestXML",
        "receiveResponseXML",
    ]
    assert [e.result for e in result.transcript if e.operation == "getLastError"] == ["NoOp"] * 2
    assert len(work.names) == 3


@pytest.mark.parametrize("hresult", ["0x80040400", "0x80040408"])
def test_quickbooks_failure_is_negative_and_explained(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, hresult: str
) -> None:
    work = VendorReader()
    service = make_service(authenticator, work, clock)
    qb = qb_with_vendors(3)
    qb.fail_next(hresult, "QuickBooks found an error when parsing the provided XML text stream.")
    result = connector(service).update(qb)
    assert result.status == "error"
    assert result.progress == [-1]
    assert result.operations[-3:] == ["receiveResponseXML", "getLastError", "closeConnection"]
    assert hresult in result.last_error
    assert work.received[0].hresult == hresult
    assert work.received[0].exchanges[0].action is qbwc.StatusAction.RETRY_LATER


def test_connection_error_retries_the_configured_file_then_gives_up(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    qb = qb_with_vendors(2)
    policy = qbwc.ConnectionErrorPolicy(retry_company_files=[qb.company_file])
    work = VendorReader()
    service = make_service(
        authenticator, work, clock, config=qbwc.SessionConfig(connection_error_policy=policy)
    )
    qb.fail_connection(times=1)
    result = connector(service).update(qb)
    assert result.status == "done"
    assert result.operations[3] == "connectionError"
    assert result.transcript[3].result == qb.company_file
    assert len(work.names) == 2

    qb.fail_connection(times=2)
    again = connector(make_service(authenticator, VendorReader(), clock, config=service.config))
    failed = again.update(qb)
    assert failed.status == "error"
    assert [e.result for e in failed.transcript if e.operation == "connectionError"] == [
        qb.company_file,
        "done",
    ]
    assert failed.operations[-1] == "closeConnection"


def test_default_connection_error_policy_is_done(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    qb = qb_with_vendors(1)
    qb.fail_connection()
    result = connector(make_service(authenticator, VendorReader(), clock)).update(qb)
    assert [e.result for e in result.transcript if e.operation == "connectionError"] == ["done"]


def test_out_of_order_call_ends_the_session_cleanly(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, VendorReader(), clock)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    answer = service.call(qbwc.ReceiveResponseXML(ticket=ticket, response="<QBXML/>"))  # type: ignore[arg-type]
    assert answer == 100
    explained = service.call(qbwc.GetLastError(ticket=ticket))  # type: ignore[arg-type]
    assert "not allowed in state AUTHENTICATED" in str(explained)
    assert service.call(qbwc.SendRequestXML(ticket=ticket)) == ""  # type: ignore[arg-type]
    assert service.call(qbwc.CloseConnection(ticket=ticket)) == "OK"  # type: ignore[arg-type]


def test_a_ticket_is_bound_to_its_company_file(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, VendorReader(max_returned=1), clock)
    qb = qb_with_vendors(3)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    first = service.call(
        qbwc.SendRequestXML(ticket=ticket, hcp_response=qb.hcp_response(), company_file=r"C:\A.QBW")  # type: ignore[arg-type]
    )
    service.call(qbwc.ReceiveResponseXML(ticket=ticket, response=qb.process(str(first)).response))  # type: ignore[arg-type]
    other = service.call(qbwc.SendRequestXML(ticket=ticket, company_file=r"C:\B.QBW"))  # type: ignore[arg-type]
    assert other == ""
    assert "another company file" in str(service.call(qbwc.GetLastError(ticket=ticket)))  # type: ignore[arg-type]


def test_authenticator_company_file_is_enforced(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, VendorReader(), clock)
    ticket = service.call(qbwc.Authenticate(username="acme", password="s3cret"))[0]  # type: ignore[index]
    assert service.call(qbwc.SendRequestXML(ticket=ticket, company_file=r"C:\Other.QBW")) == ""  # type: ignore[arg-type]
    ok = make_service(authenticator, VendorReader(), clock)
    ticket = ok.call(qbwc.Authenticate(username="acme", password="s3cret"))[0]  # type: ignore[index]
    assert ok.call(qbwc.SendRequestXML(ticket=ticket, company_file=r"c:\books\acme.qbw")) != ""  # type: ignore[arg-type]


class Exploding(VendorReader):
    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        raise RuntimeError("database is down: secret-connection-string")


def test_a_failing_work_source_ends_the_session_cleanly(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(authenticator, Exploding(), clock)
    result = connector(service).update(qb_with_vendors(3))
    assert result.progress == [100]  # a clean end, not a fault and not a negative
    assert all(e.http_status == 200 for e in result.transcript)
    qb = qb_with_vendors(1)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    request = service.call(qbwc.SendRequestXML(ticket=ticket, hcp_response=qb.hcp_response()))  # type: ignore[arg-type]
    response = qb.process(str(request)).response
    assert service.call(qbwc.ReceiveResponseXML(ticket=ticket, response=response)) == 100  # type: ignore[arg-type]
    text = str(service.call(qbwc.GetLastError(ticket=ticket)))  # type: ignore[arg-type]
    assert "internal error" in text
    assert "secret" not in text
    assert "database is down" in caplog.text  # the details go to our logs only


class BadWork(Script):
    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest:
        return "<QBXML/>"  # type: ignore[return-value]


def test_a_misbehaving_work_source_ends_the_session_cleanly(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(
        authenticator, BadWork(qbwc.WorkRequest(messages=[qbxml.VendorQueryRq()])), clock
    )
    result = connector(service).update(qb_with_vendors(1))
    assert result.status == "error"
    assert "not a WorkRequest" in result.last_error


def test_request_ids_are_assigned_and_responses_matched(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    work = Script(
        qbwc.WorkRequest(
            messages=[
                qbxml.VendorQueryRq(full_name=["Acme"]),
                qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="Acme")),  # 3100: stops here
                qbxml.VendorQueryRq(request_id="mine", full_name=["Nobody"]),
            ]
        )
    )
    service = make_service(authenticator, work, clock)
    qb = FakeQuickBooks()
    qb.add_vendor("Acme")
    result = connector(service).update(qb)
    assert result.status == "done"
    sent = qbxml.loads(result.requests[0]).requests
    assert [r.request_id for r in sent] == ["1.1", "1.2", "mine"]
    exchanges = work.received[0].exchanges
    assert [e.request.request_id for e in exchanges] == ["1.1", "1.2", "mine"]  # type: ignore[union-attr]
    assert [e.response.status_code if e.response else None for e in exchanges] == [0, 3100, None]
    assert [e.action for e in exchanges] == [
        qbwc.StatusAction.OK,
        qbwc.StatusAction.LINK_EXISTING,
        qbwc.StatusAction.RETRY_LATER,  # never ran (stopOnError)
    ]


def test_invalid_qbxml_from_the_work_source_is_never_sent(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    too_long = qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="x" * 42))  # Name max 41
    work = Script(qbwc.WorkRequest(messages=[too_long]))
    result = connector(make_service(authenticator, work, clock)).update(qb_with_vendors(1))
    assert result.status == "error"
    assert result.requests == []
    assert "not valid qbXML" in result.last_error


def test_duplicate_request_ids_are_refused(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    work = Script(
        qbwc.WorkRequest(
            messages=[qbxml.VendorQueryRq(request_id="x"), qbxml.VendorQueryRq(request_id="x")]
        )
    )
    result = connector(make_service(authenticator, work, clock)).update(qb_with_vendors(1))
    assert "requestIDs repeat" in result.last_error


def test_unreadable_response_is_reported_not_negative(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    work = VendorReader()
    service = make_service(authenticator, work, clock)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    service.call(qbwc.SendRequestXML(ticket=ticket))  # type: ignore[arg-type]
    answer = service.call(qbwc.ReceiveResponseXML(ticket=ticket, response="<not qbxml"))  # type: ignore[arg-type]
    assert isinstance(answer, int)
    assert answer >= 0
    assert work.received[0].error.startswith("the response could not be read")


def test_interactive_calls_are_answered(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    config = qbwc.SessionConfig(interactive_url="https://books.example.com/fix")
    service = make_service(authenticator, VendorReader(), clock, config=config)
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    assert service.call(qbwc.GetInteractiveURL(ticket=ticket, session_id="s")) == (  # type: ignore[arg-type]
        "https://books.example.com/fix"
    )
    assert service.call(qbwc.InteractiveDone(ticket=ticket)) == "Done"  # type: ignore[arg-type]
    assert service.call(qbwc.InteractiveRejected(ticket=ticket, reason="no")) == ""  # type: ignore[arg-type]
    assert service.call(qbwc.SendRequestXML(ticket=ticket)) != ""  # type: ignore[arg-type]


def test_round_trip_cap_stops_a_runaway_session(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    service = make_service(authenticator, VendorReader(max_returned=1), clock)
    with pytest.raises(qbwc.RoundTripLimitError):
        connector(service, max_round_trips=3).update(qb_with_vendors(10))


# -- stores: any worker, any restart ---------------------------------------------------------


def test_snapshot_round_trips_through_json() -> None:
    snap = qbwc.SessionSnapshot(
        key="k",
        username="u",
        lock_key="l",
        created_at=1.0,
        expires_at=2.0,
        hard_expires_at=3.0,
        pending_ids=("a", "b"),
        state=qbwc.State.PAUSED,
    )
    assert qbwc.SessionSnapshot.from_json(snap.to_json()) == snap


def test_a_snapshot_evolves_as_attrs_evolves_it() -> None:
    # The session's per-call copy skips attrs.evolve's look-ups; it must give the same thing.
    snap = qbwc.SessionSnapshot(
        key="k", username="u", lock_key="l", created_at=1.0, expires_at=2.0, hard_expires_at=3.0
    )
    changes: dict[str, object] = {
        "key": "k2",
        "username": "u2",
        "tenant": "t",
        "lock_key": "l2",
        "company_file": "C:\\A.QBW",
        "state": qbwc.State.REQUEST_SENT,
        "created_at": 4.0,
        "expires_at": 5.0,
        "hard_expires_at": 6.0,
        "qbxml_version": "16.0",
        "pending_xml": "<QBXML/>",
        "pending_ids": ("1",),
        "continue_xml": "<QBXML/>",
        "iterator_fetched": 7,
        "progress": 8,
        "last_error": "e",
        "round_trips": 9,
        "connection_errors": 10,
    }
    assert set(changes) == {f.name for f in attrs.fields(qbwc.SessionSnapshot)}
    for name, value in changes.items():
        assert evolved(snap, **{name: value}) == attrs.evolve(snap, **{name: value})
        assert getattr(evolved(snap, **{name: value}), name) == value
    assert evolved(snap, **changes) == attrs.evolve(snap, **changes)
    assert evolved(snap) == snap
    with pytest.raises(TypeError, match="no_such_field"):
        evolved(snap, no_such_field=1)


def test_sessions_survive_workers_and_restarts_with_sqlite(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, tmp_path: Path
) -> None:
    db = tmp_path / "sessions.db"
    work = VendorReader(max_returned=2)
    qb = qb_with_vendors(7)

    stores: list[qbwc.SQLiteSessionStore] = []

    def worker() -> qbwc.WebConnectorService:
        # A fresh service and store object per call: like a new process each time.
        stores.append(qbwc.SQLiteSessionStore(db))
        return make_service(authenticator, work, clock, store=stores[-1])

    ticket = worker().call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    first = True
    progress = []
    for _ in range(10):
        request = worker().call(
            qbwc.SendRequestXML(ticket=ticket, hcp_response=qb.hcp_response() if first else "")  # type: ignore[arg-type]
        )
        first = False
        pct = worker().call(
            qbwc.ReceiveResponseXML(ticket=ticket, response=qb.process(str(request)).response)  # type: ignore[arg-type]
        )
        assert isinstance(pct, int)
        progress.append(pct)
        if pct == 100:
            break
    assert progress[-1] == 100
    assert all(0 <= p < 100 for p in progress[:-1])
    assert sorted(work.names) == [f"Vendor {i:05d}" for i in range(7)]
    assert worker().call(qbwc.CloseConnection(ticket=ticket)) == "OK"  # type: ignore[arg-type]
    with qbwc.SQLiteSessionStore(db) as store:
        assert store.load(qbwc.ticket_key(ticket)) is None  # type: ignore[arg-type]
    for used in stores:
        used.close()


def test_sqlite_busy_is_atomic_across_store_objects(tmp_path: Path) -> None:
    def snap(key: str, now: float = 0.0) -> qbwc.SessionSnapshot:
        return qbwc.SessionSnapshot(
            key=key,
            username="u",
            lock_key="L",
            created_at=now,
            expires_at=now + 10,
            hard_expires_at=now + 100,
        )

    a, b = qbwc.SQLiteSessionStore(tmp_path / "s.db"), qbwc.SQLiteSessionStore(tmp_path / "s.db")
    assert a.create(snap("1"), now=0)
    assert not b.create(snap("2"), now=1)
    done = qbwc.SessionSnapshot.from_json(snap("1").to_json())
    import attrs

    a.save(attrs.evolve(done, state=qbwc.State.DONE))
    assert b.create(snap("3"), now=2)  # a DONE session holds no lock
    assert a.create(snap("4", now=50), now=50)  # "3" expired at 12 and was purged
    assert a.load("3") is None
    b.delete("4")
    assert a.load("4") is None
    a.close()
    b.close()


def test_memory_store_busy_and_expiry() -> None:
    store = qbwc.MemorySessionStore()
    s1 = qbwc.SessionSnapshot(
        key="1", username="u", lock_key="L", created_at=0, expires_at=10, hard_expires_at=100
    )
    s2 = qbwc.SessionSnapshot(
        key="2", username="u", lock_key="L", created_at=0, expires_at=30, hard_expires_at=100
    )
    assert store.create(s1, now=0)
    assert not store.create(s2, now=5)
    assert store.create(s2, now=11)
    assert store.load("1") is None
    assert "2" not in repr(store)


def test_stores_let_a_live_session_move_its_lock(tmp_path: Path) -> None:
    memory = qbwc.MemorySessionStore()
    check_a_session_can_move_its_lock(memory, memory)
    with (
        qbwc.SQLiteSessionStore(tmp_path / "s.db") as a,
        qbwc.SQLiteSessionStore(tmp_path / "s.db") as b,
    ):
        check_a_session_can_move_its_lock(a, b)


def test_counting_random_is_deterministic() -> None:
    r = counting_random()
    assert r(4) == b"\x00\x00\x00\x01"
    assert r(4) == b"\x00\x00\x00\x02"


WORKER = '''
import sys
from qbprocore import qbwc, qbxml

class OneQuery:
    """Stateless across processes: everything it needs is in SessionInfo."""
    def has_work(self, session):
        return session.round_trips == 0
    def next_request(self, session):
        if session.round_trips:
            return None
        return qbwc.WorkRequest(messages=[qbxml.VendorQueryRq(request_id="v")])
    def receive(self, session, received):
        print("received", [len(rs.records) for rs in received.responses], file=sys.stderr)

auth = qbwc.PasswordAuthenticator(n=2**8)
auth.add_user("demo", "demo")
with qbwc.SQLiteSessionStore(sys.argv[1]) as store:
    service = qbwc.WebConnectorService(authenticator=auth, work=OneQuery(), store=store)
    answer = service.handle(sys.stdin.buffer.read())
sys.stdout.buffer.write(answer.body)
'''


def test_each_call_in_its_own_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    from lxml import etree

    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    db = str(tmp_path / "sessions.db")

    def call(operation: str, **params: str) -> list[str]:
        from .test_soap import envelope

        out = subprocess.run(
            [sys.executable, str(script), db],
            input=envelope(operation, params),
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        result = etree.fromstring(out).find(f".//{{{qbwc.INTUIT_NS}}}{operation}Result")
        assert result is not None
        return [s.text or "" for s in result] if len(result) else [result.text or ""]

    qb = qb_with_vendors(3)
    ticket, status = call("authenticate", strUserName="demo", strPassword="demo")
    assert status == ""
    (request,) = call("sendRequestXML", ticket=ticket, strHCPResponse=qb.hcp_response())
    assert "<VendorQueryRq" in request
    (progress,) = call("receiveResponseXML", ticket=ticket, response=qb.process(request).response)
    assert progress == "100"
    assert call("closeConnection", ticket=ticket) == ["OK"]
    assert call("sendRequestXML", ticket=ticket) == [""]


def test_concurrent_authenticates_yield_one_session(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, tmp_path: Path
) -> None:
    import threading

    db = tmp_path / "race.db"
    barrier = threading.Barrier(8)
    answers: list[str] = []
    stores: list[qbwc.SQLiteSessionStore] = []
    lock = threading.Lock()

    def worker() -> None:
        store = qbwc.SQLiteSessionStore(db)
        with lock:
            stores.append(store)
        # Each thread is its own "process": its own service and store object.
        service = qbwc.WebConnectorService(
            authenticator=authenticator, work=VendorReader(), store=store, clock=clock
        )
        barrier.wait(timeout=30)
        answer = service.call(qbwc.Authenticate(username="demo", password="demo"))
        with lock:
            answers.append(answer[1])  # type: ignore[index]

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for store in stores:
        store.close()
    assert sorted(answers) == [""] + ["busy"] * 7
