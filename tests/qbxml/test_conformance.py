"""Conformance of qbprocore.qbxml with Intuit's official qbXML 13.0 schema and captured documents.

Everything here reads ``../shared/reference`` in place (never copied) and skips, with the
reason, when that folder is absent:

1. Every request and response type, with every field filled (every choice branch taken in
   some variant, every enum member, every limited text at its full length, also where the
   enclosing field sets a tighter limit, every integer at its bounds), is built by
   :func:`qbxml.dumps` (which validates against our own schema), validates against the
   official ``xsd/qbxmlops130.xsd`` and parses back to an equal object.
2. Every Intuit sample request whose messages are all in our message set round-trips:
   ``loads`` → no unknown elements → ``dumps`` → valid against the official schema →
   ``loads`` equal → same elements.
3. Every captured ``.xml`` under ``qbxml/`` either parses or fails with ``QbxmlParseError``;
   the ones PROVENANCE.md says are valid parse, the malformed one fails, and responses read
   back typed values.

The per-position ``FullName`` limits of references and the integer bounds, which an earlier
generator lost (so that ``dumps`` accepted what the official schema refuses), are checked
against the official schema directly at the end of the first section.
"""

from __future__ import annotations

import datetime
import importlib.util
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from qbprocore import qbxml

# Every test here runs with the C walk and with the Python builders (conftest.py).
pytestmark = pytest.mark.usefixtures("qbxml_walk")

# The filler lives beside this file; load it by path so the test works under any import mode
# and whether or not ``tests`` is a package.
_spec = importlib.util.spec_from_file_location(
    "_qbprocore_tests_qbxml_fill", Path(__file__).with_name("_fill.py")
)
assert _spec is not None
assert _spec.loader is not None
_fill = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _fill
_spec.loader.exec_module(_fill)

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
QBXML_DIR = REFERENCE / "qbxml"
SAMPLES_DIR = QBXML_DIR / "intuit-samples"
XS = "{http://www.w3.org/2001/XMLSchema}"
REQUEST_TAGS = frozenset(c.__qbxml__.tag for c in qbxml.REQUEST_TYPES)
ABSENT = f"reference data not found at {REFERENCE} (../shared is absent)"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def official_schema(reference_dir: Path) -> etree.XMLSchema:
    """Intuit's qbXML 13.0 schema (entry point ``qbxmlops130.xsd``), compiled once."""
    tree = etree.parse(str(reference_dir / "xsd" / "qbxmlops130.xsd"), _parser())
    return etree.XMLSchema(tree)


def _official_elements(xsd_dir: Path) -> tuple[dict[str, etree._Element], list[Any]]:
    """Named groups and named elements of the official schema files."""
    groups: dict[str, etree._Element] = {}
    elements: list[etree._Element] = []
    for name in ("qbxmltypes130.xsd", "qbxml130.xsd", "qbxmlso130.xsd", "qbxmlops130.xsd"):
        root = etree.parse(str(xsd_dir / name), _parser()).getroot()
        groups.update((g.get("name"), g) for g in root.iter(f"{XS}group") if g.get("name"))
        elements.extend(e for e in root.iter(f"{XS}element") if e.get("name"))
    return groups, elements


def official_ref_limits(xsd_dir: Path) -> dict[str, int]:
    """``FullName`` maximum length of every reference element of the official schema.

    A reference element (``VendorRef``, ``SalesTaxCodeRef`` …) has one ``*ListRef`` group as
    its content; the group's ``FullName`` carries the limit of that list (``GenericListRef``,
    used by ``ItemRef``, has none).
    """
    groups, elements = _official_elements(xsd_dir)
    limits: dict[str, int] = {}
    for el in elements:
        seq = el.find(f"{XS}complexType/{XS}sequence")
        if seq is None or len(seq) != 1 or seq[0].tag != f"{XS}group":
            continue
        group = groups.get(seq[0].get("ref", ""))
        if group is None:
            continue
        for child in group.iter(f"{XS}element"):
            facet = child.find(f".//{XS}maxLength")
            if child.get("name") == "FullName" and facet is not None:
                name, value = el.get("name", ""), int(facet.get("value", "0"))
                limits[name] = min(value, limits.get(name, value))
    return limits


def official_int_bounds(xsd_dir: Path) -> dict[str, tuple[int | None, int | None]]:
    """``(minInclusive, maxInclusive)`` of every integer element the official schema bounds."""
    _, elements = _official_elements(xsd_dir)
    bounds: dict[str, tuple[int | None, int | None]] = {}
    for el in elements:
        restriction = el.find(f"{XS}simpleType/{XS}restriction")
        if restriction is None or restriction.get("base") != "INTTYPE":
            continue
        low, high = restriction.find(f"{XS}minInclusive"), restriction.find(f"{XS}maxInclusive")
        if low is None and high is None:
            continue
        bounds[el.get("name", "")] = (
            None if low is None else int(low.get("value", "")),
            None if high is None else int(high.get("value", "")),
        )
    return bounds


@pytest.fixture(scope="session")
def filler() -> Any:
    return _fill.Filler()


def official_errors(schema: etree.XMLSchema, data: bytes) -> list[str]:
    """The official schema's complaints about a document (empty when valid)."""
    if schema.validate(etree.fromstring(data, _parser())):
        return []
    return [f"line {e.line}: {e.path}: {e.message}" for e in schema.error_log]


def walk(model: qbxml.QbxmlModel) -> Iterator[qbxml.QbxmlModel]:
    """``model`` and every model nested in it."""
    yield model
    for f in type(model).__qbxml__.fields:
        value = model.__dict__[f.attr]
        if f.classes and value is not None:
            for item in value if f.is_list else [value]:
                yield from walk(item)


def unknown_anywhere(doc: qbxml.QBXMLDocument) -> list[tuple[str, str]]:
    """``(where, tag)`` of every unknown element in a parsed document."""
    found = [("document", u.tag) for u in doc.unknown_elements]
    for message in doc.messages:
        found += [(type(m).__name__, u.tag) for m in walk(message) for u in m.unknown_elements]
    return found


# == 1. every field of every message type validates against the official schema ===============


def _check_every_field(
    cls: type[qbxml.QbxmlModel], filler: Any, schema: etree.XMLSchema
) -> tuple[int, int]:
    covered: set[tuple[str, str]] = set()
    count = 0
    for k, obj, filled in filler.variants(cls):
        data = qbxml.dumps(obj)  # validates against our own schema
        errors = official_errors(schema, data)
        assert not errors, f"{cls.__name__} variant {k} is refused by the official schema:\n" + (
            "\n".join(errors[:10])
        )
        doc = qbxml.loads(data)
        assert doc.messages == [obj], f"{cls.__name__} variant {k} does not parse back equal"
        assert unknown_anywhere(doc) == []
        covered |= filled
        count += 1
    missing = _fill.reachable_slots(cls) - covered
    assert not missing, f"{cls.__name__}: slots never filled: {sorted(missing)[:20]}"
    return count, len(covered)


@pytest.mark.parametrize("cls", qbxml.REQUEST_TYPES, ids=lambda c: c.__name__)
def test_request_with_every_field_filled_validates_against_the_official_schema(
    cls: type[qbxml.QbxmlRequest], filler: Any, official_schema: etree.XMLSchema
) -> None:
    variants, slots = _check_every_field(cls, filler, official_schema)
    assert variants >= 1
    assert slots >= len(cls.__qbxml__.attributes)


@pytest.mark.parametrize("cls", qbxml.RESPONSE_TYPES, ids=lambda c: c.__name__)
def test_response_with_every_field_filled_validates_against_the_official_schema(
    cls: type[qbxml.QbxmlResponse], filler: Any, official_schema: etree.XMLSchema
) -> None:
    variants, _ = _check_every_field(cls, filler, official_schema)
    assert variants >= 1


def test_the_filler_takes_every_branch_of_every_choice() -> None:
    # Mixed-radix selection: for a class with one choice this is k % n; nested choices reach
    # every combination (BillQueryRq's filters sit under branch 2 of its first choice).
    spec = qbxml.VendorQueryRq.__qbxml__
    counts = _fill.branch_counts(spec)
    assert counts == {0: 3, 1: 2}
    seen = {tuple(sorted(_fill.selection(spec, k)[0].items())) for k in range(6)}
    assert seen == {((0, a), (1, b)) for a in range(3) for b in range(2)}
    rq = _fill.Filler().build(qbxml.VendorQueryRq, 0)
    assert rq.list_id  # branch 0 only
    assert not rq.full_name
    assert rq.max_returned is None
    rq = _fill.Filler().build(qbxml.VendorQueryRq, 2)
    assert rq.name_filter is not None
    assert rq.name_range_filter is None
    rq = _fill.Filler().build(qbxml.VendorQueryRq, 5)
    assert rq.name_filter is None
    assert rq.name_range_filter is not None


def test_filled_text_is_latin1_within_its_limit_and_sometimes_at_it() -> None:
    for k in range(4):
        for limit in (1, 3, 5, 41, 209, None):
            value = _fill.text("CompanyName", k, limit)
            assert _fill.LATIN1_LETTER in value
            assert limit is None or len(value) <= limit
            assert limit is None or k % 2 == 0 or len(value) == limit


# -- per-position limits and integer bounds agree with the official schema --------------------


def _reachable_fields() -> set[tuple[str, qbxml.FieldSpec]]:
    roots = (*qbxml.REQUEST_TYPES, *qbxml.RESPONSE_TYPES)
    return {
        (cls.__name__, f)
        for root in roots
        for cls in _fill.reachable_classes(root)
        for f in cls.__qbxml__.fields
    }


def test_ref_full_name_limits_are_the_official_ones_in_every_position(
    reference_dir: Path,
) -> None:
    # Once a regression: one shared Ref class kept the largest FullName limit (209) for every
    # reference, so dumps() accepted a SalesTaxCodeRef FullName the official schema refuses.
    official = official_ref_limits(reference_dir / "xsd")
    default = qbxml.Ref.__qbxml__.field("full_name").max_length
    checked, wrong = 0, []
    for owner, f in _reachable_fields():
        if qbxml.Ref not in f.classes or f.tags[0] not in official:
            continue
        checked += 1
        ours = dict(f.limits).get("full_name", default)
        if ours != official[f.tags[0]]:
            wrong.append((owner, f.tags[0], ours, official[f.tags[0]]))
    assert checked >= 40
    assert not sorted(wrong), "(class, element, our FullName limit, official limit)"


def test_ref_full_name_limit_is_enforced_where_the_official_schema_has_it(
    official_schema: etree.XMLSchema,
) -> None:
    def vendor(tax_code: str) -> qbxml.VendorAddRq:
        ref = qbxml.Ref(full_name=tax_code)
        return qbxml.VendorAddRq(vendor_add=qbxml.VendorAdd(name="Acme", sales_tax_code_ref=ref))

    assert official_errors(official_schema, qbxml.dumps(vendor("Tax"))) == []
    with pytest.raises(qbxml.QbxmlTextError, match="limit of 3"):
        qbxml.dumps(vendor("Tax1"))
    changes: list[qbxml.Change] = []
    cut = qbxml.DumpConfig(truncate=True, on_change=changes.append)
    assert b"<FullName>Tax</FullName>" in qbxml.dumps(vendor("Tax1"), config=cut)
    assert [(c.action, c.before, c.after) for c in changes] == [("truncated", "Tax1", "Tax")]


def test_integer_bounds_are_the_official_ones(reference_dir: Path) -> None:
    # Once a regression: the generator dropped minInclusive/maxInclusive, so MaxReturned 0 and
    # ExpirationMonth 13 were accepted although the official schema refuses them.
    official = official_int_bounds(reference_dir / "xsd")
    ints = [(owner, f) for owner, f in _reachable_fields() if f.kind == "INT"]
    wrong = sorted(
        (owner, f.tags[0], (f.min_value, f.max_value), official.get(f.tags[0], (None, None)))
        for owner, f in ints
        if (f.min_value, f.max_value) != official.get(f.tags[0], (None, None))
    )
    assert not wrong, "(class, element, our bounds, official bounds)"
    bounded = {f.tags[0] for _, f in ints if f.tags[0] in official}
    assert bounded == {"MaxReturned", "ExpirationMonth"}


def test_integers_outside_the_official_bounds_are_refused(official_schema: etree.XMLSchema) -> None:
    with pytest.raises(qbxml.QbxmlValueError, match="at least 1"):
        qbxml.VendorQueryRq(max_returned=0)
    with pytest.raises(qbxml.QbxmlValueError, match="at most 12"):
        qbxml.CreditCardInfo(expiration_month=13)
    ok = qbxml.CustomerAddRq(
        customer_add=qbxml.CustomerAdd(
            name="Acme", credit_card_info=qbxml.CreditCardInfo(expiration_month=12)
        )
    )
    assert official_errors(official_schema, qbxml.dumps(ok)) == []


# == 2. Intuit sample requests round-trip ======================================================


def _messages_of(path: Path) -> list[str] | None:
    """Tags of the children of ``QBXMLMsgsRq``, or None for a document without one."""
    root = etree.parse(str(path), _parser()).getroot()
    msgs = root.find("QBXMLMsgsRq")
    if msgs is None:
        return None
    return [str(c.tag) for c in msgs if isinstance(c.tag, str)]


def _classify_samples() -> tuple[list[Path], list[Path]]:
    in_scope: list[Path] = []
    out_of_scope: list[Path] = []
    if not SAMPLES_DIR.is_dir():
        return in_scope, out_of_scope
    for path in sorted(SAMPLES_DIR.rglob("*.xml")):
        tags = _messages_of(path)
        if tags is None:
            continue  # a response document (sdktest/LastResponse.xml): see section 3
        (in_scope if tags and set(tags) <= REQUEST_TAGS else out_of_scope).append(path)
    return in_scope, out_of_scope


IN_SCOPE, OUT_OF_SCOPE = _classify_samples()


def _params(paths: list[Path]) -> list[Any]:
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT), id="absent")]
    return [pytest.param(p, id=str(p.relative_to(SAMPLES_DIR))) for p in paths]


def _signature(el: etree._Element) -> list[tuple[str, str, dict[str, str]]]:
    """Tag, text and attributes of every element, in document order (booleans spelled
    ``true``/``false``: qbXML also accepts ``1``/``0``, which we write the canonical way)."""
    canonical = {"1": "true", "0": "false"}
    out = []
    for e in el.iter():
        if not isinstance(e.tag, str):
            continue
        text = (e.text or "").strip()
        if len(e) == 0 and text in canonical and e.tag.startswith(("Is", "Include")):
            text = canonical[text]
        out.append((str(e.tag), text, dict(e.attrib)))
    return out


def test_in_scope_samples_are_found(reference_dir: Path) -> None:
    names = {str(p.relative_to(SAMPLES_DIR)) for p in IN_SCOPE}
    assert len(names) >= 15
    assert {"xmlfiles/legacy/VendorAddRq.xml", "xmlfiles/BillQueryRq.xml"} <= names


@pytest.mark.parametrize("path", _params(IN_SCOPE))
def test_intuit_sample_round_trips(
    path: Path, reference_dir: Path, official_schema: etree.XMLSchema
) -> None:
    raw = path.read_bytes()
    first = qbxml.loads(raw)
    assert first.kind == "request"
    assert first.requests
    assert unknown_anywhere(first) == []
    data = qbxml.dumps(first)  # our schema validates by default
    assert official_errors(official_schema, data) == []
    second = qbxml.loads(data)
    assert second.requests == first.requests
    assert (second.version, second.on_error) == (first.version, first.on_error)
    original = etree.fromstring(raw, _parser()).find("QBXMLMsgsRq")
    rebuilt = etree.fromstring(data, _parser()).find("QBXMLMsgsRq")
    assert original is not None
    assert rebuilt is not None
    assert len(_signature(rebuilt)) == len(_signature(original))
    assert _signature(rebuilt) == _signature(original)


@pytest.mark.parametrize("path", _params(OUT_OF_SCOPE))
def test_out_of_scope_samples_really_are(path: Path, reference_dir: Path) -> None:
    tags = _messages_of(path)
    assert tags is not None
    outside = sorted(set(tags) - REQUEST_TAGS)
    if tags:
        assert outside, f"{path.name} holds only in-scope messages"
        print(f"out of scope: {path.relative_to(SAMPLES_DIR)}: {', '.join(outside)}")
    else:
        # ErrRecovery2/3: no message at all, only message-set error recovery (oldMessageSetID),
        # which is outside the message set of issue 2.
        msgs = etree.parse(str(path), _parser()).getroot().find("QBXMLMsgsRq")
        assert msgs is not None
        assert "oldMessageSetID" in msgs.attrib
        print(f"out of scope: {path.relative_to(SAMPLES_DIR)}: error recovery, no message")
    doc = qbxml.loads(path.read_bytes())  # parses; the foreign messages are kept verbatim
    assert [u.tag for u in doc.unknown_elements] == [t for t in tags if t not in REQUEST_TAGS]


# == 3. captured documents parse, or fail with our error ========================================


def _all_captured() -> list[Path]:
    return sorted(QBXML_DIR.rglob("*.xml")) if QBXML_DIR.is_dir() else []


NOT_WELL_FORMED = "qbwc-qbwc/SEND_REQUEST_PARAMS.strHCPResponse.xml"
# PROVENANCE.md: fails the official 13.0 schema but is well-formed.
INVALID_BUT_WELL_FORMED = {
    "qbwc-qbxml/responses/receive_payment_query_rs.xml",
    "qbwc-qbwc/QBWC_EMPTY_RESPONSE.xml",
}


def _valid_per_provenance(rel: str) -> bool:
    """PROVENANCE.md: these validate against the official 13.0 schema."""
    if rel in INVALID_BUT_WELL_FORMED or rel == NOT_WELL_FORMED:
        return False
    return rel.startswith(
        ("intuit-samples/", "qbwc-qbxml/requests/", "qbwc-qbxml/responses/", "qbwc-qbwc/")
    )


def _captured_params() -> list[Any]:
    paths = _all_captured()
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT), id="absent")]
    return [pytest.param(p, id=str(p.relative_to(QBXML_DIR))) for p in paths]


@pytest.mark.parametrize("path", _captured_params())
def test_captured_document_parses_or_fails_with_our_error(
    path: Path, reference_dir: Path, official_schema: etree.XMLSchema
) -> None:
    rel = path.relative_to(QBXML_DIR).as_posix()
    raw = path.read_bytes()
    if rel == NOT_WELL_FORMED:
        with pytest.raises(qbxml.QbxmlParseError, match="not well-formed"):
            qbxml.loads(raw)
        return
    try:
        doc = qbxml.loads(raw)
    except qbxml.QbxmlParseError:
        assert not _valid_per_provenance(rel), f"{rel} is valid qbXML 13.0 but did not parse"
        return
    if not _valid_per_provenance(rel):
        return
    # Valid against the official schema: the messages of our set are fully typed, and
    # rebuilding them gives a document both schemas accept that parses back equal.
    assert unknown_anywhere(doc) == [("document", u.tag) for u in doc.unknown_elements]
    if doc.messages:
        data = qbxml.dumps(*doc.messages)
        assert official_errors(official_schema, data) == []
        assert qbxml.loads(data).messages == doc.messages


def test_the_must_parse_and_must_fail_sets_are_present(reference_dir: Path) -> None:
    rels = {p.relative_to(QBXML_DIR).as_posix() for p in _all_captured()}
    assert NOT_WELL_FORMED in rels
    assert rels >= INVALID_BUT_WELL_FORMED
    assert sum(_valid_per_provenance(r) for r in rels) >= 60


# -- typed content of captured responses --------------------------------------------------------


def _load(reference_dir: Path, rel: str) -> qbxml.QBXMLDocument:
    doc = qbxml.loads((reference_dir / "qbxml" / rel).read_bytes())
    assert doc.kind == "response"
    assert unknown_anywhere(doc) == []
    return doc


def test_customer_query_response_is_typed(reference_dir: Path) -> None:
    (rs,) = _load(reference_dir, "qbwc-qbxml/responses/customer_query_rs.xml").responses
    assert isinstance(rs, qbxml.CustomerQueryRs)
    assert (rs.status_code, rs.status_severity, rs.status_message) == (0, "Info", "Status OK")
    assert rs.request_id == "Q3VzdG9tZXJRdWVyeXwyODk2"
    assert rs.ok
    (customer,) = rs.customer_ret
    assert customer.name == "Keith Palmer"
    assert customer.is_active is True
    assert customer.sublevel == 0
    assert type(customer.balance) is Decimal
    assert customer.balance == Decimal("250.00")
    assert str(customer.total_balance) == "250.00"
    offset = datetime.timezone(datetime.timedelta(hours=-5))
    assert customer.time_created == datetime.datetime(2008, 5, 19, 18, 37, 2, tzinfo=offset)
    assert customer.time_created.utcoffset() == datetime.timedelta(hours=-5)  # kept as given
    assert customer.bill_address is not None
    assert customer.bill_address.postal_code == "06268"  # text, leading zero kept
    assert customer.sales_tax_code_ref == qbxml.Ref(list_id="20000-1211065841", full_name="Non")
    assert customer.job_status == qbxml.JobStatus.NONE
    assert isinstance(customer.job_status, qbxml.JobStatus)


def test_account_query_response_keeps_every_record_in_order(reference_dir: Path) -> None:
    (rs,) = _load(reference_dir, "qbwc-qbxml/responses/account_query_rs.xml").responses
    assert isinstance(rs, qbxml.AccountQueryRs)
    assert rs.request_id == "52"
    assert [a.name for a in rs.account_ret] == ["Checking", "Accounts Receivable UPDATED"]
    checking, receivable = rs.account_ret
    assert checking.account_type is qbxml.AccountType.BANK
    assert type(checking.balance) is Decimal
    assert checking.balance == Decimal("-197.02")
    assert checking.tax_line_info_ret is not None
    assert checking.tax_line_info_ret.tax_line_id == 1864
    assert receivable.account_number == "11000"
    assert receivable.desc == "Unpaid or unapplied customer "  # text kept exactly
    assert receivable.total_balance == Decimal("951.65")
    assert rs.records == rs.account_ret


def test_purchase_order_query_response_is_typed(reference_dir: Path) -> None:
    (rs,) = _load(reference_dir, "qbwc-qbxml/responses/purchase_order_query_rs.xml").responses
    assert isinstance(rs, qbxml.PurchaseOrderQueryRs)
    assert rs.iterator_remaining_count == 0
    assert rs.iterator_id == "{ee76b904-7ef8-4b83-9841-63d4715a273b}"
    (po,) = rs.purchase_order_ret
    assert po.txn_number == 10
    assert po.txn_date == datetime.date(2010, 9, 27)
    assert (po.is_to_be_printed, po.is_to_be_emailed, po.is_fully_received) == (True, False, False)
    assert po.total_amount == Decimal("125.00")
    assert po.vendor_ref == qbxml.Ref(list_id="80000006-1282647976", full_name="Test Vendor 1")
    (line,) = po.purchase_order_line_ret_or_purchase_order_line_group_ret
    assert isinstance(line, qbxml.PurchaseOrderLineRet)
    assert (line.quantity, line.rate, line.amount) == (Decimal(5), Decimal("25.00"), Decimal(125))
    assert all(type(v) is Decimal for v in (line.quantity, line.rate, line.amount))
    assert line.is_manually_closed is False
    assert [d.data_ext_value for d in po.data_ext_ret] == ["test 1", "test 2", "test 3"]


def test_captured_bill_query_response_keeps_every_bill(reference_dir: Path) -> None:
    rel = "intuit-samples/sdktest/LastResponse.xml"
    raw = (reference_dir / "qbxml" / rel).read_bytes()
    (rs,) = _load(reference_dir, rel).responses
    assert isinstance(rs, qbxml.BillQueryRs)
    expected = [
        (e.findtext("TxnID"), e.findtext("AmountDue"))
        for e in etree.fromstring(raw, _parser()).iter("BillRet")
    ]
    assert len(expected) >= 2
    assert [(b.txn_id, str(b.amount_due)) for b in rs.bill_ret] == expected
    first = rs.bill_ret[0]
    assert first.txn_id == "7-1646382259"
    assert first.amount_due == Decimal("2000.00")
    assert type(first.amount_due) is Decimal
    assert first.is_paid is False
    assert first.vendor_ref == qbxml.Ref(list_id="80000001-1646382185", full_name="v1")
    assert first.time_created is not None
    assert first.time_created.utcoffset() == datetime.timedelta(hours=-8)
    assert all(isinstance(b.is_paid, bool) for b in rs.bill_ret)
    # Streaming gives the same records.
    assert tuple(qbxml.iterparse(raw, records=["BillRet"]))[:-1] == rs.bill_ret


def test_a_response_inside_a_request_set_is_not_taken_for_a_request() -> None:
    data = (
        b'<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
        b'<VendorQueryRs statusCode="0" statusSeverity="Info"/></QBXMLMsgsRq></QBXML>'
    )
    # The captured flowlink/*_rs.xml files have this shape: a response in a request set is
    # not a request, so it is kept verbatim, not built as one.
    doc = qbxml.loads(data)
    assert doc.kind == "request"
    assert doc.requests == []
    assert [u.tag for u in doc.unknown_elements] == ["VendorQueryRs"]
    assert list(qbxml.iterparse(data)) == []
