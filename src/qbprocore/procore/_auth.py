"""OAuth2 for Procore on authlib's protocol helpers, with single-flight refresh.

authlib builds the authorization URL, the token-request bodies and parses the redirect; this
module adds what Procore needs on top and keeps the HTTP client our own (wrapped, not
inherited), so the same httpx seam serves the API and the login host:

- expiry always from ``expires_in``; refresh ``refresh_margin`` seconds ahead of it;
- refresh tokens are single-use: the new pair is saved to the store *before* it is returned;
- one refresh at a time per credential: a thread lock, an asyncio lock per event loop, and the
  store's cross-process lock; whoever waited re-reads the store and reuses the fresh pair;
- ``invalid_grant`` → re-read the store once (another process may have won the race without
  our lock, e.g. an older deployment) → `ReauthorizationRequiredError`;
- client credentials have no refresh token: the grant simply runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlparse

import httpx

# authlib ships no type information; these helpers are plain functions returning str/dict.
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.errors import (  # type: ignore[import-untyped]
    MismatchingStateException,
    MissingCodeException,
)
from authlib.oauth2.rfc6749.parameters import (  # type: ignore[import-untyped]
    parse_authorization_code_response,
    prepare_grant_uri,
    prepare_token_request,
)

from qbprocore.procore._clock import Clock, SystemClock
from qbprocore.procore._constants import USER_AGENT
from qbprocore.procore._environments import Environment
from qbprocore.procore._errors import (
    APIConnectionError,
    APITimeoutError,
    OAuthError,
    ReauthorizationRequiredError,
)
from qbprocore.procore._stores import MemoryTokenStore, TokenStore
from qbprocore.procore._tokens import ClientCredentials, Token

__all__ = ["GrantType", "ProcoreAuth"]

GrantType = Literal["authorization_code", "client_credentials"]

_log = logging.getLogger("qbprocore.procore.auth")
_FORM = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Accept": "application/json",
    "User-Agent": USER_AGENT,
}
_TOKEN_RETRIES = 3


class ProcoreAuth:
    """Tokens for one credential: obtains, caches, refreshes and persists them.

    Share one instance between the sync and async clients of a process; share the *store*
    between processes. Use `client_credentials` for service accounts and
    `authorization_code` for apps a user installs.

    Args:
        environment: Where to log in.
        credentials: The app's client id and secret for that environment.
        grant: ``"client_credentials"`` or ``"authorization_code"``.
        store: Where tokens live; a process-local `MemoryTokenStore` by default.
        key: The store key; defaults to ``"<environment>:<client id>"``. Give each authorizing
            user (or Procore company) its own key when one app serves many.
        refresh_margin: Refresh this many seconds before expiry (default 300).
        clock: Time source (tests inject a fake one).
        scope: Optional OAuth2 scope.
    """

    def __init__(
        self,
        *,
        environment: Environment,
        credentials: ClientCredentials,
        grant: GrantType,
        store: TokenStore | None = None,
        key: str | None = None,
        refresh_margin: float = 300.0,
        clock: Clock | None = None,
        scope: str | None = None,
    ) -> None:
        if refresh_margin < 0:
            raise ValueError(f"refresh_margin must be >= 0 seconds, got {refresh_margin}")
        self.environment = environment
        self.credentials = credentials
        self.grant: GrantType = grant
        self.store: TokenStore = store if store is not None else MemoryTokenStore()
        self.key = key or f"{environment.name}:{credentials.client_id}"
        self.refresh_margin = refresh_margin
        self.clock: Clock = clock or SystemClock()
        self.scope = scope
        self._cached: Token | None = None
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        #: Number of token-endpoint calls made (grants and refreshes); for tests and benches.
        self.token_requests = 0

    @classmethod
    def client_credentials(
        cls,
        *,
        environment: Environment,
        client_id: str,
        client_secret: str,
        **kwargs: Any,
    ) -> ProcoreAuth:
        """Auth for a service account (Developer Managed Service Account).

        Args:
            environment: Where to log in.
            client_id: The app's client id.
            client_secret: The app's client secret.
            **kwargs: Further `ProcoreAuth` arguments (``store``, ``clock``...).

        Returns:
            The auth object.
        """
        creds = ClientCredentials(client_id=client_id, client_secret=client_secret)
        return cls(environment=environment, credentials=creds, grant="client_credentials", **kwargs)

    @classmethod
    def authorization_code(
        cls,
        *,
        environment: Environment,
        client_id: str,
        client_secret: str,
        redirect_uri: str | None = None,
        **kwargs: Any,
    ) -> ProcoreAuth:
        """Auth for a user who authorizes the app in a browser.

        Args:
            environment: Where to log in.
            client_id: The app's client id.
            client_secret: The app's client secret.
            redirect_uri: The registered redirect URI; omit for the out-of-band flow, where
                Procore shows the code for the user to paste.
            **kwargs: Further `ProcoreAuth` arguments (``store``, ``key``...).

        Returns:
            The auth object.
        """
        creds = ClientCredentials(client_id=client_id, client_secret=client_secret)
        if redirect_uri:
            creds = ClientCredentials(
                client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
            )
        return cls(environment=environment, credentials=creds, grant="authorization_code", **kwargs)

    def __repr__(self) -> str:
        return (
            f"ProcoreAuth(environment={self.environment.name!r}, grant={self.grant!r}, "
            f"key={self.key!r}, credentials={self.credentials!r})"
        )

    # -- authorization code: step 1 ------------------------------------------------------

    def authorization_url(self, *, state: str | None = None) -> tuple[str, str]:
        """The URL to send the user to, and the ``state`` to check on the way back.

        Args:
            state: Anti-CSRF value; a random one is generated when omitted. Keep it in the
                user's session and pass it to `exchange_code`.

        Returns:
            ``(url, state)``.
        """
        state = state or generate_token(32)
        url = prepare_grant_uri(
            self.environment.authorize_url,
            client_id=self.credentials.client_id,
            response_type="code",
            redirect_uri=self.credentials.redirect_uri,
            scope=self.scope,
            state=state,
        )
        return str(url), state

    def _code_from(self, code_or_url: str, state: str | None) -> str:
        # A full redirect URL carries the code and the state; the out-of-band variant gives
        # the user a bare code to paste (nothing to check the state against).
        if urlparse(code_or_url).scheme in ("http", "https"):
            try:
                params = parse_authorization_code_response(code_or_url, state=state)
            except MismatchingStateException as exc:
                raise OAuthError(
                    "state in the redirect does not match the one issued (possible CSRF)",
                    error="mismatching_state",
                ) from exc
            except MissingCodeException as exc:
                raise OAuthError("redirect URL carries no code", error="missing_code") from exc
            return str(params["code"])
        code = code_or_url.strip()
        if not code:
            raise OAuthError("empty authorization code", error="missing_code")
        return code

    def _code_body(self, code: str) -> str:
        return str(
            prepare_token_request(
                "authorization_code",
                code=code,
                redirect_uri=self.credentials.redirect_uri,
                client_id=self.credentials.client_id,
                client_secret=self.credentials.client_secret,
            )
        )

    def exchange_code(
        self, http: httpx.Client, code_or_redirect_url: str, *, state: str | None = None
    ) -> Token:
        """Exchange the authorization code for a token pair and store it.

        Args:
            http: The httpx client to use (the `ProcoreClient`'s own, typically).
            code_or_redirect_url: The pasted code (out-of-band) or the full redirect URL.
            state: The state from `authorization_url`, checked against the redirect.

        Returns:
            The stored token.
        """
        body = self._code_body(self._code_from(code_or_redirect_url, state))
        token = self._parse(self._post_sync(http, body, "authorization_code"), "authorization_code")
        return self._persist(token)

    async def aexchange_code(
        self, http: httpx.AsyncClient, code_or_redirect_url: str, *, state: str | None = None
    ) -> Token:
        """Async `exchange_code`."""
        body = self._code_body(self._code_from(code_or_redirect_url, state))
        token = self._parse(
            await self._post_async(http, body, "authorization_code"), "authorization_code"
        )
        return self._persist(token)

    # -- the token the client should use -------------------------------------------------

    def _fresh(self, token: Token | None) -> bool:
        return token is not None and not token.expires_within(
            self.refresh_margin, now=self.clock.time()
        )

    def _peek(self) -> Token | None:
        cached = self._cached
        if self._fresh(cached):
            return cached
        stored = self.store.load(self.key)
        if self._fresh(stored):
            self._cached = stored
            return stored
        return None

    def get_token(self, http: httpx.Client, *, stale: Token | None = None) -> Token:
        """A token valid for at least ``refresh_margin`` seconds, refreshing if needed.

        Args:
            http: The httpx client for the token endpoint.
            stale: A token the API just refused (401); never return it again.

        Returns:
            A usable token.
        """
        if stale is None and (token := self._peek()) is not None:
            return token
        with self._thread_lock, self.store.lock(self.key):
            current = self.store.load(self.key)
            if self._fresh(current) and not _same(current, stale):
                # Another thread or process refreshed while we waited for the lock.
                self._cached = current
                return current  # type: ignore[return-value]
            return self._renew_sync(http, current)

    async def aget_token(self, http: httpx.AsyncClient, *, stale: Token | None = None) -> Token:
        """Async `get_token` (tasks of one loop queue on an asyncio lock first)."""
        if stale is None and (token := self._peek()) is not None:
            return token
        store_lock = self.store.lock(self.key)
        async with (
            self._loop_lock(),
            _hold(self._thread_lock.acquire, self._thread_lock.release),
            _hold(store_lock.__enter__, lambda: store_lock.__exit__(None, None, None)),
        ):
            current = self.store.load(self.key)
            if self._fresh(current) and not _same(current, stale):
                self._cached = current
                return current  # type: ignore[return-value]
            return await self._renew_async(http, current)

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._loop_locks.get(loop)
        if lock is None:
            lock = self._loop_locks[loop] = asyncio.Lock()
        return lock

    # -- grants ---------------------------------------------------------------------------

    def _grant_body(self, current: Token | None) -> tuple[str, str]:
        creds = self.credentials
        if self.grant == "client_credentials":
            body = prepare_token_request(
                "client_credentials",
                client_id=creds.client_id,
                client_secret=creds.client_secret,
                scope=self.scope,
            )
            return str(body), "client_credentials"
        if current is None or not current.refresh_token:
            raise ReauthorizationRequiredError(
                f"no refresh token stored under {self.key!r}: the user must authorize the app "
                "(authorization_url + exchange_code)",
                error="no_token",
            )
        body = prepare_token_request(
            "refresh_token",
            refresh_token=current.refresh_token,
            redirect_uri=creds.redirect_uri,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
        )
        return str(body), "refresh_token"

    def _renew_sync(self, http: httpx.Client, current: Token | None) -> Token:
        body, grant = self._grant_body(current)
        try:
            token = self._parse(self._post_sync(http, body, grant), grant)
        except OAuthError as exc:
            retry = self._after_invalid_grant(exc, current)
            if isinstance(retry, Token):
                return retry
            token = self._parse(self._post_sync(http, retry[0], retry[1]), retry[1])
        return self._persist(token)

    async def _renew_async(self, http: httpx.AsyncClient, current: Token | None) -> Token:
        body, grant = self._grant_body(current)
        try:
            token = self._parse(await self._post_async(http, body, grant), grant)
        except OAuthError as exc:
            retry = self._after_invalid_grant(exc, current)
            if isinstance(retry, Token):
                return retry
            token = self._parse(await self._post_async(http, retry[0], retry[1]), retry[1])
        return self._persist(token)

    def _after_invalid_grant(
        self, exc: OAuthError, current: Token | None
    ) -> Token | tuple[str, str]:
        """Decide what to do after a refused grant: reuse, retry once, or give up."""
        if exc.error != "invalid_grant" or self.grant == "client_credentials":
            raise exc
        # Re-read the store once: a process that does not share our lock may have used the
        # refresh token first and saved the new pair.
        reread = self.store.load(self.key)
        if (
            reread is not None
            and current is not None
            and reread.refresh_token != current.refresh_token
        ):
            _log.info("refresh token was already rotated by another holder; using the stored pair")
            if self._fresh(reread):
                self._cached = reread
                return reread
            return self._grant_body(reread)
        self._cached = None
        raise ReauthorizationRequiredError(
            f"the refresh token for {self.key!r} is spent or revoked and the store holds no "
            "newer one: the user must authorize the app again",
            error="invalid_grant",
            description=exc.description,
            status_code=exc.status_code,
        ) from exc

    def _persist(self, token: Token) -> Token:
        # Save BEFORE anyone uses the token: a refresh token is single-use, so a pair that only
        # ever lived in memory is lost for good if the process dies now.
        self.store.save(self.key, token)
        self._cached = token
        _log.info(
            "obtained Procore token for %s via %s, expires in %.0f s",
            self.key,
            token.grant_type,
            token.expires_at - self.clock.time(),
        )
        return token

    def _token_retry(
        self, grant: str, attempt: int, response: httpx.Response | None, exc: Exception | None
    ) -> float | None:
        """Seconds to wait before resending a token request, or ``None`` to give up.

        Only resends that cannot burn a single-use secret: a connection that was never made
        (any grant), or a client-credentials grant (no secret is consumed) after a timeout,
        429 or 5xx. A refresh or code exchange whose answer was lost is not resent: the old
        refresh token or code may already be spent, and the store re-read handles that.
        """
        if attempt >= _TOKEN_RETRIES:
            return None
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        harmless = grant == "client_credentials" and (
            isinstance(exc, httpx.TimeoutException)
            or (
                response is not None
                and (response.status_code == 429 or response.status_code >= 500)
            )
        )
        if not (never_sent or harmless):
            return None
        wait = 0.5 * 2.0**attempt * (1 + 0.25 * self.clock.random())
        reason = type(exc).__name__ if exc is not None else getattr(response, "status_code", "")
        _log.warning(
            "retrying %s token request after %s (retry %d of %d) in %.2f s",
            grant,
            reason,
            attempt + 1,
            _TOKEN_RETRIES,
            wait,
        )
        return wait

    def _token_error(self, exc: httpx.TransportError | None) -> APIConnectionError:
        url = self.environment.token_url
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError("token request timed out", method="POST", url=url)
        return APIConnectionError(
            f"token request failed: {type(exc).__name__}", method="POST", url=url
        )

    def _post_sync(self, http: httpx.Client, body: str, grant: str) -> httpx.Response:
        attempt = 0
        while True:
            self.token_requests += 1
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            try:
                response = http.post(self.environment.token_url, content=body, headers=_FORM)
            except httpx.TransportError as exc:
                failure = exc
            wait = self._token_retry(grant, attempt, response, failure)
            if wait is None:
                if response is None:  # then failure is set
                    raise self._token_error(failure) from failure
                return response
            self.clock.sleep(wait)
            attempt += 1

    async def _post_async(self, http: httpx.AsyncClient, body: str, grant: str) -> httpx.Response:
        attempt = 0
        while True:
            self.token_requests += 1
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            try:
                response = await http.post(self.environment.token_url, content=body, headers=_FORM)
            except httpx.TransportError as exc:
                failure = exc
            wait = self._token_retry(grant, attempt, response, failure)
            if wait is None:
                if response is None:  # then failure is set
                    raise self._token_error(failure) from failure
                return response
            await self.clock.asleep(wait)
            attempt += 1

    def _parse(self, response: httpx.Response, grant: str) -> Token:
        try:
            payload: Any = response.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode
            payload = {}
        if response.status_code != 200 or not isinstance(payload, dict) or "error" in payload:
            data = payload if isinstance(payload, dict) else {}
            error = str(data.get("error") or f"http_{response.status_code}")
            description = str(data.get("error_description") or "")
            raise OAuthError(
                f"token endpoint refused the {grant} grant: {error}"
                + (f" ({description})" if description else ""),
                error=error,
                description=description,
                status_code=response.status_code,
            )
        try:
            return Token.from_response(payload, now=self.clock.time(), grant_type=grant)
        except (TypeError, ValueError) as exc:  # TypeError: float() of a list, an object …
            raise OAuthError(f"malformed token response: {exc}", error="malformed") from exc


def _same(token: Token | None, stale: Token | None) -> bool:
    return token is not None and stale is not None and token.access_token == stale.access_token


@contextlib.asynccontextmanager
async def _hold(acquire: Callable[[], Any], release: Callable[[], Any]) -> Any:
    """Acquire a blocking lock in a worker thread so the event loop keeps running.

    If the waiting task is cancelled, the worker may still get the lock later; a callback
    then releases it, so a cancelled waiter can never leave the lock held forever.
    """
    future: Awaitable[Any] = asyncio.ensure_future(asyncio.to_thread(acquire))
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        fut = asyncio.ensure_future(future)
        fut.add_done_callback(
            lambda f: release() if not f.cancelled() and f.exception() is None else None
        )
        raise
    try:
        yield
    finally:
        release()
