"""Reading back what a session sent, and writing its Continue documents, once per process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qbprocore import qbwc, qbxml
from qbprocore.qbwc import _session
from qbprocore.testing import FakeQuickBooks, FakeWebConnector

from .conftest import Clock, VendorReader, make_service


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    _session._read_requests_memo.cache_clear()
    _session._write_continue_memo.cache_clear()
    yield
    _session._read_requests_memo.cache_clear()
    _session._write_continue_memo.cache_clear()


def _quickbooks(n: int) -> FakeQuickBooks:
    qb = FakeQuickBooks()
    qb.add_vendors(f"Vendor {i:05d}" for i in range(n))
    return qb


def _connector(service: qbwc.WebConnectorService) -> FakeWebConnector:
    return FakeWebConnector(service=service, username="demo", password="demo")


def test_a_long_read_writes_and_reads_each_document_once(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real_dumps = qbxml.dumps

    def dumps(*messages: Any, **kw: Any) -> bytes:
        written.extend(type(m).__name__ for m in messages)
        return real_dumps(*messages, **kw)

    # The session's own module only: FakeQuickBooks writes its answers with qbxml.dumps too.
    monkeypatch.setattr(_session, "qbxml", _Proxy(dumps=dumps))
    work = VendorReader(max_returned=10)
    result = _connector(make_service(authenticator, work, clock)).update(_quickbooks(95))
    assert result.status == "done"
    assert len(work.names) == 95
    assert len(result.requests) == 10
    # The Start, the Continue after the Start, and the Continue after a Continue (the same
    # text as the one before it): three documents written for ten pages, not ten.
    assert written == ["VendorQueryRq"] * 3
    docs = [qbxml.loads(r).requests[0] for r in result.requests]
    assert [str(d.iterator) for d in docs] == ["Start"] + ["Continue"] * 9  # type: ignore[attr-defined]
    assert result.requests[2:] == [result.requests[1]] * 8
    reads = _session._read_requests_memo.cache_info()
    assert reads.misses == 2  # each of the two request documents read back once


def test_two_iterators_at_once_each_get_their_own_continue(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock
) -> None:
    work = VendorReader(max_returned=10)
    service = make_service(authenticator, work, clock)
    sent: dict[str, list[str]] = {"demo": [], "acme": []}
    sessions = [
        _pages(service, _quickbooks(30), "demo", "demo", "", sent["demo"]),
        _pages(service, _quickbooks(25), "acme", "s3cret", r"C:\Books\Acme.QBW", sent["acme"]),
    ]
    while sessions:  # the two sessions take turns, page by page
        sessions = [s for s in sessions if next(s, None) is not None]
    assert (len(sent["demo"]), len(sent["acme"])) == (3, 3)
    ids = {
        user: {qbxml.loads(xml).requests[0].iterator_id for xml in docs[1:]}  # type: ignore[attr-defined]
        for user, docs in sent.items()
    }
    assert len(ids["demo"]) == len(ids["acme"]) == 1
    assert ids["demo"] != ids["acme"]
    assert sorted(work.names) == sorted(
        [f"Vendor {i:05d}" for i in range(30)] + [f"Vendor {i:05d}" for i in range(25)]
    )


def test_large_documents_are_not_kept() -> None:
    many = [qbxml.VendorQueryRq(request_id=str(i)) for i in range(600)]
    xml = qbxml.dumps(*many).decode("ascii")
    assert len(xml) > _session._MEMO_CHARS
    assert [r.request_id for r in _session.sent_requests(xml)] == [str(i) for i in range(600)]
    assert _session._read_requests_memo.cache_info().currsize == 0
    small = qbxml.dumps(many[0]).decode("ascii")
    assert _session.sent_requests(small) is _session.sent_requests(small)
    assert _session._read_requests_memo.cache_info().currsize == 1


class _Proxy:
    """`qbprocore.qbxml` with some functions replaced."""

    def __init__(self, **replaced: Any) -> None:
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced.get(name) or getattr(qbxml, name)


def _pages(
    service: qbwc.WebConnectorService,
    qb: FakeQuickBooks,
    username: str,
    password: str,
    company_file: str,
    sent: list[str],
) -> Iterator[int]:
    """One session, driven call by call; yields the progress after each page."""
    ticket = service.call(qbwc.Authenticate(username=username, password=password))[0]
    assert isinstance(ticket, str)
    progress = 0
    while progress < 100:
        xml = service.call(
            qbwc.SendRequestXML(
                ticket=ticket,
                company_file=company_file or qb.company_file,
                major_version=13,
                minor_version=0,
            )
        )
        assert isinstance(xml, str)
        assert xml
        sent.append(xml)
        answer = service.call(
            qbwc.ReceiveResponseXML(ticket=ticket, response=qb.process(xml).response)
        )
        assert isinstance(answer, int)
        progress = answer
        yield progress
    assert service.call(qbwc.CloseConnection(ticket=ticket)) == "OK"
