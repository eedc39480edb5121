"""One Web Connector session, sans I/O: an event in, the answer out.

`Session` wraps a `SessionSnapshot`, applies one call to it and produces the answer and the
next snapshot. It never touches a socket, a clock or a random source: the time comes in as
``now`` and tickets are made by the caller. Which calls are legal and what may be answered is
decided by `qbprocore.qbwc._state`; this module only does the work in between (asking the
work source, building and parsing qbXML, matching responses to requests).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

import attrs

from qbprocore import qbxml
from qbprocore.qbwc._errors import LocalProtocolError
from qbprocore.qbwc._events import (
    ConnectionFailed,
    Event,
    GetInteractiveURL,
    GetLastError,
    InteractiveDone,
    InteractiveRejected,
    ReceiveResponseXML,
    SendRequestXML,
)
from qbprocore.qbwc._policy import ConnectionErrorPolicy, StatusPolicy
from qbprocore.qbwc._snapshot import SessionSnapshot, evolved
from qbprocore.qbwc._state import (
    Outcome,
    State,
    check_company_file,
    check_progress,
    transition,
)
from qbprocore.qbwc._work import (
    Exchange,
    Preparing,
    Received,
    SessionInfo,
    WorkRequest,
    WorkSource,
)

__all__ = ["NOOP", "Session", "SessionConfig"]

log = logging.getLogger("qbprocore.qbwc")


class _Matched(NamedTuple):
    """A response document matched to the requests it answers (see `Session._match`)."""

    exchanges: tuple[Exchange, ...]
    continue_xml: str  # the iterators' Continue document, "" when none goes on
    continue_ids: tuple[str, ...]  # its requestIDs (the same as the pages')
    fetched: int  # records the running iterators have fetched so far
    remaining: int  # records they say are left
    error: str  # why the response could not be read, "" when it could


NOOP = "NoOp"
"""What ``getLastError`` answers while work is being prepared (the Web Connector pauses)."""


@attrs.frozen(kw_only=True)
class SessionConfig:
    """Per-service settings that shape each session's answers.

    Attributes:
        status_policy: The action for each qbXML status code (handed to the work source).
        connection_error_policy: What to answer ``connectionError``.
        idle_timeout: Seconds a ticket lives without a call. QuickBooks can spend minutes on
            a large request, so keep this generous.
        max_session_age: Seconds a ticket lives at most, however busy.
        close_message: What ``closeConnection`` answers (shown to the user).
        interactive_url: What ``getInteractiveURL`` answers (``""``: no interactive mode).
        fallback_version: qbXML version to speak when the first call carries no usable host
            information.
        stream_threshold: Responses longer than this many characters are not parsed whole:
            their messages carry no records, which the work source reads one at a time with
            `Received.iter_records` (memory stays a small multiple of the payload).
    """

    status_policy: StatusPolicy = attrs.field(factory=StatusPolicy)
    connection_error_policy: ConnectionErrorPolicy = attrs.field(factory=ConnectionErrorPolicy)
    idle_timeout: float = 30 * 60
    max_session_age: float = 12 * 60 * 60
    close_message: str = "OK"
    interactive_url: str = ""
    fallback_version: str = qbxml.DEFAULT_VERSION
    stream_threshold: int = 8 * 1024 * 1024


def _negotiate(event: SendRequestXML, fallback: str) -> tuple[str, str]:
    """The qbXML version to speak, from the first call's HCP response, and a note if degraded.

    QuickBooks lists every version it speaks in HostRet/SupportedQBXMLVersion; the highest one
    we share wins. Without a usable HostQueryRs, the qbXMLMajorVers/MinorVers parameters (the
    highest version QuickBooks supports) are used when we speak them, else the fallback.
    """
    note = ""
    if event.hcp_response.strip():
        try:
            doc = qbxml.loads(event.hcp_response.strip())
            host = next(r for r in doc.responses if isinstance(r, qbxml.HostQueryRs))
            return qbxml.negotiate_version(host), ""
        except (qbxml.QbxmlError, StopIteration) as exc:
            note = f"the host information could not be used ({type(exc).__name__})"
    offered = f"{event.major_version}.{event.minor_version}"
    if offered in qbxml.SUPPORTED_VERSIONS:
        return offered, note
    return fallback, note


class Session:
    """A session restored from its snapshot, ready to take one call.

    Args:
        snapshot: The session's stored state.
        work: The host's work source.
        config: Service-wide settings.
    """

    def __init__(
        self, snapshot: SessionSnapshot, *, work: WorkSource, config: SessionConfig
    ) -> None:
        self._snap = snapshot
        self._work = work
        self._config = config

    def __repr__(self) -> str:
        return f"Session(id={self._snap.key[:12]}, state={self._snap.state.value})"

    @property
    def snapshot(self) -> SessionSnapshot:
        """The session's state after the calls handled so far."""
        return self._snap

    @property
    def state(self) -> State:
        """The current protocol state."""
        return self._snap.state

    @property
    def info(self) -> SessionInfo:
        """What the work source sees of this session."""
        s = self._snap
        return SessionInfo(
            session_id=s.key[:32],
            username=s.username,
            tenant=s.tenant,
            company_file=s.company_file,
            qbxml_version=s.qbxml_version,
            round_trips=s.round_trips,
        )

    def _move(self, operation: str, outcome: Outcome, now: float, **changes: Any) -> None:
        state = transition(self._snap.state, operation, outcome)
        expires = min(now + self._config.idle_timeout, self._snap.hard_expires_at)
        self._snap = evolved(self._snap, state=state, expires_at=expires, **changes)

    def end(self, reason: str) -> None:
        """End the session after a protocol error: DONE, with ``reason`` for getLastError."""
        self._snap = evolved(
            self._snap, state=State.DONE, last_error=reason, pending_xml="", continue_xml=""
        )

    def handle(self, event: Event, *, now: float) -> str | int:
        """Apply one ticketed call and return its answer.

        Raises:
            RemoteProtocolError: the call is not allowed in the session's state.
            LocalProtocolError: the work source asked for an answer the protocol forbids.
        """
        if isinstance(event, SendRequestXML):
            return self._send(event, now)
        if isinstance(event, ReceiveResponseXML):
            return self._receive(event, now)
        if isinstance(event, GetLastError):
            # "NoOp" only while paused: anywhere else it would stall the Web Connector.
            answer = NOOP if self._snap.state is State.PAUSED else self._snap.last_error
            self._move(event.operation, Outcome.ANSWERED, now)
            return answer
        if isinstance(event, ConnectionFailed):
            return self._connection_failed(event, now)
        if isinstance(event, GetInteractiveURL):
            self._move(event.operation, Outcome.ANSWERED, now)
            return self._config.interactive_url
        if isinstance(event, InteractiveDone):
            self._move(event.operation, Outcome.ANSWERED, now)
            return "Done"
        if isinstance(event, InteractiveRejected):
            self._move(event.operation, Outcome.ANSWERED, now)
            return ""
        # closeConnection, and anything the table does not list (raises there).
        self._move(event.operation, Outcome.CLOSED, now)
        return self._config.close_message

    # -- sendRequestXML --------------------------------------------------------------------

    def _send(self, event: SendRequestXML, now: float) -> str:
        op = event.operation
        transition(self._snap.state, op, Outcome.REQUEST)  # legality first, before any work
        bound = check_company_file(self._snap.company_file, event.company_file)
        version = self._snap.qbxml_version
        if version is None:
            version, note = _negotiate(event, self._config.fallback_version)
            if note:
                log.warning("session %s: %s; speaking qbXML %s", self._snap.key[:12], note, version)
        if bound != self._snap.company_file or version != self._snap.qbxml_version:
            self._snap = evolved(self._snap, company_file=bound, qbxml_version=version)
        if self._snap.continue_xml:
            # An iterator is running: its Continue goes out before anything new, with the same
            # requestID, in this session (iterators die with the session). Its requestIDs were
            # recorded in pending_ids when the page that asked for it arrived.
            xml = self._snap.continue_xml
            self._move(
                op,
                Outcome.REQUEST,
                now,
                pending_xml=xml,
                continue_xml="",
                round_trips=self._snap.round_trips + 1,
                last_error="",
            )
            return xml
        nxt = self._work.next_request(self.info)
        if nxt is None:
            self._move(op, Outcome.NO_WORK, now, pending_xml="", pending_ids=())
            return ""
        if isinstance(nxt, Preparing):
            self._move(op, Outcome.NOOP, now)
            return ""
        if not isinstance(nxt, WorkRequest):
            raise LocalProtocolError(
                f"the work source returned {type(nxt).__name__}, not a WorkRequest,"
                " Preparing() or None",
                operation=op,
            )
        messages, ids = self._number(nxt.messages)
        try:
            xml = qbxml.dumps(*messages, version=version, on_error=nxt.on_error).decode("ascii")
        except qbxml.QbxmlError as exc:
            # Never send QuickBooks a document we know is wrong (it would fail the whole
            # request with 0x80040400); the session ends and getLastError says why.
            raise LocalProtocolError(
                f"the work source's request is not valid qbXML {version}: {exc}", operation=op
            ) from exc
        progress = self._snap.progress
        if nxt.progress is not None:
            progress = max(0, min(99, nxt.progress))
        self._move(
            op,
            Outcome.REQUEST,
            now,
            pending_xml=xml,
            pending_ids=ids,
            iterator_fetched=0,
            round_trips=self._snap.round_trips + 1,
            progress=progress,
            last_error="",
        )
        return xml

    def _number(
        self, messages: Sequence[qbxml.QbxmlRequest]
    ) -> tuple[list[qbxml.QbxmlRequest], tuple[str, ...]]:
        if not messages:
            raise LocalProtocolError("a WorkRequest needs at least one message")
        out: list[qbxml.QbxmlRequest] = []
        for position, given in enumerate(messages, 1):
            if not isinstance(given, qbxml.QbxmlRequest):
                raise LocalProtocolError(
                    f"a WorkRequest holds qbXML requests, not {type(given).__name__}"
                )
            message = given
            if message.request_id is None:
                # requestID is how a response finds its request; never leave it out.
                message = attrs.evolve(  # type: ignore[misc]
                    message, request_id=f"{self._snap.round_trips + 1}.{position}"
                )
            out.append(message)
        ids = tuple(str(m.request_id) for m in out)
        if len(set(ids)) != len(ids):
            raise LocalProtocolError(f"requestIDs repeat within one request: {list(ids)}")
        return out, ids

    # -- receiveResponseXML ----------------------------------------------------------------

    def _receive(self, event: ReceiveResponseXML, now: float) -> int:
        op = event.operation
        transition(self._snap.state, op, Outcome.MORE)  # legality first
        info = self.info
        requests = self._pending_requests()
        if event.hresult.strip() or (not event.response.strip() and event.message.strip()):
            # QuickBooks itself failed; the only case where a negative answer is right.
            received = Received(
                exchanges=tuple(
                    Exchange(
                        request=r, response=None, action=self._config.status_policy.action(None)
                    )
                    for r in requests
                ),
                hresult=event.hresult,
                message=event.message,
            )
            self._work.receive(info, received)
            value = check_progress(-1, done=False, hresult=True)
            error = f"QuickBooks error {event.hresult or '(no code)'}: {event.message}".strip()
            self._move(op, Outcome.HRESULT, now, pending_xml="", last_error=error)
            return value
        streamed = len(event.response) > self._config.stream_threshold
        m = self._match(event.response, requests, streamed=streamed)
        received = Received(
            exchanges=m.exchanges,
            error=m.error,
            continuing=bool(m.continue_xml),
            streamed=streamed and not m.error,
            xml=event.response,
        )
        self._work.receive(info, received)
        done = not m.continue_xml and not self._work.has_work(info)
        if done:
            progress = 100
        elif m.continue_xml and m.fetched + m.remaining:
            progress = min(99, (100 * m.fetched) // (m.fetched + m.remaining))
        else:
            progress = min(99, self._snap.progress)
        check_progress(progress, done=done, hresult=False)
        self._move(
            op,
            Outcome.COMPLETE if done else Outcome.MORE,
            now,
            pending_xml="",
            continue_xml=m.continue_xml,
            # Same requestIDs on purpose: that is how the caller recognises the pages.
            pending_ids=m.continue_ids if m.continue_xml else self._snap.pending_ids,
            iterator_fetched=m.fetched if m.continue_xml else 0,
            progress=progress,
            last_error=m.error,
        )
        return progress

    def _pending_requests(self) -> tuple[qbxml.QbxmlRequest, ...]:
        return sent_requests(self._snap.pending_xml) if self._snap.pending_xml else ()

    def _match(
        self, response_xml: str, requests: Sequence[qbxml.QbxmlRequest], *, streamed: bool
    ) -> _Matched:
        policy = self._config.status_policy
        try:
            if streamed:
                # A large response is read twice, never held whole: here only its messages
                # (status, requestID, iterator), with their records skipped in flat memory;
                # the work source streams the records with Received.iter_records().
                source = response_xml.strip().encode("utf-8")
                responses = [
                    m
                    for m in qbxml.iterparse(source, records=())
                    if isinstance(m, qbxml.QbxmlResponse)
                ]
                del source
            else:
                responses = qbxml.loads(response_xml.strip()).responses
        except qbxml.QbxmlError as exc:
            log.warning("session %s: unreadable response: %s", self._snap.key[:12], exc)
            unread = tuple(
                Exchange(request=r, response=None, action=policy.action(None)) for r in requests
            )
            return _Matched(unread, "", (), 0, 0, f"the response could not be read: {exc}")
        by_id = {str(r.request_id): r for r in requests}
        answered: dict[str, qbxml.QbxmlResponse] = {}
        stray: list[Exchange] = []
        for rs in responses:
            rid = str(rs.request_id) if rs.request_id is not None else ""
            if rid in by_id and rid not in answered:
                answered[rid] = rs
            else:
                stray.append(Exchange(request=None, response=rs, action=policy.action(rs)))
        exchanges: list[Exchange] = []
        continues: list[tuple[int, str]] = []  # (position in requests, iteratorID)
        fetched = self._snap.iterator_fetched
        remaining = 0
        for position, rq in enumerate(requests):
            found = answered.get(str(rq.request_id))
            exchanges.append(Exchange(request=rq, response=found, action=policy.action(found)))
            iterator = getattr(rq, "iterator", None)
            if found is None or iterator is None or not found.ok:
                continue
            left = getattr(found, "iterator_remaining_count", None) or 0
            iterator_id = getattr(found, "iterator_id", None)
            fetched += len(found.records)
            if left > 0 and iterator_id:
                remaining += left
                continues.append((position, iterator_id))
        continue_xml = ""
        continue_ids: tuple[str, ...] = ()
        if continues:
            continue_xml = continue_document(
                self._snap.pending_xml, self._snap.qbxml_version, tuple(continues)
            )
            continue_ids = tuple(str(requests[i].request_id) for i, _ in continues)
        return _Matched(
            tuple(exchanges + stray), continue_xml, continue_ids, fetched, remaining, ""
        )

    # -- connectionError -------------------------------------------------------------------

    def _connection_failed(self, event: ConnectionFailed, now: float) -> str:
        op = event.operation
        transition(self._snap.state, op, Outcome.GIVE_UP)  # legality first
        attempt = self._snap.connection_errors + 1
        answer = self._config.connection_error_policy.answer(
            attempt=attempt, hresult=event.hresult, message=event.message
        )
        error = f"QuickBooks could not be opened ({event.hresult}): {event.message}"
        if answer and answer != "done":
            # Retrying another file: the ticket is re-bound to it.
            self._move(
                op,
                Outcome.RETRY,
                now,
                connection_errors=attempt,
                company_file=answer,
                last_error=error,
            )
            return answer
        self._move(op, Outcome.GIVE_UP, now, connection_errors=attempt, last_error=error)
        return "done"


# -- the documents a session sends, read once per process ----------------------------------
#
# Each page of an iterator costs the session two pieces of qbXML work besides reading the
# page: reading back the request it sent (to match the answer to it) and writing the next
# Continue document. Both depend only on the text of the request sent, and from the second
# page on that text is the previous Continue document, so for a long read they are the same
# work every time. Requests are immutable records, so what was read once can be handed to
# every session that sent the same text; documents longer than _MEMO_CHARS (large batches of
# Adds, never repeated) are not kept.

_MEMO_CHARS = 16 * 1024
_MEMO_SIZE = 256


def sent_requests(xml: str) -> tuple[qbxml.QbxmlRequest, ...]:
    """The requests of a qbXML request document a session sent, in order."""
    read = _read_requests_memo if len(xml) <= _MEMO_CHARS else _read_requests
    return read(xml)


def continue_document(
    sent: str, version: str | None, iterators: tuple[tuple[int, str], ...]
) -> str:
    """The document that asks for the next page of each running iterator of ``sent``.

    Args:
        sent: The request document whose answer said more records remain.
        version: The session's qbXML version.
        iterators: ``(position of the request in sent, iteratorID)`` for each iterator to
            continue. Each Continue keeps its request's ``requestID``.
    """
    write = _write_continue_memo if len(sent) <= _MEMO_CHARS else _write_continue
    return write(sent, version, iterators)


def _read_requests(xml: str) -> tuple[qbxml.QbxmlRequest, ...]:
    return tuple(qbxml.loads(xml).requests)


def _write_continue(sent: str, version: str | None, iterators: tuple[tuple[int, str], ...]) -> str:
    requests = sent_requests(sent)
    continues = [
        attrs.evolve(  # type: ignore[misc]
            requests[position], iterator=qbxml.Iterator.CONTINUE, iterator_id=iterator_id
        )
        for position, iterator_id in iterators
    ]
    return qbxml.dumps(*continues, version=version).decode("ascii")


_read_requests_memo = functools.lru_cache(maxsize=_MEMO_SIZE)(_read_requests)
_write_continue_memo = functools.lru_cache(maxsize=_MEMO_SIZE)(_write_continue)
