"""`FakeWebConnector`: drives a Web Connector endpoint the way QBWC does, without Windows.

It speaks SOAP to the endpoint (in-process, through a WSGI or ASGI app, or over HTTP to a
URL) and hands each request to a `FakeQuickBooks`. The call order is the real one:

1. ``serverVersion``, ``clientVersion`` (``E:`` stops; ``W:`` is accepted as a user would);
2. ``authenticate`` (``nvu``, ``none`` and ``busy`` end the update);
3. opening the company file — on failure ``connectionError``, retried with the path it answers
   until it says ``done``;
4. ``sendRequestXML`` (the HCP response on the first call only) and ``receiveResponseXML``,
   repeated; an empty request is followed by ``getLastError`` (``NoOp`` pauses and asks again,
   anything else ends the update), a negative progress by ``getLastError``;
5. ``closeConnection``.

Every call is recorded in a transcript with secrets redacted. A round-trip cap stops a session
that never ends (a runaway iterator, 100 never returned) with `RoundTripLimitError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import attrs
import httpx
from lxml import etree

from qbprocore import qbwc
from qbprocore.qbwc import RoundTripLimitError
from qbprocore.testing._fake_quickbooks import FakeQuickBooks

__all__ = ["FakeWebConnector", "TranscriptEntry", "UpdateResult"]

_SECRET_PARAMS = frozenset({"strPassword", "ticket", "wcTicket"})
_BULK_PARAMS = frozenset({"strHCPResponse", "response"})


@attrs.frozen
class TranscriptEntry:
    """One call of an update, as the endpoint saw it (passwords and tickets redacted).

    Attributes:
        operation: The SOAP operation.
        arguments: Parameter values; secrets are ``"***"`` and qbXML documents are shown as
            ``"<N characters>"``.
        result: The answer (a list for ``authenticate``, an ``int`` for
            ``receiveResponseXML``); the ticket in ``authenticate``'s answer is ``"***"``.
        http_status: The HTTP status of the answer.
    """

    operation: str
    arguments: dict[str, str]
    result: object
    http_status: int = 200


@attrs.frozen
class UpdateResult:
    """The outcome of one `FakeWebConnector.update`.

    Attributes:
        transcript: Every call, in order.
        progress: Every ``receiveResponseXML`` answer, in order.
        requests: Every qbXML request document the endpoint sent.
        status: How the update ended: ``"done"`` (closed normally), ``"error"`` (closed after
            an error), ``"refused"`` (``E:`` from clientVersion), ``"nvu"``, ``"none"`` or
            ``"busy"`` (from authenticate), or ``"fault"`` (a SOAP fault or HTTP error).
        last_error: The last ``getLastError`` text that was not ``NoOp``.
        close_message: What ``closeConnection`` answered.
        pauses: How many NoOp pauses there were.
    """

    transcript: list[TranscriptEntry]
    progress: list[int]
    requests: list[str] = attrs.field(repr=lambda r: f"<{len(r)} requests>")
    status: str
    last_error: str = ""
    close_message: str = ""
    pauses: int = 0

    @property
    def operations(self) -> list[str]:
        """The operations called, in order."""
        return [e.operation for e in self.transcript]


class _Caller:
    """Posts SOAP bodies over one of the supported transports."""

    def __init__(
        self,
        *,
        service: qbwc.WebConnectorService | None,
        wsgi_app: Any,
        asgi_app: Any,
        url: str | None,
        path: str,
    ) -> None:
        given = [x is not None for x in (service, wsgi_app, asgi_app, url)]
        if sum(given) != 1:
            raise ValueError("give exactly one of service=, wsgi_app=, asgi_app= or url=")
        self.service = service
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None
        if wsgi_app is not None:
            self._client = httpx.Client(
                transport=httpx.WSGITransport(app=wsgi_app), base_url="http://testserver"
            )
            self.url = path
        elif asgi_app is not None:
            self._loop = asyncio.new_event_loop()
            self._async = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=asgi_app), base_url="http://testserver"
            )
            self.url = path
        elif url is not None:
            self._client = httpx.Client(timeout=60)
            self.url = url

    def post(self, body: bytes, action: str) -> tuple[int, bytes]:
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            # QBWC quotes the action, as SOAP 1.1 says.
            "SOAPAction": f'"{qbwc.INTUIT_NS}{action}"',
        }
        if self.service is not None:
            answer = self.service.handle(body, soap_action=headers["SOAPAction"])
            return answer.status, answer.body
        if self._client is not None:
            r = self._client.post(self.url, content=body, headers=headers)
            return r.status_code, r.content
        assert self._async is not None
        assert self._loop is not None
        client = self._async
        coro = client.post(self.url, content=body, headers=headers)
        r = self._loop.run_until_complete(coro)
        return r.status_code, r.content

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._async is not None and self._loop is not None:
            self._loop.run_until_complete(self._async.aclose())
            self._loop.close()


def _request_body(operation: str, params: dict[str, str]) -> bytes:
    soap = qbwc.SOAP_ENV_NS
    env = etree.Element(f"{{{soap}}}Envelope", nsmap={"soap": soap})
    body = etree.SubElement(env, f"{{{soap}}}Body")
    nsmap = {None: qbwc.INTUIT_NS}  # the default namespace, as QBWC writes it
    call = etree.SubElement(
        body,
        f"{{{qbwc.INTUIT_NS}}}{operation}",
        nsmap=nsmap,  # type: ignore[arg-type]  # lxml-stubs types nsmap keys as str
    )
    for name, value in params.items():
        etree.SubElement(call, f"{{{qbwc.INTUIT_NS}}}{name}").text = value
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def _read_result(operation: str, body: bytes) -> object:
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, huge_tree=True))
    result = root.find(f".//{{{qbwc.INTUIT_NS}}}{operation}Result")
    if result is None:
        fault = root.find(f".//{{{qbwc.SOAP_ENV_NS}}}Fault")
        if fault is not None:
            return ("fault", fault.findtext("faultstring") or "")
        raise AssertionError(f"no {operation}Result in the answer")
    cls = qbwc.OPERATIONS[operation]
    if cls.result == "array":
        return [s.text or "" for s in result]
    if cls.result == "int":
        return int((result.text or "").strip())
    return result.text or ""


def _shown(name: str, value: str) -> str:
    if name in _SECRET_PARAMS and value:
        return "***"
    if name in _BULK_PARAMS:
        return f"<{len(value)} characters>"
    return value


class _Fault(Exception):  # noqa: N818 - internal control flow, never escapes update()
    pass


class FakeWebConnector:
    """A scriptable QuickBooks Web Connector.

    Give exactly one target: ``service=`` (in-process, through the SOAP codec), ``wsgi_app=``
    or ``asgi_app=`` (through httpx's WSGI/ASGI transports, at ``path``) or ``url=`` (real HTTP).

    Args:
        username: Sent to ``authenticate`` (the `.qwc` UserName).
        password: Sent to ``authenticate``; never recorded.
        version: The Web Connector version sent to ``clientVersion``.
        max_round_trips: Cap on sendRequestXML calls per update.
        sleep: Called with the pause in seconds after a ``NoOp`` (default: no real waiting).
        path: Where the app is mounted, for ``wsgi_app``/``asgi_app``.

    Examples:
        >>> from qbprocore.testing import FakeQuickBooks
        >>> wc = FakeWebConnector(
        ...     service=my_service, username="demo", password="demo"
        ... )  # doctest: +SKIP
        >>> result = wc.update(FakeQuickBooks())  # doctest: +SKIP
        >>> result.operations[:3]  # doctest: +SKIP
        ['serverVersion', 'clientVersion', 'authenticate']
    """

    def __init__(
        self,
        *,
        username: str,
        password: str,
        service: qbwc.WebConnectorService | None = None,
        wsgi_app: Any = None,
        asgi_app: Any = None,
        url: str | None = None,
        path: str = "/qbwc",
        version: str = "2.3.0.36",
        max_round_trips: int = 1000,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.username = username
        self._password = password
        self.version = version
        self.max_round_trips = max_round_trips
        self._sleep = sleep or (lambda _seconds: None)
        self._caller = _Caller(
            service=service, wsgi_app=wsgi_app, asgi_app=asgi_app, url=url, path=path
        )
        self._transcript: list[TranscriptEntry] = []

    def __repr__(self) -> str:
        return f"FakeWebConnector(username={self.username!r}, version={self.version!r})"

    def close(self) -> None:
        """Close the HTTP client (if any)."""
        self._caller.close()

    def __enter__(self) -> FakeWebConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, operation: str, **params: str) -> object:
        """Make one call by hand (for tests of single calls) and return the decoded answer.

        A SOAP fault, or an HTTP error without a SOAP body, comes back as
        ``("fault", text)``.
        """
        status, body = self._caller.post(_request_body(operation, params), operation)
        try:
            result = _read_result(operation, body)
        except etree.XMLSyntaxError:
            result = ("fault", f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
        shown: object = result
        if operation == "authenticate" and isinstance(result, list) and result:
            shown = ["***", *result[1:]]
        shown_args = {k: _shown(k, v) for k, v in params.items()}
        self._transcript.append(TranscriptEntry(operation, shown_args, shown, status))
        return result

    def _ask(self, operation: str, **params: str) -> object:
        result = self.call(operation, **params)
        if isinstance(result, tuple):
            # The real Web Connector shows the fault and gives up on this update.
            raise _Fault(str(result[1]))
        return result

    def update(self, quickbooks: FakeQuickBooks) -> UpdateResult:
        """Run one scheduled update against ``quickbooks`` and return what happened.

        A SOAP fault or HTTP error ends the update with status ``"fault"`` (the text is in
        ``last_error``), as the real Web Connector gives up on that update.

        Raises:
            RoundTripLimitError: the session did not end within ``max_round_trips``.
        """
        try:
            return self._update(quickbooks)
        except _Fault as fault:
            return UpdateResult(
                transcript=list(self._transcript),
                progress=[e.result for e in self._transcript if isinstance(e.result, int)],
                requests=[],
                status="fault",
                last_error=str(fault),
            )

    def _update(self, quickbooks: FakeQuickBooks) -> UpdateResult:
        self._transcript = []
        progress: list[int] = []
        requests: list[str] = []
        pauses = 0
        last_error = ""

        def result(status: str, close_message: str = "") -> UpdateResult:
            return UpdateResult(
                transcript=list(self._transcript),
                progress=progress,
                requests=requests,
                status=status,
                last_error=last_error,
                close_message=close_message,
                pauses=pauses,
            )

        self._ask("serverVersion")
        answer = str(self._ask("clientVersion", strVersion=self.version))
        if answer.startswith("E:"):
            last_error = answer[2:]
            return result("refused")
        auth = self._ask("authenticate", strUserName=self.username, strPassword=self._password)
        if not isinstance(auth, list) or len(auth) < 2:
            raise AssertionError(f"authenticate must answer at least two strings, got {auth!r}")
        ticket, status = auth[0], auth[1]
        if status in ("nvu", "none", "busy"):
            return result(status)
        company_file = status or quickbooks.company_file

        def close(outcome: str) -> UpdateResult:
            message = str(self._ask("closeConnection", ticket=ticket))
            quickbooks.end_session()
            return result(outcome, message)

        # Opening QuickBooks; connectionError until it opens or the endpoint says "done".
        for _attempt in range(self.max_round_trips):
            failure = quickbooks.open(company_file)
            if failure is None:
                break
            retry = str(
                self._ask(
                    "connectionError",
                    ticket=ticket,
                    hresult=failure.hresult,
                    message=failure.message,
                )
            )
            if retry == "done" or not retry:
                return close("error")
            company_file = retry
        else:
            raise RoundTripLimitError("connectionError retries never ended")

        major, minor = max(
            (tuple(int(p) for p in v.split(".")) for v in quickbooks.supported_versions),
            default=(13, 0),
        )
        first = True
        for _round in range(self.max_round_trips):
            request = str(
                self._ask(
                    "sendRequestXML",
                    ticket=ticket,
                    # Only the first call of a session carries the host/company/preferences.
                    strHCPResponse=quickbooks.hcp_response() if first else "",
                    strCompanyFileName=company_file,
                    qbXMLCountry=quickbooks.country,
                    qbXMLMajorVers=str(major),
                    qbXMLMinorVers=str(minor),
                )
            )
            first = False
            if not request:
                text = str(self._ask("getLastError", ticket=ticket))
                if text == qbwc.NOOP:
                    pauses += 1
                    self._sleep(5.0)  # QBWC waits about five seconds, then asks again
                    continue
                last_error = text
                return close("done" if not text else "error")
            requests.append(request)
            qb = quickbooks.process(request)
            pct = self._ask(
                "receiveResponseXML",
                ticket=ticket,
                response=qb.response,
                hresult=qb.hresult,
                message=qb.message,
            )
            assert isinstance(pct, int), pct
            progress.append(pct)
            if pct < 0:
                last_error = str(self._ask("getLastError", ticket=ticket))
                return close("error")
            if pct >= 100:
                return close("done")
        raise RoundTripLimitError(
            f"the session did not end within {self.max_round_trips} round trips"
        )
