"""Round-trip property tests over every message type, driven by the binding metadata.

For each request and response class, hypothesis builds instances that respect the schema's
choices (one branch per choice, optional fields present or not, lists of 0–2 items, text from
all of Latin-1 including markup characters and whitespace, amounts with two decimals, offsets
on date-times). Each must serialize to a schema-valid ASCII document and parse back equal.
"""

from __future__ import annotations

import datetime
import string
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbprocore import qbxml

# Every test here runs with the C walk and with the Python builders (conftest.py).
pytestmark = pytest.mark.usefixtures("qbxml_walk")

MAX_DEPTH = 3
_LATIN1 = "".join(chr(c) for c in [9, 10, 13, *range(0x20, 0x7F), *range(0xA0, 0x100)])


def _text(max_length: int | None) -> st.SearchStrategy[str]:
    return st.text(alphabet=_LATIN1, min_size=0, max_size=min(max_length or 30, 30))


def _decimal(places: int, int_digits: int) -> st.SearchStrategy[Decimal]:
    limit = 10**int_digits - 1
    return st.builds(
        lambda units, scale: Decimal(units).scaleb(-scale),
        st.integers(min_value=-limit * 10**places, max_value=limit * 10**places).filter(
            lambda u: abs(u) < 10**int_digits * 10**places
        ),
        st.just(places) if places == 2 else st.integers(min_value=0, max_value=places),
    ).filter(lambda d: len(format(abs(d), "f").split(".")[0]) <= int_digits)


_OFFSETS = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes))
)
_DATETIMES = st.builds(
    lambda dt, tz: dt.replace(microsecond=0, tzinfo=tz),
    st.datetimes(min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2100, 1, 1)),
    st.none() | _OFFSETS,
)

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "ID": st.text(alphabet=string.ascii_uppercase + string.digits + "-", max_size=36),
    "GUID": st.uuids().map(lambda u: "{" + str(u).upper() + "}") | st.just("0"),
    "DURATION": st.builds(lambda h, m, s: f"PT{h}H{m}M{s}S", *[st.integers(0, 99)] * 3),
    "BOOL": st.booleans(),
    "INT": st.integers(min_value=-(2**31), max_value=2**31 - 1),
    "DATE": st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2200, 1, 1)),
    "DATETIME": _DATETIMES,
    "AMT": _decimal(2, 13),
    "PRICE": _decimal(5, 10),
    "QUAN": _decimal(5, 10),
    "PERCENT": _decimal(5, 10),
    "FLOAT": _decimal(5, 10),
}


def _scalar(kind: str, max_length: int | None, enum: type[qbxml.QbxmlEnum] | None) -> Any:
    if kind == "STR":
        return _text(max_length)
    if kind == "ENUM":
        assert enum is not None
        return st.sampled_from(list(enum))
    return SCALARS[kind]


def _allowed(choice: tuple[tuple[int, int], ...], branches: dict[int, int]) -> bool:
    return all(branches.get(number) == branch for number, branch in choice)


@st.composite
def instance(
    draw: st.DrawFn,
    cls: type[qbxml.QbxmlModel],
    depth: int = 0,
    limits: tuple[tuple[str, int], ...] = (),
) -> qbxml.QbxmlModel:
    spec = cls.__qbxml__
    tighter = dict(limits)
    counts: dict[int, int] = {}
    for f in spec.fields:
        for number, branch in f.choice:
            counts[number] = max(counts.get(number, 0), branch + 1)
    branches = {n: draw(st.integers(0, c - 1)) for n, c in counts.items()}
    kwargs: dict[str, Any] = {}
    for a in spec.attributes:
        strategy = _scalar(a.kind, None, a.enum)
        if a.attr == "status_severity":
            strategy = st.sampled_from(["Info", "Warn", "Error"])
        kwargs[a.attr] = draw(strategy) if a.required else draw(st.none() | strategy)
    for f in spec.fields:
        if not _allowed(f.choice, branches):
            continue
        deep = depth >= MAX_DEPTH
        # Mandatory: a required element, or one that must appear in the branch taken.
        mandatory = f.required or f.min_occurs == 1
        if f.classes:
            item = st.one_of(*(instance(c, depth + 1, f.limits) for c in f.classes))
        elif f.kind == "INT":
            item = st.integers(
                min_value=-(2**31) if f.min_value is None else f.min_value,
                max_value=2**31 - 1 if f.max_value is None else f.max_value,
            )
        else:
            item = _scalar(f.kind, tighter.get(f.attr, f.max_length), f.enum)
        if f.is_list:
            low = 1 if mandatory else 0
            kwargs[f.attr] = draw(st.lists(item, min_size=low, max_size=low if deep else 2))
        elif mandatory:
            kwargs[f.attr] = draw(item)
        elif not deep:
            kwargs[f.attr] = draw(st.none() | item)
    return cls(**kwargs)


def _roundtrip(obj: qbxml.QbxmlRequest | qbxml.QbxmlResponse) -> None:
    data = qbxml.dumps(obj)  # validated against qbprocore's schema
    data.decode("ascii")
    doc = qbxml.loads(data)
    assert doc.messages == [obj]


_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("cls", qbxml.REQUEST_TYPES, ids=lambda c: c.__name__)
@_SETTINGS
@given(data=st.data())
def test_requests_roundtrip(cls: type[qbxml.QbxmlRequest], data: st.DataObject) -> None:
    _roundtrip(data.draw(instance(cls)))  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", qbxml.RESPONSE_TYPES, ids=lambda c: c.__name__)
@_SETTINGS
@given(data=st.data())
def test_responses_roundtrip(cls: type[qbxml.QbxmlResponse], data: st.DataObject) -> None:
    _roundtrip(data.draw(instance(cls)))  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=_LATIN1, max_size=41))
def test_any_latin1_name_survives_exactly(text: str) -> None:
    rq = qbxml.VendorAddRq(request_id="r", vendor_add=qbxml.VendorAdd(name=text))
    assert qbxml.loads(qbxml.dumps(rq)).requests == [rq]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=41))
def test_any_unicode_is_either_refused_or_normalized_to_latin1(text: str) -> None:
    rq = qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name=text))
    storable = all(c in _LATIN1 for c in text)
    if storable:
        qbxml.dumps(rq)
    else:
        with pytest.raises(qbxml.QbxmlTextError):
            qbxml.dumps(rq)
    changes: list[qbxml.Change] = []
    cfg = qbxml.DumpConfig(
        text_policy=qbxml.TextPolicy.NORMALIZE, truncate=True, on_change=changes.append
    )
    out = qbxml.loads(qbxml.dumps(rq, config=cfg)).requests[0].vendor_add.name  # type: ignore[attr-defined]
    assert all(c in _LATIN1 for c in out)
    assert len(out) <= 41
    assert (out == text) == (not changes)


def test_uuid_strategy_matches_the_guid_pattern() -> None:
    value = "{" + str(uuid.uuid4()).upper() + "}"
    rq = qbxml.VendorQueryRq(owner_id=[value])
    assert qbxml.loads(qbxml.dumps(rq)).requests == [rq]
