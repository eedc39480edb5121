"""The sync and async Procore clients: one request pipeline each, same policy.

Every request goes through the same steps:

1. get a token (refreshing ahead of expiry, single-flight);
2. wait for the (credential, company) rate limiter to allow a request;
3. send it through the injected httpx client with ``Authorization``, ``Procore-Company-Id``
   and ``User-Agent`` headers and an explicit timeout;
4. learn the budget from ``X-Rate-Limit-*``;
5. on 401, refresh once and resend; on a retryable failure, log and wait (``Retry-After`` /
   reset / capped exponential backoff with jitter) within the total deadline; otherwise raise
   the exception the status maps to.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from qbprocore.procore import _models as m
from qbprocore.procore._auth import ProcoreAuth
from qbprocore.procore._clock import Clock
from qbprocore.procore._constants import DEFAULT_TIMEOUT, USER_AGENT
from qbprocore.procore._errors import (
    APIConnectionError,
    APITimeoutError,
    ProcoreError,
    error_for_response,
)
from qbprocore.procore._ratelimit import DEFAULT_REGISTRY, RateLimiter, RateLimiterRegistry
from qbprocore.procore._resources import RESOURCES, AsyncResource, Resource
from qbprocore.procore._retry import RetryPolicy
from qbprocore.procore._tokens import Token

__all__ = ["DEFAULT_TIMEOUT", "USER_AGENT", "AsyncProcoreClient", "ProcoreClient"]

_log = logging.getLogger("qbprocore.procore.http")

_POLL = 0.02  # seconds between checks while an answer that sets the budget is in flight
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def _log_pacing(wait: float, method: str, url: str) -> None:
    # Pacing is not a retry (nothing failed), but a long silent pause looks like a hang.
    if wait >= 1.0:
        _log.info("rate limit nearly spent: waiting %.1f s before %s %s", wait, method, url)


class _Common:
    """Configuration shared by the sync and async clients."""

    def __init__(
        self,
        *,
        auth: ProcoreAuth,
        company_id: int | None,
        timeout: httpx.Timeout | float,
        retry: RetryPolicy | None,
        clock: Clock | None,
        limiters: RateLimiterRegistry | None,
        user_agent: str | None,
    ) -> None:
        if company_id is not None and (isinstance(company_id, bool) or int(company_id) <= 0):
            raise ValueError(f"company_id must be a positive integer, got {company_id!r}")
        self.auth = auth
        self.company_id = int(company_id) if company_id is not None else None
        self.environment = auth.environment
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = retry or RetryPolicy()
        self.clock: Clock = clock or auth.clock
        self.limiters = limiters or DEFAULT_REGISTRY
        self.user_agent = user_agent or USER_AGENT
        #: Requests sent to the API host (not counting token requests); for benchmarks.
        self.requests_sent = 0
        #: Procore's clock (the ``Date`` header) at the last answer, if it sent one: what an
        #: incremental pull can use as its next watermark, free of our clock's skew.
        self.last_response_date: dt.datetime | None = None
        self._api_host = urlsplit(self.environment.api_url).netloc

    def _note_date(self, response: httpx.Response) -> None:
        text = response.headers.get("Date")
        if not text:
            return
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return  # a malformed Date header is not worth failing a request over
        if when.tzinfo is not None:
            self.last_response_date = when

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter of this client's (credential, company)."""
        return self.limiters.get(self.auth.key, self.company_id, clock=self.clock)

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            # Pagination links are absolute; never send the token to another host.
            if urlsplit(path_or_url).netloc != self._api_host:
                raise ProcoreError(
                    f"refusing to follow a link off the API host {self._api_host!r}: "
                    f"{path_or_url.split('?', maxsplit=1)[0]}"
                )
            return path_or_url
        return f"{self.environment.api_url}{path_or_url}"

    def _headers(self, token_value: str, company_scoped: bool) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token_value}",
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }
        if self.company_id is not None:
            headers["Procore-Company-Id"] = str(self.company_id)
        elif company_scoped:
            raise TypeError(
                "this call needs a company: create the client with company_id= "
                "(Procore requires the Procore-Company-Id header on every call)"
            )
        return headers

    def _deadline(self) -> float:
        return self.clock.time() + self.retry.total_deadline

    def _plan_retry(
        self,
        *,
        method: str,
        url: str,
        attempt: int,
        deadline: float,
        response: httpx.Response | None,
        error: Exception,
        retryable: bool,
    ) -> float:
        """Seconds to wait before the next attempt; raise ``error`` when not retrying."""
        if not retryable or attempt >= self.retry.max_retries:
            raise error
        now = self.clock.time()
        rand = self.clock.random()
        if response is not None:
            wait = self.retry.wait_for_response(response, attempt, now=now, rand=rand)
            if response.status_code in (429, 503):
                # Hold every thread/task of this (credential, company), not just this one.
                self.limiter.block_until(now + wait)
        else:
            wait = self.retry.backoff(attempt, rand)
        if now + wait > deadline:
            _log.warning(
                "not retrying %s %s: waiting %.2f s would pass the %.0f s deadline",
                method,
                url,
                wait,
                self.retry.total_deadline,
            )
            raise error
        cause = error.__cause__ or error
        reason = response.status_code if response is not None else type(cause).__name__
        _log.warning(
            "retrying %s %s after %s (retry %d of %d) in %.2f s",
            method,
            url,
            reason,
            attempt + 1,
            self.retry.max_retries,
            wait,
        )
        return wait

    def _transport_error(self, exc: httpx.TransportError, method: str, url: str) -> Exception:
        error: APIConnectionError
        if isinstance(exc, httpx.TimeoutException):
            error = APITimeoutError(
                f"{method} {url} timed out ({type(exc).__name__})", method=method, url=url
            )
        else:
            error = APIConnectionError(
                f"{method} {url} failed: {type(exc).__name__}", method=method, url=url
            )
        error.__cause__ = exc  # keep httpx's detail for tracebacks and retry logs
        return error


class ProcoreClient(_Common):
    """Synchronous Procore client.

    Args:
        auth: Token manager (shared with other clients of the same credential).
        company_id: The Procore company every call is made for (``Procore-Company-Id``).
            Only ``companies.list()`` works without one.
        http_client: The httpx client to send through; the client owns (and closes) one it
            creates itself, never one you pass. Inject a client with
            ``transport=httpx.MockTransport(...)`` or ``FakeProcore().transport()`` in tests.
        timeout: Per-request timeout (default 60 s, 10 s to connect).
        retry: Retry policy.
        clock: Time source; defaults to the auth's clock.
        limiters: Rate-limiter registry; the process-wide one by default.
        user_agent: User-Agent header value.

    Examples:
        >>> from qbprocore.procore import PRODUCTION, ProcoreAuth, ProcoreClient
        >>> auth = ProcoreAuth.client_credentials(
        ...     environment=PRODUCTION, client_id="id", client_secret="secret")
        >>> client = ProcoreClient(auth=auth, company_id=42)
        >>> client.close()
    """

    companies: Resource[m.Company]
    projects: Resource[m.Project]
    vendors: Resource[m.Vendor]
    project_vendors: Resource[m.Vendor]
    cost_codes: Resource[m.CostCode]
    line_item_types: Resource[m.LineItemType]
    budget_views: Resource[m.BudgetView]
    budget_view_detail_rows: Resource[m.BudgetViewDetailRow]
    budget_line_items: Resource[m.BudgetLineItem]
    work_order_contracts: Resource[m.WorkOrderContract]
    work_order_contract_line_items: Resource[m.CommitmentLineItem]
    purchase_order_contracts: Resource[m.PurchaseOrderContract]
    purchase_order_contract_line_items: Resource[m.CommitmentLineItem]
    commitment_change_orders: Resource[m.CommitmentChangeOrder]
    potential_change_orders: Resource[m.PotentialChangeOrder]
    potential_change_order_line_items: Resource[m.PotentialChangeOrderLineItem]
    requisitions: Resource[m.Requisition]
    requisition_items: Resource[m.RequisitionItem]
    contract_payments: Resource[m.ContractPayment]
    direct_costs: Resource[m.DirectCost]
    direct_cost_line_items: Resource[m.DirectCostLineItem]

    def __init__(
        self,
        *,
        auth: ProcoreAuth,
        company_id: int | None = None,
        http_client: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        limiters: RateLimiterRegistry | None = None,
        user_agent: str | None = None,
    ) -> None:
        super().__init__(
            auth=auth,
            company_id=company_id,
            timeout=timeout,
            retry=retry,
            clock=clock,
            limiters=limiters,
            user_agent=user_agent,
        )
        self._owns_http = http_client is None
        self.http = http_client or httpx.Client(timeout=self.timeout)
        for spec in RESOURCES:
            setattr(self, spec.name, Resource(self, spec))

    def with_company(self, company_id: int) -> ProcoreClient:
        """A client for another company sharing this one's auth, httpx client and limiters."""
        return ProcoreClient(
            auth=self.auth,
            company_id=company_id,
            http_client=self.http,
            timeout=self.timeout,
            retry=self.retry,
            clock=self.clock,
            limiters=self.limiters,
            user_agent=self.user_agent,
        )

    def close(self) -> None:
        """Close the httpx client if this client created it."""
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> ProcoreClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProcoreClient(environment={self.environment.name!r}, company_id={self.company_id})"

    def exchange_code(self, code_or_redirect_url: str, *, state: str | None = None) -> Token:
        """Finish the authorization-code flow (see `exchange_code`)."""
        return self.auth.exchange_code(self.http, code_or_redirect_url, state=state)

    def _get_page(self, url: str, params: Mapping[str, Any] | None) -> httpx.Response:
        return self.request("GET", url, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one API request through the full pipeline and return the 2xx response.

        Args:
            method: HTTP method.
            path: Path under the API host (``/rest/v1.0/...``) or an absolute API URL.
            params: Query parameters.
            json: JSON body.
            idempotent: Whether resending is safe; defaults by method (GET/PUT/DELETE yes,
                POST/PATCH no).

        Returns:
            The successful response.

        Raises:
            APIStatusError: A subclass per status code, after retries where allowed.
            APIConnectionError: The request got no answer, after retries where allowed.
        """
        method = method.upper()
        idem = method in _IDEMPOTENT if idempotent is None else idempotent
        url = self._url(path)
        bare = url.split("?")[0]
        company_scoped = not bare.endswith("/rest/v1.0/companies")
        deadline = self._deadline()
        attempt = 0
        refreshed = False
        stale = None
        while True:
            token = self.auth.get_token(self.http, stale=stale)
            stale = None
            headers = self._headers(token.access_token, company_scoped)
            limiter = self.limiter
            while (wait := limiter.reserve()) != 0.0:
                if wait is None:
                    limiter.wait_for_answer()
                else:
                    _log_pacing(wait, method, bare)
                    self.clock.sleep(wait)
            response: httpx.Response | None = None
            try:
                self.requests_sent += 1
                response = self.http.request(
                    method, url, params=params, json=json, headers=headers, timeout=self.timeout
                )
                limiter.update(response.headers)
                self._note_date(response)
            except httpx.TransportError as exc:
                error = self._transport_error(exc, method, bare)
                retryable = self.retry.retryable_exception(exc, idempotent=idem)
            else:
                if response.is_success:
                    return response
                if response.status_code == 401 and not refreshed:
                    # One refresh-and-retry: the token may have been revoked or rotated early.
                    refreshed, stale = True, token
                    _log.info("401 from %s %s; refreshing the token once", method, bare)
                    continue
                error = error_for_response(response)
                retryable = self.retry.retryable_status(response.status_code, idempotent=idem)
            finally:
                limiter.release()
            wait = self._plan_retry(
                method=method,
                url=bare,
                attempt=attempt,
                deadline=deadline,
                response=response,
                error=error,
                retryable=retryable,
            )
            self.clock.sleep(wait)
            attempt += 1


class AsyncProcoreClient(_Common):
    """Asynchronous Procore client; same arguments as `ProcoreClient`.

    Args:
        auth: Token manager (may be shared with a sync client in another thread).
        company_id: The Procore company every call is made for.
        http_client: The ``httpx.AsyncClient`` to send through (e.g. with
            ``httpx.ASGITransport(app=FakeProcore())``); owned and closed only if created here.
        timeout: Per-request timeout.
        retry: Retry policy.
        clock: Time source; defaults to the auth's clock.
        limiters: Rate-limiter registry; the process-wide one by default.
        user_agent: User-Agent header value.
    """

    companies: AsyncResource[m.Company]
    projects: AsyncResource[m.Project]
    vendors: AsyncResource[m.Vendor]
    project_vendors: AsyncResource[m.Vendor]
    cost_codes: AsyncResource[m.CostCode]
    line_item_types: AsyncResource[m.LineItemType]
    budget_views: AsyncResource[m.BudgetView]
    budget_view_detail_rows: AsyncResource[m.BudgetViewDetailRow]
    budget_line_items: AsyncResource[m.BudgetLineItem]
    work_order_contracts: AsyncResource[m.WorkOrderContract]
    work_order_contract_line_items: AsyncResource[m.CommitmentLineItem]
    purchase_order_contracts: AsyncResource[m.PurchaseOrderContract]
    purchase_order_contract_line_items: AsyncResource[m.CommitmentLineItem]
    commitment_change_orders: AsyncResource[m.CommitmentChangeOrder]
    potential_change_orders: AsyncResource[m.PotentialChangeOrder]
    potential_change_order_line_items: AsyncResource[m.PotentialChangeOrderLineItem]
    requisitions: AsyncResource[m.Requisition]
    requisition_items: AsyncResource[m.RequisitionItem]
    contract_payments: AsyncResource[m.ContractPayment]
    direct_costs: AsyncResource[m.DirectCost]
    direct_cost_line_items: AsyncResource[m.DirectCostLineItem]

    def __init__(
        self,
        *,
        auth: ProcoreAuth,
        company_id: int | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        limiters: RateLimiterRegistry | None = None,
        user_agent: str | None = None,
    ) -> None:
        super().__init__(
            auth=auth,
            company_id=company_id,
            timeout=timeout,
            retry=retry,
            clock=clock,
            limiters=limiters,
            user_agent=user_agent,
        )
        self._owns_http = http_client is None
        self.http = http_client or httpx.AsyncClient(timeout=self.timeout)
        for spec in RESOURCES:
            setattr(self, spec.name, AsyncResource(self, spec))

    def with_company(self, company_id: int) -> AsyncProcoreClient:
        """A client for another company sharing auth, httpx client and limiters."""
        return AsyncProcoreClient(
            auth=self.auth,
            company_id=company_id,
            http_client=self.http,
            timeout=self.timeout,
            retry=self.retry,
            clock=self.clock,
            limiters=self.limiters,
            user_agent=self.user_agent,
        )

    async def aclose(self) -> None:
        """Close the httpx client if this client created it."""
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncProcoreClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"AsyncProcoreClient(environment={self.environment.name!r}, "
            f"company_id={self.company_id})"
        )

    async def exchange_code(self, code_or_redirect_url: str, *, state: str | None = None) -> Token:
        """Finish the authorization-code flow (see `aexchange_code`)."""
        return await self.auth.aexchange_code(self.http, code_or_redirect_url, state=state)

    async def _get_page(self, url: str, params: Mapping[str, Any] | None) -> httpx.Response:
        return await self.request("GET", url, params=params)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one API request; see `request`."""
        method = method.upper()
        idem = method in _IDEMPOTENT if idempotent is None else idempotent
        url = self._url(path)
        bare = url.split("?")[0]
        company_scoped = not bare.endswith("/rest/v1.0/companies")
        deadline = self._deadline()
        attempt = 0
        refreshed = False
        stale = None
        while True:
            token = await self.auth.aget_token(self.http, stale=stale)
            stale = None
            headers = self._headers(token.access_token, company_scoped)
            limiter = self.limiter
            while (wait := limiter.reserve()) != 0.0:
                if wait is not None:
                    _log_pacing(wait, method, bare)
                # Waiting for another task's answer: poll briefly, never block the loop.
                await self.clock.asleep(_POLL if wait is None else wait)
            response: httpx.Response | None = None
            try:
                self.requests_sent += 1
                response = await self.http.request(
                    method, url, params=params, json=json, headers=headers, timeout=self.timeout
                )
                limiter.update(response.headers)
                self._note_date(response)
            except httpx.TransportError as exc:
                error = self._transport_error(exc, method, bare)
                retryable = self.retry.retryable_exception(exc, idempotent=idem)
            else:
                if response.is_success:
                    return response
                if response.status_code == 401 and not refreshed:
                    refreshed, stale = True, token
                    _log.info("401 from %s %s; refreshing the token once", method, bare)
                    continue
                error = error_for_response(response)
                retryable = self.retry.retryable_status(response.status_code, idempotent=idem)
            finally:
                limiter.release()
            wait = self._plan_retry(
                method=method,
                url=bare,
                attempt=attempt,
                deadline=deadline,
                response=response,
                error=error,
                retryable=retryable,
            )
            await self.clock.asleep(wait)
            attempt += 1
