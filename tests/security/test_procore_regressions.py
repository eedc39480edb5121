"""Regression tests for the crashes the Procore fuzz target found (each raised outside the
documented error tree before its fix)."""

from __future__ import annotations

import json

import httpx
import pytest

from qbprocore.procore import (
    APIStatusError,
    OAuthError,
    ProcoreError,
    RateLimitError,
    Vendor,
)
from qbprocore.procore._errors import error_for_response
from qbprocore.procore._ratelimit import RateLimiter
from qbprocore.testing import FakeClock

from .test_fuzz_procore import Script, run_operation, valid_token

DEEP = b"[" * 50_000 + b"]" * 50_000


def _response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("GET", "https://api.procore.com/rest/v1.0/vendors")
    return httpx.Response(status, content=body, headers=headers or {}, request=request)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_a_non_finite_rate_limit_header_on_429_is_ignored_not_an_overflow(value: str) -> None:
    """``int(float("inf"))`` raised OverflowError while building the RateLimitError."""
    error = error_for_response(
        _response(429, headers={"X-Rate-Limit-Limit": value, "Retry-After": value})
    )
    assert isinstance(error, RateLimitError)
    assert error.limit is None
    assert error.retry_after is None


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_the_rate_limiter_ignores_a_non_finite_limit(value: str) -> None:
    """RateLimiter.update raised OverflowError/ValueError out of every request."""
    limiter = RateLimiter(clock=FakeClock())
    limiter.update(
        httpx.Headers(
            {"X-Rate-Limit-Limit": value, "X-Rate-Limit-Remaining": "5", "X-Rate-Limit-Reset": "9"}
        )
    )
    assert limiter.limit is None
    assert limiter.remaining == 5


def test_an_error_body_nested_too_deeply_is_kept_as_text() -> None:
    """json.loads raises RecursionError (not ValueError) on deep nesting."""
    error = error_for_response(_response(500, DEEP))
    assert isinstance(error, APIStatusError)
    assert error.status_code == 500
    assert isinstance(error.body, str)


def test_a_success_body_nested_too_deeply_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nests too deeply"):
        run_operation("get", Script(valid_token, [(200, DEEP, {})]))
    with pytest.raises(ValueError, match="nests too deeply"):
        run_operation("list", Script(valid_token, [(200, DEEP, {})]))


@pytest.mark.parametrize("data", [None, 5, "x", [1]])
def test_from_api_refuses_a_non_object_with_value_error(data: object) -> None:
    """``from_api`` called ``.items()`` on whatever it got (AttributeError)."""
    with pytest.raises(ValueError, match="expected a JSON object"):
        Vendor.from_api(data)  # type: ignore[arg-type]


def test_a_listing_row_or_nested_line_item_that_is_not_an_object_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="expected a JSON object"):
        run_operation("list", Script(valid_token, [(200, b"[1, 2]", {})]))


@pytest.mark.parametrize("body", [{"errors": 5, "entities": []}, {"entities": 5}, {"errors": "x"}])
def test_a_sync_body_whose_lists_are_not_lists_marks_items_failed(body: object) -> None:
    """``for err in 5`` raised TypeError; now the unreported items are failures."""
    result = run_operation("sync", Script(valid_token, [(200, json.dumps(body).encode(), {})]))
    assert not result.ok
    assert [item.status for item in result.items] == ["failed", "failed"]


@pytest.mark.parametrize(
    ("payload", "secret"),
    [
        ({"access_token": "at", "expires_in": 5400, "created_at": [1]}, None),
        ({"access_token": "at", "expires_in": None}, None),
        ({"access_token": "at", "expires_in": "NaN"}, None),
        ({"access_token": "at", "expires_in": "inf"}, None),
        ({"access_token": None, "expires_in": 5400}, None),
        ({"access_token": 12345, "expires_in": 5400}, None),
        ({"access_token": "tok\u00e9n-s3cr3t", "expires_in": 5400}, "tok\u00e9n-s3cr3t"),
        ({"access_token": "a\r\nX-Evil: 1", "expires_in": 5400}, "X-Evil"),
        ({"access_token": "at", "expires_in": 5400, "refresh_token": {"a": 1}}, None),
    ],
)
def test_a_malformed_token_response_is_an_oauth_error(
    payload: dict[str, object], secret: str | None
) -> None:
    """TypeError escaped for non-numbers; a NaN lifetime made a never-expiring token; a
    non-ASCII token reached the Authorization header (UnicodeEncodeError in httpx)."""
    token = (200, json.dumps(payload).encode(), {})
    with pytest.raises(OAuthError, match="malformed token response") as caught:
        run_operation("get", Script(token, [(200, b"{}", {})]))
    if secret is not None:
        assert secret not in str(caught.value)


def test_a_pagination_link_to_another_endpoint_is_refused() -> None:
    """A ``Link: rel="next"`` to another path made ``companies.list()`` request vendors (a
    TypeError for the missing company) and would parse other records as the wrong model."""
    link = {"Link": '<https://api.procore.com/rest/v1.0/vendors?page=2>; rel="next"'}
    with pytest.raises(ProcoreError, match="another path"):
        run_operation("companies", Script(valid_token, [(200, b"[{}]", link)]))


def test_a_pagination_link_to_the_same_listing_is_followed() -> None:
    link = {"Link": '<https://api.procore.com/rest/v1.0/vendors?page=2>; rel="next"'}
    script = Script(valid_token, [(200, b'[{"id": 1}]', link), (200, b"[]", {})])
    run_operation("list", script)
    assert script.calls == 3  # the token, page 1, page 2
