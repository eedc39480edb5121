"""Parsing documents into typed objects: types, repetition, leniency, encodings, errors."""

from __future__ import annotations

import datetime
import gc
from decimal import Decimal

import pytest

from qbprocore import qbxml

# Every test here runs with the C walk and with the Python builders (conftest.py).
pytestmark = pytest.mark.usefixtures("qbxml_walk")

BILL_QUERY_RS = """<?xml version="1.0" encoding="{encoding}"?>
<?qbxml version="13.0"?>
<QBXML>
  <QBXMLMsgsRs>
    <BillQueryRs requestID="q-1" statusCode="0" statusSeverity="Info" statusMessage="Status OK"
                 iteratorRemainingCount="12" iteratorID="{{7b8c}}" retCount="1">
      <BillRet>
        <TxnID>1A2B-1700000000</TxnID>
        <TimeCreated>2024-03-10T01:59:59-08:00</TimeCreated>
        <TimeModified>2024-03-10T03:00:01-07:00</TimeModified>
        <EditSequence>1700000001</EditSequence>
        <TxnNumber>42</TxnNumber>
        <VendorRef><ListID>80000001-1700000000</ListID><FullName>{vendor}</FullName></VendorRef>
        <TxnDate>2024-03-09</TxnDate>
        <AmountDue>3750.00</AmountDue>
        <RefNumber>INV-1001</RefNumber>
        <IsPaid>false</IsPaid>
        <ExpenseLineRet>
          <TxnLineID>1A2B-1</TxnLineID>
          <AccountRef><FullName>Job Costs</FullName></AccountRef>
          <Amount>1250.00</Amount>
          <BillableStatus>NotBillable</BillableStatus>
        </ExpenseLineRet>
        <ExpenseLineRet>
          <TxnLineID>1A2B-2</TxnLineID>
          <Amount>-0.01</Amount>
        </ExpenseLineRet>
        <ItemGroupLineRet>
          <TxnLineID>1A2B-3</TxnLineID>
          <ItemGroupRef><FullName>Package</FullName></ItemGroupRef>
          <TotalAmount>100.00</TotalAmount>
        </ItemGroupLineRet>
        <ItemLineRet>
          <TxnLineID>1A2B-4</TxnLineID>
          <ItemRef><FullName>03-300</FullName></ItemRef>
          <Quantity>2.5</Quantity>
          <Cost>1000.00</Cost>
          <Amount>2500.00</Amount>
          <BillableStatus>SomethingNew</BillableStatus>
          <FutureElement flag="1">kept<Inner>too</Inner></FutureElement>
        </ItemLineRet>
        <OpenAmount>3750.00</OpenAmount>
      </BillRet>
    </BillQueryRs>
  </QBXMLMsgsRs>
</QBXML>
"""


def bill_doc(encoding: str = "utf-8", vendor: str = "Acme Concrete") -> bytes:
    return BILL_QUERY_RS.format(encoding=encoding, vendor=vendor).encode(encoding)


def test_response_attributes_are_typed() -> None:
    doc = qbxml.loads(bill_doc())
    assert doc.kind == "response"
    assert doc.version == "13.0"
    rs = doc.responses[0]
    assert isinstance(rs, qbxml.BillQueryRs)
    assert rs.request_id == "q-1"
    assert rs.status_code == 0
    assert rs.status_severity == "Info"
    assert rs.iterator_remaining_count == 12
    assert rs.iterator_id == "{7b8c}"
    assert rs.ret_count == 1


def test_values_are_typed_and_offsets_kept() -> None:
    bill = qbxml.loads(bill_doc()).responses[0].bill_ret[0]  # type: ignore[attr-defined]
    assert bill.txn_number == 42
    assert bill.amount_due == Decimal("3750.00")
    assert isinstance(bill.amount_due, Decimal)
    assert bill.is_paid is False  # "false" is False, not a truthy string
    assert bill.txn_date == datetime.date(2024, 3, 9)
    assert bill.time_created == datetime.datetime(
        2024, 3, 10, 1, 59, 59, tzinfo=datetime.timezone(datetime.timedelta(hours=-8))
    )
    assert bill.time_modified.utcoffset() == datetime.timedelta(hours=-7)
    assert bill.vendor_ref == qbxml.Ref(list_id="80000001-1700000000", full_name="Acme Concrete")


def test_repeated_lines_are_all_kept_in_order() -> None:
    bill = qbxml.loads(bill_doc()).responses[0].bill_ret[0]  # type: ignore[attr-defined]
    assert [line.txn_line_id for line in bill.expense_line_ret] == ["1A2B-1", "1A2B-2"]
    assert [line.amount for line in bill.expense_line_ret] == [Decimal("1250.00"), Decimal("-0.01")]
    kinds = [type(line).__name__ for line in bill.item_line_ret_or_item_group_line_ret]
    assert kinds == ["ItemGroupLineRet", "ItemLineRet"]


def test_repeated_fields_are_tuples_and_plain_records_untracked_by_gc() -> None:
    bill = qbxml.loads(bill_doc()).responses[0].bill_ret[0]  # type: ignore[attr-defined]
    assert type(bill.expense_line_ret) is tuple
    assert type(bill.item_line_ret_or_item_group_line_ret) is tuple
    assert bill.linked_txn == ()  # an absent repeated element: the empty tuple, no new list
    # A line holding only text, amounts and empty tuples is nothing the garbage collector has
    # to visit: its fields dict is untracked (a list per empty field would make it tracked).
    line = bill.expense_line_ret[1]
    assert line.account_ref is None
    assert not gc.is_tracked(line.__dict__)
    assert gc.is_tracked(bill.__dict__)  # it holds records, which may be


def test_unknown_enum_values_and_elements_are_kept() -> None:
    bill = qbxml.loads(bill_doc()).responses[0].bill_ret[0]  # type: ignore[attr-defined]
    expense, item = bill.expense_line_ret[0], bill.item_line_ret_or_item_group_line_ret[1]
    assert expense.billable_status is qbxml.BillableStatus.NOT_BILLABLE
    assert item.billable_status == "SomethingNew"
    assert not isinstance(item.billable_status, qbxml.QbxmlEnum)
    (future,) = item.unknown_elements
    assert future.tag == "FutureElement"
    assert future.text == "kept"
    assert future.attributes == (("flag", "1"),)
    assert future.find("Inner") == qbxml.UnknownElement(tag="Inner", text="too")


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1252", "ISO-8859-1"])
def test_declared_encodings_parse(encoding: str) -> None:
    doc = qbxml.loads(bill_doc(encoding, vendor="Côté Drywall &amp; Façades"))
    assert doc.responses[0].bill_ret[0].vendor_ref.full_name == "Côté Drywall & Façades"  # type: ignore[attr-defined]


def test_windows_1252_specific_characters() -> None:
    data = bill_doc("windows-1252", vendor="Smith’s “Best” — €")
    assert b"\x92" in data  # the right quote's windows-1252 byte
    rs = qbxml.loads(data).responses[0]
    assert rs.bill_ret[0].vendor_ref.full_name == "Smith’s “Best” — €"  # type: ignore[attr-defined]


def test_text_input_with_an_encoding_declaration() -> None:
    text = BILL_QUERY_RS.format(encoding="windows-1252", vendor="Côté")
    rs = qbxml.loads(text).responses[0]
    assert rs.bill_ret[0].vendor_ref.full_name == "Côté"  # type: ignore[attr-defined]


def test_character_references_are_decoded() -> None:
    data = bill_doc(vendor="C&#244;t&#233; &amp; Sons")
    rs = qbxml.loads(data).responses[0]
    assert rs.bill_ret[0].vendor_ref.full_name == "Côté & Sons"  # type: ignore[attr-defined]


def test_empty_elements() -> None:
    data = (
        b"<QBXML><QBXMLMsgsRs><VendorQueryRs statusCode='0' statusSeverity='Info'>"
        b"<VendorRet><Name>A</Name><CompanyName/><IsActive></IsActive><Balance/></VendorRet>"
        b"</VendorQueryRs></QBXMLMsgsRs></QBXML>"
    )
    vendor = qbxml.loads(data).responses[0].vendor_ret[0]  # type: ignore[attr-defined]
    assert vendor.company_name == ""  # present but empty: an empty string
    assert vendor.is_active is None
    assert vendor.balance is None


def test_request_documents_parse() -> None:
    data = qbxml.dumps(
        qbxml.VendorQueryRq(request_id="1", iterator="Start", max_returned=50),
        on_error="continueOnError",
        version="13.0",
    )
    doc = qbxml.loads(data)
    assert doc.kind == "request"
    assert doc.on_error == "continueOnError"
    assert doc.messages == doc.requests
    rq = doc.requests[0]
    assert rq == qbxml.VendorQueryRq(request_id="1", iterator="Start", max_returned=50)
    assert rq.iterator is qbxml.Iterator.START  # type: ignore[attr-defined]


def test_messages_outside_the_message_set_are_kept_on_the_document() -> None:
    data = (
        b'<?qbxml version="13.0"?><QBXML><QBXMLMsgsRs>'
        b'<InvoiceQueryRs requestID="1" statusCode="0" statusSeverity="Info"><InvoiceRet>'
        b"<TxnID>1</TxnID></InvoiceRet></InvoiceQueryRs>"
        b'<VendorQueryRs requestID="2" statusCode="1" statusSeverity="Info"/>'
        b"</QBXMLMsgsRs></QBXML>"
    )
    doc = qbxml.loads(data)
    assert [type(r).__name__ for r in doc.responses] == ["VendorQueryRs"]
    (invoice,) = doc.unknown_elements
    assert invoice.tag == "InvoiceQueryRs"
    assert invoice.find("InvoiceRet").find("TxnID").text == "1"  # type: ignore[union-attr]


def test_invalid_values_name_the_element() -> None:
    data = bill_doc().replace(b"<AmountDue>3750.00</AmountDue>", b"<AmountDue>12,50</AmountDue>")
    with pytest.raises(qbxml.QbxmlParseError, match=r"AmountDue: '12,50' is not a valid amount"):
        qbxml.loads(data)
    data = bill_doc().replace(b"<IsPaid>false</IsPaid>", b"<IsPaid>nope</IsPaid>")
    with pytest.raises(qbxml.QbxmlParseError, match="IsPaid: 'nope' is not a valid boolean"):
        qbxml.loads(data)
    data = bill_doc().replace(b'statusCode="0"', b'statusCode="zero"')
    with pytest.raises(qbxml.QbxmlParseError, match="statusCode: 'zero' is not a valid integer"):
        qbxml.loads(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not well-formed"),
        (b"<QBXML><QBXMLMsgsRs>", "not well-formed"),
        (b"<NotQBXML/>", "expected a <QBXML> root"),
        (b"<QBXML/>", "neither <QBXMLMsgsRq> nor <QBXMLMsgsRs>"),
        (b"<QBXML><QBXMLMsgsRs><A></B></QBXMLMsgsRs></QBXML>", "not well-formed"),
    ],
)
def test_malformed_input_raises_our_error(data: bytes, message: str) -> None:
    with pytest.raises(qbxml.QbxmlParseError, match=message):
        qbxml.loads(data)


def test_shortened_datetimes_qbxml_allows() -> None:
    data = (
        b"<QBXML><QBXMLMsgsRq onError='stopOnError'><VendorQueryRq>"
        b"<FromModifiedDate>2024-01-02</FromModifiedDate>"
        b"<ToModifiedDate>2024-01-02T10-05:00</ToModifiedDate>"
        b"</VendorQueryRq></QBXMLMsgsRq></QBXML>"
    )
    rq = qbxml.loads(data).requests[0]
    assert rq.from_modified_date == datetime.datetime(2024, 1, 2)  # type: ignore[attr-defined]
    assert rq.to_modified_date == datetime.datetime(  # type: ignore[attr-defined]
        2024, 1, 2, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
    )


def test_parse_element_on_a_tree_the_host_holds() -> None:
    from lxml import etree

    el = etree.fromstring(b"<VendorRet><Name>A</Name><IsActive>true</IsActive></VendorRet>")
    vendor = qbxml.parse_element(el, qbxml.VendorRet)
    assert vendor == qbxml.VendorRet(name="A", is_active=True)
