"""Fixtures for the Procore layer: a FakeClock shared by FakeProcore and the clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from qbprocore.procore import ProcoreAuth, ProcoreClient, RateLimiterRegistry
from qbprocore.testing import FakeClock, FakeProcore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeProcore:
    return FakeProcore(clock=clock)


@pytest.fixture
def auth(fake: FakeProcore, clock: FakeClock) -> ProcoreAuth:
    return ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
    )


@pytest.fixture
def client(fake: FakeProcore, auth: ProcoreAuth, clock: FakeClock) -> Iterator[ProcoreClient]:
    http = httpx.Client(transport=fake.transport())
    with ProcoreClient(
        auth=auth,
        company_id=fake.company_id,
        http_client=http,
        clock=clock,
        limiters=RateLimiterRegistry(),
    ) as procore:
        yield procore
    http.close()
