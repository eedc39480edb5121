"""FakeProcore behaves like Procore where clients go wrong (driven with raw httpx requests)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qbprocore.testing import FakeClock, FakeProcore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeProcore:
    return FakeProcore(clock=clock, spike_limit=5, hourly_limit=8, retry_after_on_429=True)


@pytest.fixture
def http(fake: FakeProcore) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake.transport(), base_url=fake.environment.api_url) as client:
        yield client


def _token(http: httpx.Client, fake: FakeProcore, **form: str) -> httpx.Response:
    data = {"client_id": fake.client_id, "client_secret": fake.client_secret, **form}
    return http.post(f"{fake.environment.login_url}/oauth/token", data=data)


def _headers(http: httpx.Client, fake: FakeProcore, company: int | None = None) -> dict[str, str]:
    access = _token(http, fake, grant_type="client_credentials").json()["access_token"]
    return {
        "Authorization": f"Bearer {access}",
        "Procore-Company-Id": str(company or fake.company_id),
    }


def test_client_credentials_grant_has_expiry_and_no_refresh_token(
    http: httpx.Client, fake: FakeProcore
) -> None:
    body = _token(http, fake, grant_type="client_credentials").json()
    assert body["expires_in"] == 5400
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body


def test_refresh_tokens_are_single_use(http: httpx.Client, fake: FakeProcore) -> None:
    code = fake.authorize(redirect_uri="urn:ietf:wg:oauth:2.0:oob")
    first = _token(
        http,
        fake,
        grant_type="authorization_code",
        code=code,
        redirect_uri="urn:ietf:wg:oauth:2.0:oob",
    ).json()
    second = _token(http, fake, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    again = _token(http, fake, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_codes_are_single_use_and_bound_to_the_redirect(
    http: httpx.Client, fake: FakeProcore
) -> None:
    code = fake.authorize(redirect_uri="https://a.example/cb")
    wrong = _token(
        http, fake, grant_type="authorization_code", code=code, redirect_uri="https://b.example"
    )
    assert wrong.json()["error"] == "invalid_grant"
    # The failed attempt consumed the code, as a real server would.
    assert (
        _token(
            http,
            fake,
            grant_type="authorization_code",
            code=code,
            redirect_uri="https://a.example/cb",
        ).status_code
        == 400
    )


def test_bad_client_credentials(http: httpx.Client, fake: FakeProcore) -> None:
    answer = http.post(
        f"{fake.environment.login_url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_access_tokens_expire(http: httpx.Client, fake: FakeProcore, clock: FakeClock) -> None:
    headers = _headers(http, fake)
    assert http.get("/rest/v1.0/companies", headers=headers).status_code == 200
    clock.advance(5400)
    answer = http.get("/rest/v1.0/companies", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"


def test_company_header_is_enforced(http: httpx.Client, fake: FakeProcore) -> None:
    headers = _headers(http, fake)
    del headers["Procore-Company-Id"]
    assert http.get("/rest/v1.0/companies", headers=headers).status_code == 400
    other = _headers(http, fake, company=77)
    answer = http.get("/rest/v1.0/vendors", params={"company_id": 77}, headers=other)
    assert answer.status_code == 403
    assert "not been connected" in answer.json()["message"]


def test_company_id_param_must_match_header(http: httpx.Client, fake: FakeProcore) -> None:
    headers = _headers(http, fake)
    assert http.get("/rest/v1.0/vendors", headers=headers).status_code == 400
    assert (
        http.get("/rest/v1.0/vendors", params={"company_id": 1}, headers=headers).status_code == 403
    )


def test_pagination_headers(http: httpx.Client, fake: FakeProcore) -> None:
    fake.seed("vendors", [{"name": f"v{i}"} for i in range(7)])
    headers = _headers(http, fake)
    answer = http.get(
        "/rest/v1.0/vendors",
        params={"company_id": fake.company_id, "page": 2, "per_page": 3},
        headers=headers,
    )
    assert [v["name"] for v in answer.json()] == ["v3", "v4", "v5"]
    assert answer.headers["Total"] == "7"
    assert answer.headers["Per-Page"] == "3"
    links = answer.links
    assert set(links) == {"first", "prev", "next", "last"}
    assert "page=3" in links["next"]["url"]
    assert "page=3" in links["last"]["url"]


def test_rate_windows_report_and_enforce(
    http: httpx.Client, fake: FakeProcore, clock: FakeClock
) -> None:
    headers = _headers(http, fake)
    remaining = []
    for _ in range(5):
        answer = http.get("/rest/v1.0/companies", headers=headers)
        remaining.append(int(answer.headers["X-Rate-Limit-Remaining"]))
    # Spike limit 5, hourly 8: the spike window is reported until the hour is nearer.
    assert remaining == [4, 3, 2, 1, 0]
    limited = http.get("/rest/v1.0/companies", headers=headers)
    assert limited.status_code == 429
    reset = int(limited.headers["X-Rate-Limit-Reset"])
    assert reset == int(clock.time()) + 10
    assert int(limited.headers["Retry-After"]) == 10
    clock.advance(10)
    answer = http.get("/rest/v1.0/companies", headers=headers)
    assert answer.status_code == 200
    # 6 of 8 hourly requests used: the hourly window (2 left) is now nearer than the spike one.
    assert answer.headers["X-Rate-Limit-Limit"] == "8"
    assert answer.headers["X-Rate-Limit-Remaining"] == "2"


def test_sync_semantics(http: httpx.Client, fake: FakeProcore, clock: FakeClock) -> None:
    headers = _headers(http, fake)
    body: dict[str, Any] = {
        "company_id": fake.company_id,
        "updates": [
            {"origin_id": "QB-1", "name": "Acme"},
            {"origin_id": "QB-2"},
            {"id": 0, "name": "No project has this id value"},
        ],
    }
    answer = http.patch("/rest/v1.0/vendors/sync", json=body, headers=headers)
    assert answer.status_code == 200
    data = answer.json()
    assert [e["origin_id"] for e in data["entities"]] == ["QB-1"]
    assert data["errors"][0]["errors"] == {"name": ["can't be blank"]}
    assert data["errors"][1] == {
        "id": 0,
        "name": "No project has this id value",
        "errors": {"id": ["Entity with this ID not found"]},
    }
    created = data["entities"][0]
    assert created["created_at"] == created["updated_at"]
    clock.advance(5)
    again = http.patch(
        "/rest/v1.0/vendors/sync",
        json={"company_id": fake.company_id, "updates": [{"origin_id": "QB-1", "name": "Acme 2"}]},
        headers=headers,
    ).json()["entities"][0]
    assert again["id"] == created["id"]
    assert again["updated_at"] > again["created_at"]


def test_origin_id_is_unique_per_company(http: httpx.Client, fake: FakeProcore) -> None:
    headers = _headers(http, fake)
    first = http.post(
        "/rest/v1.0/vendors",
        json={"company_id": fake.company_id, "vendor": {"name": "A", "origin_id": "X"}},
        headers=headers,
    )
    assert first.status_code == 201
    dup = http.post(
        "/rest/v1.0/vendors",
        json={"company_id": fake.company_id, "vendor": {"name": "B", "origin_id": "X"}},
        headers=headers,
    )
    assert dup.status_code == 422
    assert dup.json() == {"errors": {"origin_id": ["has already been taken"]}}


def test_422_validation_body(http: httpx.Client, fake: FakeProcore) -> None:
    headers = _headers(http, fake)
    answer = http.post(
        "/rest/v1.0/vendors", json={"company_id": fake.company_id, "vendor": {}}, headers=headers
    )
    assert answer.status_code == 422
    assert answer.json() == {"errors": {"name": ["can't be blank"]}}


def test_injected_faults(http: httpx.Client, fake: FakeProcore) -> None:
    headers = _headers(http, fake)
    fake.inject_fault("status", status=503, retry_after=4, path="/companies")
    answer = http.get("/rest/v1.0/companies", headers=headers)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "4"
    fake.inject_fault("timeout")
    with pytest.raises(httpx.ReadTimeout):
        http.get("/rest/v1.0/companies", headers=headers)
    fake.inject_fault("connect")
    with pytest.raises(httpx.ConnectError):
        http.get("/rest/v1.0/companies", headers=headers)
    with pytest.raises(ValueError, match="unknown fault"):
        fake.inject_fault("gremlins")


def test_lost_response_commits_the_write(http: httpx.Client, fake: FakeProcore) -> None:
    headers = _headers(http, fake)
    fake.inject_fault("lost_response", method="POST")
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            "/rest/v1.0/vendors",
            json={"company_id": fake.company_id, "vendor": {"name": "Ghost"}},
            headers=headers,
        )
    assert [r["name"] for r in fake.records("vendors")] == ["Ghost"]


def test_ids_exceed_32_bits(fake: FakeProcore) -> None:
    assert fake.seed("vendors", [{"name": "x"}])[0]["id"] > 2**32


def test_usable_as_asgi_app(fake: FakeProcore) -> None:
    async def main() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=fake)
        async with httpx.AsyncClient(transport=transport, base_url="https://api.fake") as client:
            token = (
                await client.post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": fake.client_id,
                        "client_secret": fake.client_secret,
                    },
                )
            ).json()["access_token"]
            answer = await client.get(
                "/rest/v1.0/companies",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Procore-Company-Id": str(fake.company_id),
                },
            )
            return answer.status_code, len(answer.json())

    assert asyncio.run(main()) == (200, 1)


def test_unknown_routes_404(http: httpx.Client, fake: FakeProcore) -> None:
    headers = _headers(http, fake)
    assert http.get("/rest/v1.0/nothing_here", headers=headers).status_code == 404


def test_faults_surface_through_the_asgi_seam(fake: FakeProcore) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=fake)
        async with httpx.AsyncClient(transport=transport, base_url="https://api.fake") as client:
            token = (
                await client.post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": fake.client_id,
                        "client_secret": fake.client_secret,
                    },
                )
            ).json()["access_token"]
            headers = {
                "Authorization": f"Bearer {token}",
                "Procore-Company-Id": str(fake.company_id),
            }
            fake.inject_fault("lost_response", method="PATCH")
            with pytest.raises(httpx.ReadTimeout):
                await client.patch(
                    "/rest/v1.0/vendors/sync",
                    json={"company_id": fake.company_id, "updates": [{"name": "A"}]},
                    headers=headers,
                )

    asyncio.run(main())
    assert [r["name"] for r in fake.records("vendors")] == ["A"]
