"""Building documents: envelope, order, escaping, encoding, policies, validation."""

from __future__ import annotations

import datetime
import warnings
from decimal import Decimal

import pytest
from lxml import etree

from qbprocore import qbxml


def _root(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def test_envelope_prolog_version_and_on_error() -> None:
    data = qbxml.dumps(qbxml.VendorQueryRq(request_id="42"), version="12.0")
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="12.0"?>\n')
    root = _root(data)
    assert root.tag == "QBXML"
    msgs = root[0]
    assert msgs.tag == "QBXMLMsgsRq"
    assert msgs.get("onError") == "stopOnError"
    assert msgs[0].tag == "VendorQueryRq"
    assert msgs[0].get("requestID") == "42"
    other = qbxml.dumps(qbxml.VendorQueryRq(), on_error="continueOnError")
    assert _root(other)[0].get("onError") == "continueOnError"


def test_on_error_is_checked() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match="on_error"):
        qbxml.dumps(qbxml.VendorQueryRq(), on_error="rollbackOnErrorr")


def test_iterator_attributes() -> None:
    start = qbxml.VendorQueryRq(request_id="1", iterator="Start", max_returned=100)
    el = _root(qbxml.dumps(start))[0][0]
    assert el.get("iterator") == "Start"
    assert el.findtext("MaxReturned") == "100"
    cont = qbxml.VendorQueryRq(
        request_id="1", iterator=qbxml.Iterator.CONTINUE, iterator_id="{abc}", max_returned=100
    )
    el = _root(qbxml.dumps(cont))[0][0]
    assert (el.get("iterator"), el.get("iteratorID"), el.get("requestID")) == (
        "Continue",
        "{abc}",
        "1",
    )


def test_elements_come_out_in_schema_order_whatever_the_keyword_order() -> None:
    vendor = qbxml.VendorAdd(
        notes="late payer",
        phone="555",
        vendor_address=qbxml.Address(postal_code="02110", addr1="1 Main", city="Boston"),
        name="Acme",
    )
    el = _root(qbxml.dumps(qbxml.VendorAddRq(vendor_add=vendor)))[0][0][0]
    assert [c.tag for c in el] == ["Name", "VendorAddress", "Phone", "Notes"]
    assert [c.tag for c in el[1]] == ["Addr1", "City", "PostalCode"]


def test_several_messages_in_one_document_keep_their_order() -> None:
    data = qbxml.dumps(
        qbxml.VendorAddRq(request_id="a", vendor_add=qbxml.VendorAdd(name="A")),
        qbxml.VendorQueryRq(request_id="b"),
    )
    assert [m.get("requestID") for m in _root(data)[0]] == ["a", "b"]


def test_requests_and_responses_do_not_mix() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match="either requests or responses"):
        qbxml.dumps(
            qbxml.VendorQueryRq(),
            qbxml.VendorQueryRs(status_code=0, status_severity="Info"),
        )
    with pytest.raises(qbxml.QbxmlValueError, match="at least one"):
        qbxml.dumps()


def test_response_documents() -> None:
    rs = qbxml.VendorQueryRs(
        request_id="3", status_code=1, status_severity="Info", status_message="none"
    )
    root = _root(qbxml.dumps(rs))
    assert root[0].tag == "QBXMLMsgsRs"
    assert root[0].get("onError") is None
    assert root[0][0].attrib == {
        "requestID": "3",
        "statusCode": "1",
        "statusSeverity": "Info",
        "statusMessage": "none",
    }


def test_markup_characters_are_escaped() -> None:
    vendor = qbxml.VendorAdd(name='A&B <Concrete> "Co"')
    data = qbxml.dumps(qbxml.VendorAddRq(request_id='x"&<', vendor_add=vendor))
    assert b'<Name>A&amp;B &lt;Concrete&gt; "Co"</Name>' in data
    assert b'requestID="x&quot;&amp;&lt;"' in data
    assert qbxml.loads(data).requests[0].vendor_add.name == 'A&B <Concrete> "Co"'  # type: ignore[attr-defined]


def test_non_ascii_is_written_as_numeric_character_references() -> None:
    data = qbxml.dumps(qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="Côté Drywall")))
    assert b"C&#244;t&#233; Drywall" in data
    data.decode("ascii")  # the whole document is ASCII


def test_characters_outside_latin1_are_refused_by_default_naming_field_and_value() -> None:
    rq = qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="Łódź Builders"))
    with pytest.raises(qbxml.QbxmlTextError) as info:
        qbxml.dumps(rq)
    assert info.value.field == "VendorAddRq.vendor_add.name"
    assert info.value.value == "Łódź Builders"
    assert "U+0141" in str(info.value)
    assert "Łódź Builders" in str(info.value)


def test_normalize_policy_replaces_and_reports_each_change() -> None:
    changes: list[qbxml.Change] = []
    cfg = qbxml.DumpConfig(text_policy=qbxml.TextPolicy.NORMALIZE, on_change=changes.append)
    bill = qbxml.BillAdd(vendor_ref=qbxml.Ref(full_name="Łódź Builders"), memo="“Pay app” — 5… 中")
    data = qbxml.dumps(qbxml.BillAddRq(bill_add=bill), config=cfg)
    doc = qbxml.loads(data)
    out = doc.requests[0].bill_add  # type: ignore[attr-defined]
    assert out.vendor_ref.full_name == "Lódz Builders"  # ó is Latin-1: kept
    assert out.memo == '"Pay app" - 5... ?'
    assert [(c.field, c.action) for c in changes] == [
        ("BillAddRq.bill_add.vendor_ref.full_name", "normalized"),
        ("BillAddRq.bill_add.memo", "normalized"),
    ]
    assert changes[0].before == "Łódź Builders"
    assert changes[0].after == "Lódz Builders"


def test_changes_are_warned_about_when_no_callback_is_given() -> None:
    cfg = qbxml.DumpConfig(text_policy=qbxml.TextPolicy.NORMALIZE)
    with pytest.warns(qbxml.QbxmlChangeWarning, match="VendorAddRq.vendor_add.name"):
        qbxml.dumps(qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="Ørsted™")), config=cfg)


def test_control_characters_are_refused_or_removed() -> None:
    rq = qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="Acme\x00\x1b"))
    with pytest.raises(qbxml.QbxmlTextError, match="U\\+0000"):
        qbxml.dumps(rq)
    cfg = qbxml.DumpConfig(text_policy=qbxml.TextPolicy.NORMALIZE, on_change=lambda c: None)
    doc = qbxml.loads(qbxml.dumps(rq, config=cfg))
    assert doc.requests[0].vendor_add.name == "Acme"  # type: ignore[attr-defined]


def test_max_length_is_enforced_naming_field_limit_and_value() -> None:
    name = "A" * 42
    with pytest.raises(qbxml.QbxmlTextError) as info:
        qbxml.dumps(qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name=name)))
    err = info.value
    assert (err.field, err.limit, err.value) == ("VendorAddRq.vendor_add.name", 41, name)
    assert "limit of 41" in str(err)
    qbxml.dumps(qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="A" * 41)))


def test_truncate_cuts_and_reports_what_it_cut() -> None:
    changes: list[qbxml.Change] = []
    cfg = qbxml.DumpConfig(truncate=True, on_change=changes.append)
    data = qbxml.dumps(qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="B" * 45)), config=cfg)
    assert qbxml.loads(data).requests[0].vendor_add.name == "B" * 41  # type: ignore[attr-defined]
    assert changes == [
        qbxml.Change(
            "VendorAddRq.vendor_add.name",
            "truncated",
            "B" * 45,
            "B" * 41,
            "cut to the limit of 41 characters",
        )
    ]


def test_amounts_are_written_with_two_decimals_and_extra_precision_is_refused() -> None:
    def amount_text(value: Decimal) -> str | None:
        rq = qbxml.BillAddRq(
            bill_add=qbxml.BillAdd(
                vendor_ref=qbxml.Ref(full_name="A"),
                expense_line_add=[qbxml.ExpenseLineAdd(amount=value)],
            )
        )
        return _root(qbxml.dumps(rq)).findtext(".//Amount")

    assert amount_text(Decimal("12.5")) == "12.50"
    assert amount_text(Decimal("7")) == "7.00"
    assert amount_text(Decimal("-3.10")) == "-3.10"
    assert amount_text(Decimal("1E+3")) == "1000.00"
    assert amount_text(Decimal("12.5000")) == "12.50"
    with pytest.raises(qbxml.QbxmlValueError, match=r"expense_line_add\.amount: 12\.345"):
        amount_text(Decimal("12.345"))
    with pytest.raises(qbxml.QbxmlValueError, match="13 integer digits"):
        amount_text(Decimal("12345678901234.00"))


def test_quantities_and_prices_keep_up_to_five_decimals() -> None:
    line = qbxml.ItemLineAdd(
        item_ref=qbxml.Ref(full_name="03-300"), quantity=Decimal("2.50000"), cost=Decimal("3.12345")
    )
    rq = qbxml.BillAddRq(
        bill_add=qbxml.BillAdd(
            vendor_ref=qbxml.Ref(full_name="A"), item_line_add_or_item_group_line_add=[line]
        )
    )
    root = _root(qbxml.dumps(rq))
    assert root.findtext(".//Quantity") == "2.50000"
    assert root.findtext(".//Cost") == "3.12345"
    bad = qbxml.ItemLineAdd(item_ref=qbxml.Ref(full_name="x"), cost=Decimal("1.123456"))
    with pytest.raises(qbxml.QbxmlValueError, match="more than 5 decimal places"):
        qbxml.dumps(
            qbxml.BillAddRq(
                bill_add=qbxml.BillAdd(
                    vendor_ref=qbxml.Ref(full_name="A"), item_line_add_or_item_group_line_add=[bad]
                )
            )
        )


def test_booleans_dates_and_datetimes_with_their_offset() -> None:
    tz = datetime.timezone(datetime.timedelta(hours=-7))
    precise = datetime.datetime(2024, 3, 10, 1, 59, 59, 123456, tzinfo=tz)
    rq = qbxml.VendorQueryRq(
        from_modified_date=precise, to_modified_date=datetime.datetime(2024, 3, 10, 3, 0, 0)
    )
    changes: list[qbxml.Change] = []
    root = _root(qbxml.dumps(rq, config=qbxml.DumpConfig(on_change=changes.append)))
    assert root.findtext(".//FromModifiedDate") == "2024-03-10T01:59:59-07:00"
    # QuickBooks keeps whole seconds: the cut is reported, not silent.
    assert [(c.field, c.action, c.before, c.after) for c in changes] == [
        ("VendorQueryRq.from_modified_date", "truncated", precise, precise.replace(microsecond=0))
    ]
    assert root.findtext(".//ToModifiedDate") == "2024-03-10T03:00:00"
    vendor = qbxml.VendorAdd(name="A", is_active=False, open_balance_date=datetime.date(2024, 1, 2))
    root = _root(qbxml.dumps(qbxml.VendorAddRq(vendor_add=vendor)))
    assert root.findtext(".//IsActive") == "false"
    assert root.findtext(".//OpenBalanceDate") == "2024-01-02"


def test_schema_validation_catches_choice_violations_and_can_be_switched_off() -> None:
    # ListID and MaxReturned are alternatives in VendorQueryRq: QuickBooks rejects both.
    rq = qbxml.VendorQueryRq(list_id=["80000001-1700000000"], max_returned=10)
    with pytest.raises(qbxml.QbxmlSchemaError, match="MaxReturned") as info:
        qbxml.dumps(rq)
    assert info.value.errors
    data = qbxml.dumps(rq, validate=False)
    assert b"<MaxReturned>10</MaxReturned>" in data


def test_unknown_enum_values_fail_schema_validation_on_requests() -> None:
    with pytest.raises(qbxml.QbxmlSchemaError, match="ActiveStatus"):
        qbxml.dumps(qbxml.VendorQueryRq(active_status="Everything"))


def test_fields_newer_than_the_version_are_refused_or_dropped() -> None:
    vendor = qbxml.VendorAdd(name="A", job_title="PM")  # JobTitle needs qbXML 12.0
    rq = qbxml.VendorAddRq(vendor_add=vendor)
    with pytest.raises(qbxml.QbxmlVersionError) as info:
        qbxml.dumps(rq, version="11.0")
    assert info.value.field == "VendorAddRq.vendor_add.job_title"
    assert "12.0" in str(info.value)
    changes: list[qbxml.Change] = []
    cfg = qbxml.DumpConfig(
        version="11.0", version_policy=qbxml.VersionPolicy.DROP, on_change=changes.append
    )
    data = qbxml.dumps(rq, config=cfg)
    assert b"JobTitle" not in data
    assert changes[0].action == "dropped"
    assert changes[0].field == "VendorAddRq.vendor_add.job_title"
    assert b"<JobTitle>PM</JobTitle>" in qbxml.dumps(rq, version="13.0")


def test_bad_version_strings_are_refused() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match="not a qbXML version"):
        qbxml.dumps(qbxml.VendorQueryRq(), version="thirteen")


def test_a_parsed_document_dumps_with_its_own_version_and_on_error() -> None:
    data = qbxml.dumps(
        qbxml.VendorQueryRq(request_id="1"), version="8.0", on_error="continueOnError"
    )
    doc = qbxml.loads(data)
    assert qbxml.dumps(doc) == data


def test_unknown_elements_are_written_back() -> None:
    extra = qbxml.UnknownElement(
        tag="FutureThing",
        text="x",
        attributes=(("a", "1"),),
        children=(qbxml.UnknownElement(tag="Inner", text="y"),),
    )
    rs = qbxml.VendorQueryRs(
        status_code=0,
        status_severity="Info",
        vendor_ret=[qbxml.VendorRet(name="A", unknown_elements=(extra,))],
    )
    data = qbxml.dumps(rs, validate=False)
    assert b'<FutureThing a="1">x<Inner>y</Inner></FutureThing>' in data
    with pytest.raises(qbxml.QbxmlSchemaError, match="FutureThing"):
        qbxml.dumps(rs)


def test_no_warning_when_nothing_changes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        qbxml.dumps(qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="Plain")))


def test_to_element_gives_the_tree() -> None:
    root = qbxml.to_element(qbxml.VendorQueryRq(request_id="1"))
    assert root.tag == "QBXML"
    assert root[0][0].get("requestID") == "1"


def test_reference_names_have_the_limit_of_their_list() -> None:
    ok = qbxml.VendorAdd(name="A", sales_tax_code_ref=qbxml.Ref(full_name="Tax"))
    qbxml.dumps(qbxml.VendorAddRq(vendor_add=ok))
    too_long = qbxml.VendorAdd(name="A", sales_tax_code_ref=qbxml.Ref(full_name="Tax1"))
    with pytest.raises(qbxml.QbxmlTextError) as info:
        qbxml.dumps(qbxml.VendorAddRq(vendor_add=too_long))
    assert (info.value.field, info.value.limit) == (
        "VendorAddRq.vendor_add.sales_tax_code_ref.full_name",
        3,
    )
    # A customer:job name may be long; the same Ref type carries it.
    job = "Harbor Tower:" + "P" * 150
    line = qbxml.ExpenseLineAdd(customer_ref=qbxml.Ref(full_name=job))
    bill = qbxml.BillAdd(vendor_ref=qbxml.Ref(full_name="A"), expense_line_add=[line])
    assert job.encode() in qbxml.dumps(qbxml.BillAddRq(bill_add=bill))


def test_integer_ranges_are_checked_when_the_model_is_built() -> None:
    with pytest.raises(qbxml.QbxmlValueError, match="max_returned must be at least 1"):
        qbxml.VendorQueryRq(max_returned=0)
    with pytest.raises(qbxml.QbxmlValueError, match="expiration_month must be at most 12"):
        qbxml.CreditCardInfo(expiration_month=13)


def test_schema_errors_name_the_element_path() -> None:
    with pytest.raises(qbxml.QbxmlSchemaError) as info:
        qbxml.dumps(qbxml.VendorQueryRq(list_id=["1"], max_returned=10))
    assert info.value.errors[0].startswith("/QBXML/QBXMLMsgsRq/VendorQueryRq")
