"""`create_app`: the reference connector as one ASGI application.

Routes:

- ``POST /qbwc`` — the Web Connector's SOAP endpoint (``GET /qbwc?wsdl``: the WSDL);
- ``GET /oauth/start?connection=ID`` — sends a browser to Procore to authorize the app for
  a connection;
- ``GET /oauth/callback`` — Procore's redirect back: the code is exchanged and the tokens
  kept, encrypted, in the token store;
- ``GET /health`` — ``{"ok": …, "database": …, "schema_version": …}``.

Every request is logged as one JSON line (method, path, status, ms). A `SyncWorker` runs
the engine for each connected connection in the background, on a schedule and after each
Web Connector session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

import httpx

from qbprocore import procore, qbwc
from qbprocore.server._config import ConfigError, ServerConfig, open_store
from qbprocore.server._worker import NotifyingWorkSource, SyncWorker
from qbprocore.sync import (
    Actor,
    Connection,
    ConnectionManager,
    ConnectionState,
    Store,
    StoreSessionStore,
    SyncEngine,
    SyncError,
)

__all__ = ["ConnectorApp", "create_app", "credentials_key", "procore_environment"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

access_log = logging.getLogger("qbprocore.server.access")
log = logging.getLogger("qbprocore.server")

_STATE_TTL = 600.0  # seconds a browser has to come back from Procore's consent page
_COOKIE = "qbprocore_oauth"


def procore_environment(config: ServerConfig) -> procore.Environment:
    """The `qbprocore.procore.Environment` the config names."""
    settings = config.procore
    known = {
        "production": procore.PRODUCTION,
        "developer-sandbox": procore.DEVELOPER_SANDBOX,
        "monthly-sandbox": procore.MONTHLY_SANDBOX,
    }
    if settings.environment in known:
        return known[settings.environment]
    return procore.Environment.custom(
        login_url=settings.login_url, api_url=settings.api_url, name="custom"
    )


def credentials_key(connection: Connection) -> str:
    """The token-store key of a connection's Procore tokens."""
    return (
        connection.credentials_ref
        or f"procore/{connection.environment}/{connection.procore_company_id}"
    )


class _Procore:
    """Procore clients per connection, over one token store and one httpx client."""

    def __init__(
        self,
        config: ServerConfig,
        token_store: procore.TokenStore | None,
        http: httpx.Client,
    ) -> None:
        self.config = config
        self.environment = procore_environment(config)
        self.token_store = token_store
        self.http = http
        self._clients: dict[str, procore.ProcoreClient] = {}
        self._lock = threading.Lock()

    def auth(self, connection: Connection) -> procore.ProcoreAuth:
        settings = self.config.procore
        if self.token_store is None or not settings.client_id or not settings.client_secret:
            raise SyncError(
                "Procore is not configured: set [procore].client_id,"
                " QBPROCORE_PROCORE_CLIENT_SECRET, [procore].token_store and QBPROCORE_TOKEN_KEY"
            )
        if connection.environment != self.environment.name:
            raise SyncError(
                f"connection {connection.id!r} uses the Procore environment"
                f" {connection.environment!r}, but this server signs in to"
                f" {self.environment.name!r}: run a separate server (and database) per"
                " environment"
            )
        return procore.ProcoreAuth.authorization_code(
            environment=self.environment,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            redirect_uri=self.config.redirect_uri,
            store=self.token_store,
            key=credentials_key(connection),
        )

    def client(self, connection: Connection) -> procore.ProcoreClient:
        with self._lock:
            client = self._clients.get(connection.id)
            if client is None or client.company_id != connection.procore_company_id:
                client = procore.ProcoreClient(
                    auth=self.auth(connection),
                    company_id=connection.procore_company_id,
                    http_client=self.http,
                )
                self._clients[connection.id] = client
            return client


def _authenticator(
    config: ServerConfig, environ: MutableMapping[str, str] | None
) -> qbwc.PasswordAuthenticator:
    env = os.environ if environ is None else environ
    auth = qbwc.PasswordAuthenticator()
    for i, user in enumerate(config.users):
        if user.password_hash:
            auth.add_hash(
                user.username,
                user.password_hash,
                company_file=user.company_file,
                tenant=user.connection,
            )
            continue
        password = env.get(user.password_env, "")
        if not password:
            raise ConfigError(
                f"config key [users[{i}]].password_env: environment variable"
                f" {user.password_env!r} is not set (it must hold user"
                f" {user.username!r}'s password)",
                key=f"[users[{i}]].password_env",
            )
        auth.add_user(
            user.username, password, company_file=user.company_file, tenant=user.connection
        )
    return auth


class ConnectorApp:
    """The reference connector: an ASGI application plus the objects behind it.

    Build it with `create_app`. Serve it with any ASGI server; its lifespan starts and
    stops the background `SyncWorker`.

    Attributes:
        config: The configuration.
        store: The sync store.
        engine: The sync engine.
        service: The Web Connector endpoint.
        worker: The background worker (``None`` when Procore is not configured or
            ``sync_every`` is 0).
    """

    def __init__(
        self,
        config: ServerConfig,
        *,
        store: Store | None = None,
        token_store: procore.TokenStore | None = None,
        procore_http: httpx.Client | None = None,
        environ: MutableMapping[str, str] | None = None,
    ) -> None:
        self.config = config
        authenticator = _authenticator(config, environ)  # before opening anything
        self._owns_store = store is None
        self.store: Store = store if store is not None else open_store(config)
        if token_store is None and config.procore.configured:
            assert config.procore.token_store is not None
            cipher = procore.TokenCipher(config.procore.token_keys)
            token_store = procore.SQLiteTokenStore(config.procore.token_store, cipher=cipher)
        self._owns_http = procore_http is None
        self._http = procore_http or httpx.Client(timeout=procore.DEFAULT_TIMEOUT)
        self._procore = _Procore(config, token_store, self._http)
        self.engine = SyncEngine(self.store, procore_client=self._procore.client)
        self.worker: SyncWorker | None = None
        if config.procore.configured and config.sync_every > 0:
            self.worker = SyncWorker(self.engine, every=config.sync_every)
        work = NotifyingWorkSource(self.engine.work_source(), self._session_done)
        self.service = qbwc.WebConnectorService(
            # Five wrong passwords lock a Web Connector user name out for 15 minutes.
            authenticator=qbwc.ThrottledAuthenticator(authenticator),
            work=work,
            store=StoreSessionStore(self.store),
        )
        self._qbwc = qbwc.asgi_app(self.service)
        self._state_cipher = (
            procore.TokenCipher(config.procore.token_keys) if config.procore.token_keys else None
        )

    def __repr__(self) -> str:
        return f"ConnectorApp(store={self.store!r}, worker={self.worker!r})"

    def _session_done(self, connection_id: str | None) -> None:
        log.info("web connector session finished", extra={"connection": connection_id})
        if self.worker is not None:
            self.worker.wake()

    def close(self) -> None:
        """Stop the worker; close the HTTP client and the store this app opened."""
        if self.worker is not None:
            self.worker.stop()
        if self._owns_http:
            self._http.close()
        if self._owns_store:
            self.store.close()

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one ASGI call (``http`` or ``lifespan``)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        status = 500

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._route(scope, receive, send_logged)
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method", ""),
                    # The path only: query strings carry OAuth codes and state.
                    "path": scope.get("path", ""),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.worker is not None:
                    self.worker.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").rstrip("/") or "/"
        method = scope.get("method", "GET").upper()
        if path == "/qbwc":
            await self._qbwc(scope, receive, send)
        elif path == "/health" and method in ("GET", "HEAD"):
            await self._health(send)
        elif path == "/oauth/start" and method == "GET":
            await self._oauth_start(scope, send)
        elif path == "/oauth/callback" and method == "GET":
            await self._oauth_callback(scope, send)
        else:
            await _respond(send, 404, b"not found\n")

    async def _health(self, send: Send) -> None:
        loop = asyncio.get_running_loop()
        try:
            version: int | None = await loop.run_in_executor(None, self.store.schema_version)
            reachable = True
        except Exception as exc:  # any driver error means "not reachable"
            log.error("health: database unreachable", extra={"error": type(exc).__name__})
            version, reachable = None, False
        body = {"ok": reachable, "database": reachable, "schema_version": version}
        await _respond(
            send, 200 if reachable else 503, json.dumps(body).encode(), "application/json"
        )

    # -- OAuth ---------------------------------------------------------------------------------

    def _connection(self, connection_id: str) -> Connection | None:
        return self.store.get_connection(connection_id) if connection_id else None

    async def _oauth_start(self, scope: Scope, send: Send) -> None:
        query = _query(scope)
        cipher = self._state_cipher
        if cipher is None or not self.config.procore.configured:
            await _respond(send, 503, b"Procore is not configured on this server\n")
            return
        loop = asyncio.get_running_loop()
        connection_id = query.get("connection", "")
        connection = await loop.run_in_executor(None, self._connection, connection_id)
        if connection is None:
            await _respond(send, 404, b"no such connection\n")
            return
        nonce = secrets.token_urlsafe(16)
        state = cipher.encrypt(
            json.dumps({"c": connection.id, "n": nonce, "t": time.time()}).encode()
        ).decode()
        try:
            url, _ = self._procore.auth(connection).authorization_url(state=state)
        except SyncError as exc:
            await _respond(send, 409, f"{exc}\n".encode())
            return
        secure = "; Secure" if self.config.public_url.startswith("https://") else ""
        cookie = f"{_COOKIE}={nonce}; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age=600{secure}"
        await _respond(send, 302, b"", headers=[("location", url), ("set-cookie", cookie)])

    async def _oauth_callback(self, scope: Scope, send: Send) -> None:
        query = _query(scope)
        if "error" in query:
            # Procore's own error code (e.g. access_denied) carries no secret.
            text = f"Procore refused the authorization: {query['error'][:100]}\n"
            await _respond(send, 400, text.encode())
            return
        code, state = query.get("code", ""), query.get("state", "")
        connection_id = self._check_state(state, _cookie(scope))
        if connection_id is None or not code:
            await _respond(
                send,
                400,
                b"this authorization link is invalid or expired: start again from"
                b" /oauth/start?connection=ID in the same browser\n",
            )
            return
        loop = asyncio.get_running_loop()
        try:
            name = await loop.run_in_executor(None, self._exchange, connection_id, code)
        except (procore.ProcoreError, SyncError) as exc:
            # Our error messages never quote the code or tokens; log the kind only.
            log.warning(
                "oauth exchange failed",
                extra={"connection": connection_id, "error": type(exc).__name__},
            )
            await _respond(send, 502, b"Procore did not accept the authorization; try again\n")
            return
        log.info("procore authorized", extra={"connection": connection_id})
        await _respond(
            send, 200, f"Procore is authorized for {name}. You can close this window.\n".encode()
        )

    def _check_state(self, state: str, cookie_nonce: str | None) -> str | None:
        if self._state_cipher is None or not state or not cookie_nonce:
            return None
        try:
            data = json.loads(self._state_cipher.decrypt(state.encode()))
        except (procore.TokenStoreError, ValueError):
            return None
        if not isinstance(data, dict) or time.time() - float(data.get("t", 0)) > _STATE_TTL:
            return None
        if not secrets.compare_digest(str(data.get("n", "")), cookie_nonce):
            return None
        connection_id = data.get("c")
        return connection_id if isinstance(connection_id, str) else None

    def _exchange(self, connection_id: str, code: str) -> str:
        connection = self._connection(connection_id)
        if connection is None:
            raise SyncError(f"no connection {connection_id!r}")
        self._procore.auth(connection).exchange_code(self._http, code)
        if connection.state is ConnectionState.NEEDS_RECONNECTION:
            # Whoever completed Procore's consent for this company re-authorized it; the
            # reference server trusts that (protect /oauth/start if you need more).
            ConnectionManager(self.store).reconnect(
                connection.id, actor=Actor(user_id="oauth-callback", is_company_admin=True)
            )
        if self.worker is not None:
            self.worker.wake()
        return connection.name or connection.id


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {k: v[0] for k, v in parse_qs(raw).items() if v}


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if _COOKIE in jar:
                return jar[_COOKIE].value
    return None


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "text/plain; charset=utf-8",
    headers: list[tuple[str, str]] | None = None,
) -> None:
    out = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    out += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers or []]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})


def create_app(
    config: ServerConfig,
    *,
    store: Store | None = None,
    token_store: procore.TokenStore | None = None,
    procore_http: httpx.Client | None = None,
    environ: MutableMapping[str, str] | None = None,
) -> ConnectorApp:
    """The reference connector as an ASGI application.

    Args:
        config: The configuration (`load_config`).
        store: The sync store (default: the one ``config.database`` names; the app closes
            only a store it opened).
        token_store: Where Procore tokens live (default: an encrypted
            `qbprocore.procore.SQLiteTokenStore` at ``[procore].token_store`` with
            ``QBPROCORE_TOKEN_KEY``). Several machines need a shared one: bring your own
            `qbprocore.procore.TokenStore`.
        procore_http: The httpx client for Procore (tests pass one on `FakeProcore`).
        environ: Where ``password_env`` variables are read (default: `os.environ`).

    Raises:
        ConfigError: No database, or a user's password variable is not set.

    Examples:
        >>> import tempfile, pathlib
        >>> from qbprocore.server import create_app, parse_config
        >>> db = pathlib.Path(tempfile.mkdtemp()) / "sync.db"
        >>> app = create_app(parse_config({"database": f"sqlite:///{db}"}, environ={}))
        >>> app.worker is None  # Procore is not configured: nothing runs in the background
        True
        >>> app.close()
    """
    return ConnectorApp(
        config, store=store, token_store=token_store, procore_http=procore_http, environ=environ
    )
