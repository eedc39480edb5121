"""No secret reaches a log record, an exception or a repr during a whole session."""

from __future__ import annotations

import logging

import httpx
import pytest

from qbprocore.procore import (
    MemoryTokenStore,
    ProcoreAuth,
    ProcoreClient,
    RateLimiterRegistry,
    ReauthorizationRequiredError,
)
from qbprocore.testing import FakeClock, FakeProcore


def test_a_full_session_logs_no_secret(
    fake: FakeProcore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryTokenStore()
    auth = ProcoreAuth.authorization_code(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        redirect_uri="https://connector.example/cb",
        store=store,
        clock=clock,
    )
    http = httpx.Client(transport=fake.transport())
    client = ProcoreClient(
        auth=auth,
        company_id=fake.company_id,
        http_client=http,
        clock=clock,
        limiters=RateLimiterRegistry(),
    )
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        url, state = auth.authorization_url()
        first = client.exchange_code(http.get(url).headers["Location"], state=state)
        fake.inject_fault("status", status=503, retry_after=1)
        list(client.vendors.list())
        clock.advance(fake.token_lifetime)
        second = auth.get_token(http)
        client.vendors.sync([{"origin_id": "A", "name": "A"}])
        fake.revoke_refresh_tokens()
        clock.advance(fake.token_lifetime)
        with pytest.raises(ReauthorizationRequiredError) as info:
            list(client.vendors.list())
        texts += [str(info.value), repr(info.value)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [repr(x) for x in (auth, client, store, first, second, auth.credentials)]
    secrets = {
        fake.client_secret,
        first.access_token,
        second.access_token,
        str(first.refresh_token),
        str(second.refresh_token),
    }
    assert any("retrying" in t for t in texts)  # the logs were really captured
    for text in texts:
        for secret in secrets:
            assert secret not in text, text
