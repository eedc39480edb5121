"""The Web Connector's calls as frozen event classes, one per SOAP operation.

The codec (`decode_call`) turns a SOAP envelope into one of these; the session consumes
them. Each class names its SOAP operation, its parameters in WSDL order (XML name → field)
and the type of its answer, so the codec, the WSDL and the state table all read the protocol
from one place.

Secrets stay out of reprs: a password is never shown and a ticket is shown only as ``'***'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar, Literal

import attrs

__all__ = [
    "OPERATIONS",
    "Authenticate",
    "ClientVersion",
    "CloseConnection",
    "ConnectionFailed",
    "Event",
    "GetInteractiveURL",
    "GetLastError",
    "InteractiveDone",
    "InteractiveRejected",
    "ReceiveResponseXML",
    "SendRequestXML",
    "ServerVersion",
]

ResultKind = Literal["string", "int", "array"]


def _redact(value: object) -> str:
    return "'***'" if value else repr(value)


class Event:
    """Base of the call events.

    Attributes:
        operation: The SOAP operation (``"sendRequestXML"``), also the request element name.
        params: ``(XML element name, field name)`` pairs in WSDL order.
        result: The answer's type: ``"string"``, ``"int"`` (receiveResponseXML) or
            ``"array"`` (authenticate's ``ArrayOfString``).
        ticketed: The call carries a session ticket.
    """

    operation: ClassVar[str]
    params: ClassVar[tuple[tuple[str, str], ...]]
    result: ClassVar[ResultKind] = "string"
    ticketed: ClassVar[bool] = True

    @property
    def session_ticket(self) -> str:
        """The ticket the call carries (``""`` for calls without one)."""
        return str(getattr(self, "ticket", ""))


@attrs.frozen(kw_only=True)
class ServerVersion(Event):
    """``serverVersion()``: the Web Connector asks which version our service is."""

    operation: ClassVar[str] = "serverVersion"
    params: ClassVar[tuple[tuple[str, str], ...]] = ()
    ticketed: ClassVar[bool] = False


@attrs.frozen(kw_only=True)
class ClientVersion(Event):
    """``clientVersion(strVersion)``: the Web Connector's own version, e.g. ``"2.1.0.30"``."""

    operation: ClassVar[str] = "clientVersion"
    params: ClassVar[tuple[tuple[str, str], ...]] = (("strVersion", "version"),)
    ticketed: ClassVar[bool] = False

    version: str = ""


@attrs.frozen(kw_only=True)
class Authenticate(Event):
    """``authenticate(strUserName, strPassword)``: start a session (the password never shows)."""

    operation: ClassVar[str] = "authenticate"
    params: ClassVar[tuple[tuple[str, str], ...]] = (
        ("strUserName", "username"),
        ("strPassword", "password"),
    )
    result: ClassVar[ResultKind] = "array"
    ticketed: ClassVar[bool] = False

    username: str = ""
    password: str = attrs.field(default="", repr=False)


@attrs.frozen(kw_only=True)
class SendRequestXML(Event):
    """``sendRequestXML``: the Web Connector asks for the next qbXML request.

    ``hcp_response`` (HostQuery, CompanyQuery and PreferencesQuery responses) is non-empty only
    on the first call of a session.
    """

    operation: ClassVar[str] = "sendRequestXML"
    params: ClassVar[tuple[tuple[str, str], ...]] = (
        ("ticket", "ticket"),
        ("strHCPResponse", "hcp_response"),
        ("strCompanyFileName", "company_file"),
        ("qbXMLCountry", "country"),
        ("qbXMLMajorVers", "major_version"),
        ("qbXMLMinorVers", "minor_version"),
    )

    ticket: str = attrs.field(default="", repr=_redact)
    hcp_response: str = attrs.field(default="", repr=False)
    company_file: str = ""
    country: str = ""
    major_version: int = 0
    minor_version: int = 0


@attrs.frozen(kw_only=True)
class ReceiveResponseXML(Event):
    """``receiveResponseXML``: QuickBooks' answer, or ``hresult``/``message`` when it failed."""

    operation: ClassVar[str] = "receiveResponseXML"
    params: ClassVar[tuple[tuple[str, str], ...]] = (
        ("ticket", "ticket"),
        ("response", "response"),
        ("hresult", "hresult"),
        ("message", "message"),
    )
    result: ClassVar[ResultKind] = "int"

    ticket: str = attrs.field(default="", repr=_redact)
    response: str = attrs.field(default="", repr=lambda v: f"<{len(v)} characters>")
    hresult: str = ""
    message: str = ""


@attrs.frozen(kw_only=True)
class ConnectionFailed(Event):
    """``connectionError``: the Web Connector could not open QuickBooks or the company file."""

    operation: ClassVar[str] = "connectionError"
    params: ClassVar[tuple[tuple[str, str], ...]] = (
        ("ticket", "ticket"),
        ("hresult", "hresult"),
        ("message", "message"),
    )

    ticket: str = attrs.field(default="", repr=_redact)
    hresult: str = ""
    message: str = ""


@attrs.frozen(kw_only=True)
class GetLastError(Event):
    """``getLastError``: after a negative progress or an empty request; the text is shown."""

    operation: ClassVar[str] = "getLastError"
    params: ClassVar[tuple[tuple[str, str], ...]] = (("ticket", "ticket"),)

    ticket: str = attrs.field(default="", repr=_redact)


@attrs.frozen(kw_only=True)
class CloseConnection(Event):
    """``closeConnection``: the session is over; the answer is shown to the user."""

    operation: ClassVar[str] = "closeConnection"
    params: ClassVar[tuple[tuple[str, str], ...]] = (("ticket", "ticket"),)

    ticket: str = attrs.field(default="", repr=_redact)


@attrs.frozen(kw_only=True)
class GetInteractiveURL(Event):
    """``getInteractiveURL(wcTicket, sessionID)``: interactive mode asks where to send the user."""

    operation: ClassVar[str] = "getInteractiveURL"
    params: ClassVar[tuple[tuple[str, str], ...]] = (
        ("wcTicket", "ticket"),
        ("sessionID", "session_id"),
    )

    ticket: str = attrs.field(default="", repr=_redact)
    session_id: str = ""


@attrs.frozen(kw_only=True)
class InteractiveDone(Event):
    """``interactiveDone(wcTicket)``: the user finished the interactive page."""

    operation: ClassVar[str] = "interactiveDone"
    params: ClassVar[tuple[tuple[str, str], ...]] = (("wcTicket", "ticket"),)

    ticket: str = attrs.field(default="", repr=_redact)


@attrs.frozen(kw_only=True)
class InteractiveRejected(Event):
    """``interactiveRejected(wcTicket, reason)``: the user declined interactive mode."""

    operation: ClassVar[str] = "interactiveRejected"
    params: ClassVar[tuple[tuple[str, str], ...]] = (
        ("wcTicket", "ticket"),
        ("reason", "reason"),
    )

    ticket: str = attrs.field(default="", repr=_redact)
    reason: str = ""


OPERATIONS: Mapping[str, type[Event]] = MappingProxyType(
    {
        cls.operation: cls
        for cls in (
            ServerVersion,
            ClientVersion,
            Authenticate,
            SendRequestXML,
            ReceiveResponseXML,
            ConnectionFailed,
            GetLastError,
            CloseConnection,
            GetInteractiveURL,
            InteractiveDone,
            InteractiveRejected,
        )
    }
)
"""Every SOAP operation of the Web Connector protocol, by name, in call order."""
