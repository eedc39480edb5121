"""Errors raised by `qbxml`.

::

    QbprocoreError
    └── QbxmlError
        ├── QbxmlValueError (ValueError)        a value a model or document can't carry
        │   ├── QbxmlTextError                  text QuickBooks can't store, or too long
        │   └── QbxmlVersionError               an element newer than the negotiated version
        ├── QbxmlSchemaError (ValueError)       a built document fails schema validation
        ├── QbxmlParseError (ValueError)        malformed or unsafe input
        │   └── QbxmlSecurityError              DOCTYPE/entities/oversized input refused
        └── QbxmlStatusError                    QuickBooks answered with an error status

    QbxmlChangeWarning (UserWarning)            a value normalised/truncated/dropped on request
"""

from __future__ import annotations

from qbprocore._errors import QbprocoreError

__all__ = [
    "QbxmlChangeWarning",
    "QbxmlError",
    "QbxmlParseError",
    "QbxmlSchemaError",
    "QbxmlSecurityError",
    "QbxmlStatusError",
    "QbxmlTextError",
    "QbxmlValueError",
    "QbxmlVersionError",
]


class QbxmlError(QbprocoreError):
    """Base of every qbXML-layer error."""


class QbxmlValueError(QbxmlError, ValueError):
    """A value that a model field or a qbXML document cannot carry.

    Attributes:
        field: Dotted path of the offending field (``"VendorAdd.name"``), when known.
        value: The offending value.
    """

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class QbxmlTextError(QbxmlValueError):
    """Text QuickBooks cannot store: a character outside its set, or over the length limit.

    Attributes:
        limit: The maximum length, for length errors.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: object = None,
        limit: int | None = None,
    ) -> None:
        super().__init__(message, field=field, value=value)
        self.limit = limit


class QbxmlVersionError(QbxmlValueError):
    """A field set on a request is newer than the qbXML version the document is built for."""


class QbxmlSchemaError(QbxmlError, ValueError):
    """A built document does not validate against qbprocore's qbXML schema.

    Attributes:
        errors: The validator's messages, each naming the element by its path.
    """

    def __init__(self, message: str, *, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


class QbxmlParseError(QbxmlError, ValueError):
    """Input that is not a well-formed qbXML document of the expected shape.

    Attributes:
        path: Element path where the problem was found, when known.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class QbxmlSecurityError(QbxmlParseError):
    """Input refused for safety: a DOCTYPE, entity declarations, or a body over the size limit."""


class QbxmlStatusError(QbxmlError):
    """QuickBooks answered a request with an error status.

    Attributes:
        status_code: The qbXML ``statusCode``.
        severity: ``statusSeverity`` (``Error`` for this exception).
        message: ``statusMessage`` as QuickBooks wrote it.
        request_id: The ``requestID`` echoed by the response.
        response_type: The response element, e.g. ``"VendorAddRs"``.
        retry: The `RetryHint` for this status code.
    """

    def __init__(
        self,
        *,
        status_code: int,
        severity: str,
        message: str,
        request_id: str | None,
        response_type: str,
    ) -> None:
        from qbprocore.qbxml._status import describe_status

        info = describe_status(status_code)
        super().__init__(
            f"{response_type} (requestID={request_id!r}) failed with status {status_code}"
            f" [{info.name}]: {message} — {info.hint}"
        )
        self.status_code = status_code
        self.severity = severity
        self.message = message
        self.request_id = request_id
        self.response_type = response_type
        self.retry = info.retry


class QbxmlChangeWarning(UserWarning):
    """A value was normalised, truncated or dropped because the caller's config said so.

    Issued only when `on_change` is not set.
    """
