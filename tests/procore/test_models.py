"""Models: Decimal money, 64-bit ids, offsets kept, unknown fields kept and round-tripped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbprocore.procore import Requisition, Vendor, WorkOrderContract


def test_money_is_decimal_from_strings_and_numbers() -> None:
    contract = WorkOrderContract.from_api(
        {"id": 1, "grand_total": "1234.56", "revised_contract": 0.1, "line_items": []}
    )
    assert contract.grand_total == Decimal("1234.56")
    assert contract.revised_contract == Decimal("0.1")  # not 0.1000000000000000055...


def test_ids_beyond_32_bits_stay_exact_ints() -> None:
    vendor = Vendor.from_api({"id": 562949953421312, "parent_id": "9007199254740993"})
    assert vendor.id == 562949953421312
    assert vendor.parent_id == 9007199254740993


def test_float_ids_are_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"Vendor\.parent_id: ids must be integers.*1\.5"):
        Vendor.from_api({"id": 1, "parent_id": 1.5})


def test_bad_amounts_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"WorkOrderContract\.grand_total.*'12,50'"):
        WorkOrderContract.from_api({"grand_total": "12,50"})


def test_datetimes_keep_their_offset() -> None:
    vendor = Vendor.from_api({"id": 1, "updated_at": "2016-07-25T12:01:16-07:00"})
    assert vendor.updated_at is not None
    assert vendor.updated_at.utcoffset() == dt.timedelta(hours=-7)
    utc = Vendor.from_api({"id": 1, "created_at": "2016-07-25T11:24:26Z"})
    assert utc.created_at == dt.datetime(2016, 7, 25, 11, 24, 26, tzinfo=dt.timezone.utc)


def test_unknown_fields_are_kept_and_round_trip() -> None:
    payload = {"id": 7, "name": "Acme", "trade_name": "Concrete", "bidding": {"x": 1}}
    vendor = Vendor.from_api(payload)
    assert vendor.extra == {"trade_name": "Concrete", "bidding": {"x": 1}}
    assert vendor.to_api() == payload


def test_nested_line_items_are_typed() -> None:
    contract = WorkOrderContract.from_api(
        {"id": 1, "line_items": [{"id": 2, "amount": "10.00", "description": "Pour"}]}
    )
    assert contract.line_items is not None
    assert contract.line_items[0].amount == Decimal("10.00")
    assert contract.to_api()["line_items"] == [{"id": 2, "amount": "10.00", "description": "Pour"}]


def test_dates_parse_and_serialize() -> None:
    req = Requisition.from_api({"id": 3, "billing_date": "2024-02-29", "total_claimed_amount": 5})
    assert req.billing_date == dt.date(2024, 2, 29)
    assert req.to_api()["billing_date"] == "2024-02-29"
    assert req.to_api()["total_claimed_amount"] == "5"


def test_models_are_frozen() -> None:
    vendor = Vendor.from_api({"id": 1})
    with pytest.raises(AttributeError):
        vendor.name = "x"  # type: ignore[misc]


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12
    ),
    st.integers(min_value=1, max_value=2**63 - 1),
)
def test_money_and_ids_survive_a_round_trip(amount: Decimal, ident: int) -> None:
    contract = WorkOrderContract.from_api({"id": ident, "grand_total": str(amount)})
    again = WorkOrderContract.from_api(contract.to_api())
    assert again.grand_total == amount
    assert again.id == ident
