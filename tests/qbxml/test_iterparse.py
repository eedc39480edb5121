"""Streaming: records as they are read, then their response, in document order."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest

from qbprocore import qbxml

# Every test here runs with the C walk and with the Python builders (conftest.py).
pytestmark = pytest.mark.usefixtures("qbxml_walk")


def _bills(n: int) -> list[qbxml.BillRet]:
    return [
        qbxml.BillRet(
            txn_id=f"{i}-1",
            amount_due=Decimal(i) + Decimal("0.25"),
            expense_line_ret=[qbxml.ExpenseLineRet(txn_line_id=f"{i}-1", amount=Decimal(i))],
        )
        for i in range(n)
    ]


def _document(n: int) -> bytes:
    return qbxml.dumps(
        qbxml.BillQueryRs(
            request_id="r1",
            status_code=0,
            status_severity="Info",
            iterator_remaining_count=3,
            iterator_id="{it}",
            bill_ret=_bills(n),
        ),
        qbxml.VendorQueryRs(request_id="r2", status_code=1, status_severity="Info"),
    )


def test_records_then_their_response_in_order() -> None:
    items = list(qbxml.iterparse(_document(3)))
    assert [type(i).__name__ for i in items] == [
        "BillRet",
        "BillRet",
        "BillRet",
        "BillQueryRs",
        "VendorQueryRs",
    ]
    assert items[:3] == _bills(3)
    rs = items[3]
    assert isinstance(rs, qbxml.BillQueryRs)
    assert rs.bill_ret == ()  # already streamed
    assert (rs.request_id, rs.iterator_remaining_count, rs.iterator_id) == ("r1", 3, "{it}")


def test_same_records_as_loads() -> None:
    data = _document(50)
    streamed = tuple(r for r in qbxml.iterparse(data) if isinstance(r, qbxml.BillRet))
    eager = qbxml.loads(data).responses[0].bill_ret  # type: ignore[attr-defined]
    assert streamed == eager


def test_record_filter() -> None:
    items = list(qbxml.iterparse(_document(4), records=["VendorRet"]))
    assert [type(i).__name__ for i in items] == ["BillQueryRs", "VendorQueryRs"]


@pytest.mark.parametrize("kind", ["bytes", "path", "file"])
def test_sources(kind: str, tmp_path: Path) -> None:
    data = _document(5)
    path = tmp_path / "bills.xml"
    path.write_bytes(data)
    source: object = {"bytes": data, "path": path, "file": io.BytesIO(data)}[kind]
    count = sum(isinstance(r, qbxml.BillRet) for r in qbxml.iterparse(source))  # type: ignore[arg-type]
    assert count == 5


def test_streaming_a_large_document_reads_incrementally() -> None:
    data = _document(5000)

    class Counting(io.BytesIO):
        reads = 0

        def read(self, size: int | None = -1) -> bytes:
            Counting.reads += 1
            return super().read(size)

    stream = Counting(data)
    first = next(qbxml.iterparse(stream))
    assert isinstance(first, qbxml.BillRet)
    assert stream.tell() < len(data) // 2  # the first record came before most bytes were read


def test_malformed_stream_raises_our_error() -> None:
    data = _document(3)[:-40]
    with pytest.raises(qbxml.QbxmlParseError, match="not well-formed"):
        list(qbxml.iterparse(data))


def test_a_document_in_a_str_is_pointed_to_loads() -> None:
    text = _document(1).decode()
    with pytest.raises(qbxml.QbxmlParseError, match="use loads"):
        list(qbxml.iterparse(text))
