"""QuickBooks Web Connector sessions: a sans-I/O core, a SOAP codec, WSGI/ASGI adapters, `.qwc`.

The Web Connector (QBWC) calls *us*: ``serverVersion``, ``clientVersion``, ``authenticate``,
then ``sendRequestXML``/``receiveResponseXML`` pairs, then ``closeConnection``. A host plugs in
three things and mounts one app:

    from qbprocore import qbwc

    auth = qbwc.PasswordAuthenticator()
    auth.add_user("demo", "demo")
    service = qbwc.WebConnectorService(
        authenticator=auth,
        work=my_work_source,                       # implements qbwc.WorkSource
        store=qbwc.SQLiteSessionStore("sessions.db"),
    )
    app = qbwc.asgi_app(service)                   # or qbwc.wsgi_app(service)

The layers, from the wire in:

- `decode_call` / `encode_result` — the SOAP 1.1 codec (events in `qbprocore.qbwc` such as
  `SendRequestXML`);
- `WebConnectorService` — loads the session from the `SessionStore`, lets `Session` answer,
  saves it; no sockets, clock or randomness of its own (both are parameters);
- `Session` — one session, sans I/O; the state table and every legality rule live in one place
  (`TRANSITIONS`, `transition`, `check_progress` …, drawn by `state_diagram`).

Errors::

    QbprocoreError
    └── QbwcError
        ├── ProtocolError
        │   ├── LocalProtocolError         we were about to answer illegally
        │   └── RemoteProtocolError        the Web Connector called out of order
        │       └── SoapFaultError (ValueError)   a malformed envelope (SOAP fault)
        ├── QwcError (ValueError)          a .qwc value the Web Connector would refuse
        └── RoundTripLimitError            FakeWebConnector's round-trip cap was hit
"""

from __future__ import annotations

from qbprocore.qbwc._auth import (
    Account,
    Authenticator,
    PasswordAuthenticator,
    ThrottledAuthenticator,
    hash_password,
)
from qbprocore.qbwc._errors import (
    LocalProtocolError,
    ProtocolError,
    QbwcError,
    QwcError,
    RemoteProtocolError,
    RoundTripLimitError,
    SoapFaultError,
)
from qbprocore.qbwc._events import (
    OPERATIONS,
    Authenticate,
    ClientVersion,
    CloseConnection,
    ConnectionFailed,
    Event,
    GetInteractiveURL,
    GetLastError,
    InteractiveDone,
    InteractiveRejected,
    ReceiveResponseXML,
    SendRequestXML,
    ServerVersion,
)
from qbprocore.qbwc._http import DEFAULT_MAX_BODY, asgi_app, wsgi_app
from qbprocore.qbwc._policy import (
    DEFAULT_STATUS_ACTIONS,
    ClientVersionPolicy,
    ConnectionErrorPolicy,
    StatusAction,
    StatusPolicy,
)
from qbprocore.qbwc._qwc import QwcFile, stable_guid
from qbprocore.qbwc._service import SoapResponse, WebConnectorService, ticket_key
from qbprocore.qbwc._session import NOOP, Session, SessionConfig
from qbprocore.qbwc._snapshot import SessionSnapshot
from qbprocore.qbwc._soap import (
    INTUIT_NS,
    SOAP_ENV_NS,
    decode_call,
    encode_fault,
    encode_result,
    operation_from_action,
)
from qbprocore.qbwc._state import (
    END_OF_SESSION,
    SESSIONLESS,
    TRANSITIONS,
    Outcome,
    State,
    check_company_file,
    check_progress,
    is_expired,
    legal_operations,
    parse_client_version,
    state_diagram,
    transition,
)
from qbprocore.qbwc._stores import MemorySessionStore, SessionStore, SQLiteSessionStore
from qbprocore.qbwc._work import (
    Exchange,
    Preparing,
    Received,
    SessionInfo,
    WorkRequest,
    WorkSource,
)
from qbprocore.qbwc._wsdl import wsdl

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_STATUS_ACTIONS",
    "END_OF_SESSION",
    "INTUIT_NS",
    "NOOP",
    "OPERATIONS",
    "SESSIONLESS",
    "SOAP_ENV_NS",
    "TRANSITIONS",
    "Account",
    "Authenticate",
    "Authenticator",
    "ClientVersion",
    "ClientVersionPolicy",
    "CloseConnection",
    "ConnectionErrorPolicy",
    "ConnectionFailed",
    "Event",
    "Exchange",
    "GetInteractiveURL",
    "GetLastError",
    "InteractiveDone",
    "InteractiveRejected",
    "LocalProtocolError",
    "MemorySessionStore",
    "Outcome",
    "PasswordAuthenticator",
    "Preparing",
    "ProtocolError",
    "QbwcError",
    "QwcError",
    "QwcFile",
    "ReceiveResponseXML",
    "Received",
    "RemoteProtocolError",
    "RoundTripLimitError",
    "SQLiteSessionStore",
    "SendRequestXML",
    "ServerVersion",
    "Session",
    "SessionConfig",
    "SessionInfo",
    "SessionSnapshot",
    "SessionStore",
    "SoapFaultError",
    "SoapResponse",
    "State",
    "StatusAction",
    "StatusPolicy",
    "ThrottledAuthenticator",
    "WebConnectorService",
    "WorkRequest",
    "WorkSource",
    "asgi_app",
    "check_company_file",
    "check_progress",
    "decode_call",
    "encode_fault",
    "encode_result",
    "hash_password",
    "is_expired",
    "legal_operations",
    "operation_from_action",
    "parse_client_version",
    "stable_guid",
    "state_diagram",
    "ticket_key",
    "transition",
    "wsdl",
    "wsgi_app",
]
