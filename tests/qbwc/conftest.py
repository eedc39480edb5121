"""Shared pieces for the qbwc tests: a deterministic service and simple work sources."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from qbprocore import qbwc, qbxml


class Clock:
    """A manual clock (seconds since the epoch)."""

    def __init__(self, start: float = 1_767_632_400.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def counting_random() -> Callable[[int], bytes]:
    """Deterministic 'random' bytes: each call a different counter value."""
    counter = itertools.count(1)

    def random_bytes(n: int) -> bytes:
        return next(counter).to_bytes(n, "big")

    return random_bytes


class VendorReader:
    """Reads every vendor with an iterator, once per session; remembers what it saw."""

    def __init__(self, *, max_returned: int = 100, preparing: int = 0) -> None:
        self.max_returned = max_returned
        self.preparing = preparing  # how many times to answer Preparing() first
        self.names: list[str] = []
        self.received: list[qbwc.Received] = []
        self.sessions: list[qbwc.SessionInfo] = []
        self.sent: set[str] = set()
        self.finished: set[str] = set()

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        return session.session_id not in self.finished

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | qbwc.Preparing | None:
        self.sessions.append(session)
        if self.preparing:
            self.preparing -= 1
            return qbwc.Preparing()
        if session.session_id in self.sent:
            return None
        self.sent.add(session.session_id)
        return qbwc.WorkRequest(
            messages=[
                qbxml.VendorQueryRq(
                    request_id="vendors",
                    iterator=qbxml.Iterator.START,
                    max_returned=self.max_returned,
                )
            ]
        )

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        self.received.append(received)
        for rs in received.responses:
            self.names += [v.name for v in getattr(rs, "vendor_ret", [])]
        if not received.continuing:
            self.finished.add(session.session_id)


class Script:
    """A work source that hands out a fixed list of requests, one per round trip."""

    def __init__(self, *requests: qbwc.WorkRequest | qbwc.Preparing) -> None:
        self.todo = list(requests)
        self.received: list[qbwc.Received] = []

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        return bool(self.todo)

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | qbwc.Preparing | None:
        return self.todo.pop(0) if self.todo else None

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        self.received.append(received)


@pytest.fixture(scope="session")
def authenticator() -> qbwc.PasswordAuthenticator:
    # A low scrypt cost keeps the suite fast; the default cost is tested in test_auth.
    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_user("demo", "demo")
    auth.add_user("acme", "s3cret", company_file=r"C:\Books\Acme.QBW", tenant="acme")
    return auth


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_service(
    authenticator: qbwc.Authenticator,
    work: qbwc.WorkSource,
    clock: Clock,
    **options: object,
) -> qbwc.WebConnectorService:
    return qbwc.WebConnectorService(
        authenticator=authenticator,
        work=work,
        clock=clock,
        random_bytes=counting_random(),
        **options,  # type: ignore[arg-type]
    )


def check_a_session_can_move_its_lock(first: qbwc.SessionStore, second: qbwc.SessionStore) -> None:
    """The `SessionStore.create` contract for a live session that takes another lock key.

    ``first`` and ``second`` may be two handles on one database (two workers).
    """

    def snap(key: str, lock_key: str) -> qbwc.SessionSnapshot:
        return qbwc.SessionSnapshot(
            key=key,
            username="u",
            lock_key=lock_key,
            created_at=0,
            expires_at=10,
            hard_expires_at=100,
        )

    assert first.create(snap("1", "A"), now=0)
    assert first.create(snap("1", "A"), now=0)  # a session is not busy against itself
    assert second.create(snap("2", "B"), now=0)
    assert not first.create(snap("1", "B"), now=1)  # B is held by another live session
    assert second.load("1") == snap("1", "A")  # ... and "1" was left as it was
    assert first.create(snap("1", "C"), now=1)  # moved: replaced, not added
    assert second.load("1") == snap("1", "C")
    assert second.create(snap("3", "A"), now=2)  # A is free again
    assert not second.create(snap("4", "C"), now=2)
