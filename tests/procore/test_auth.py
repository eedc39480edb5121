"""OAuth2: both grants, expiry margin, single-use refresh tokens, single-flight refresh."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from qbprocore.procore import (
    OOB_REDIRECT_URI,
    AsyncProcoreClient,
    FileTokenStore,
    MemoryTokenStore,
    OAuthError,
    ProcoreAuth,
    ProcoreClient,
    RateLimiterRegistry,
    ReauthorizationRequiredError,
    Token,
    TokenCipher,
    TokenStore,
)
from qbprocore.testing import FakeClock, FakeProcore

REDIRECT = "https://connector.example/callback"


def _code_auth(
    fake: FakeProcore,
    clock: FakeClock,
    store: TokenStore | None = None,
    *,
    redirect_uri: str | None = REDIRECT,
    **kw: Any,
) -> ProcoreAuth:
    return ProcoreAuth.authorization_code(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        redirect_uri=redirect_uri,
        store=store,
        clock=clock,
        **kw,
    )


def _login(auth: ProcoreAuth, http: httpx.Client) -> Token:
    """Run the browser part against the fake: authorize, follow to the redirect, exchange."""
    url, state = auth.authorization_url()
    answer = http.get(url)
    assert answer.status_code == 302
    return auth.exchange_code(http, answer.headers["Location"], state=state)


@pytest.fixture
def http(fake: FakeProcore) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake.transport()) as client:
        yield client


def test_authorization_url_carries_client_redirect_and_state(
    fake: FakeProcore, clock: FakeClock
) -> None:
    auth = _code_auth(fake, clock)
    url, state = auth.authorization_url()
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == fake.environment.authorize_url
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [fake.client_id]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["state"] == [state]
    assert len(state) >= 20
    assert auth.authorization_url()[1] != state  # fresh state every time


def test_code_exchange_stores_the_pair(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    store = MemoryTokenStore()
    auth = _code_auth(fake, clock, store)
    token = _login(auth, http)
    assert token.refresh_token
    assert store.load(auth.key) == token
    assert token.expires_at == clock.time() + fake.token_lifetime


def test_mismatching_state_is_refused(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    auth = _code_auth(fake, clock)
    url, _state = auth.authorization_url()
    location = http.get(url).headers["Location"]
    with pytest.raises(OAuthError, match="state"):
        auth.exchange_code(http, location, state="forged")


def test_out_of_band_flow_with_a_pasted_code(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    auth = _code_auth(fake, clock, redirect_uri=None)
    assert auth.credentials.redirect_uri == OOB_REDIRECT_URI
    url, _ = auth.authorization_url()
    page = http.get(url, follow_redirects=True)
    code = page.url.path.rsplit("/", 1)[1]  # Procore shows it at /oauth/authorize/<code>
    assert code in page.text
    token = auth.exchange_code(http, f"  {code}\n")
    assert token.refresh_token


def test_token_is_reused_until_the_margin_then_refreshed(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    auth = _code_auth(fake, clock, refresh_margin=300)
    first = _login(auth, http)
    calls = fake.token_calls
    clock.advance(fake.token_lifetime - 301)
    assert auth.get_token(http) == first
    assert fake.token_calls == calls  # no refresh on every call
    clock.advance(2)  # now inside the margin
    second = auth.get_token(http)
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    assert fake.token_calls == calls + 1


def test_rotated_refresh_token_is_saved_before_first_use(
    fake: FakeProcore, clock: FakeClock
) -> None:
    events: list[tuple[str, str]] = []

    class Recording(MemoryTokenStore):
        def save(self, key: str, token: Token) -> None:
            events.append(("save", token.access_token))
            super().save(key, token)

    def handler(request: httpx.Request) -> httpx.Response:
        auth_header = request.headers.get("Authorization", "")
        if auth_header:
            events.append(("use", auth_header.removeprefix("Bearer ")))
        return fake.handle(request)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    auth = _code_auth(fake, clock, Recording())
    _login(auth, http)
    client = ProcoreClient(
        auth=auth,
        company_id=fake.company_id,
        http_client=http,
        clock=clock,
        limiters=RateLimiterRegistry(),
    )
    clock.advance(fake.token_lifetime)  # expired: the next call refreshes
    list(client.vendors.list())
    saved = [tok for kind, tok in events if kind == "save"]
    first_use = {tok: i for i, (kind, tok) in reversed(list(enumerate(events))) if kind == "use"}
    for tok in saved:
        if tok in first_use:
            assert events.index(("save", tok)) < first_use[tok]
    assert len(saved) == 2  # the code exchange and the refresh


def test_spent_refresh_token_rereads_store_then_requires_reauthorization(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    class Counting(MemoryTokenStore):
        def __init__(self) -> None:
            super().__init__()
            self.loads = 0

        def load(self, key: str) -> Token | None:
            self.loads += 1
            return super().load(key)

    store = Counting()
    auth = _code_auth(fake, clock, store)
    _login(auth, http)
    fake.revoke_refresh_tokens()
    clock.advance(fake.token_lifetime)
    store.loads = 0
    with pytest.raises(ReauthorizationRequiredError, match="authorize the app again") as info:
        auth.get_token(http)
    assert info.value.error == "invalid_grant"
    # _peek, the read under the lock, and exactly one re-read after invalid_grant.
    assert store.loads == 3
    assert fake.client_secret not in str(info.value)
    assert fake.token_calls == 2  # the code exchange and the one refused refresh


def test_invalid_grant_uses_a_pair_another_holder_saved(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    """A holder outside our lock rotated the pair; the re-read finds it and we carry on."""
    store = MemoryTokenStore()
    auth = _code_auth(fake, clock, store)
    mine = _login(auth, http)
    clock.advance(fake.token_lifetime)

    class Racing(MemoryTokenStore):
        """Simulates another process refreshing right after our read of the store."""

        def __init__(self) -> None:
            super().__init__()
            self.raced = False
            self.loads = 0

        def load(self, key: str) -> Token | None:
            current = super().load(key)
            self.loads += 1
            # Race on the read made under the lock (the 2nd; the 1st is the lock-free peek):
            # our refresh then meets invalid_grant and must find the winner's pair.
            if not self.raced and current is not None and self.loads == 2:
                self.raced = True
                other = _code_auth(fake, clock, MemoryTokenStore(), key=key)
                other.store.save(key, current)
                winner = other.get_token(http)  # spends the refresh token
                super().save(key, winner)
            return current

    racing = Racing()
    racing.save(auth.key, mine)
    racer_auth = _code_auth(fake, clock, racing)
    before = fake.token_calls
    token = racer_auth.get_token(http)
    assert token == racing.load(auth.key)
    assert token.refresh_token != mine.refresh_token
    assert fake.token_calls - before == 2  # the winner's refresh and our refused one


def test_no_stored_token_for_code_grant_requires_authorization(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    with pytest.raises(ReauthorizationRequiredError, match="authorize"):
        _code_auth(fake, clock).get_token(http)


def test_client_credentials_rerun_the_grant_without_refresh_token(
    fake: FakeProcore, auth: ProcoreAuth, clock: FakeClock, http: httpx.Client
) -> None:
    first = auth.get_token(http)
    assert first.refresh_token is None
    clock.advance(fake.token_lifetime)
    second = auth.get_token(http)
    assert second.access_token != first.access_token
    assert second.grant_type == "client_credentials"


def test_bad_client_secret_is_an_oauth_error_without_the_secret(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    auth = ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret="wrong-secret-value-1234",
        clock=clock,
    )
    with pytest.raises(OAuthError) as info:
        auth.get_token(http)
    assert info.value.error == "invalid_client"
    assert "wrong-secret-value-1234" not in str(info.value) + repr(auth)


def test_one_refresh_and_retry_on_401(fake: FakeProcore, client: ProcoreClient) -> None:
    list(client.companies.list())
    before = fake.token_calls
    fake.expire_tokens()  # tokens die early (revoked); our clock still thinks they are fresh
    companies = list(client.companies.list())
    assert companies
    assert fake.token_calls == before + 1
    statuses = [c.status for c in fake.api_calls(path="/companies")]
    assert statuses == [200, 401, 200]


def test_persistent_401_is_raised_after_one_retry(fake: FakeProcore, clock: FakeClock) -> None:
    from qbprocore.procore import AuthenticationError

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth"):
            return fake.handle(request)
        return httpx.Response(401, json={"error": "invalid_token"})

    auth = ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
    )
    client = ProcoreClient(
        auth=auth,
        company_id=1,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=clock,
        limiters=RateLimiterRegistry(),
    )
    with pytest.raises(AuthenticationError):
        client.request("GET", "/rest/v1.0/vendors")
    assert auth.token_requests == 2


def test_refresh_is_single_flight_across_threads_and_store_sharers(
    fake: FakeProcore, clock: FakeClock, tmp_path: Path
) -> None:
    """Eight threads, two ProcoreAuth objects (as two processes would have), one file store:
    exactly one refresh happens and everyone ends up with the same token."""
    cipher = TokenCipher([TokenCipher.generate_key()])
    path = tmp_path / "tokens.json"
    http = httpx.Client(transport=fake.transport())
    seed_auth = _code_auth(fake, clock, FileTokenStore(path, cipher=cipher))
    _login(seed_auth, http)
    auths = [_code_auth(fake, clock, FileTokenStore(path, cipher=cipher)) for _ in range(2)]
    clock.advance(fake.token_lifetime)
    before = fake.token_calls
    barrier = threading.Barrier(8)
    results: list[Token] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            results.append(auths[i % 2].get_token(http))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert fake.token_calls == before + 1
    assert len({t.access_token for t in results}) == 1


def test_refresh_is_single_flight_across_asyncio_tasks(fake: FakeProcore, clock: FakeClock) -> None:
    async def main() -> tuple[int, set[str]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
            auth = _code_auth(fake, clock)
            url, state = auth.authorization_url()
            location = (await http.get(url)).headers["Location"]
            await auth.aexchange_code(http, location, state=state)
            clock.advance(fake.token_lifetime)
            before = fake.token_calls
            tokens = await asyncio.gather(*(auth.aget_token(http) for _ in range(20)))
            return fake.token_calls - before, {t.access_token for t in tokens}

    refreshes, distinct = asyncio.run(main())
    assert refreshes == 1
    assert len(distinct) == 1


def test_async_client_refreshes_once_on_401(fake: FakeProcore, clock: FakeClock) -> None:
    async def main() -> list[int]:
        auth = ProcoreAuth.client_credentials(
            environment=fake.environment,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            clock=clock,
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
            client = AsyncProcoreClient(
                auth=auth,
                company_id=fake.company_id,
                http_client=http,
                clock=clock,
                limiters=RateLimiterRegistry(),
            )
            [c async for c in client.companies.list()]
            fake.expire_tokens()
            [c async for c in client.companies.list()]
        return [c.status for c in fake.calls]

    assert asyncio.run(main()) == [200, 401, 200]


def test_store_lock_is_taken_around_each_refresh(fake: FakeProcore, clock: FakeClock) -> None:
    held: list[bool] = []

    class Watching(MemoryTokenStore):
        def __init__(self) -> None:
            super().__init__()
            self.locked = False

        def lock(self, key: str) -> AbstractContextManager[None]:
            inner = super().lock(key)
            outer = self

            class _Lock:
                def __enter__(self) -> None:
                    inner.__enter__()
                    outer.locked = True

                def __exit__(self, *exc: object) -> None:
                    outer.locked = False
                    inner.__exit__(None, None, None)

            return _Lock()

        def save(self, key: str, token: Token) -> None:
            held.append(self.locked)
            super().save(key, token)

    store = Watching()
    auth = ProcoreAuth.client_credentials(
        environment=fake.environment,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        clock=clock,
        store=store,
    )
    http = httpx.Client(transport=fake.transport())
    auth.get_token(http)
    clock.advance(fake.token_lifetime)
    auth.get_token(http)
    assert held == [True, True]


def _flaky_token_endpoint(
    fake: FakeProcore, failures: list[object]
) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            seen.append(request)
            if failures:
                failure = failures.pop(0)
                if isinstance(failure, Exception):
                    raise failure
                assert isinstance(failure, httpx.Response)
                return failure
        return fake.handle(request)

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def test_client_credentials_grant_is_retried_on_5xx_and_timeouts(
    fake: FakeProcore, auth: ProcoreAuth, clock: FakeClock
) -> None:
    from qbprocore.procore import USER_AGENT

    http, seen = _flaky_token_endpoint(fake, [httpx.Response(503), httpx.ReadTimeout("slow")])
    assert auth.get_token(http).access_token
    assert len(seen) == 3
    assert len(clock.sleeps) == 2
    assert all(r.headers["User-Agent"] == USER_AGENT for r in seen)


def test_refresh_is_not_resent_when_its_answer_was_lost(
    fake: FakeProcore, clock: FakeClock
) -> None:
    from qbprocore.procore import APITimeoutError

    http = httpx.Client(transport=fake.transport())
    auth = _code_auth(fake, clock)
    _login(auth, http)
    clock.advance(fake.token_lifetime)
    flaky, seen = _flaky_token_endpoint(fake, [httpx.ReadTimeout("lost")])
    with pytest.raises(APITimeoutError):
        auth.get_token(flaky)
    assert len(seen) == 1


def test_refresh_is_resent_when_the_connection_was_never_made(
    fake: FakeProcore, clock: FakeClock
) -> None:
    http = httpx.Client(transport=fake.transport())
    auth = _code_auth(fake, clock)
    first = _login(auth, http)
    clock.advance(fake.token_lifetime)
    flaky, seen = _flaky_token_endpoint(fake, [httpx.ConnectError("refused")])
    assert auth.get_token(flaky).refresh_token != first.refresh_token
    assert len(seen) == 2


def test_async_refresh_with_a_file_store(
    fake: FakeProcore, clock: FakeClock, tmp_path: Path
) -> None:
    """The async path takes the same cross-process lock (in a worker thread) and saves first."""
    store = FileTokenStore(tmp_path / "t.json", cipher=TokenCipher([TokenCipher.generate_key()]))

    async def main() -> tuple[Token, Token]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
            auth = _code_auth(fake, clock, store)
            url, state = auth.authorization_url()
            location = (await http.get(url)).headers["Location"]
            first = await auth.aexchange_code(http, location, state=state)
            clock.advance(fake.token_lifetime)
            tokens = await asyncio.gather(*(auth.aget_token(http) for _ in range(5)))
            assert len({t.access_token for t in tokens}) == 1
            return first, tokens[0]

    first, second = asyncio.run(main())
    assert second.refresh_token != first.refresh_token
    assert store.load(f"{fake.environment.name}:{fake.client_id}") == second


def test_cancelled_waiter_never_leaves_the_refresh_lock_held(
    fake: FakeProcore, auth: ProcoreAuth, clock: FakeClock
) -> None:
    """A task cancelled while waiting for the (thread) refresh lock must not keep it: a later
    refresh still gets through (a leaked lock would make it wait forever)."""
    held = auth._thread_lock
    held.acquire()  # someone else is refreshing

    async def main() -> Token:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            task = asyncio.create_task(auth.aget_token(http))
            await asyncio.sleep(0.01)  # let it start waiting in its worker thread
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            held.release()  # the cancelled waiter's worker now gets the lock...
            # ...and must hand it back, or this second refresh would never finish.
            try:
                return await asyncio.wait_for(auth.aget_token(http), timeout=10)
            except asyncio.TimeoutError:  # an alias of TimeoutError only from Python 3.11
                held.release()  # unblock the stuck worker thread so the loop can close
                raise AssertionError("the cancelled waiter leaked the refresh lock") from None

    assert asyncio.run(main()).access_token


def test_reread_pair_that_is_itself_expiring_is_refreshed_once(
    fake: FakeProcore, clock: FakeClock, http: httpx.Client
) -> None:
    """After invalid_grant the store holds a newer pair that is also near expiry: it is
    refreshed once (with its own refresh token) instead of giving up."""
    import attrs

    auth = _code_auth(fake, clock, MemoryTokenStore())
    mine = _login(auth, http)
    clock.advance(fake.token_lifetime)

    class Racing(MemoryTokenStore):
        def __init__(self) -> None:
            super().__init__()
            self.raced = False
            self.loads = 0

        def load(self, key: str) -> Token | None:
            current = super().load(key)
            self.loads += 1
            # Race on the read made under the lock (the 2nd; the 1st is the lock-free peek):
            # our refresh then meets invalid_grant and must find the winner's pair.
            if not self.raced and current is not None and self.loads == 2:
                self.raced = True
                other = _code_auth(fake, clock, MemoryTokenStore(), key=key)
                other.store.save(key, current)
                winner = other.get_token(http)
                # The winner saved a pair that is already inside our refresh margin.
                super().save(key, attrs.evolve(winner, expires_at=clock.time() + 1))
            return current

    racing = Racing()
    racing.save(auth.key, mine)
    before = fake.token_calls
    token = _code_auth(fake, clock, racing).get_token(http)
    assert fake.token_calls - before == 3  # winner, our refused refresh, refresh of the re-read
    assert token.expires_at == clock.time() + fake.token_lifetime
    assert racing.load(auth.key) == token
