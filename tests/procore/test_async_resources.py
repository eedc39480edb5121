"""The async client's resources: get, create, update, sync, list — over the ASGI seam."""

from __future__ import annotations

import asyncio
import email.utils

import httpx
import pytest

from qbprocore.procore import (
    AsyncProcoreClient,
    NotFoundError,
    ProcoreAuth,
    RateLimiterRegistry,
    ReauthorizationRequiredError,
    RetryPolicy,
)
from qbprocore.testing import FakeClock, FakeProcore


def _aclient(fake: FakeProcore, clock: FakeClock, http: httpx.AsyncClient) -> AsyncProcoreClient:
    auth = ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
    )
    return AsyncProcoreClient(
        auth=auth,
        company_id=fake.company_id,
        http_client=http,
        clock=clock,
        limiters=RateLimiterRegistry(),
    )


def test_async_crud_and_sync(fake: FakeProcore, clock: FakeClock) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
            client = _aclient(fake, clock, http)
            project = fake.add_project(name="Tower")
            created = await client.work_order_contracts.create(
                {"title": "Concrete", "vendor_id": 3, "origin_id": "PO-7"}, project_id=project
            )
            assert created.id is not None
            updated = await client.work_order_contracts.update(
                created.id, {"title": "Concrete rev 1"}, project_id=project
            )
            assert updated.title == "Concrete rev 1"
            got = await client.work_order_contracts.get(created.id, project_id=project)
            assert got.title == "Concrete rev 1"
            clock.advance(1)
            result = await client.work_order_contracts.sync(
                [{"origin_id": "PO-7", "title": "Concrete rev 2"}, {"origin_id": "PO-8"}],
                project_id=project,
            )
            assert [i.status for i in result.items] == ["updated", "failed"]
            assert result.items[1].errors == {"vendor_id": ["can't be blank"]}
            pages = [p async for p in client.work_order_contracts.list(project_id=project).pages()]
            assert [len(p.items) for p in pages] == [1]
            with pytest.raises(NotFoundError):
                await client.work_order_contracts.get(1, project_id=project)
            with pytest.raises(NotImplementedError):
                await client.budget_views.create({}, project_id=project)
            with pytest.raises(NotImplementedError):
                await client.budget_views.update(1, {}, project_id=project)
            with pytest.raises(NotImplementedError):
                await client.budget_views.sync([], project_id=project)
            other = client.with_company(fake.company_id)
            assert other.company_id == client.company_id
            assert "AsyncProcoreClient" in repr(other)

    asyncio.run(main())


def test_async_spent_refresh_token_requires_reauthorization(
    fake: FakeProcore, clock: FakeClock
) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
            auth = ProcoreAuth.authorization_code(
                environment=fake.environment,
                client_id=fake.client_id,
                client_secret=fake.client_secret,
                redirect_uri="https://connector.example/cb",
                clock=clock,
            )
            client = AsyncProcoreClient(
                auth=auth,
                company_id=fake.company_id,
                http_client=http,
                clock=clock,
                limiters=RateLimiterRegistry(),
            )
            url, state = auth.authorization_url()
            location = (await http.get(url)).headers["Location"]
            token = await client.exchange_code(location, state=state)
            assert token.refresh_token
            fake.revoke_refresh_tokens()
            clock.advance(fake.token_lifetime)
            with pytest.raises(ReauthorizationRequiredError):
                [v async for v in client.vendors.list()]

    asyncio.run(main())


def test_async_connection_errors_are_retried_then_raised(
    fake: FakeProcore, clock: FakeClock
) -> None:
    from qbprocore.procore import APIConnectionError

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth"):
            return fake.handle(request)
        raise httpx.ConnectError("refused", request=request)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = _aclient(fake, clock, http)
            client.retry = RetryPolicy(max_retries=2, jitter=0.0, backoff_base=1.0)
            with pytest.raises(APIConnectionError):
                await client.request("GET", "/rest/v1.0/vendors")

    asyncio.run(main())
    assert clock.sleeps == [1.0, 2.0]


def test_retry_after_as_an_http_date(fake: FakeProcore, clock: FakeClock) -> None:
    from qbprocore.procore._retry import RetryPolicy as Policy

    when = email.utils.formatdate(clock.time() + 42, usegmt=True)
    response = httpx.Response(503, headers={"Retry-After": when})
    wait = Policy(jitter=0.0).wait_for_response(response, 0, now=clock.time(), rand=0.0)
    assert 41.0 <= wait <= 42.0
    garbage = httpx.Response(503, headers={"Retry-After": "soon"})
    assert (
        Policy(jitter=0.0, backoff_base=2.0).wait_for_response(
            garbage, 0, now=clock.time(), rand=0.0
        )
        == 2.0
    )
