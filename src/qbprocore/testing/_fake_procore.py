"""FakeProcore: an in-memory Procore (OAuth2 server + REST API) for tests and benchmarks.

It behaves like Procore where clients usually get it wrong:

- the token endpoint speaks both grants; refresh tokens are **single-use** (a reused one is
  ``invalid_grant``); access tokens expire after ``expires_in``;
- every API call must carry a valid bearer token and ``Procore-Company-Id``; a company the
  app is not connected to answers 403 "app not connected";
- lists page with ``page``/``per_page`` and answer ``Link``, ``Total`` and ``Per-Page``;
  ``filters[updated_at]``, ``filters[origin_id]``, ``filters[include_deleted]`` work;
- ``…/sync`` answers 200 with ``entities`` and per-item ``errors``; ``origin_id`` is unique
  per company and resource; batches over 1,000 items are refused;
- creates validate and answer 422 with ``{"errors": {field: [...]}}``;
- an hourly and a 10-second spike window per (client, company), reported through
  ``X-Rate-Limit-*`` (the nearer one) and enforced with 429;
- injectable faults: 5xx (with ``Retry-After``), timeouts, connection errors, and a response
  lost *after* the write committed.

Use it as an httpx transport (``httpx.Client(transport=fake.transport())``) or as an ASGI app
(``httpx.ASGITransport(app=fake)``, or served by uvicorn on 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import attrs
import httpx

from qbprocore.procore import RESOURCES, Clock, Environment, ResourceSpec, SystemClock

__all__ = ["FakeProcore", "RecordedCall"]

_MAX_SYNC = 1000
_INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
_PROJECT_SCOPED_BY_COMPANY = {"projects"}

# Fields that must be present when the fake *creates* a record of a resource.
_REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    "projects": ("name",),
    "vendors": ("name",),
    "project_vendors": ("name",),
    "cost_codes": ("name", "code"),
    "line_item_types": ("name", "code"),
    "work_order_contracts": ("vendor_id",),
    "purchase_order_contracts": ("vendor_id",),
}


@attrs.frozen(kw_only=True)
class RecordedCall:
    """One request the fake answered.

    Attributes:
        method: HTTP method.
        path: URL path.
        status: Status answered (0 when a fault raised instead of answering).
        company_id: The ``Procore-Company-Id`` header, if sent.
        user_agent: The ``User-Agent`` header.
    """

    method: str
    path: str
    status: int
    company_id: str | None
    user_agent: str | None


@attrs.define
class _Fault:
    kind: str
    status: int
    retry_after: float | None
    method: str | None
    path: str | None
    times: int


@attrs.define
class _Window:
    length: float
    limit: int
    start: float = -math.inf
    count: int = 0

    def roll(self, now: float) -> None:
        if now >= self.start + self.length:
            self.start, self.count = now, 0

    @property
    def reset(self) -> int:
        # Reported in whole epoch seconds, rounded up so a client waiting until the reset
        # never comes back a fraction of a second early.
        return math.ceil(self.start + self.length)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


@attrs.define
class _Token:
    client_id: str
    access_token: str
    refresh_token: str | None
    expires_at: float


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=dict(headers or {}))


class _Route:
    def __init__(self, spec: ResourceSpec, kind: str, method: str, template: str) -> None:
        pattern = re.escape(template)
        for name in ("project_id", "parent_id", "id"):
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[0-9]+)")
        self.spec, self.kind, self.method = spec, kind, method
        self.regex = re.compile(f"^{pattern}$")


def _routes() -> list[_Route]:
    routes: list[_Route] = []
    for spec in RESOURCES:
        if spec.sync_path:
            routes.append(_Route(spec, "sync", spec.sync_method, spec.sync_path))
        routes.append(_Route(spec, "list", "GET", spec.list_path))
        routes.append(_Route(spec, "get", "GET", spec.single_path))
        if spec.create_path:
            routes.append(_Route(spec, "create", "POST", spec.create_path))
        if spec.update_path:
            routes.append(_Route(spec, "update", "PATCH", spec.update_path))
        if spec.delete_path:
            routes.append(_Route(spec, "delete", "DELETE", spec.delete_path))
    return routes


class FakeProcore:
    """An in-memory Procore for tests; see the module docstring for what it enforces.

    Args:
        clock: Time source (share a ``FakeClock`` with the client for instant waits).
        client_id: The one registered app's client id.
        client_secret: Its secret.
        companies: Company id → name of the companies the app is connected to.
        token_lifetime: ``expires_in`` of issued access tokens, in seconds.
        hourly_limit: Requests per hour per (client, company).
        spike_limit: Requests per spike window per (client, company).
        spike_window: Length of the spike window in seconds (Procore: 10; benchmarks on the
            real clock shorten it).
        retry_after_on_429: Whether 429 answers carry ``Retry-After`` besides the reset.
        login_url: Base URL the fake's environment uses for OAuth.
        api_url: Base URL the fake's environment uses for the API.

    Attributes:
        environment: An `Environment` pointing at the fake's hosts.
        calls: Every API request answered (or failed by a fault), in order.
        token_calls: How many requests reached ``/oauth/token``.
        disconnected: Company ids whose app installation was removed (answer 403).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",  # noqa: S107 - a test double's fixed secret
        companies: Mapping[int, str] | None = None,
        token_lifetime: float = 5400.0,
        hourly_limit: int = 3600,
        spike_limit: int = 1000,
        spike_window: float = 10.0,
        retry_after_on_429: bool = False,
        login_url: str = "https://login.fake-procore.test",
        api_url: str = "https://api.fake-procore.test",
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.companies: dict[int, str] = dict(companies or {5_000_000_001: "Fake Builders Inc"})
        self.disconnected: set[int] = set()
        self.token_lifetime = token_lifetime
        self.hourly_limit = hourly_limit
        self.spike_limit = spike_limit
        self.spike_window = spike_window
        self.retry_after_on_429 = retry_after_on_429
        self.environment = Environment.custom(login_url=login_url, api_url=api_url, name="fake")
        self.calls: list[RecordedCall] = []
        self.token_calls = 0
        self._lock = threading.RLock()
        self._tokens: dict[str, _Token] = {}
        self._refresh: dict[str, str] = {}  # live refresh token -> client id
        self._spent_refresh: set[str] = set()
        self._codes: dict[str, str] = {}  # authorization code -> redirect uri
        self._windows: dict[tuple[str, int], tuple[_Window, _Window]] = {}
        self._faults: list[_Fault] = []
        self._records: dict[tuple[int, str, int | None, int | None], dict[int, dict[str, Any]]] = {}
        self._projects: dict[int, int] = {}  # project id -> company id
        self._origins: dict[tuple[int, str, str], dict[str, Any]] = {}
        self._next_id = 2**33  # ids beyond 32 bits, as in real Procore data
        self._routes = _routes()

    # -- setup helpers --------------------------------------------------------------------

    @property
    def company_id(self) -> int:
        """The first (default) company's id."""
        return next(iter(self.companies))

    def new_id(self) -> int:
        """Allocate an id (64-bit range)."""
        with self._lock:
            self._next_id += 1
            return self._next_id

    def add_project(self, *, company_id: int | None = None, name: str = "Project") -> int:
        """Create a project directly (no request counted) and return its id."""
        company = company_id if company_id is not None else self.company_id
        record = self._insert(company, "projects", None, None, {"name": name, "active": True})
        return int(record["id"])

    def seed(
        self,
        resource: str,
        rows: list[dict[str, Any]],
        *,
        company_id: int | None = None,
        project_id: int | None = None,
        parent_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Insert records directly (no request counted); returns them with ids."""
        company = company_id if company_id is not None else self.company_id
        return [self._insert(company, resource, project_id, parent_id, row) for row in rows]

    def records(
        self,
        resource: str,
        *,
        company_id: int | None = None,
        project_id: int | None = None,
        parent_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """The stored records of a collection (deleted ones included)."""
        company = company_id if company_id is not None else self.company_id
        key = (company, resource, project_id, parent_id)
        with self._lock:
            return [dict(r) for r in self._records.get(key, {}).values()]

    def delete(self, resource: str, record_id: int, **scope: int | None) -> None:
        """Soft-delete a record (it then shows only with ``include_deleted``)."""
        company = scope.get("company_id") or self.company_id
        key = (company, resource, scope.get("project_id"), scope.get("parent_id"))
        with self._lock:
            record = self._records[key][record_id]
            record["deleted_at"] = record["updated_at"] = self._stamp()

    def inject_fault(
        self,
        kind: str,
        *,
        status: int = 500,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next matching API requests fail.

        Args:
            kind: ``"status"`` (answer ``status`` without acting), ``"timeout"`` (raise
                `ReadTimeout` without acting), ``"connect"`` (raise
                `ConnectError`), or ``"lost_response"`` (act — commit the write —
                then raise `ReadTimeout` as if the answer was lost).
            status: Status for ``"status"`` faults.
            retry_after: ``Retry-After`` seconds for ``"status"`` faults.
            method: Only requests with this method.
            path: Only requests whose path contains this string.
            times: How many requests to fail.
        """
        if kind not in ("status", "timeout", "connect", "lost_response"):
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append(_Fault(kind, status, retry_after, method, path, times))

    def expire_tokens(self) -> None:
        """Expire every issued access token (the next API call answers 401)."""
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = self.clock.time() - 1

    def revoke_refresh_tokens(self) -> None:
        """Revoke every refresh token (as when a user uninstalls the app)."""
        with self._lock:
            self._spent_refresh.update(self._refresh)
            self._refresh.clear()

    def authorize(self, *, redirect_uri: str) -> str:
        """Simulate a user approving the app; returns the authorization code."""
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = redirect_uri
        return code

    def api_calls(
        self, *, method: str | None = None, path: str | None = None
    ) -> list[RecordedCall]:
        """Recorded API calls, optionally filtered by method and path substring."""
        with self._lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method) and (path is None or path in c.path)
            ]

    # -- seams ----------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that answers from this fake (works for sync and async clients)."""
        return httpx.MockTransport(self.handle)

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        """ASGI entry point (HTTP only; lifespan events are acknowledged)."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = dict(headers).get("host", "localhost")
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"{scope.get('scheme', 'http')}://{host}{scope['path']}" + (
            f"?{query}" if query else ""
        )
        request = httpx.Request(scope["method"], url, headers=headers, content=body)
        response = self.handle(request)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in response.headers.multi_items()
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.content})

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the transport's handler)."""
        path = request.url.path
        if path.startswith("/oauth/"):
            with self._lock:
                if path == "/oauth/token":
                    self.token_calls += 1
                return self._oauth(request)
        with self._lock:
            fault = self._take_fault(request)
            company = request.headers.get("Procore-Company-Id")
            if fault is not None and fault.kind in ("timeout", "connect"):
                self._record(request, 0, company)
                if fault.kind == "connect":
                    raise httpx.ConnectError("injected connection failure", request=request)
                raise httpx.ReadTimeout("injected timeout", request=request)
            response = self._api(request, fault)
            self._record(request, response.status_code, company)
            if fault is not None and fault.kind == "lost_response":
                # The write above is committed; only the answer is lost.
                self.calls[-1] = attrs.evolve(self.calls[-1], status=0)
                raise httpx.ReadTimeout("injected: response lost after commit", request=request)
            return response

    # -- internals: bookkeeping -----------------------------------------------------------

    def _record(self, request: httpx.Request, status: int, company: str | None) -> None:
        self.calls.append(
            RecordedCall(
                method=request.method,
                path=request.url.path,
                status=status,
                company_id=company,
                user_agent=request.headers.get("User-Agent"),
            )
        )

    def _take_fault(self, request: httpx.Request) -> _Fault | None:
        for fault in self._faults:
            if fault.method and fault.method != request.method:
                continue
            if fault.path and fault.path not in request.url.path:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _stamp(self) -> str:
        return dt.datetime.fromtimestamp(self.clock.time(), dt.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )

    # -- OAuth ----------------------------------------------------------------------------

    def _oauth(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/authorize" and request.method == "GET":
            return self._authorize_page(request)
        if path.startswith("/oauth/authorize/") and request.method == "GET":
            code = path.rsplit("/", 1)[1]
            return httpx.Response(
                200,
                text=f"<html><body><code>{code}</code></body></html>",
                headers={"Content-Type": "text/html"},
            )
        if path != "/oauth/token" or request.method != "POST":
            return _json(404, {"error": "not_found"})
        return self._token(request)

    def _authorize_page(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        redirect = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            return _json(400, {"error": "invalid_request"})
        code = self.authorize(redirect_uri=redirect)
        if redirect == "urn:ietf:wg:oauth:2.0:oob":
            # Out-of-band: Procore shows the code on a page at /oauth/authorize/<code>.
            location = (
                f"{request.url.scheme}://{request.url.netloc.decode()}/oauth/authorize/{code}"
            )
        else:
            query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
            location = f"{redirect}?{urlencode(query)}"
        return httpx.Response(302, headers={"Location": location})

    def _token(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("content-type", "").startswith("application/json"):
            form = {str(k): str(v) for k, v in json.loads(request.content or b"{}").items()}
        else:
            form = dict(parse_qsl(request.content.decode()))
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return _json(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        grant = form.get("grant_type")
        ok = False
        if grant == "client_credentials":
            return self._issue(with_refresh=False)
        if grant == "authorization_code":
            redirect = self._codes.pop(form.get("code", ""), None)
            ok = redirect is not None and redirect == form.get("redirect_uri")
        elif grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            ok = refresh in self._refresh
            if ok:
                # Single use, no grace period: the old refresh token dies now.
                del self._refresh[refresh]
                self._spent_refresh.add(refresh)
        else:
            return _json(400, {"error": "unsupported_grant_type"})
        if not ok:
            return _json(400, {"error": "invalid_grant", "error_description": _INVALID_GRANT})
        return self._issue(with_refresh=True)

    def _issue(self, *, with_refresh: bool) -> httpx.Response:
        now = self.clock.time()
        access = secrets.token_urlsafe(24)
        refresh = secrets.token_urlsafe(24) if with_refresh else None
        self._tokens[access] = _Token(self.client_id, access, refresh, now + self.token_lifetime)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.token_lifetime),
            "created_at": int(now),
        }
        if refresh is not None:
            self._refresh[refresh] = self.client_id
            body["refresh_token"] = refresh
        return _json(200, body, {"Cache-Control": "no-store"})

    # -- API ------------------------------------------------------------------------------

    def _authenticate(self, request: httpx.Request) -> _Token | httpx.Response:
        header = request.headers.get("Authorization", "")
        token = self._tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if token is None:
            return _json(
                401, {"error": "invalid_token", "error_description": "The access token is invalid"}
            )
        if token.expires_at <= self.clock.time():
            return _json(
                401, {"error": "invalid_token", "error_description": "The access token expired"}
            )
        return token

    def _rate(self, client_id: str, company: int) -> tuple[bool, dict[str, str]]:
        now = self.clock.time()
        windows = self._windows.get((client_id, company))
        if windows is None:
            windows = (
                _Window(3600.0, self.hourly_limit),
                _Window(self.spike_window, self.spike_limit),
            )
            self._windows[(client_id, company)] = windows
        hourly, spike = windows
        for window in windows:
            window.roll(now)
        exceeded = next((w for w in (spike, hourly) if w.remaining <= 0), None)
        if exceeded is None:
            hourly.count += 1
            spike.count += 1
        # Report the window nearer to running out (the spike one unless the hour is nearly gone).
        shown = exceeded or (hourly if hourly.remaining < spike.remaining else spike)
        headers = {
            "X-Rate-Limit-Limit": str(shown.limit),
            "X-Rate-Limit-Remaining": str(shown.remaining),
            "X-Rate-Limit-Reset": str(shown.reset),
        }
        if exceeded is not None and self.retry_after_on_429:
            headers["Retry-After"] = str(max(1, math.ceil(shown.reset - now)))
        return exceeded is None, headers

    def _api(self, request: httpx.Request, fault: _Fault | None) -> httpx.Response:
        auth = self._authenticate(request)
        if isinstance(auth, httpx.Response):
            return auth
        raw_company = request.headers.get("Procore-Company-Id")
        if raw_company is None or not raw_company.isdigit():
            return _json(400, {"errors": "Procore-Company-Id header is missing or invalid"})
        company = int(raw_company)
        if company not in self.companies or company in self.disconnected:
            return _json(
                403,
                {
                    "message": "This app has not been connected to this company "
                    f"({company}); a company admin must install it",
                    "error": "forbidden",
                },
            )
        allowed, rate_headers = self._rate(auth.client_id, company)
        if not allowed:
            return _json(429, {"message": "Rate limit exceeded"}, rate_headers)
        if fault is not None and fault.kind == "status":
            headers = dict(rate_headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            return _json(fault.status, {"message": f"injected {fault.status}"}, headers)
        response = self._dispatch(request, company)
        response.headers.update(rate_headers)
        response.headers["Date"] = email.utils.format_datetime(
            dt.datetime.fromtimestamp(int(self.clock.time()), dt.timezone.utc), usegmt=True
        )
        response.headers["X-Request-Id"] = secrets.token_hex(8)
        return response

    def _dispatch(self, request: httpx.Request, company: int) -> httpx.Response:
        path = request.url.path
        if path == "/rest/v1.0/companies" and request.method == "GET":
            rows = [
                {"id": cid, "name": name, "is_active": True, "my_company": False}
                for cid, name in self.companies.items()
                if cid not in self.disconnected
            ]
            return self._page(request, rows)
        for route in self._routes:
            if route.method != request.method:
                continue
            match = route.regex.match(path)
            if match is None:
                continue
            return self._resource(request, route, match.groupdict(), company)
        return _json(404, {"errors": f"No route matches {request.method} {path}"})

    def _body(self, request: httpx.Request) -> dict[str, Any]:
        try:
            data = json.loads(request.content or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _scope(
        self,
        request: httpx.Request,
        route: _Route,
        groups: Mapping[str, str],
        company: int,
        body: Mapping[str, Any],
    ) -> tuple[int | None, int | None] | httpx.Response:
        spec = route.spec
        params = request.url.params
        if spec.scope == "company":
            given = params.get("company_id", body.get("company_id"))
            if given is None:
                return _json(400, {"errors": {"company_id": ["is missing"]}})
            if str(given) != str(company):
                return _json(403, {"message": "company_id does not match Procore-Company-Id"})
            return None, None
        project_raw = groups.get("project_id") or params.get("project_id") or body.get("project_id")
        project_id: int | None = None
        if spec.scope == "project":
            if project_raw is None:
                return _json(400, {"errors": {"project_id": ["is missing"]}})
            project_id = int(project_raw)
            if self._projects.get(project_id) != company:
                return _json(404, {"errors": f"Project {project_id} not found"})
        parent = groups.get("parent_id")
        if parent is None and spec.parent_param:
            parent = params.get(spec.parent_param) or body.get(spec.parent_param)
            if parent is None:
                return _json(400, {"errors": {spec.parent_param: ["is missing"]}})
        return project_id, int(parent) if parent is not None else None

    def _resource(
        self, request: httpx.Request, route: _Route, groups: Mapping[str, str], company: int
    ) -> httpx.Response:
        body = self._body(request) if request.method != "GET" else {}
        scope = self._scope(request, route, groups, company, body)
        if isinstance(scope, httpx.Response):
            return scope
        project_id, parent_id = scope
        name = route.spec.name
        collection = self._records.setdefault((company, name, project_id, parent_id), {})
        if route.kind == "list":
            rows = self._filter(request, list(collection.values()))
            return self._page(request, rows, name)
        if route.kind == "sync":
            return self._sync(body, company, route.spec, project_id, parent_id)
        record = collection.get(int(groups["id"])) if "id" in groups else None
        if route.kind in ("get", "delete"):
            if record is None or record.get("deleted_at"):
                return _json(404, {"errors": "Resource not found"})
            if route.kind == "get":
                return _json(200, _public(name, record))
            record["deleted_at"] = record["updated_at"] = self._stamp()
            return httpx.Response(204)
        return self._write(route, body, (company, project_id, parent_id), record)

    def _write(
        self,
        route: _Route,
        body: Mapping[str, Any],
        where: tuple[int, int | None, int | None],
        record: dict[str, Any] | None,
    ) -> httpx.Response:
        company, project_id, parent_id = where
        name = route.spec.name
        fields = body.get(route.spec.wrapper or "data")
        if not isinstance(fields, dict):
            return _json(400, {"errors": f"body must carry a {route.spec.wrapper!r} object"})
        if route.kind == "update" and record is None:
            return _json(404, {"errors": "Resource not found"})
        errors = self._validate(company, name, fields, record)
        if errors:
            return _json(422, {"errors": errors})
        if record is None:
            return _json(
                201, _public(name, self._insert(company, name, project_id, parent_id, fields))
            )
        return _json(200, _public(name, self._update(company, name, record, fields)))

    def _validate(
        self,
        company: int,
        name: str,
        fields: Mapping[str, Any],
        existing: dict[str, Any] | None,
    ) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if existing is None:
            for field in _REQUIRED_ON_CREATE.get(name, ()):
                if not fields.get(field):
                    errors[field] = ["can't be blank"]
        origin = fields.get("origin_id")
        if origin:
            other = self._by_origin(company, name, str(origin))
            if other is not None and (existing is None or other["id"] != existing["id"]):
                errors["origin_id"] = ["has already been taken"]
        return errors

    def _by_origin(self, company: int, name: str, origin: str) -> dict[str, Any] | None:
        # origin_id is unique per company (and resource), across projects.
        return self._origins.get((company, name, origin))

    def _index(self, company: int, name: str, record: dict[str, Any], old: Any = None) -> None:
        if old and self._origins.get((company, name, str(old))) is record:
            del self._origins[(company, name, str(old))]
        if record.get("origin_id"):
            self._origins[(company, name, str(record["origin_id"]))] = record

    def _insert(
        self,
        company: int,
        name: str,
        project_id: int | None,
        parent_id: int | None,
        fields: Mapping[str, Any],
    ) -> dict[str, Any]:
        stamp = self._stamp()
        record: dict[str, Any] = {"origin_id": None, "origin_data": None, **fields}
        record["id"] = self.new_id()
        record.update(created_at=stamp, updated_at=stamp, deleted_at=None)
        with self._lock:
            self._records.setdefault((company, name, project_id, parent_id), {})[record["id"]] = (
                record
            )
            self._index(company, name, record)
            if name == "projects":
                self._projects[record["id"]] = company
                record.setdefault("company", {"id": company, "name": self.companies.get(company)})
        return record

    def _update(
        self, company: int, name: str, record: dict[str, Any], fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        old = record.get("origin_id")
        record.update({k: v for k, v in fields.items() if k != "id"})
        record["updated_at"] = self._stamp()
        self._index(company, name, record, old)
        return record

    def _record_by_id(self, company: int, name: str, record_id: int) -> dict[str, Any] | None:
        for (c, n, _p, _q), collection in self._records.items():
            if c == company and n == name and record_id in collection:
                return collection[record_id]
        return None

    def _sync(
        self,
        body: Mapping[str, Any],
        company: int,
        spec: ResourceSpec,
        project_id: int | None,
        parent_id: int | None,
    ) -> httpx.Response:
        name = spec.name
        updates = body.get("updates")
        if not isinstance(updates, list):
            return _json(400, {"errors": {"updates": ["must be an array"]}})
        if len(updates) > _MAX_SYNC:
            return _json(400, {"errors": {"updates": [f"at most {_MAX_SYNC} items per request"]}})
        item_parent = spec.sync_item_parent
        entities: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in updates:
            if not isinstance(item, dict):
                errors.append({"item": item, "errors": {"base": ["must be an object"]}})
                continue
            existing: dict[str, Any] | None = None
            if item.get("id") is not None:
                existing = self._record_by_id(company, name, int(item["id"]))
                if existing is None:
                    errors.append({**item, "errors": {"id": ["Entity with this ID not found"]}})
                    continue
            elif item.get("origin_id"):
                existing = self._by_origin(company, name, str(item["origin_id"]))
            problems = self._validate(company, name, item, existing)
            if problems:
                errors.append({**item, "errors": problems})
            elif existing is not None:
                entities.append(_public(name, self._update(company, name, existing, item)))
            else:
                fields = {k: v for k, v in item.items() if k != "id"}
                # A project-wide sync of nested records files each item under its parent.
                parent = parent_id
                if item_parent and item.get(item_parent) is not None:
                    parent = int(item[item_parent])
                entities.append(
                    _public(name, self._insert(company, name, project_id, parent, fields))
                )
        # Always 200: success is per item.
        return _json(200, {"entities": entities, "errors": errors})

    def _filter(self, request: httpx.Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        params = request.url.params
        deleted = params.get("filters[include_deleted]")
        if deleted == "only":
            rows = [r for r in rows if r.get("deleted_at")]
        elif deleted != "with":
            rows = [r for r in rows if not r.get("deleted_at")]
        if (origin := params.get("filters[origin_id]")) is not None:
            wanted = set(origin.split(","))
            rows = [r for r in rows if r.get("origin_id") in wanted]
        if (ids := params.get("filters[id]")) is not None:
            wanted_ids = {int(i) for i in ids.split(",") if i.strip().isdigit()}
            rows = [r for r in rows if r["id"] in wanted_ids]
        if (span := params.get("filters[updated_at]")) is not None and "..." in span:
            start_raw, end_raw = span.split("...", 1)
            start, end = _parse_bound(start_raw, False), _parse_bound(end_raw, True)
            rows = [r for r in rows if start <= _parse_bound(r["updated_at"], False) <= end]
        return sorted(rows, key=lambda r: r["id"])

    def _page(
        self, request: httpx.Request, rows: list[dict[str, Any]], name: str = ""
    ) -> httpx.Response:
        params = request.url.params
        try:
            page = max(1, int(params.get("page", "1")))
            per_page = max(1, int(params.get("per_page", "100")))
        except ValueError:
            return _json(400, {"errors": "page and per_page must be integers"})
        total = len(rows)
        last = max(1, math.ceil(total / per_page))
        chunk = [_public(name, r) for r in rows[(page - 1) * per_page : page * per_page]]

        def link(number: int) -> str:
            url = request.url.copy_set_param("page", str(number)).copy_set_param(
                "per_page", str(per_page)
            )
            return str(url)

        rels = {"first": 1, "last": last}
        if page > 1:
            rels["prev"] = page - 1
        if page < last:
            rels["next"] = page + 1
        headers = {
            "Total": str(total),
            "Per-Page": str(per_page),
            "Link": ", ".join(f'<{link(n)}>; rel="{rel}"' for rel, n in rels.items()),
        }
        return _json(200, chunk, headers)


# Bookkeeping fields the fake keeps on every record but Procore does not show on every
# resource (checked against the reference endpoint descriptions in the tests).
_HIDDEN: dict[str, frozenset[str]] = {
    "line_item_types": frozenset({"created_at", "updated_at", "deleted_at"}),
    # The reference lists no timestamps or origin fields for budget line items, but their
    # sync endpoint is keyed by origin_id, so the fake keeps those visible.
    "budget_line_items": frozenset({"deleted_at"}),
    "projects": frozenset({"deleted_at"}),
    # Contracts are written with vendor_id but answer with a vendor object.
    "work_order_contracts": frozenset({"vendor_id"}),
    "purchase_order_contracts": frozenset({"vendor_id"}),
    "requisitions": frozenset({"deleted_at"}),
}


def _public(name: str, record: Mapping[str, Any]) -> dict[str, Any]:
    hidden = _HIDDEN.get(name, frozenset())
    public = {k: v for k, v in record.items() if k not in hidden}
    if "vendor_id" in hidden and record.get("vendor_id") is not None:
        public["vendor"] = {"id": record["vendor_id"], "company": record.get("vendor_name")}
    return public


def _parse_bound(text: str, upper: bool) -> dt.datetime:
    text = text.strip()
    if len(text) == 10:  # a date: the whole day is in range
        day = dt.date.fromisoformat(text)
        return dt.datetime.combine(day, dt.time.max if upper else dt.time.min, dt.timezone.utc)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
