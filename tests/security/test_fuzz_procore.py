"""Fuzz target (c): Procore response parsing against hostile answers served by MockTransport.

Every response the client reads — token grants, listings, single records, creates, updates,
sync batches and error bodies — comes from a generated script: random and hostile JSON,
non-JSON bytes, deep nesting, any status code, and broken ``X-Rate-Limit-*``, ``Retry-After``,
``Date``, ``Total`` and ``Link`` headers. What may escape is the documented error tree:
`ProcoreError` and its subclasses, or the ``ValueError`` that ``from_api`` documents for a
success body whose values cannot be converted (the page reader's "expected a JSON list"
``TypeError`` likewise). Anything else (``AttributeError``, ``OverflowError``,
``RecursionError`` …) is a crash.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from qbprocore.procore import (
    PRODUCTION,
    ProcoreAuth,
    ProcoreClient,
    ProcoreError,
    RateLimiterRegistry,
    RetryPolicy,
)
from qbprocore.testing import FakeClock

from ._fuzz import LARGE_INPUTS_OK, Counter, fuzz_settings

API = "https://api.procore.com"

_NUMBERS = ["0", "1", "-1", "5", "3600", "1e400", "-1e400", "inf", "-inf", "nan", "NaN", "1e308"]
_HOSTILE_HEADER_VALUES = [
    *_NUMBERS,
    "",
    " ",
    "abc",
    "9" * 400,
    "1_000",
    "0x10",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 +2359",
    "32 Foo 99999 99:99:99 XYZ",
    f'<{API}/rest/v1.0/vendors?page=2>; rel="next"',
    '<https://evil.example/steal>; rel="next"',
    '<//evil.example/x>; rel="next"',
    '<>; rel="next"',
    "<; rel=",
    'rel="next"',
    f'<{API}/rest/v1.0/vendors?page=2>; rel="next", <{API}/x>; rel="last"',
]
_HEADER_NAMES = [
    "X-Rate-Limit-Limit",
    "X-Rate-Limit-Remaining",
    "X-Rate-Limit-Reset",
    "Retry-After",
    "Date",
    "Link",
    "Total",
    "Per-Page",
    "X-Request-Id",
    "Content-Type",
]
_STATUSES = [200, 201, 204, 400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504]
_MODEL_KEYS = [
    "id",
    "name",
    "origin_id",
    "origin_data",
    "created_at",
    "updated_at",
    "deleted_at",
    "total_value",
    "amount",
    "start_date",
    "line_items",
    "vendor",
    "is_active",
    "parent_id",
    "data",
    "entities",
    "errors",
    "error",
    "message",
    "error_description",
    "details",
    "access_token",
    "refresh_token",
    "expires_in",
    "created_at",
    "token_type",
]

header_value = st.one_of(
    st.sampled_from(_HOSTILE_HEADER_VALUES),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
)
headers = st.dictionaries(st.sampled_from(_HEADER_NAMES), header_value, max_size=6)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        ["NaN", "Infinity", "1e999999", "2024-13-45", "2024-01-02T25:00:00Z", "0x1", "١٢٣", ""]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(_MODEL_KEYS), st.text(max_size=8)), inner, max_size=6
        ),
    ),
    max_leaves=25,
)
records = st.dictionaries(st.sampled_from(_MODEL_KEYS), json_values, max_size=8)


def _deep(n: int, kind: str) -> bytes:
    return (b"[" * n + b"]" * n) if kind == "list" else (b'{"a":' * n + b"1" + b"}" * n)


bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(records, max_size=4).map(lambda v: json.dumps(v).encode()),
    records.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "entities": st.one_of(json_values, st.lists(records, max_size=3)),
            "errors": st.one_of(json_values, st.lists(records, max_size=3)),
        }
    ).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"data": json_values}).map(lambda v: json.dumps(v).encode()),
    st.tuples(st.integers(1, 5_000), st.sampled_from(["list", "dict"])).map(lambda t: _deep(*t)),
    st.sampled_from([b"", b"null", b"<html>502 Bad Gateway</html>", b"\xff\xfe{", b'{"a":']),
)


@st.composite
def answers(draw: st.DrawFn) -> tuple[int, bytes, dict[str, str]]:
    # Half the answers are 200, so success bodies (model conversion) get as much fuzzing
    # as error bodies.
    status = draw(st.one_of(st.just(200), st.sampled_from(_STATUSES), st.integers(100, 599)))
    return status, draw(bodies), draw(headers)


valid_token = (
    200,
    json.dumps({"access_token": "at", "token_type": "Bearer", "expires_in": 5400}).encode(),
    {"Content-Type": "application/json"},
)
token_answers = st.one_of(
    st.just(valid_token),  # weighted: most inputs get past the token endpoint
    st.just(valid_token),
    st.just(valid_token),
    st.just(valid_token),
    answers(),
    records.map(lambda r: (200, json.dumps(r).encode(), {})),
    st.fixed_dictionaries(
        {"access_token": json_values, "expires_in": json_values, "created_at": json_values}
    ).map(lambda r: (200, json.dumps(r).encode(), {})),
)

OPERATIONS = ["list", "get", "create", "update", "sync", "companies"]


def _allowed(exc: BaseException) -> bool:
    """The documented error tree (see the module docstring)."""
    if isinstance(exc, ProcoreError):
        return True
    if isinstance(exc, TypeError) and str(exc).startswith("expected a JSON list"):
        return True
    # ValueError: a success body that is not JSON or not the model's shape. Not a
    # UnicodeEncodeError: that would be a hostile token reaching a request header.
    return isinstance(exc, ValueError) and not isinstance(exc, UnicodeEncodeError)


class Script:
    """A MockTransport handler: one scripted answer for the token endpoint, a cycle for the API."""

    def __init__(
        self, token: tuple[int, bytes, dict[str, str]], api: list[tuple[int, bytes, dict[str, str]]]
    ) -> None:
        self.token = token
        self.api = itertools.cycle(api)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        status, body, hdrs = self.token if request.url.path == "/oauth/token" else next(self.api)
        return httpx.Response(status, content=body, headers=hdrs)


def run_operation(operation: str, script: Script) -> Any:
    """Run one client operation against the script; returns a sync's result."""
    clock = FakeClock()
    auth = ProcoreAuth.client_credentials(
        environment=PRODUCTION, client_id="cid", client_secret="secret", clock=clock
    )
    with (
        httpx.Client(transport=httpx.MockTransport(script)) as http,
        ProcoreClient(
            auth=auth,
            company_id=1 if operation != "companies" else None,
            http_client=http,
            clock=clock,
            limiters=RateLimiterRegistry(),
            retry=RetryPolicy(max_retries=2),
        ) as client,
    ):
        if operation == "list":
            # A hostile Link header can promise pages forever: read a bounded number.
            for _page in itertools.islice(client.vendors.list(per_page=10).pages(), 4):
                pass
        elif operation == "companies":
            list(itertools.islice(client.companies.list(per_page=10), 50))
        elif operation == "get":
            client.vendors.get(7)
        elif operation == "create":
            client.vendors.create({"name": "Acme", "origin_id": "QB-1"})
        elif operation == "update":
            client.vendors.update(7, {"name": "Acme"})
        else:
            return client.vendors.sync(
                [{"origin_id": "QB-1", "name": "Acme"}, {"id": 9, "name": "B"}]
            )
    return None


COUNTER = Counter("procore-responses")


@fuzz_settings(normal=250)
@given(
    operation=st.sampled_from(OPERATIONS),
    token=token_answers,
    api=st.lists(answers(), min_size=1, max_size=3),
)
def fuzz_procore(operation: str, token: tuple[int, bytes, dict[str, str]], api: list[Any]) -> None:
    try:
        run_operation(operation, Script(token, api))
    except Exception as exc:
        if not _allowed(exc):
            raise
        COUNTER.saw(type(exc).__name__)
    else:
        COUNTER.saw("ok")


@LARGE_INPUTS_OK
def test_hostile_procore_responses_raise_only_the_documented_error_tree() -> None:
    """Any status, body and header Procore (or a proxy) sends ends in a result or an error
    from the documented tree, never an unhandled AttributeError/OverflowError/RecursionError."""
    fuzz_procore()
    COUNTER.report()
    assert COUNTER.inputs > 0
