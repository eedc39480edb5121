"""What a host plugs into a session: the work source and the values passed to and from it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import attrs

from qbprocore import qbxml
from qbprocore.qbwc._policy import StatusAction

__all__ = [
    "Exchange",
    "Preparing",
    "Received",
    "SessionInfo",
    "WorkRequest",
    "WorkSource",
]


@attrs.frozen(kw_only=True)
class SessionInfo:
    """What a work source may know about a session. It carries no ticket.

    Attributes:
        session_id: A stable, non-secret identifier of the session (a digest of the ticket),
            safe to log and to key per-session state on.
        username: The Web Connector user the session was authenticated as.
        tenant: The tenant the authenticator assigned (``None`` when there is one tenant).
        company_file: The company file the session is bound to (``""`` until the first
            ``sendRequestXML`` when the authenticator named none).
        qbxml_version: The negotiated qbXML version (``None`` before the first request).
        round_trips: Requests handed out so far in this session.
    """

    session_id: str
    username: str
    tenant: str | None = None
    company_file: str = ""
    qbxml_version: str | None = None
    round_trips: int = 0


@attrs.frozen(kw_only=True)
class WorkRequest:
    """The next qbXML request of a session: one document with one or more messages.

    Attributes:
        messages: The request messages, sent in this order. A message without ``request_id``
            gets one (``"<round trip>.<position>"``) so its response can be matched to it.
        on_error: ``"stopOnError"`` (default) or ``"continueOnError"``.
        progress: Optional percentage (0–99) to report while this request is worked on.
    """

    messages: Sequence[qbxml.QbxmlRequest]
    on_error: str = "stopOnError"
    progress: int | None = None


@attrs.frozen
class Preparing:
    """Returned by `WorkSource.next_request` while work is being prepared.

    The session answers ``sendRequestXML`` with ``""`` and the following ``getLastError`` with
    ``"NoOp"``, which makes the Web Connector wait about five seconds and ask again, instead of
    ending the session.
    """


@attrs.frozen(kw_only=True)
class Exchange:
    """A request and the response QuickBooks gave to it, matched by ``requestID``.

    Attributes:
        request: The request we sent (``None`` if QuickBooks answered an ID we never sent).
        response: QuickBooks' response (``None`` if it never ran the request, e.g. after an
            earlier error under ``stopOnError``).
        action: What the status policy says to do about the response.
    """

    request: qbxml.QbxmlRequest | None
    response: qbxml.QbxmlResponse | None
    action: StatusAction


@attrs.frozen(kw_only=True)
class Received:
    """One ``receiveResponseXML``, parsed and matched to the requests sent.

    Attributes:
        exchanges: Each request with its response, in request order (unmatched responses
            last).
        hresult: Set when QuickBooks itself failed (e.g. ``"0x80040400"``); then there are no
            responses.
        message: QuickBooks' message for ``hresult``.
        error: Set when the response could not be parsed (the text says why).
        continuing: The session will send an iterator ``Continue`` for part of this request
            next, before asking the work source for anything new.
        streamed: The response was too large to parse whole (see
            `SessionConfig.stream_threshold`): the responses in `exchanges` carry status,
            ``requestID`` and iterator attributes but no records; read those with
            `iter_records`, which works in both cases.
        xml: The raw response document (kept out of the repr).
    """

    exchanges: tuple[Exchange, ...] = ()
    hresult: str = ""
    message: str = ""
    error: str = ""
    continuing: bool = False
    streamed: bool = False
    xml: str = attrs.field(default="", repr=False)

    def iter_records(self) -> Iterator[qbxml.QbxmlModel]:
        """Every record (``VendorRet``, ``BillRet`` …) of the response, in document order.

        For a streamed response the records are parsed one at a time and never held together,
        so a work source that stages each record as it comes keeps memory flat.
        """
        if not self.streamed:
            for rs in self.responses:
                yield from rs.records
            return
        for item in qbxml.iterparse(self.xml.strip().encode("utf-8")):
            if not isinstance(item, qbxml.QbxmlResponse):
                yield item

    @property
    def responses(self) -> list[qbxml.QbxmlResponse]:
        """The responses, in order."""
        return [e.response for e in self.exchanges if e.response is not None]

    @property
    def ok(self) -> bool:
        """No hresult failure and no parse error."""
        return not self.hresult and not self.error


@runtime_checkable
class WorkSource(Protocol):
    """Supplies the requests of a session and takes in its responses.

    Implementations keep their own state, keyed by `SessionInfo.session_id` or by
    tenant/company file, in storage that every worker can reach: a session's calls may land on
    different processes.
    """

    def has_work(self, session: SessionInfo) -> bool:
        """Whether there is (or will shortly be) anything to do for this session.

        Asked at ``authenticate`` (``False`` answers ``"none"``) and after each response
        (``False`` makes it the last: progress 100).
        """

    def next_request(self, session: SessionInfo) -> WorkRequest | Preparing | None:
        """The next request, `Preparing` while work is being prepared, or ``None`` when done."""

    def receive(self, session: SessionInfo, received: Received) -> None:
        """Take in QuickBooks' answer to the last request (commit it before returning)."""
