"""The Procore layer's error tree and the status-code → exception table.

Procore answers errors in several body shapes; `parse_error_body` reduces all of them to
one ``message`` plus a list of ``errors`` so callers never need to know which shape arrived:

- ``{"message": "...", "error": "..."}`` (classic Rails API),
- ``{"errors": ["...", ...]}`` or ``{"errors": {"field": ["..."]}}`` (validation, 422),
- ``{"error": {"code": "...", "message": "...", "details": [...]}}`` (REST v2.0),
- ``{"error": "invalid_grant", "error_description": "..."}`` (OAuth2 token endpoint),
- a plain-text or empty body (gateways, load balancers).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import httpx

from qbprocore._errors import QbprocoreError

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AppNotConnectedError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "OAuthError",
    "PermissionDeniedError",
    "ProcoreError",
    "RateLimitError",
    "ReauthorizationRequiredError",
    "RequestTimeoutError",
    "ServiceUnavailableError",
    "TokenStoreError",
    "UnprocessableEntityError",
    "parse_error_body",
]


class ProcoreError(QbprocoreError):
    """Base class of every error raised by `procore`."""


class APIConnectionError(ProcoreError):
    """The request never got an HTTP answer (DNS, refused connection, reset, TLS).

    Attributes:
        method: HTTP method of the failed request.
        url: URL of the failed request, without its query string.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class APITimeoutError(APIConnectionError):
    """The request timed out before an answer arrived."""


class OAuthError(ProcoreError):
    """The OAuth2 token endpoint refused a grant (other than a spent refresh token).

    Attributes:
        error: The OAuth2 ``error`` code, e.g. ``"invalid_client"``.
        description: The server's ``error_description``, if any.
        status_code: HTTP status of the token response.
    """

    def __init__(
        self, message: str, *, error: str = "", description: str = "", status_code: int = 0
    ) -> None:
        super().__init__(message)
        self.error = error
        self.description = description
        self.status_code = status_code


class ReauthorizationRequiredError(OAuthError):
    """The stored refresh token is spent or revoked; a person must authorize the app again.

    Raised after ``invalid_grant`` *and* a re-read of the token store found no newer token, so
    it is not a race with another process: the credential is really gone.
    """


class TokenStoreError(ProcoreError):
    """A token store could not read, decrypt or write a token."""


class APIStatusError(ProcoreError):
    """Procore answered with an error status.

    Attributes:
        status_code: The HTTP status code.
        request_id: Procore's request id (``X-Request-Id``), quote it to Procore support.
        body: The parsed JSON body (or the raw text when the body is not JSON).
        message: The human message extracted from ``body``.
        errors: Field or item errors extracted from ``body`` (may be empty).
        method: HTTP method of the request.
        url: URL of the request, without its query string.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        body: Any = None,
        errors: list[Any] | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.body = body
        self.message = message
        self.errors = errors or []
        self.method = method
        self.url = url

    def __str__(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        where = f" {self.method} {self.url}" if self.url else ""
        return f"{self.status_code}{where}: {self.message}{rid}"


class BadRequestError(APIStatusError):
    """400: the request was malformed."""


class AuthenticationError(APIStatusError):
    """401: the access token was refused even after one refresh."""


class PermissionDeniedError(APIStatusError):
    """403: the user or service account lacks permission for this tool or company."""


class AppNotConnectedError(PermissionDeniedError):
    """403: the app is not installed (connected) in this Procore company.

    A company admin must install the app from the Procore App Marketplace (or add the
    Developer Managed Service Account) before any call with this ``Procore-Company-Id`` works.
    """


class NotFoundError(APIStatusError):
    """404: no such resource, or it is invisible to this user."""


class RequestTimeoutError(APIStatusError):
    """408: Procore timed out waiting for the request."""


class ConflictError(APIStatusError):
    """409: the write conflicts with the current state of the resource."""


class UnprocessableEntityError(APIStatusError, ValueError):
    """422: validation failed; `errors` lists what to fix."""


class RateLimitError(APIStatusError):
    """429: over the hourly or spike limit, and retries (if allowed) ran out.

    Attributes:
        reset_at: Epoch seconds at which the window resets (``X-Rate-Limit-Reset``), if sent.
        retry_after: Seconds to wait (``Retry-After``), if sent.
        limit: ``X-Rate-Limit-Limit`` of the reported window, if sent.
    """

    def __init__(
        self,
        message: str,
        *,
        reset_at: float | None = None,
        retry_after: float | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.reset_at = reset_at
        self.retry_after = retry_after
        self.limit = limit


class InternalServerError(APIStatusError):
    """5xx: Procore failed; idempotent requests were retried before this was raised."""


class ServiceUnavailableError(InternalServerError):
    """503: Procore is shedding load; honour `retry_after`.

    Attributes:
        retry_after: Seconds Procore asked us to wait, if sent.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


_STATUS_TABLE: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}

# Procore's wording for "this app is not installed in that company" has varied; match the
# stable fragments rather than one exact sentence.
_NOT_CONNECTED = re.compile(
    r"not\s+(been\s+)?(connected|installed|authorized)\s+.*compan|app.*not.*(installed|connected)",
    re.IGNORECASE,
)


def parse_error_body(body: Any) -> tuple[str, list[Any]]:
    """Reduce any Procore error body to ``(message, errors)``.

    Args:
        body: The decoded JSON body, raw text, or ``None``.

    Returns:
        A human message (never empty) and a list of field or item errors.
    """
    if body is None or body == "":
        return "no error body", []
    if isinstance(body, str):
        return body.strip()[:500] or "no error body", []
    if isinstance(body, list):
        return "; ".join(str(item) for item in body)[:500] or "error", list(body)
    if not isinstance(body, Mapping):
        return str(body)[:500], []
    error = body.get("error")
    if isinstance(error, Mapping):
        # REST v2.0: {"error": {"code", "message", "details"}}
        details = error.get("details") or []
        v2_message = str(error.get("message") or error.get("code") or "error")
        return v2_message, list(details) if isinstance(details, list) else [details]
    errors_field = body.get("errors")
    errors: list[Any]
    if isinstance(errors_field, list):
        errors = list(errors_field)
    elif isinstance(errors_field, Mapping):
        errors = [{"field": k, "messages": v} for k, v in errors_field.items()]
    elif errors_field:
        errors = [errors_field]
    else:
        errors = []
    message: Any = body.get("message") or body.get("error_description") or error
    if not message and errors:
        message = "; ".join(_describe(e) for e in errors)
    return str(message or "error")[:500], errors


def _describe(item: Any) -> str:
    if isinstance(item, Mapping) and "field" in item:
        return f"{item['field']}: {item.get('messages')}"
    return str(item)


def _float_header(headers: httpx.Headers, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    # "inf"/"nan" parse as floats but are no number of seconds or requests (int() of them fails).
    return value if math.isfinite(value) else None


def decode_body(response: httpx.Response) -> Any:
    """Decode a response body as JSON, falling back to text, without raising."""
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deeply to decode
        return response.text


def json_body(response: httpx.Response) -> Any:
    """Decode a success body as JSON.

    Raises:
        ValueError: the body is not JSON, or nests too deeply to decode (never the
            ``RecursionError`` the decoder itself raises for that).
    """
    try:
        return response.json()
    except RecursionError:
        raise ValueError(
            f"the JSON body from {response.request.url.path} nests too deeply to decode"
        ) from None


def error_for_response(response: httpx.Response) -> APIStatusError:
    """Build the right `APIStatusError` subclass for an error response.

    Args:
        response: A response with status ≥ 400 whose body has been read.

    Returns:
        The exception to raise; it carries status, request id and parsed body.
    """
    status = response.status_code
    body = decode_body(response)
    message, errors = parse_error_body(body)
    request = response.request
    common: dict[str, Any] = {
        "status_code": status,
        "request_id": response.headers.get("X-Request-Id"),
        "body": body,
        "errors": errors,
        "method": request.method,
        "url": str(request.url.copy_with(query=None)),
    }
    if status == 429:
        limit = _float_header(response.headers, "X-Rate-Limit-Limit")
        return RateLimitError(
            message,
            reset_at=_float_header(response.headers, "X-Rate-Limit-Reset"),
            retry_after=_float_header(response.headers, "Retry-After"),
            limit=int(limit) if limit is not None else None,
            **common,
        )
    if status == 503:
        return ServiceUnavailableError(
            message, retry_after=_float_header(response.headers, "Retry-After"), **common
        )
    if status == 403 and _NOT_CONNECTED.search(message):
        return AppNotConnectedError(message, **common)
    cls = _STATUS_TABLE.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    return cls(message, **common)
