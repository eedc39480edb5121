"""Status codes map to the exception tree; every body shape Procore uses is understood."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qbprocore.procore import (
    APIStatusError,
    AppNotConnectedError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UnprocessableEntityError,
    parse_error_body,
)
from qbprocore.procore._errors import error_for_response


def _response(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("GET", "https://api.procore.com/rest/v1.0/vendors?company_id=1")
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    return httpx.Response(status, headers=headers, request=request, **kwargs)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, RequestTimeoutError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, ServiceUnavailableError),
        (418, APIStatusError),
    ],
)
def test_status_code_selects_exception_class(status: int, cls: type[APIStatusError]) -> None:
    error = error_for_response(_response(status, {"message": "nope"}))
    assert type(error) is cls
    assert error.status_code == status


@pytest.mark.parametrize(
    ("body", "message", "errors"),
    [
        ({"message": "Not allowed", "error": "forbidden"}, "Not allowed", []),
        ({"errors": ["Name can't be blank"]}, "Name can't be blank", ["Name can't be blank"]),
        (
            {"errors": {"name": ["can't be blank"]}},
            'name: ["can\'t be blank"]',
            [{"field": "name", "messages": ["can't be blank"]}],
        ),
        (
            {"error": {"code": "invalid", "message": "Bad thing", "details": [{"f": 1}]}},
            "Bad thing",
            [{"f": 1}],
        ),
        ({"error": "invalid_grant", "error_description": "spent"}, "spent", []),
        ({"errors": "Resource not found"}, "Resource not found", ["Resource not found"]),
        ("<html>Bad gateway</html>", "<html>Bad gateway</html>", []),
        (None, "no error body", []),
    ],
)
def test_every_body_shape_reduces_to_message_and_errors(
    body: Any, message: str, errors: list[Any]
) -> None:
    assert parse_error_body(body) == (message, errors)


def test_error_carries_status_request_id_body_and_url_without_query() -> None:
    body = {"errors": {"name": ["can't be blank"]}}
    error = error_for_response(_response(422, body, {"X-Request-Id": "req-123"}))
    assert error.request_id == "req-123"
    assert error.body == body
    assert error.errors == [{"field": "name", "messages": ["can't be blank"]}]
    assert error.url == "https://api.procore.com/rest/v1.0/vendors"
    assert "req-123" in str(error)
    assert "422" in str(error)
    assert isinstance(error, ValueError)


def test_app_not_connected_is_recognised_in_a_403() -> None:
    error = error_for_response(
        _response(403, {"message": "This app has not been connected to this company"})
    )
    assert isinstance(error, AppNotConnectedError)
    plain = error_for_response(_response(403, {"message": "You do not have access to Budget"}))
    assert type(plain) is PermissionDeniedError


def test_rate_limit_error_carries_reset_and_retry_after() -> None:
    error = error_for_response(
        _response(
            429,
            {"message": "slow down"},
            {"X-Rate-Limit-Reset": "1800000010", "Retry-After": "7", "X-Rate-Limit-Limit": "3600"},
        )
    )
    assert isinstance(error, RateLimitError)
    assert error.reset_at == 1800000010.0
    assert error.retry_after == 7.0
    assert error.limit == 3600


def test_service_unavailable_carries_retry_after() -> None:
    error = error_for_response(_response(503, None, {"Retry-After": "12"}))
    assert isinstance(error, ServiceUnavailableError)
    assert error.retry_after == 12.0
