"""OAuth2 + REST client for Procore's financial resources.

Quick start (a service account)::

    from qbprocore.procore import PRODUCTION, ProcoreAuth, ProcoreClient

    auth = ProcoreAuth.client_credentials(
        environment=PRODUCTION, client_id="...", client_secret="..."
    )
    with ProcoreClient(auth=auth, company_id=1234) as client:
        for vendor in client.vendors.list(per_page=1000):
            print(vendor.id, vendor.name)
        result = client.vendors.sync([{"origin_id": "QB-80000001", "name": "Acme"}])
        assert result.ok, result.failed

Exceptions (all under `QbprocoreError`)::

    ProcoreError
    ├── APIConnectionError            no HTTP answer (DNS, refused, reset)
    │   └── APITimeoutError
    ├── OAuthError                    the token endpoint refused a grant
    │   └── ReauthorizationRequiredError   refresh token spent/revoked: authorize again
    ├── TokenStoreError               cannot read, decrypt or write stored tokens
    ├── SyncFailedError               SyncResult.raise_for_failures()
    └── APIStatusError                Procore answered 4xx/5xx (status, request id, body)
        ├── BadRequestError           400
        ├── AuthenticationError       401 (after one refresh-and-retry)
        ├── PermissionDeniedError     403
        │   └── AppNotConnectedError  403: app not installed in this company
        ├── NotFoundError             404
        ├── RequestTimeoutError       408
        ├── ConflictError             409
        ├── UnprocessableEntityError  422 (also a ValueError)
        ├── RateLimitError            429 (reset_at, retry_after)
        └── InternalServerError       5xx
            └── ServiceUnavailableError   503 (retry_after)

The I/O seam is the httpx client: pass ``http_client=httpx.Client(transport=...)`` to test
against `MockTransport` or `FakeProcore`.
"""

from __future__ import annotations

from qbprocore.procore._auth import GrantType, ProcoreAuth
from qbprocore.procore._client import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    AsyncProcoreClient,
    ProcoreClient,
)
from qbprocore.procore._clock import Clock, SystemClock
from qbprocore.procore._crypto import TokenCipher
from qbprocore.procore._environments import (
    DEVELOPER_SANDBOX,
    MONTHLY_SANDBOX,
    PRODUCTION,
    Environment,
)
from qbprocore.procore._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AppNotConnectedError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OAuthError,
    PermissionDeniedError,
    ProcoreError,
    RateLimitError,
    ReauthorizationRequiredError,
    RequestTimeoutError,
    ServiceUnavailableError,
    TokenStoreError,
    UnprocessableEntityError,
    parse_error_body,
)
from qbprocore.procore._models import (
    BudgetLineItem,
    BudgetView,
    BudgetViewDetailRow,
    CommitmentChangeOrder,
    CommitmentLineItem,
    Company,
    ContractPayment,
    CostCode,
    DirectCost,
    DirectCostLineItem,
    LineItemType,
    PotentialChangeOrder,
    PotentialChangeOrderLineItem,
    ProcoreModel,
    Project,
    PurchaseOrderContract,
    Requisition,
    RequisitionItem,
    Vendor,
    WorkOrderContract,
)
from qbprocore.procore._pagination import AsyncPager, Page, Pager
from qbprocore.procore._ratelimit import RateLimiter, RateLimiterRegistry
from qbprocore.procore._resources import RESOURCES, AsyncResource, Resource, ResourceSpec
from qbprocore.procore._retry import RetryPolicy
from qbprocore.procore._stores import (
    FileTokenStore,
    MemoryTokenStore,
    SQLiteTokenStore,
    TokenStore,
)
from qbprocore.procore._sync import MAX_SYNC_BATCH, SyncFailedError, SyncItemResult, SyncResult
from qbprocore.procore._tokens import OOB_REDIRECT_URI, ClientCredentials, Token

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEVELOPER_SANDBOX",
    "MAX_SYNC_BATCH",
    "MONTHLY_SANDBOX",
    "OOB_REDIRECT_URI",
    "PRODUCTION",
    "RESOURCES",
    "USER_AGENT",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AppNotConnectedError",
    "AsyncPager",
    "AsyncProcoreClient",
    "AsyncResource",
    "AuthenticationError",
    "BadRequestError",
    "BudgetLineItem",
    "BudgetView",
    "BudgetViewDetailRow",
    "ClientCredentials",
    "Clock",
    "CommitmentChangeOrder",
    "CommitmentLineItem",
    "Company",
    "ConflictError",
    "ContractPayment",
    "CostCode",
    "DirectCost",
    "DirectCostLineItem",
    "Environment",
    "FileTokenStore",
    "GrantType",
    "InternalServerError",
    "LineItemType",
    "MemoryTokenStore",
    "NotFoundError",
    "OAuthError",
    "Page",
    "Pager",
    "PermissionDeniedError",
    "PotentialChangeOrder",
    "PotentialChangeOrderLineItem",
    "ProcoreAuth",
    "ProcoreClient",
    "ProcoreError",
    "ProcoreModel",
    "Project",
    "PurchaseOrderContract",
    "RateLimitError",
    "RateLimiter",
    "RateLimiterRegistry",
    "ReauthorizationRequiredError",
    "RequestTimeoutError",
    "Requisition",
    "RequisitionItem",
    "Resource",
    "ResourceSpec",
    "RetryPolicy",
    "SQLiteTokenStore",
    "ServiceUnavailableError",
    "SyncFailedError",
    "SyncItemResult",
    "SyncResult",
    "SystemClock",
    "Token",
    "TokenCipher",
    "TokenStore",
    "TokenStoreError",
    "UnprocessableEntityError",
    "Vendor",
    "WorkOrderContract",
    "parse_error_body",
]
