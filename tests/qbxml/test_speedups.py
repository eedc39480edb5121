"""The C walk (`qbprocore.qbxml._speedups`): built, taken on the common road, and faithful.

The Python builders define what a document means; the C walk is a shortcut to the same
objects. The parsing test modules run twice (conftest.py), once through each. Here: the walk
is really built where the test session expects it, it handles every field of every message
type itself (no silent fallback), and everything it leaves to Python comes out the same.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import weakref
from typing import Any

import pytest
from lxml import etree

from qbprocore import qbxml
from qbprocore.qbxml import _parse

from . import _fill
from ._leaks import bytes_left_behind
from ._unusual import GOOD, LEFT_TO_PYTHON, vendor_doc

needs_c = pytest.mark.skipif(
    _parse._speedups is None, reason="qbprocore.qbxml._speedups is not built here"
)


def test_the_c_walk_is_built_where_the_test_session_expects_it() -> None:
    # The nox tests session sets QBPROCORE_EXPECT_SPEEDUPS=1: a broken build of the extension
    # must fail CI, not quietly fall back to pure Python.
    if not os.environ.get("QBPROCORE_EXPECT_SPEEDUPS"):
        pytest.skip("QBPROCORE_EXPECT_SPEEDUPS is not set (only the nox tests session sets it)")
    assert _parse._speedups is not None, "the C extension was not built or does not import"
    assert _parse.speedups_enabled()
    if sys.platform.startswith("linux"):
        # lxml's Linux wheels export libxml2's functions: loads must find them and read
        # ordinary documents without a tree (see test_sax).
        assert _parse._speedups.HAVE_SAX, "the extension found no libxml2 functions in lxml"
        assert _parse._sax_enabled


def _messages(data: bytes) -> list[etree._Element]:
    root = etree.fromstring(data, _parse._parser())
    return [el for msgs in root for el in msgs]


def _c_build(cls: type[qbxml.QbxmlModel], el: etree._Element) -> Any:
    plan = _parse._compiled_c_plan()
    return plan.build(cls.__qbxml__.cache["c_index"], el)


@needs_c
@pytest.mark.parametrize("road", ["walk", "sax"])
@pytest.mark.parametrize(
    "cls", [*qbxml.REQUEST_TYPES, *qbxml.RESPONSE_TYPES], ids=lambda c: c.__name__
)
def test_each_c_road_reads_every_field_of_every_message_itself(
    cls: type[qbxml.QbxmlModel], road: str
) -> None:
    # The walk on the message's element, and the SAX road (test_sax) on the whole document.
    if road == "sax" and not _parse._speedups.HAVE_SAX:
        pytest.skip("the extension found no libxml2 functions in lxml here")
    filler = _fill.Filler()
    count = 0
    for _k, obj, _filled in filler.variants(cls):
        data = qbxml.dumps(obj, validate=False)
        if road == "sax":
            read = _parse._compiled_c_plan().parse(data, *_parse._c_messages)
            assert read is not None, f"the SAX road declined a filled {cls.__name__}"
            (built,) = read[2]
        else:
            (el,) = _messages(data)
            try:
                built = _c_build(cls, el)
            except _parse._speedups.Fallback:  # pragma: no cover - the failure tested for
                pytest.fail(f"the C walk left a filled {cls.__name__} to Python:\n{data.decode()}")
        assert built == obj
        count += 1
    assert count >= 1


# Documents the C walk reads itself, however unusual.
READ_IN_C = {
    "whitespace and comments between elements": vendor_doc(
        "\n  <ListID>80-1</ListID>\n  <!-- note --><?pi x?>\n  <Name>Acme</Name>\n"
    ),
    "elements out of schema order": vendor_doc("<Name>Acme</Name><ListID>80-1</ListID>"),
    "empty text and converted elements": vendor_doc(GOOD + "<CompanyName/><Balance></Balance>"),
    "character references and entities": vendor_doc(
        "<ListID>80-1</ListID><Name>Caf&#233; &amp; Sons &lt;1&gt; &#x1F3D7;</Name>"
    ),
    "CDATA value (lxml makes it text)": vendor_doc(
        "<ListID>80-1</ListID><Name><![CDATA[A & B]]></Name>"
    ),
    "unknown enum value": vendor_doc(
        GOOD, 'statusCode="0" statusSeverity="Info" iteratorRemainingCount="3" iteratorID="{x}"'
    ),
    "namespaced attribute": vendor_doc(
        GOOD, 'statusCode="0" statusSeverity="Info" xmlns:x="urn:x" x:statusCode="9"'
    ),
    "references in an attribute": vendor_doc(
        GOOD, 'statusCode="0" statusSeverity="Info" statusMessage="A &amp; B &#233;&#10;C"'
    ),
    "line breaks as references in text": vendor_doc(
        "<ListID>80-1</ListID><Name>A&#13;&#10;B</Name>"
    ),
    "repeated non-list element: the last wins": vendor_doc(GOOD + "<Name>Second</Name>"),
}


def _outcome(data: bytes, c: bool) -> tuple[str, Any]:
    # The walk itself: the SAX road (test_sax) would read some of these without it.
    was = _parse._sax_enabled
    _parse.use_speedups(c)
    _parse._sax_enabled = False
    try:
        return "ok", qbxml.loads(data)
    except qbxml.QbxmlError as exc:
        return type(exc).__name__, str(exc)
    finally:
        _parse.use_speedups(_parse._speedups is not None)
        _parse._sax_enabled = was


@needs_c
@pytest.mark.parametrize("data", LEFT_TO_PYTHON.values(), ids=list(LEFT_TO_PYTHON))
def test_what_the_c_walk_leaves_to_python_comes_out_the_same(data: bytes) -> None:
    (rs,) = _messages(data)
    with pytest.raises(_parse._speedups.Fallback):
        _c_build(qbxml.VendorQueryRs, rs)
    assert _outcome(data, c=True) == _outcome(data, c=False)


@needs_c
@pytest.mark.parametrize("data", READ_IN_C.values(), ids=list(READ_IN_C))
def test_what_the_c_walk_reads_itself_comes_out_the_same(data: bytes) -> None:
    (rs,) = _messages(data)
    built = _c_build(qbxml.VendorQueryRs, rs)
    outcome = _outcome(data, c=False)
    assert outcome[0] == "ok"
    assert [built] == outcome[1].responses


@needs_c
def test_the_c_walk_refuses_what_is_not_an_element() -> None:
    plan = _parse._compiled_c_plan()
    comment = etree.Comment("x")
    with pytest.raises(_parse._speedups.Fallback):
        plan.build(0, comment)
    with pytest.raises(TypeError, match="lxml element"):
        plan.build(0, "<VendorRet/>")
    with pytest.raises(IndexError):
        plan.build(10**6, etree.Element("VendorRet"))


@needs_c
def test_a_plan_with_a_wrong_spec_is_refused_with_the_reason() -> None:
    plan_type = _parse._speedups.Plan
    args = (str, str, str)
    with pytest.raises(TypeError, match="spec is"):
        plan_type(((qbxml.Ref, {}, (), "not a tuple"),), *args)
    with pytest.raises(ValueError, match="no spec number 5"):
        plan_type(((qbxml.Ref, {}, (), (("Ref", "ref", 2, 0, False, None, 5),), ()),), *args)
    with pytest.raises(ValueError, match="unknown how 7"):
        plan_type(((qbxml.Ref, {}, (), (("Ref", "ref", 7, 0, False, None, -1),), ()),), *args)


@needs_c
def test_a_repeated_field_missing_from_the_defaults_is_still_kept() -> None:
    # The plan's defaults hold () for every repeated field; one that doesn't is no crash.
    field = ("ListID", "ids", _parse._READ_TEXT, 0, True, None, -1)
    plan = _parse._speedups.Plan(((qbxml.Ref, {}, ("ids",), (field,), ()),), str, str, str)
    two = plan.build(0, etree.fromstring(b"<Ref><ListID>1</ListID><ListID>2</ListID></Ref>"))
    assert two.__dict__ == {"ids": ("1", "2")}
    assert plan.build(0, etree.fromstring(b"<Ref/>")).__dict__ == {}


@needs_c
def test_the_c_walk_leaks_nothing_on_its_road_or_when_it_falls_back() -> None:
    # A missing DECREF on any path (a value, a list, a fallback) would leave objects behind
    # on every parse: growth in proportion to the rounds.
    docs = [*LEFT_TO_PYTHON.values(), *READ_IN_C.values()]
    filler = _fill.Filler()
    for cls in (qbxml.BillQueryRs, qbxml.VendorQueryRs, qbxml.PurchaseOrderQueryRs):
        docs += [qbxml.dumps(obj, validate=False) for _k, obj, _f in filler.variants(cls)]
    elements = [el for data in docs for el in _messages(data)]

    def parse_all() -> None:
        for data in docs:
            with contextlib.suppress(qbxml.QbxmlError):
                qbxml.loads(data)
        for el in elements:  # built as a vendor response: the others fall back part-way
            with contextlib.suppress(_parse._speedups.Fallback):
                _c_build(qbxml.VendorQueryRs, el)

    grown = bytes_left_behind(parse_all)
    # One leaked small object per document per round would be over 100 KB.
    assert grown < 8_000, f"{grown} bytes left behind by {40 * len(docs)} parses"


def _records_and_dicts(obj: Any) -> list[Any]:
    """Every record reachable from ``obj``, its field dict, and its repeated fields' tuples."""
    found: list[Any] = []
    if isinstance(obj, qbxml.QbxmlModel):
        found += [obj, obj.__dict__]
        for value in obj.__dict__.values():
            found += _records_and_dicts(value)
    elif isinstance(obj, tuple) and obj:
        found.append(obj)
        for item in obj:
            found += _records_and_dicts(item)
    return found


@needs_c
@pytest.mark.parametrize("road", ["sax", "c"])
def test_records_built_in_c_are_out_of_the_collectors_sight(road: str) -> None:
    # Immutable records of text, numbers, dates, enum members and records hold no cycle: the
    # C roads take them and their dicts out of the collector's sight (make_record).
    filler = _fill.Filler()
    was = _parse._sax_enabled
    _parse._sax_enabled = road == "sax"
    try:
        for cls in (qbxml.BillQueryRs, qbxml.VendorQueryRs, qbxml.PurchaseOrderAddRq):
            for _k, obj, _f in filler.variants(cls):
                doc = qbxml.loads(qbxml.dumps(obj, validate=False))
                (message,) = doc.requests or doc.responses
                found = _records_and_dicts(message)
                assert len(found) > 2
                tracked = [type(x).__name__ for x in found if gc.is_tracked(x)]
                assert tracked == [], f"{cls.__name__}: {tracked}"
    finally:
        _parse._sax_enabled = was


@needs_c
@pytest.mark.parametrize("where", ["element", "attribute"])
@pytest.mark.parametrize("road", ["sax", "c"])
def test_a_record_holding_what_the_collector_sees_stays_in_its_sight(road: str, where: str) -> None:
    # Only another Plan's converter can put such a value in a record: then the record stays
    # tracked, and a cycle through it is still collected.
    field = ("When", "when", _parse._READ_CONVERTED, _parse._C_KINDS["DATE"], False, None, -1)
    if where == "element":
        spec = (qbxml.Ref, {"when": None}, (), (field,), ())
        doc = b"<QBXML><QBXMLMsgsRs><R><When>2026-01-05</When></R></QBXMLMsgsRs></QBXML>"
    else:
        spec = (qbxml.Ref, {"when": None}, (), (), (field,))
        doc = b'<QBXML><QBXMLMsgsRs><R When="2026-01-05"/></QBXMLMsgsRs></QBXML>'
    plan = _parse._speedups.Plan((spec,), lambda text: [text], str, str)
    if road == "sax":
        (record,) = plan.parse(doc, {}, {"R": 0})[2]
    else:
        record = plan.build(0, etree.fromstring(doc)[0][0])
    assert record.when == ["2026-01-05"]
    assert gc.is_tracked(record)
    assert gc.is_tracked(record.__dict__)
    record.when.append(record)  # a cycle: record -> dict -> list -> record
    gone = weakref.ref(record)
    del record
    gc.collect()
    assert gone() is None
