"""Errors raised by `qbwc`.

::

    QbprocoreError
    └── QbwcError
        ├── ProtocolError                      a call that breaks the Web Connector protocol
        │   ├── LocalProtocolError              *we* were about to answer illegally (a bug or a
        │   │                                   misbehaving work source)
        │   └── RemoteProtocolError             the Web Connector (or a client posing as it)
        │       │                               called out of order or with bad arguments
        │       └── SoapFaultError (ValueError) a malformed SOAP envelope (answered with a fault)
        ├── QwcError (ValueError)              a `.qwc` file that the Web Connector would refuse
        └── RoundTripLimitError                `FakeWebConnector` hit its round-trip cap

None of these ever reaches the Web Connector as a SOAP fault except `SoapFaultError`: a fault
makes QBWC retry the same call forever, so protocol errors inside a session are turned into a
clean end-of-session answer by the endpoint. Messages never contain passwords or tickets.
"""

from __future__ import annotations

from qbprocore._errors import QbprocoreError

__all__ = [
    "LocalProtocolError",
    "ProtocolError",
    "QbwcError",
    "QwcError",
    "RemoteProtocolError",
    "RoundTripLimitError",
    "SoapFaultError",
]


class QbwcError(QbprocoreError):
    """Base of every Web Connector-layer error."""


class ProtocolError(QbwcError):
    """A call that the Web Connector protocol does not allow in the session's state.

    Attributes:
        operation: The SOAP operation involved (``"receiveResponseXML"``), if known.
        state: The session state at the time, if known.
    """

    def __init__(self, message: str, *, operation: str | None = None, state: str | None = None):
        super().__init__(message)
        self.operation = operation
        self.state = state


class LocalProtocolError(ProtocolError):
    """We were about to send something the protocol forbids (h11's "local" side).

    Raised for answers that would break the Web Connector, e.g. a progress value outside
    ``0..100`` or a request from a work source that is not a qbXML request.
    """


class RemoteProtocolError(ProtocolError):
    """The peer called out of order or with arguments the protocol forbids.

    Examples: ``receiveResponseXML`` with no request outstanding, a company file other than the
    one the ticket is bound to.
    """


class SoapFaultError(RemoteProtocolError, ValueError):
    """A request body that is not a usable SOAP 1.1 envelope; it is answered with a SOAP fault.

    Attributes:
        fault_code: ``"Client"`` (the sender's mistake) or ``"VersionMismatch"``.
    """

    def __init__(self, message: str, *, fault_code: str = "Client", operation: str | None = None):
        super().__init__(message, operation=operation)
        self.fault_code = fault_code


class QwcError(QbwcError, ValueError):
    """A `.qwc` setting the Web Connector would refuse (named in the message).

    Attributes:
        field: The `.qwc` element at fault (``"AppURL"``).
    """

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


class RoundTripLimitError(QbwcError):
    """`FakeWebConnector` stopped a session that did not end within its round-trip cap."""
