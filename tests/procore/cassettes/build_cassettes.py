"""Rebuild the vcrpy cassettes: ``python tests/procore/cassettes/build_cassettes.py``.

The payloads are written here after Procore's documented examples (the "Using Sync Actions"
tutorial, the OAuth token and list-endpoint documentation): same field names, same shapes,
our own values. They are recorded through vcrpy with the real client, so the cassettes hold
exactly what the client sends, minus secrets: the Authorization header, the client secret,
refresh tokens and codes in request bodies, and tokens in token responses are filtered.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import httpx
import vcr

from qbprocore.procore import (
    Environment,
    ProcoreAuth,
    ProcoreClient,
    RateLimiterRegistry,
    RetryPolicy,
    UnprocessableEntityError,
)
from qbprocore.testing import FakeClock

HERE = Path(__file__).parent
ENV = Environment(
    name="production", login_url="https://login.procore.com", api_url="https://api.procore.com"
)
CLIENT_ID = "cassette-client-id"
CLIENT_SECRET = "cassette-client-secret-DO-NOT-LEAK"
ACCESS = "cassette-access-token-DO-NOT-LEAK"
COMPANY = 8089
FILTERED = "<FILTERED>"


def _project(
    ident: int, name: str, origin: str | None, created: str, updated: str
) -> dict[str, Any]:
    # Field set of the project entities in Procore's sync-actions tutorial.
    return {
        "id": ident,
        "logo_url": "https://example.invalid/logo.gif",
        "name": name,
        "display_name": name,
        "project_number": None,
        "address": None,
        "city": None,
        "state_code": None,
        "country_code": None,
        "zip": None,
        "latitude": None,
        "longitude": None,
        "description": None,
        "square_feet": None,
        "estimated_start_date": None,
        "estimated_completion_date": None,
        "active": True,
        "flag": None,
        "phone": None,
        "public_notes": None,
        "actual_start_date": "2024-03-04",
        "projected_finish_date": None,
        "created_at": created,
        "updated_at": updated,
        "origin_id": origin,
        "origin_data": None,
        "project_stage": {"id": 3, "name": "Course of Construction"},
        "departments": [],
    }


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response["body"]["string"]
    try:
        data = json.loads(body)
    except ValueError:
        return response
    if isinstance(data, dict) and "access_token" in data:
        for key in ("access_token", "refresh_token"):
            if key in data:
                data[key] = FILTERED
        response["body"]["string"] = json.dumps(data).encode()
    return response


def _vcr(record_mode: str = "all") -> vcr.VCR:
    return vcr.VCR(
        record_mode=record_mode,
        filter_headers=[("authorization", FILTERED)],
        filter_post_data_parameters=[
            ("client_secret", FILTERED),
            ("refresh_token", FILTERED),
            ("code", FILTERED),
        ],
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )


def _client(handler: Any) -> ProcoreClient:
    clock = FakeClock(start=1_709_550_000.0)
    auth = ProcoreAuth.client_credentials(
        environment=ENV, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock
    )
    return ProcoreClient(
        auth=auth,
        company_id=COMPANY,
        clock=clock,
        limiters=RateLimiterRegistry(),
        retry=RetryPolicy(jitter=0.0),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def _token() -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "access_token": ACCESS,
            "token_type": "Bearer",
            "expires_in": 5400,
            "created_at": 1_709_550_000,
        },
    )


def build_sync_actions() -> None:
    """Create two projects by origin_id, then update them (the tutorial's flow)."""
    answers = [
        _token(),
        httpx.Response(
            200,
            json={
                "entities": [
                    _project(
                        6, "New Project ABC", "abc", "2024-03-04T12:02:09Z", "2024-03-04T12:02:09Z"
                    ),
                    _project(
                        7, "New Project DEF", "def", "2024-03-04T12:02:09Z", "2024-03-04T12:02:09Z"
                    ),
                ],
                "errors": [],
            },
            headers={"X-Request-Id": "req-sync-1"},
        ),
        httpx.Response(
            200,
            json={
                "entities": [
                    _project(
                        6,
                        "Updated Project ABC",
                        "abc",
                        "2024-03-04T12:02:09Z",
                        "2024-03-04T12:05:31Z",
                    ),
                ],
                "errors": [
                    {
                        "id": 0,
                        "name": "No project has this id value",
                        "errors": {"id": ["Entity with this ID not found"]},
                    },
                ],
            },
            headers={"X-Request-Id": "req-sync-2"},
        ),
    ]
    client = _client(lambda request: answers.pop(0))
    with _vcr().use_cassette(str(HERE / "project_sync_actions.yaml")):
        client.projects.sync(
            [
                {"origin_id": "abc", "name": "New Project ABC"},
                {"origin_id": "def", "name": "New Project DEF"},
            ]
        )
        client.projects.sync(
            [
                {"origin_id": "abc", "name": "Updated Project ABC"},
                {"id": 0, "name": "No project has this id value"},
            ]
        )


def build_vendor_pages() -> None:
    """List company vendors across two pages with Link, Total and rate-limit headers."""
    base = f"{ENV.api_url}/rest/v1.0/vendors?company_id={COMPANY}&per_page=2"
    vendor = {
        "id": 562949953421312,
        "name": "Concrete Co",
        "abbreviated_name": "CC",
        "origin_id": "80000001-1709550000",
        "origin_data": '{"edit_sequence": "1709550000"}',
        "origin_code": None,
        "is_active": True,
        "business_phone": "512-555-0100",
        "email_address": "ap@concrete.example",
        "state_code": "TX",
        "country_code": "US",
        "zip": "78701",
        "city": "Austin",
        "address": "1 Main St",
        "license_number": None,
        "created_at": "2024-03-01T09:00:00Z",
        "updated_at": "2024-03-02T10:30:00-06:00",
    }
    rate = {
        "X-Rate-Limit-Limit": "3600",
        "X-Rate-Limit-Remaining": "3598",
        "X-Rate-Limit-Reset": "1709553600",
    }
    answers = [
        _token(),
        httpx.Response(
            200,
            json=[
                vendor,
                {
                    **vendor,
                    "id": 562949953421313,
                    "name": "Steel LLC",
                    "origin_id": "80000002-1709550000",
                },
            ],
            headers={
                "Total": "3",
                "Per-Page": "2",
                **rate,
                "Link": f'<{base}&page=2>; rel="next", <{base}&page=2>; rel="last"',
            },
        ),
        httpx.Response(
            200,
            json=[{**vendor, "id": 562949953421314, "name": "Glass Inc", "origin_id": None}],
            headers={
                "Total": "3",
                "Per-Page": "2",
                **rate,
                "Link": f'<{base}&page=1>; rel="first", <{base}&page=1>; rel="prev"',
            },
        ),
    ]
    client = _client(lambda request: answers.pop(0))
    with _vcr().use_cassette(str(HERE / "vendor_pages.yaml")):
        list(client.vendors.list(per_page=2))


def build_errors() -> None:
    """A 422 validation body and a 429 followed by success."""
    answers = [
        _token(),
        httpx.Response(
            422, json={"errors": {"name": ["can't be blank"]}}, headers={"X-Request-Id": "req-422"}
        ),
        httpx.Response(
            429,
            json={"message": "Rate limit exceeded"},
            headers={
                "X-Rate-Limit-Limit": "3600",
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": "1709550010",
                "Retry-After": "10",
            },
        ),
        httpx.Response(200, json=[{"id": 8089, "name": "Example GC", "is_active": True}]),
    ]
    client = _client(lambda request: answers.pop(0))
    with _vcr().use_cassette(str(HERE / "errors.yaml")):
        with contextlib.suppress(UnprocessableEntityError):
            client.vendors.create({"name": ""})
        list(client.companies.list())


if __name__ == "__main__":
    for path in HERE.glob("*.yaml"):
        path.unlink()
    build_sync_actions()
    build_vendor_pages()
    build_errors()
