"""The endpoint: codec + authenticator + session store + work source, without a web server.

`WebConnectorService` is what the WSGI/ASGI adapters (and any other host) call with a request
body. For each call it decodes the envelope, loads the session's snapshot from the store,
lets a `Session` answer, saves the new snapshot, and encodes the answer. Nothing is kept in
process memory between calls, so any worker can serve any call.

Time and randomness are parameters (``clock``, ``random_bytes``), so tests and the fakes run
deterministically.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable

import attrs

from qbprocore.qbwc._auth import Account, Authenticator
from qbprocore.qbwc._errors import LocalProtocolError, ProtocolError, SoapFaultError
from qbprocore.qbwc._events import (
    Authenticate,
    ClientVersion,
    Event,
    SendRequestXML,
    ServerVersion,
)
from qbprocore.qbwc._policy import ClientVersionPolicy
from qbprocore.qbwc._session import Session, SessionConfig
from qbprocore.qbwc._snapshot import SessionSnapshot, evolved
from qbprocore.qbwc._soap import decode_call, encode_fault, encode_result, operation_from_action
from qbprocore.qbwc._state import (
    END_OF_SESSION,
    Outcome,
    State,
    is_expired,
    normalize_path,
    transition,
)
from qbprocore.qbwc._stores import MemorySessionStore, SessionStore
from qbprocore.qbwc._work import SessionInfo, WorkSource
from qbprocore.qbwc._wsdl import wsdl

__all__ = ["SoapResponse", "WebConnectorService", "ticket_key"]

log = logging.getLogger("qbprocore.qbwc")

TICKET_BYTES = 32
"""Random bytes per ticket (256 bits; the protocol needs at least 128)."""


def ticket_key(ticket: str) -> str:
    """The store key of a ticket: its SHA-256 digest in hex (tickets are never stored)."""
    return _ticket_digest(ticket)


@functools.lru_cache(maxsize=256)
def _ticket_digest(ticket: str) -> str:
    # Every call of a session hashes the same ticket, and OpenSSL's SHA-256 costs tens of
    # microseconds when its code and tables have left the CPU's caches between two calls (as
    # they do on a busy server): the digests of the last tickets seen are kept. A pure function
    # of the ticket, so every worker still finds the same key; the tickets kept are ones this
    # process was just sent, and go nowhere else.
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


def _lock_key(tenant: str | None, username: str, company_file: str) -> str:
    r"""What a live session holds exclusively: its tenant's company file.

    Paths are compared as Windows compares them (``C:\Books\A.QBW`` = ``c:/books/a.qbw``).
    Until a session knows its file (the authenticator named none, so it is the one open in
    QuickBooks, known from the first ``sendRequestXML``), it holds its user's slot instead,
    so the same user cannot start two sessions, and takes the file's lock once it is known.
    """
    if company_file:
        return f"{tenant or ''}\x00file\x00{normalize_path(company_file)}"
    return f"{tenant or ''}\x00user\x00{username}"


@attrs.frozen
class SoapResponse:
    """An HTTP answer from the service: status code, body and content type."""

    status: int
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    content_type: str = "text/xml; charset=utf-8"


class WebConnectorService:
    """A Web Connector endpoint that any web framework can host.

    Args:
        authenticator: Checks credentials and names each user's company file and tenant.
        work: Supplies requests and takes in responses.
        store: Where sessions live between calls (default: in memory — use
            `SQLiteSessionStore` or your own store for more than one process).
        config: Session settings (timeouts, status and connectionError policies …).
        client_version_policy: Which Web Connector versions to refuse or warn about.
        server_version: What ``serverVersion`` answers.
        no_work_wait: Seconds to ask the Web Connector to wait when ``authenticate`` answers
            ``"none"`` or ``"busy"`` (``None``: leave it to its schedule).
        min_run_every: Seconds of the minimum ``RunEveryNSeconds`` to impose (4th element of
            the ``authenticate`` answer; ``None``: not sent).
        clock: Seconds since the epoch (``time.time`` by default).
        random_bytes: Source of ticket randomness (``secrets.token_bytes`` by default).

    Examples:
        >>> from qbprocore import qbwc
        >>> service = qbwc.WebConnectorService(
        ...     authenticator=qbwc.PasswordAuthenticator(n=2**10), work=my_work_source
        ... )  # doctest: +SKIP
        >>> service.handle(soap_body).body  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        work: WorkSource,
        store: SessionStore | None = None,
        config: SessionConfig | None = None,
        client_version_policy: ClientVersionPolicy | None = None,
        server_version: str = "qbprocore",
        no_work_wait: int | None = None,
        min_run_every: int | None = None,
        clock: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self.authenticator = authenticator
        self.work = work
        self.store: SessionStore = store if store is not None else MemorySessionStore()
        self.config = config or SessionConfig()
        self.client_version_policy = client_version_policy or ClientVersionPolicy()
        self.server_version = server_version
        self.no_work_wait = no_work_wait
        self.min_run_every = min_run_every
        self.clock = clock
        self.random_bytes = random_bytes

    def __repr__(self) -> str:
        return f"WebConnectorService(store={self.store!r})"

    # -- HTTP-level entry points ------------------------------------------------------------

    def handle(self, body: bytes, *, soap_action: str | None = None) -> SoapResponse:
        """Answer one SOAP request body.

        Args:
            body: The HTTP request body.
            soap_action: The ``SOAPAction`` header, if any. It is only cross-checked: the body
                decides the operation, and a mismatch is logged, not refused (clients quote and
                spell it inconsistently).

        Returns:
            ``200`` with the answer, or ``500`` with a SOAP fault for a malformed envelope.
        """
        try:
            event = decode_call(body)
        except SoapFaultError as exc:
            log.info("refused a malformed SOAP request: %s", exc)
            return SoapResponse(500, encode_fault(exc))
        named = operation_from_action(soap_action)
        if named is not None and named != event.operation:
            log.info("SOAPAction names %s but the body calls %s", named, event.operation)
        return SoapResponse(200, encode_result(event.operation, self.call(event)))

    def wsdl(self, address: str) -> bytes:
        """The service's WSDL with ``address`` (the endpoint's URL) filled in."""
        return wsdl(address)

    # -- typed entry point ------------------------------------------------------------------

    def call(self, event: Event) -> str | int | list[str]:
        """Answer one decoded call (what `handle` does after decoding).

        Returns:
            A list of strings for ``authenticate``, an integer for ``receiveResponseXML``, a
            string otherwise.
        """
        if isinstance(event, ServerVersion):
            return self.server_version
        if isinstance(event, ClientVersion):
            return self.client_version_policy.answer(event.version)
        if isinstance(event, Authenticate):
            return self._authenticate(event)
        return self._ticketed(event)

    def _new_ticket(self) -> str:
        raw = self.random_bytes(TICKET_BYTES)
        if len(raw) < 16:
            raise LocalProtocolError("tickets need at least 128 random bits")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def _authenticate(self, event: Authenticate) -> list[str]:
        ticket = self._new_ticket()
        account = self.authenticator.authenticate(event.username, event.password)
        if account is None:
            # The ticket is not stored: every later call with it gets a clean end of session.
            transition(State.NEW, event.operation, Outcome.REJECTED)
            log.info("authenticate: not a valid user")
            return [ticket, "nvu"]
        now = self.clock()
        snapshot = self._snapshot(ticket, account, now)
        info = SessionInfo(
            session_id=snapshot.key[:32],
            username=account.username,
            tenant=account.tenant,
            company_file=account.company_file,
        )
        if not self.work.has_work(info):
            transition(State.NEW, event.operation, Outcome.NO_WORK)
            return self._wait_answer(ticket, "none")
        if not self.store.create(snapshot, now=now):
            transition(State.NEW, event.operation, Outcome.BUSY)
            return self._wait_answer(ticket, "busy")
        transition(State.NEW, event.operation, Outcome.ACCEPTED)
        answer = [ticket, account.company_file]
        if self.min_run_every is not None:
            answer += ["", str(self.min_run_every)]
        return answer

    def _wait_answer(self, ticket: str, status: str) -> list[str]:
        # Lower case matters: "NONE" is not understood (a peer's bug).
        answer = [ticket, status]
        if self.no_work_wait is not None or self.min_run_every is not None:
            answer.append("" if self.no_work_wait is None else str(self.no_work_wait))
        if self.min_run_every is not None:
            answer.append(str(self.min_run_every))
        return answer

    def _snapshot(self, ticket: str, account: Account, now: float) -> SessionSnapshot:
        return SessionSnapshot(
            key=ticket_key(ticket),
            username=account.username,
            tenant=account.tenant,
            lock_key=_lock_key(account.tenant, account.username, account.company_file),
            company_file=account.company_file,
            state=transition(State.NEW, "authenticate", Outcome.ACCEPTED),
            created_at=now,
            expires_at=now + self.config.idle_timeout,
            hard_expires_at=now + self.config.max_session_age,
        )

    def _ticketed(self, event: Event) -> str | int:
        op = event.operation
        key = ticket_key(event.session_ticket)
        snapshot = self.store.load(key) if event.session_ticket else None
        now = self.clock()
        if snapshot is None:
            log.info("%s with an unknown ticket: ending the session cleanly", op)
            return END_OF_SESSION[op]
        if is_expired(now, expires_at=min(snapshot.expires_at, snapshot.hard_expires_at)):
            log.info("%s with an expired ticket: ending the session cleanly", op)
            self.store.delete(key)
            return END_OF_SESSION[op]
        if (
            isinstance(event, SendRequestXML)
            and snapshot.live
            and not snapshot.company_file
            and event.company_file
        ):
            # The first send names the file the session was opened on: take that file's lock
            # before the work source is asked for anything.
            relocked = self._relock(snapshot, event.company_file, now)
            if relocked is None:
                return END_OF_SESSION[op]
            snapshot = relocked
        session = Session(snapshot, work=self.work, config=self.config)
        try:
            answer = session.handle(event, now=now)
        except ProtocolError as exc:
            # Out-of-order calls and answers we may not give end the session cleanly: a SOAP
            # fault (or an HTTP 500) would make the Web Connector repeat the call forever.
            log.warning("session %s: %s", key[:12], exc)
            session.end(str(exc))
            self.store.save(session.snapshot)
            return END_OF_SESSION[op]
        except Exception:
            # The host's work source failed. Same reasoning: end cleanly, keep the details in
            # our logs (they may hold data the Web Connector's user should not see). What the
            # work source did not commit is asked for again in the next session.
            log.exception("session %s: the work source failed during %s", key[:12], op)
            session.end("The connector hit an internal error; the next scheduled update retries.")
            self.store.save(session.snapshot)
            return END_OF_SESSION[op]
        if session.state is State.CLOSED:
            self.store.delete(key)
            return answer
        moved = session.snapshot
        if moved.live and moved.company_file != snapshot.company_file:
            # connectionError moved the session to another company file: it needs that lock.
            if self._relock(moved, moved.company_file, now) is None:
                return END_OF_SESSION[op]
            return answer
        self.store.save(moved)
        return answer

    def _relock(
        self, snapshot: SessionSnapshot, company_file: str, now: float
    ) -> SessionSnapshot | None:
        """``snapshot`` holding ``company_file``'s lock and stored, or ``None`` (session ended).

        Another live session holding that file ends this one cleanly, with getLastError
        saying why, as ``"busy"`` would have at ``authenticate`` had the file been known.
        """
        lock = _lock_key(snapshot.tenant, snapshot.username, company_file)
        if lock == snapshot.lock_key:
            self.store.save(snapshot)
            return snapshot
        moved = evolved(snapshot, lock_key=lock)
        if self.store.create(moved, now=now):
            return moved
        log.info("session %s: company file in use by another session", snapshot.key[:12])
        ended = Session(snapshot, work=self.work, config=self.config)
        ended.end(
            "Another session is updating this company file; the next scheduled update tries again."
        )
        self.store.save(ended.snapshot)
        return None
