"""Model construction: typed, frozen, keyword-only, checked where the mistake is made."""

from __future__ import annotations

import datetime
from decimal import Decimal

import attrs
import pytest

from qbprocore import qbxml


def test_field_order_follows_the_schema_not_the_keywords() -> None:
    names = [f.name for f in attrs.fields(qbxml.VendorAdd)]
    assert names.index("name") < names.index("is_active") < names.index("company_name")
    assert names.index("vendor_address") < names.index("phone") < names.index("notes")
    assert names[-1] == "unknown_elements"


def test_snake_case_names_follow_the_elements() -> None:
    spec = qbxml.VendorRet.__qbxml__
    assert spec.field("list_id").tag == "ListID"
    assert spec.field("edit_sequence").tag == "EditSequence"
    assert spec.field("is_vendor_eligible_for_1099").tag == "IsVendorEligibleFor1099"
    assert qbxml.VendorQueryRq.__qbxml__.field("max_returned").tag == "MaxReturned"


def test_models_are_frozen_and_keyword_only() -> None:
    vendor = qbxml.VendorAdd(name="Acme")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        vendor.name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        qbxml.VendorAdd("Acme")  # type: ignore[misc]


def test_evolve_and_equality() -> None:
    a = qbxml.VendorAdd(name="Acme", vendor_address=qbxml.Address(city="Boston"))
    b = attrs.evolve(a, name="Acme Concrete")
    assert b.name == "Acme Concrete"
    assert b.vendor_address == a.vendor_address
    assert a == qbxml.VendorAdd(name="Acme", vendor_address=qbxml.Address(city="Boston"))
    assert a != b
    assert a != qbxml.VendorMod(list_id="1", edit_sequence="2", name="Acme")


def test_models_hold_lists_so_they_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(qbxml.Ref(full_name="Acme"))


def test_required_elements_are_required() -> None:
    with pytest.raises(TypeError):
        qbxml.VendorAdd()  # type: ignore[call-arg]
    with pytest.raises(qbxml.QbxmlValueError, match=r"BillAdd\.vendor_ref must be set"):
        qbxml.BillAdd(vendor_ref=None)  # type: ignore[arg-type]


def test_money_must_be_decimal_and_floats_are_refused() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match=r"ExpenseLineAdd\.amount must be decimal"):
        qbxml.ExpenseLineAdd(amount=12.5)  # type: ignore[arg-type]
    with pytest.raises(qbxml.QbxmlValueError, match="finite"):
        qbxml.ExpenseLineAdd(amount=Decimal("NaN"))
    line = qbxml.ExpenseLineAdd(amount=Decimal("12.50"))
    assert line.amount == Decimal("12.50")


def test_booleans_must_be_real_booleans() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match=r"VendorAdd\.is_active must be bool"):
        qbxml.VendorAdd(name="Acme", is_active="false")  # type: ignore[arg-type]
    assert qbxml.VendorAdd(name="Acme", is_active=False).is_active is False


def test_dates_and_datetimes_are_typed() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match=r"datetime\.date"):
        qbxml.BillAdd(vendor_ref=qbxml.Ref(full_name="A"), txn_date="2024-01-02")  # type: ignore[arg-type]
    with pytest.raises(qbxml.QbxmlValueError, match=r"datetime\.date"):
        qbxml.BillAdd(
            vendor_ref=qbxml.Ref(full_name="A"),
            txn_date=datetime.datetime(2024, 1, 2, 3, 4),
        )
    with pytest.raises(qbxml.QbxmlValueError, match=r"datetime\.datetime"):
        qbxml.VendorQueryRq(from_modified_date=datetime.date(2024, 1, 2))  # type: ignore[arg-type]


def test_integers_refuse_booleans() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match="max_returned must be int"):
        qbxml.VendorQueryRq(max_returned=True)


def test_repeatable_elements_are_always_tuples() -> None:
    rq = qbxml.VendorQueryRq()
    assert rq.list_id == ()
    given = ["1", "2"]
    kept = qbxml.VendorQueryRq(list_id=given).list_id
    assert type(kept) is tuple
    given.append("3")  # the record does not share the caller's list
    assert kept == ("1", "2")
    assert qbxml.VendorQueryRq(list_id=("1",)).list_id == ("1",)

    class Ids(list[str]):
        pass

    assert qbxml.VendorQueryRq(list_id=Ids(["1"])).list_id == ("1",)
    with pytest.raises(qbxml.QbxmlValueError, match="list_id must be a tuple or list"):
        qbxml.VendorQueryRq(list_id="80000001-1700000000")  # type: ignore[arg-type]
    with pytest.raises(qbxml.QbxmlValueError, match="list_id must be str"):
        qbxml.VendorQueryRq(list_id=[1])  # type: ignore[list-item]


def test_repeated_choice_keeps_one_ordered_list_of_either_type() -> None:
    item = qbxml.ItemLineAdd(item_ref=qbxml.Ref(full_name="03-300"))
    group = qbxml.ItemGroupLineAdd(item_group_ref=qbxml.Ref(full_name="Package"))
    bill = qbxml.BillAdd(
        vendor_ref=qbxml.Ref(full_name="A"), item_line_add_or_item_group_line_add=[group, item]
    )
    assert bill.item_line_add_or_item_group_line_add == (group, item)
    with pytest.raises(qbxml.QbxmlValueError, match="ItemLineAdd or ItemGroupLineAdd"):
        qbxml.BillAdd(
            vendor_ref=qbxml.Ref(full_name="A"),
            item_line_add_or_item_group_line_add=[qbxml.Ref(full_name="x")],  # type: ignore[list-item]
        )


def test_nested_records_must_be_their_class() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match=r"vendor_address must be Address"):
        qbxml.VendorAdd(name="A", vendor_address={"city": "Boston"})  # type: ignore[arg-type]


def test_enums_compare_with_their_spelling_and_accept_plain_strings() -> None:
    assert qbxml.ActiveStatus.ALL == "All"
    assert str(qbxml.ActiveStatus.ACTIVE_ONLY) == "ActiveOnly"
    rq = qbxml.VendorQueryRq(active_status="All")
    assert rq.active_status == qbxml.ActiveStatus.ALL


def test_one_ref_type_for_every_reference() -> None:
    bill = qbxml.BillAdd.__qbxml__
    for name in ("vendor_ref", "ap_account_ref", "terms_ref", "sales_tax_code_ref"):
        assert bill.field(name).classes == (qbxml.Ref,)
    assert qbxml.PurchaseOrderLineAdd.__qbxml__.field("customer_ref").classes == (qbxml.Ref,)


def test_repr_shows_set_fields_only() -> None:
    text = repr(qbxml.VendorAdd(name="Acme", is_active=True))
    assert text == "VendorAdd(name='Acme', is_active=True)"


def test_repr_of_unknown_elements_is_shown_when_present() -> None:
    vendor = qbxml.VendorRet(unknown_elements=(qbxml.UnknownElement(tag="NewThing", text="x"),))
    assert "NewThing" in repr(vendor)


def test_response_records_and_status_helpers() -> None:
    rs = qbxml.VendorQueryRs(
        request_id="7",
        status_code=0,
        status_severity="Info",
        vendor_ret=[qbxml.VendorRet(name="A"), qbxml.VendorRet(name="B")],
    )
    assert [r.name for r in rs.records] == ["A", "B"]  # type: ignore[attr-defined]
    assert rs.ok
    assert not rs.is_no_match
    rs.raise_for_status()


def test_models_pickle_copy_and_convert_with_attrs() -> None:
    import copy
    import pickle

    vendor = qbxml.VendorRet(
        name="A", balance=Decimal("1.00"), vendor_address=qbxml.Address(city="Boston")
    )
    assert pickle.loads(pickle.dumps(vendor)) == vendor
    assert copy.deepcopy(vendor) == vendor
    as_dict = attrs.asdict(vendor)
    assert as_dict["vendor_address"]["city"] == "Boston"
    assert as_dict["balance"] == Decimal("1.00")


def test_every_address_element_has_a_class_of_its_name() -> None:
    assert qbxml.VendorAddress is qbxml.Address
    assert qbxml.ShipAddress is qbxml.Address
    assert qbxml.VendorAddressBlock is qbxml.AddressBlock
    vendor = qbxml.VendorAdd(name="A", vendor_address=qbxml.VendorAddress(city="Boston"))
    assert b"<VendorAddress><City>Boston</City></VendorAddress>" in qbxml.dumps(
        qbxml.VendorAddRq(vendor_add=vendor)
    )
