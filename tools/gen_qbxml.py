"""Generate qbprocore's qbXML models and schema from the facts of the official qbXML schema.

Usage::

    python tools/gen_qbxml.py [--shared ../shared]

It reads Intuit's qbXML 13.0 schema (``shared/reference/xsd``) and message catalogue
(``shared/reference/qbxml/qbwc-qbxml/schema/qbxmlops130.xml``) *in place* and writes two files
of our own:

- ``src/qbprocore/qbxml/_models.py`` — attrs classes, enums and binding metadata;
- ``src/qbprocore/qbxml/schema/qbprocore-qbxml.xsd`` — our schema for the message set, built
  from our intermediate representation (flat named complex types, no groups), not a copy.

Facts taken: element names and their order, occurrence, choice structure, simple types,
enumerations and maximum lengths (the catalogue's "max length … for QBD" where the schema has
none) and the qbXML version that introduced each element (the catalogue's "vN.N").
The generated files are committed; ``tests/qbxml/test_generated.py`` checks they are current.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
ROOT = Path(__file__).resolve().parents[1]
OUT_MODELS = ROOT / "src/qbprocore/qbxml/_models.py"
OUT_XSD = ROOT / "src/qbprocore/qbxml/schema/qbprocore-qbxml.xsd"

# The message set of issue 2: (request, response) element names.
MESSAGES: list[tuple[str, str]] = [
    (f"{base}Rq", f"{base}Rs")
    for base in [
        "HostQuery",
        "CompanyQuery",
        "PreferencesQuery",
        "VendorQuery",
        "VendorAdd",
        "VendorMod",
        "CustomerQuery",
        "CustomerAdd",
        "CustomerMod",
        "ItemServiceQuery",
        "ItemServiceAdd",
        "ItemServiceMod",
        "AccountQuery",
        "BillQuery",
        "BillAdd",
        "BillMod",
        "PurchaseOrderQuery",
        "PurchaseOrderAdd",
        "PurchaseOrderMod",
        "EstimateQuery",
        "EstimateAdd",
        "EstimateMod",
        "BillPaymentCheckQuery",
        "BillPaymentCheckAdd",
        "CheckQuery",
        "CreditCardChargeQuery",
        "VendorCreditQuery",
        "TxnDeletedQuery",
        "ListDeletedQuery",
        "TxnDel",
    ]
]

# Named schema groups that several elements use as their whole content become one shared class.
GROUP_CLASS_NAMES = {"AddressData": "Address", "AddressBlockData": "AddressBlock"}
REF_GROUP = re.compile(r"^[A-Za-z]*ListRef$")

# Simple schema types -> our scalar kinds.
SIMPLE_KINDS = {
    "STRTYPE": "STR",
    "IDTYPE": "ID",
    "UUIDTYPE": "STR",
    "MACROTYPE": "STR",
    "GUIDTYPE": "GUID",
    "BOOLTYPE": "BOOL",
    "DATETYPE": "DATE",
    "DATETIMETYPE": "DATETIME",
    "TIMEINTERVALTYPE": "DURATION",
    "AMTTYPE": "AMT",
    "PRICETYPE": "PRICE",
    "QUANTYPE": "QUAN",
    "PERCENTTYPE": "PERCENT",
    "FLOATTYPE": "FLOAT",
    "INTTYPE": "INT",
    "ENUMTYPE": "ENUM",
}
PY_TYPES = {
    "STR": "str",
    "ID": "str",
    "GUID": "str",
    "DURATION": "str",
    "BOOL": "bool",
    "DATE": "datetime.date",
    "DATETIME": "datetime.datetime",
    "AMT": "Decimal",
    "PRICE": "Decimal",
    "QUAN": "Decimal",
    "PERCENT": "Decimal",
    "FLOAT": "Decimal",
    "INT": "int",
}
# Our XSD's simple types, written by us (patterns restate the qbXML lexical forms).
XSD_SIMPLE = {
    "STR": "qbStr",
    "ID": "qbId",
    "GUID": "qbGuid",
    "DURATION": "qbDuration",
    "BOOL": "qbBool",
    "DATE": "qbDate",
    "DATETIME": "qbDateTime",
    "AMT": "qbAmount",
    "PRICE": "qbPrice",
    "QUAN": "qbQuantity",
    "PERCENT": "qbPercent",
    "FLOAT": "qbFloat",
    "INT": "qbInt",
    "ENUM": "qbStr",
}

UNBOUNDED = -1


@dataclass(frozen=True)
class Simple:
    kind: str
    max_length: int | None = None
    enum: tuple[str, ...] = ()
    min_value: int | None = None
    max_value: int | None = None


@dataclass
class Elem:
    name: str
    min: int
    max: int
    simple: Simple | None = None
    cls: str | None = None  # class key for complex content


@dataclass
class Group:
    kind: str  # "seq" | "choice"
    min: int
    max: int
    items: list[Elem | Group] = field(default_factory=list)


@dataclass
class Attr:
    name: str
    simple: Simple
    required: bool
    default: str | None = None


@dataclass
class ClassDef:
    key: str
    content: Group
    attrs: list[Attr]
    text: Simple | None = None  # simpleContent
    doc_names: set[str] = field(default_factory=set)


def occurs(node: etree._Element, attr: str) -> int:
    value = node.get(attr, "1")
    return UNBOUNDED if value == "unbounded" else int(value)


class Schema:
    """Reads the official XSD files into lookup tables."""

    def __init__(self, xsd_dir: Path) -> None:
        self.elements: dict[str, etree._Element] = {}
        self.ctypes: dict[str, etree._Element] = {}
        self.groups: dict[str, etree._Element] = {}
        self.stypes: dict[str, etree._Element] = {}
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
        for path in sorted(xsd_dir.glob("*.xsd")):
            for node in etree.parse(str(path), parser).getroot():
                if not isinstance(node.tag, str):
                    continue
                name = node.get("name")
                table = {
                    f"{XS}element": self.elements,
                    f"{XS}complexType": self.ctypes,
                    f"{XS}group": self.groups,
                    f"{XS}simpleType": self.stypes,
                }.get(node.tag)
                if table is not None and name:
                    table[name] = node
        self.classes: dict[str, ClassDef] = {}
        self.class_of_node: dict[etree._Element, str] = {}  # keys keep proxies alive
        # FullName limit of each reference element (VendorRef 41, SalesTaxCodeRef 3 …).
        self.ref_limits: dict[str, int | None] = {}
        self.enums: dict[tuple[str, ...], str] = {}

    # -- simple types ---------------------------------------------------------------------
    def simple_from_restriction(self, restriction: etree._Element) -> Simple:
        base = restriction.get("base", "")
        kind = SIMPLE_KINDS.get(base)
        if kind is None:
            if base in self.stypes:
                kind = self.simple_named(base).kind
            elif base.startswith("xsd:"):
                kind = {"xsd:string": "STR", "xsd:integer": "INT"}[base]
            else:
                raise ValueError(f"unknown simple base {base}")
        max_length = None
        enum: list[str] = []
        low = high = None
        for facet in restriction:
            if facet.tag == f"{XS}maxLength":
                max_length = int(facet.get("value"))
            elif facet.tag == f"{XS}enumeration":
                enum.append(facet.get("value"))
            elif facet.tag == f"{XS}minInclusive":
                low = int(facet.get("value"))
            elif facet.tag == f"{XS}maxInclusive":
                high = int(facet.get("value"))
        if enum:
            kind = "ENUM"
        return Simple(kind, max_length, tuple(enum), low, high)

    def simple_named(self, name: str) -> Simple:
        if name in SIMPLE_KINDS:
            return Simple(SIMPLE_KINDS[name])
        node = self.stypes[name]
        restriction = node.find(f"{XS}restriction")
        if restriction is None:
            raise ValueError(f"unsupported simple type {name}")
        return self.simple_from_restriction(restriction)

    def simple_inline(self, node: etree._Element) -> Simple:
        restriction = node.find(f"{XS}restriction")
        if restriction is None:
            raise ValueError("unsupported inline simple type")
        return self.simple_from_restriction(restriction)

    # -- elements -------------------------------------------------------------------------
    def element(self, node: etree._Element, context: str) -> Elem:
        lo, hi = occurs(node, "minOccurs"), occurs(node, "maxOccurs")
        ref = node.get("ref")
        decl = self.elements[ref] if ref else node
        name = ref or node.get("name")
        assert name
        elem = Elem(name, lo, hi)
        type_name = decl.get("type")
        if type_name:
            if type_name in self.ctypes:
                elem.cls = self.class_for(name, self.ctypes[type_name], context)
            else:
                elem.simple = self.simple_named(type_name)
            return elem
        ctype = decl.find(f"{XS}complexType")
        stype = decl.find(f"{XS}simpleType")
        simple_content = ctype.find(f"{XS}simpleContent") if ctype is not None else None
        if simple_content is not None:
            # TxnID/TxnLineID carry an optional useMacro attribute (macros for chained adds);
            # we model the value only, which keeps these fields plain strings.
            elem.simple = self.simple_named(simple_content[0].get("base"))
        elif ctype is not None:
            elem.cls = self.class_for(name, ctype, context)
        elif stype is not None:
            elem.simple = self.simple_inline(stype)
        else:
            elem.simple = Simple("STR")
        return elem

    def class_for(self, name: str, ctype: etree._Element, context: str) -> str:
        if ctype in self.class_of_node:
            key = self.class_of_node[ctype]
            self.classes[key].doc_names.add(name)
            return key
        seq = ctype.find(f"{XS}sequence")
        # An element whose whole content is one named group shares a class with its siblings.
        if (
            seq is not None
            and len(seq) == 1
            and seq[0].tag == f"{XS}group"
            and not ctype.findall(f"{XS}attribute")
        ):
            group = seq[0].get("ref")
            assert group
            if REF_GROUP.match(group) and self.is_ref_group(group):
                key = "Ref"
                self.ref_limits[name] = self.ref_full_name_limit(group)
            elif group in GROUP_CLASS_NAMES:
                key = GROUP_CLASS_NAMES[group]
            else:
                key = name
        else:
            key = name
        if key in self.classes and key not in ("Ref", *GROUP_CLASS_NAMES.values()):
            existing = self.classes[key]
            candidate = self.build_class(key, ctype, context)
            if describe(candidate) != describe(existing):
                key = f"{context}{name}"
                if key not in self.classes:
                    self.classes[key] = self.build_class(key, ctype, context)
        elif key not in self.classes:
            self.classes[key] = ClassDef(key, Group("seq", 1, 1), [])  # placeholder for cycles
            self.classes[key] = self.build_class(key, ctype, context)
        elif key == "Ref":
            self.merge_ref(self.build_class(key, ctype, context))
        self.class_of_node[ctype] = key
        self.classes[key].doc_names.add(name)
        return key

    def ref_full_name_limit(self, group: str) -> int | None:
        for el in self.groups[group].iter(f"{XS}element"):
            if (el.get("name") or el.get("ref")) == "FullName":
                facet = el.find(f".//{XS}maxLength")
                return int(facet.get("value")) if facet is not None else None
        return None

    def is_ref_group(self, group: str) -> bool:
        names = [e.get("ref") or e.get("name") for e in self.groups[group].iter(f"{XS}element")]
        return names == ["ListID", "FullName"]

    def merge_ref(self, other: ClassDef) -> None:
        # Ref FullName limits differ per list (159 for most, 209 for customer:job names);
        # the shared class keeps the largest so it never refuses what QuickBooks accepts.
        mine = self.classes["Ref"]
        for a, b in zip(leaves(mine.content), leaves(other.content), strict=True):
            assert a.name == b.name, (a.name, b.name)
            if a.simple and b.simple and (b.simple.max_length or 0) > (a.simple.max_length or 0):
                a.simple = b.simple

    def build_class(self, key: str, ctype: etree._Element, context: str) -> ClassDef:
        content = Group("seq", 1, 1)
        attrs: list[Attr] = []
        text: Simple | None = None
        for child in ctype:
            if child.tag in (f"{XS}sequence", f"{XS}choice") or child.tag == f"{XS}group":
                content.items.append(self.particle(child, key))
            elif child.tag == f"{XS}attribute":
                attrs.append(self.attribute(child))
            elif child.tag == f"{XS}simpleContent":
                ext = child[0]
                text = self.simple_named(ext.get("base"))
                attrs.extend(self.attribute(a) for a in ext if a.tag == f"{XS}attribute")
            else:
                raise ValueError(f"{key}: unsupported {child.tag}")
        return ClassDef(key, content, attrs, text)

    def attribute(self, node: etree._Element) -> Attr:
        stype = node.find(f"{XS}simpleType")
        simple = (
            self.simple_inline(stype) if stype is not None else self.simple_named(node.get("type"))
        )
        return Attr(node.get("name"), simple, node.get("use") == "required", node.get("default"))

    def particle(self, node: etree._Element, context: str) -> Group:
        lo, hi = occurs(node, "minOccurs"), occurs(node, "maxOccurs")
        if node.tag == f"{XS}group":
            inner = self.groups[node.get("ref")]
            body = [c for c in inner if isinstance(c.tag, str)]
            assert len(body) == 1, node.get("ref")
            group = self.particle(body[0], context)
            group.min, group.max = (
                group.min * lo,
                (UNBOUNDED if UNBOUNDED in (hi, group.max) else group.max * hi),
            )
            return group
        kind = "seq" if node.tag == f"{XS}sequence" else "choice"
        group = Group(kind, lo, hi)
        for child in node:
            if not isinstance(child.tag, str) or child.tag == f"{XS}annotation":
                continue
            if child.tag == f"{XS}element":
                group.items.append(self.element(child, context))
            else:
                group.items.append(self.particle(child, context))
        return group


def leaves(p: Elem | Group) -> list[Elem]:
    if isinstance(p, Elem):
        return [p]
    return [e for item in p.items for e in leaves(item)]


def describe(cls: ClassDef) -> str:
    def walk(p: Elem | Group) -> str:
        if isinstance(p, Elem):
            return f"{p.name}[{p.min},{p.max}]{p.simple or p.cls}"
        return f"{p.kind}[{p.min},{p.max}](" + ",".join(walk(i) for i in p.items) + ")"

    return walk(cls.content) + repr(cls.attrs) + repr(cls.text)


# -- the catalogue: max lengths for QBD and the version that introduced each element -----------


@dataclass
class Facts:
    max_length: int | None = None
    version: str | None = None


def read_catalogue(path: Path) -> dict[tuple[str, ...], Facts]:
    """Map element paths (from the *Rq/*Rs element down) to their catalogue annotations."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(path), parser).getroot()
    facts: dict[tuple[str, ...], Facts] = {}

    def annotation(el: etree._Element) -> str:
        for candidate in (el[0] if len(el) else None, el.getnext()):
            if (
                candidate is not None
                and candidate.tag is etree.Comment
                and candidate.sourceline == el.sourceline
            ):
                return str(candidate.text)
        return ""

    def walk(el: etree._Element, path: tuple[str, ...]) -> None:
        note = annotation(el)
        f = Facts()
        m = re.search(r"max length = (\d+) for [A-Z|]*QBD", note)
        if m:
            f.max_length = int(m.group(1))
        else:
            m = re.search(r"max length = (\d+)(?! for)", note)
            if m:
                f.max_length = int(m.group(1))
        v = re.search(r"\bv(\d+\.\d+)", note)
        if v:
            f.version = v.group(1)
        facts[path] = f
        for child in el:
            if isinstance(child.tag, str):
                walk(child, (*path, child.tag))

    for msg in root.iter("QBXMLMsgsRq", "QBXMLMsgsRs"):
        for rq in msg:
            if isinstance(rq.tag, str):
                walk(rq, (rq.tag,))
    return facts


# -- code generation ------------------------------------------------------------------------


def snake(name: str) -> str:
    # ListID -> list_id, IsVendorEligibleFor1099 -> is_vendor_eligible_for_1099, Addr1 -> addr1
    s = re.sub(
        r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z])(?=[0-9]{2,})", "_", name
    ).lower()
    return s + "_" if keyword.iskeyword(s) or s in {"type", "id"} else s


def enum_member(value: str) -> str:
    s = re.sub(r"[^0-9A-Za-z]+", "_", value)
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", s).upper().strip("_")
    if not s or s[0].isdigit():
        s = "V_" + s
    return s


@dataclass
class FieldDef:
    attr: str
    tags: tuple[str, ...]  # one tag, or several for a repeated choice
    kind: str  # scalar kind, "CLASS" or "UNION"
    is_list: bool
    required: bool
    classes: tuple[str, ...] = ()
    simple: Simple | None = None
    version: str | None = None
    is_attribute: bool = False
    enum_name: str | None = None
    # The choice branches this field sits in: ((choice number, branch number), ...).
    choice: tuple[tuple[int, int], ...] = ()
    # 1 when the element must appear whenever its choice branches are taken.
    min_occurs: int = 0
    # Max lengths of the child record's fields that differ in this position (a Ref's
    # FullName is 41 characters in a VendorRef but 3 in a SalesTaxCodeRef).
    limits: tuple[tuple[str, int], ...] = ()


def flatten(cls: ClassDef) -> tuple[list[FieldDef], tuple[int, ...]]:
    fields: list[FieldDef] = []
    seen: dict[str, FieldDef] = {}

    def add(fd: FieldDef) -> None:
        if fd.attr in seen:
            prev = seen[fd.attr]
            if prev.tags != fd.tags or prev.kind != fd.kind or prev.classes != fd.classes:
                raise ValueError(f"{cls.key}: {fd.attr} appears twice with different shapes")
            prev.is_list = prev.is_list or fd.is_list
            prev.required = False
            return
        seen[fd.attr] = fd
        fields.append(fd)

    choices = 0
    required_choices: list[int] = []

    # `must`: every group between here and the nearest enclosing choice branch (or the root)
    # is mandatory, so an element with minOccurs >= 1 here must appear whenever its branch
    # is taken.
    def walk(
        p: Elem | Group,
        repeated: bool,
        optional: bool,
        path: tuple[tuple[int, int], ...],
        must: bool,
    ) -> None:
        nonlocal choices
        if isinstance(p, Elem):
            is_list = repeated or p.max == UNBOUNDED or p.max > 1
            required = not optional and p.min >= 1 and not is_list
            min_occurs = 1 if must and p.min >= 1 else 0
            if p.cls:
                add(
                    FieldDef(
                        snake(p.name),
                        (p.name,),
                        "CLASS",
                        is_list,
                        required,
                        (p.cls,),
                        choice=path,
                        min_occurs=min_occurs,
                    )
                )
            else:
                assert p.simple
                add(
                    FieldDef(
                        snake(p.name),
                        (p.name,),
                        p.simple.kind,
                        is_list,
                        required,
                        simple=p.simple,
                        choice=path,
                        min_occurs=min_occurs,
                    )
                )
            return
        rep = repeated or p.max == UNBOUNDED or p.max > 1
        if p.kind == "choice" and rep:
            # A repeated choice keeps its items' relative order in one list.
            elems = [i for i in p.items if isinstance(i, Elem)]
            if len(elems) != len(p.items) or any(e.cls is None for e in elems):
                raise ValueError(f"{cls.key}: repeated choice of non-elements")
            name = "_or_".join(snake(e.name) for e in elems)
            add(
                FieldDef(
                    name,
                    tuple(e.name for e in elems),
                    "UNION",
                    True,
                    False,
                    tuple(e.cls for e in elems if e.cls),
                    choice=path,
                    min_occurs=1 if must and p.min >= 1 else 0,
                )
            )
            return
        inner_optional = optional or p.min == 0 or p.kind == "choice"
        if p.kind == "choice":
            number = choices
            choices += 1
            if must and p.min >= 1:
                required_choices.append(number)
            for branch, item in enumerate(p.items):
                walk(item, rep, inner_optional, (*path, (number, branch)), True)
        else:
            for item in p.items:
                walk(item, rep, inner_optional, path, must and p.min >= 1)

    walk(cls.content, False, False, (), True)

    # A required choice only forces content when each of its branches has a mandatory
    # element (qbXML has required choices of optional elements, which are satisfied by none).
    def branch_has_content(number: int, branch: int) -> bool:
        return any(
            fd.min_occurs and (number, branch) in fd.choice and fd.choice[-1] == (number, branch)
            for fd in fields
        )

    forced = tuple(
        number
        for number in required_choices
        if all(
            branch_has_content(number, branch)
            for branch in {b for fd in fields for n, b in fd.choice if n == number}
        )
    )
    return fields, forced


class Generator:
    def __init__(self, schema: Schema, facts: dict[tuple[str, ...], Facts]) -> None:
        self.schema = schema
        self.facts = facts
        self.fields: dict[str, list[FieldDef]] = {}
        self.enums: dict[str, tuple[str, ...]] = {}
        self.enum_by_values: dict[tuple[str, tuple[str, ...]], str] = {}
        self.order: list[str] = []
        self.rq_classes: list[str] = []
        self.rs_classes: list[str] = []
        self.required_choices: dict[str, tuple[int, ...]] = {}

    def collect(self) -> None:
        ops_rq = self.schema.elements["QBXMLMsgsRq"]
        ops_rs = self.schema.elements["QBXMLMsgsRs"]
        decl = {}
        for container in (ops_rq, ops_rs):
            for el in container.iter(f"{XS}element"):
                if el.get("name") and el.get("type"):
                    decl[el.get("name")] = el
        for rq, rs in MESSAGES:
            for name, bucket in ((rq, self.rq_classes), (rs, self.rs_classes)):
                elem = self.schema.element(decl[name], "")
                assert elem.cls
                bucket.append(elem.cls)
        # Every class reachable from the messages, in a stable dependency-first order.
        visiting: set[str] = set()

        def visit(key: str) -> None:
            if key in self.fields or key in visiting:
                return
            visiting.add(key)
            cls = self.schema.classes[key]
            fields, self.required_choices[key] = flatten(cls)
            for fd in fields:
                for sub in fd.classes:
                    visit(sub)
            self.fields[key] = fields
            self.order.append(key)

        for key in self.rq_classes + self.rs_classes:
            visit(key)
        self.apply_facts()
        self.apply_ref_limits()
        self.name_enums()

    def apply_ref_limits(self) -> None:
        ref_default = next(f for f in self.fields["Ref"] if f.attr == "full_name").simple
        assert ref_default is not None
        for key in self.order:
            for fd in self.fields[key]:
                if fd.kind == "CLASS" and fd.classes == ("Ref",):
                    limit = self.schema.ref_limits.get(fd.tags[0])
                    if limit is not None and limit != ref_default.max_length:
                        fd.limits = (("full_name", limit),)

    def apply_facts(self) -> None:
        # Walk every message's class tree with its element path to pick up catalogue facts.
        def walk(key: str, path: tuple[str, ...], depth: int) -> None:
            if depth > 12:
                return
            for fd in self.fields[key]:
                for tag, sub in zip(fd.tags, fd.classes or (None,) * len(fd.tags), strict=False):
                    p = (*path, tag)
                    f = self.facts.get(p)
                    if f is not None:
                        if f.version and (fd.version is None or vkey(f.version) < vkey(fd.version)):
                            fd.version = f.version
                        if f.max_length and fd.simple and fd.kind in ("STR",):
                            cur = fd.simple.max_length
                            if cur is None or (f.max_length > cur and key != "Ref"):
                                fd.simple = Simple(fd.simple.kind, f.max_length, fd.simple.enum)
                    if sub:
                        walk(sub, p, depth + 1)

        for rq, key in zip([m[0] for m in MESSAGES], self.rq_classes, strict=True):
            walk(key, (rq,), 0)
        for rs, key in zip([m[1] for m in MESSAGES], self.rs_classes, strict=True):
            walk(key, (rs,), 0)

    def name_enums(self) -> None:
        for key in self.order:
            items: list[tuple[str, FieldDef | Attr]] = [(fd.tags[0], fd) for fd in self.fields[key]]
            items += [(a.name, a) for a in self.schema.classes[key].attrs]
            for tag, fd in items:
                simple = fd.simple
                if simple is None or not simple.enum:
                    continue
                base = tag[0].upper() + tag[1:]
                values = simple.enum
                name = self.enum_by_values.get((base, values))
                if name is None:
                    name = base if base not in self.enums else f"{key}{base}"
                    n = 2
                    while name in self.enums:
                        name = f"{key}{base}{n}"
                        n += 1
                    self.enums[name] = values
                    self.enum_by_values[(base, values)] = name
                if isinstance(fd, FieldDef):
                    fd.enum_name = name
                else:
                    fd.default = fd.default  # attributes resolve their enum by values below
                    ATTR_ENUMS[(key, fd.name)] = name

    # -- emit Python ---------------------------------------------------------------------
    def py_type(self, fd: FieldDef) -> str:
        if fd.kind == "CLASS":
            base = fd.classes[0]
        elif fd.kind == "UNION":
            base = " | ".join(fd.classes)
        elif fd.kind == "ENUM":
            base = f"{fd.enum_name} | str" if fd.enum_name else "str"
        else:
            base = PY_TYPES[fd.kind]
        if fd.is_list:
            return f"tuple[{base}, ...]"
        return base if fd.required else f"{base} | None"

    def emit_python(self) -> str:
        out: list[str] = [
            '"""qbXML models for qbprocore\'s message set (generated; do not edit).',
            "",
            "Generated by ``tools/gen_qbxml.py`` from the facts of Intuit's qbXML 13.0 schema and",
            "message catalogue. Field order is schema order; each class carries its binding",
            "metadata in ``__qbxml__`` (see `qbprocore.qbxml._meta`).",
            '"""',
            "",
            "# ruff: noqa: E501",
            "from __future__ import annotations",
            "",
            "import datetime",
            "from decimal import Decimal",
            "",
            "import attrs",
            "",
            "from qbprocore.qbxml._meta import (",
            "    A,",
            "    C,",
            "    F,",
            "    QbxmlEnum,",
            "    QbxmlModel,",
            "    QbxmlRequest,",
            "    QbxmlResponse,",
            "    UnknownElement,",
            "    _init,",
            ")",
            "",
            "__all__ = [",
        ]
        names = sorted(self.enums) + sorted(self.order) + sorted(self.aliases())
        out += [f'    "{n}",' for n in names]
        out += ["]", "", ""]
        for name, values in sorted(self.enums.items()):
            out.append(f"class {name}(QbxmlEnum):")
            out.append(f'    """Values of qbXML ``{name}``."""')
            out.append("")
            used: set[str] = set()
            for v in values:
                m = enum_member(v)
                while m in used:
                    m += "_"
                used.add(m)
                out.append(f"    {m} = {v!r}")
            out += ["", ""]
        for key in self.order:
            out += self.emit_class(key)
        # Binding metadata, attached after all classes exist (classes refer to each other).
        out.append(
            "# --- binding metadata ---------------------------------------------------------"
        )
        out.append("")
        for key in self.order:
            out += self.emit_meta(key)
        out.append("")
        # Element names of the shared address classes, so that every element has a class of
        # its own name (references all use `Ref`, as one type on purpose).
        for alias, key in sorted(self.aliases().items()):
            out.append(f"{alias} = {key}")
        out.append("")
        out.append("REQUEST_TYPES: tuple[type[QbxmlRequest], ...] = (")
        out += [f"    {k}," for k in self.rq_classes]
        out.append(")")
        out.append("RESPONSE_TYPES: tuple[type[QbxmlResponse], ...] = (")
        out += [f"    {k}," for k in self.rs_classes]
        out.append(")")
        return "\n".join(out) + "\n"

    def aliases(self) -> dict[str, str]:
        """Element names served by a shared class other than `Ref` (``VendorAddress`` …)."""
        return {
            name: key
            for key in self.order
            if key != "Ref"
            for name in self.schema.classes[key].doc_names
            if name != key and name not in self.order and name not in self.enums
        }

    def base_of(self, key: str) -> str:
        if key in self.rq_classes:
            return "QbxmlRequest"
        if key in self.rs_classes:
            return "QbxmlResponse"
        return "QbxmlModel"

    def attr_fields(self, key: str) -> list[tuple[str, Attr]]:
        return [(snake(a.name), a) for a in self.schema.classes[key].attrs]

    def emit_class(self, key: str) -> list[str]:
        cls = self.schema.classes[key]
        names = sorted(cls.doc_names)
        # attrs supplies the frozen behaviour and field introspection (attrs.fields, evolve,
        # asdict); __init__, __eq__ and __repr__ are written here and in QbxmlModel instead
        # of generated by attrs at import, because attrs compiles each method at run time and
        # that made importing ~190 classes cost ~150 ms. This module's bytecode is cached.
        out = [
            "@attrs.frozen(kw_only=True, slots=False, init=False, eq=False, repr=False)",
            f"class {key}({self.base_of(key)}):",
        ]
        if key == "Ref":
            doc = "A reference to a list object by ``ListID`` and/or ``FullName``."
        elif len(names) == 1 and names[0] == key:
            doc = f"qbXML ``{key}``."
        else:
            doc = "qbXML " + ", ".join(f"``{n}``" for n in names) + "."
        out.append(f'    """{doc}"""')
        out.append("")
        # (name, annotation, class default, init parameter, value expression)
        members: list[tuple[str, str, str, str, str]] = []
        for attr, a in self.attr_fields(key):
            enum = ATTR_ENUMS.get((key, a.name))
            t = f"{enum} | str" if enum else PY_TYPES.get(a.simple.kind, "str")
            if a.required:
                members.append((attr, t, "", f"{attr}: {t}", attr))
            else:
                members.append((attr, f"{t} | None", " = None", f"{attr}: {t} | None = None", attr))
        for fd in self.fields[key]:
            t = self.py_type(fd)
            if fd.is_list:
                # Stored as a tuple (a record is immutable all the way down); a list is
                # accepted too, and the constructor keeps it as a tuple.
                item = t[len("tuple[") : -len(", ...]")]
                members.append(
                    (
                        fd.attr,
                        t,
                        " = ()",
                        f"{fd.attr}: {t} | list[{item}] = ()",
                        fd.attr,
                    )
                )
            elif fd.required:
                members.append((fd.attr, t, "", f"{fd.attr}: {t}", fd.attr))
            else:
                members.append((fd.attr, t, " = None", f"{fd.attr}: {t} = None", fd.attr))
        members.append(
            (
                "unknown_elements",
                "tuple[UnknownElement, ...]",
                " = ()",
                "unknown_elements: tuple[UnknownElement, ...] = ()",
                "unknown_elements",
            )
        )
        for name, annotation, default, _, _ in members:
            out.append(f"    {name}: {annotation}{default}")
        out.append("")
        out.append("    def __init__(")
        out.append("        self,")
        out.append("        *,")
        for _, _, _, param, _ in members:
            out.append(f"        {param},")
        out.append("    ) -> None:")
        out.append("        _init(")
        out.append("            self,")
        out.append("            {")
        for name, _, _, _, expr in members:
            out.append(f"                {name!r}: {expr},")
        out.append("            },")
        out.append("        )")
        out += ["", ""]
        return out

    def emit_meta(self, key: str) -> list[str]:
        cls = self.schema.classes[key]
        lines = [f"{key}.__qbxml__ = C("]
        lines.append(f"    {key},")
        lines.append(f"    {sorted(cls.doc_names)[0] if key != 'Ref' else 'Ref'!r},")
        lines.append("    fields=(")
        for fd in self.fields[key]:
            parts = [
                repr(fd.attr),
                repr(fd.tags if len(fd.tags) > 1 else fd.tags[0]),
                repr(fd.kind),
            ]
            if fd.classes:
                parts.append("classes=(" + ", ".join(fd.classes) + ",)")
            if fd.is_list:
                parts.append("is_list=True")
            if fd.required:
                parts.append("required=True")
            if fd.simple and fd.simple.max_length:
                parts.append(f"max_length={fd.simple.max_length}")
            if fd.enum_name:
                parts.append(f"enum={fd.enum_name}")
            if fd.version:
                parts.append(f"version={fd.version!r}")
            if fd.choice:
                parts.append(f"choice={fd.choice!r}")
            if fd.min_occurs and (fd.choice or fd.is_list):
                parts.append("min_occurs=1")
            if fd.limits:
                parts.append(f"limits={fd.limits!r}")
            if fd.simple and fd.simple.min_value is not None:
                parts.append(f"min_value={fd.simple.min_value}")
            if fd.simple and fd.simple.max_value is not None:
                parts.append(f"max_value={fd.simple.max_value}")
            lines.append(f"        F({', '.join(parts)}),")
        lines.append("    ),")
        attrs_ = self.attr_fields(key)
        if attrs_:
            lines.append("    attributes=(")
            for attr, a in attrs_:
                enum = ATTR_ENUMS.get((key, a.name))
                parts = [repr(attr), repr(a.name), repr("ENUM" if enum else a.simple.kind)]
                if enum:
                    parts.append(f"enum={enum}")
                if a.required:
                    parts.append("required=True")
                lines.append(f"        A({', '.join(parts)}),")
            lines.append("    ),")
        if self.required_choices[key]:
            lines.append(f"    required_choices={self.required_choices[key]!r},")
        lines.append(")")
        return lines

    # -- emit XSD -------------------------------------------------------------------------
    def emit_xsd(self) -> str:
        xs = "xs"
        out = [
            '<?xml version="1.0" encoding="utf-8"?>',
            "<!-- qbprocore's schema for its qbXML message set (generated by tools/gen_qbxml.py;",
            "     do not edit). Written by qbprocore from its own model of the message set: flat",
            "     named complex types, one per model class. Structure facts (element order,",
            "     occurrence, choices, types, lengths) follow qbXML 13.0. -->",
            f'<{xs}:schema xmlns:{xs}="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">',
        ]
        out += SIMPLE_TYPES_XSD
        # The document envelope.
        out.append(f'  <{xs}:element name="QBXML">')
        out.append(f"    <{xs}:complexType>")
        out.append(f"      <{xs}:choice>")
        out.append(f'        <{xs}:element name="QBXMLMsgsRq">')
        out.append(f"          <{xs}:complexType>")
        out.append(f'            <{xs}:choice minOccurs="0" maxOccurs="unbounded">')
        for (rq, _), key in zip(MESSAGES, self.rq_classes, strict=True):
            out.append(f'              <{xs}:element name="{rq}" type="{key}.T"/>')
        out.append(f"            </{xs}:choice>")
        out.append(f'            <{xs}:attribute name="onError" use="required">')
        out.append(f'              <{xs}:simpleType><{xs}:restriction base="{xs}:string">')
        for v in ("continueOnError", "rollbackOnError", "stopOnError"):
            out.append(f'                <{xs}:enumeration value="{v}"/>')
        out.append(f"              </{xs}:restriction></{xs}:simpleType>")
        out.append(f"            </{xs}:attribute>")
        out.append(f'            <{xs}:attribute name="newMessageSetID" type="qbStr"/>')
        out.append(f'            <{xs}:attribute name="oldMessageSetID" type="qbStr"/>')
        out.append(f"          </{xs}:complexType>")
        out.append(f"        </{xs}:element>")
        out.append(f'        <{xs}:element name="QBXMLMsgsRs">')
        out.append(f"          <{xs}:complexType>")
        out.append(f'            <{xs}:choice minOccurs="0" maxOccurs="unbounded">')
        for (_, rs), key in zip(MESSAGES, self.rs_classes, strict=True):
            out.append(f'              <{xs}:element name="{rs}" type="{key}.T"/>')
        out.append(f"            </{xs}:choice>")
        out.append(f'            <{xs}:attribute name="newMessageSetID" type="qbStr"/>')
        out.append(f'            <{xs}:attribute name="messageSetStatusCode" type="qbStr"/>')
        out.append(f"          </{xs}:complexType>")
        out.append(f"        </{xs}:element>")
        out.append(f"      </{xs}:choice>")
        out.append(f"    </{xs}:complexType>")
        out.append(f"  </{xs}:element>")
        for key in self.order:
            out += self.xsd_class(key)
        # Reference types with a tighter FullName limit (VendorRef 41, SalesTaxCodeRef 3 …).
        ref_lines = self.xsd_class("Ref")
        for limit in sorted(
            {fd.limits[0][1] for k in self.order for fd in self.fields[k] if fd.limits}
        ):
            out += [
                line.replace('name="Ref.T"', f'name="Ref.L{limit}.T"').replace(
                    '<xs:maxLength value="209"/>', f'<xs:maxLength value="{limit}"/>'
                )
                for line in ref_lines
            ]
        out.append(f"</{xs}:schema>")
        return "\n".join(out) + "\n"

    def xsd_simple_ref(self, fd_simple: Simple, enum: str | None) -> tuple[str | None, list[str]]:
        """Return (type attribute, inline simpleType lines)."""
        base = XSD_SIMPLE[fd_simple.kind]
        if enum:
            return f"{enum}.E", []
        if fd_simple.min_value is not None or fd_simple.max_value is not None:
            facets = ""
            if fd_simple.min_value is not None:
                facets += f'<xs:minInclusive value="{fd_simple.min_value}"/>'
            if fd_simple.max_value is not None:
                facets += f'<xs:maxInclusive value="{fd_simple.max_value}"/>'
            return None, [
                f'<xs:simpleType><xs:restriction base="{base}">{facets}</xs:restriction></xs:simpleType>'
            ]
        if fd_simple.max_length:
            return None, [
                f'<xs:simpleType><xs:restriction base="{base}"><xs:maxLength value="{fd_simple.max_length}"/></xs:restriction></xs:simpleType>'
            ]
        return base, []

    def xsd_class(self, key: str) -> list[str]:
        cls = self.schema.classes[key]
        by_tag: dict[str, FieldDef] = {}
        for fd in self.fields[key]:
            for t in fd.tags:
                by_tag[t] = fd
        out = [f'  <xs:complexType name="{key}.T">']
        if cls.text is not None:
            out.append("    <xs:simpleContent>")
            out.append(f'      <xs:extension base="{XSD_SIMPLE[cls.text.kind]}">')
            out += ["        " + line for line in self.xsd_attrs(key)]
            out.append("      </xs:extension>")
            out.append("    </xs:simpleContent>")
            out.append("  </xs:complexType>")
            return out

        def occ(lo: int, hi: int) -> str:
            s = "" if lo == 1 else f' minOccurs="{lo}"'
            if hi == UNBOUNDED:
                s += ' maxOccurs="unbounded"'
            elif hi != 1:
                s += f' maxOccurs="{hi}"'
            return s

        def walk(p: Elem | Group, indent: str) -> list[str]:
            if isinstance(p, Elem):
                fd = by_tag[p.name]
                if p.cls:
                    return [
                        f'{indent}<xs:element name="{p.name}" type="{p.cls}.T"{occ(p.min, p.max)}/>'
                    ]
                assert fd.simple is not None
                t, inline = self.xsd_simple_ref(fd.simple, fd.enum_name)
                if t:
                    return [f'{indent}<xs:element name="{p.name}" type="{t}"{occ(p.min, p.max)}/>']
                return [
                    f'{indent}<xs:element name="{p.name}"{occ(p.min, p.max)}>{inline[0]}</xs:element>'
                ]
            tag = "xs:sequence" if p.kind == "seq" else "xs:choice"
            lines = [f"{indent}<{tag}{occ(p.min, p.max)}>"]
            for item in p.items:
                lines += walk(item, indent + "  ")
            lines.append(f"{indent}</{tag}>")
            return lines

        out += walk(cls.content, "    ")
        out += ["    " + line for line in self.xsd_attrs(key)]
        out.append("  </xs:complexType>")
        return out

    def xsd_attrs(self, key: str) -> list[str]:
        lines = []
        for a in self.schema.classes[key].attrs:
            enum = ATTR_ENUMS.get((key, a.name))
            t = f"{enum}.E" if enum else XSD_SIMPLE[a.simple.kind]
            use = ' use="required"' if a.required else ""
            lines.append(f'<xs:attribute name="{a.name}" type="{t}"{use}/>')
        return lines

    def emit_enums_xsd(self) -> list[str]:
        lines = []
        for name, values in sorted(self.enums.items()):
            lines.append(f'  <xs:simpleType name="{name}.E">')
            lines.append('    <xs:restriction base="xs:string">')
            lines += [f'      <xs:enumeration value="{v}"/>' for v in values]
            lines.append("    </xs:restriction>")
            lines.append("  </xs:simpleType>")
        return lines


ATTR_ENUMS: dict[tuple[str, str], str] = {}


def vkey(v: str) -> tuple[int, int]:
    major, minor = v.split(".")
    return int(major), int(minor)


# Our lexical types. Amounts and quantities are restated as patterns because QuickBooks
# expects exactly these forms (two decimals for amounts, up to five for prices/quantities).
SIMPLE_TYPES_XSD = """\
  <xs:simpleType name="qbStr"><xs:restriction base="xs:string"/></xs:simpleType>
  <xs:simpleType name="qbId"><xs:restriction base="xs:string"><xs:maxLength value="36"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbGuid"><xs:restriction base="xs:string"><xs:pattern value="0|(\\{[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\\})"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbDuration"><xs:restriction base="xs:string"><xs:pattern value="[+\\-]?PT([0-9]+H)?([0-9]+M)?([0-9]+S)?"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbBool"><xs:restriction base="xs:string"><xs:enumeration value="true"/><xs:enumeration value="false"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbDate"><xs:restriction base="xs:date"><xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbDateTime"><xs:restriction base="xs:string"><xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}([+\\-][0-9]{2}:[0-9]{2})?)?"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbAmount"><xs:restriction base="xs:string"><xs:pattern value="-?[0-9]{1,13}\\.[0-9]{2}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbPrice"><xs:restriction base="xs:string"><xs:pattern value="-?[0-9]{1,10}(\\.[0-9]{1,5})?"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbQuantity"><xs:restriction base="xs:string"><xs:pattern value="-?[0-9]{1,10}(\\.[0-9]{1,5})?"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbPercent"><xs:restriction base="xs:string"><xs:pattern value="-?[0-9]{1,10}(\\.[0-9]{1,5})?"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="qbFloat"><xs:restriction base="xs:decimal"/></xs:simpleType>
  <xs:simpleType name="qbInt"><xs:restriction base="xs:integer"/></xs:simpleType>""".splitlines()


def generate(shared: Path) -> tuple[str, str, str]:
    """Return (models source, schema text, summary) generated from ``shared/reference``."""
    ref = shared / "reference"
    schema = Schema(ref / "xsd")
    facts = read_catalogue(ref / "qbxml/qbwc-qbxml/schema/qbxmlops130.xml")
    gen = Generator(schema, facts)
    gen.collect()
    xsd = gen.emit_xsd().replace(
        "</xs:schema>\n", "\n".join(gen.emit_enums_xsd()) + "\n</xs:schema>\n"
    )
    return gen.emit_python(), xsd, f"{len(gen.order)} classes, {len(gen.enums)} enums"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument(
        "--check", action="store_true", help="exit 1 if the committed files are not current"
    )
    args = ap.parse_args(argv)
    models, xsd, summary = generate(args.shared)
    if args.check:
        stale = [
            str(path.relative_to(ROOT))
            for path, text in ((OUT_MODELS, models), (OUT_XSD, xsd))
            if not path.exists() or path.read_text(encoding="utf-8") != text
        ]
        if stale:
            print(f"stale generated files: {', '.join(stale)}", file=sys.stderr)
            return 1
        return 0
    OUT_MODELS.write_text(models, encoding="utf-8")
    OUT_XSD.parent.mkdir(parents=True, exist_ok=True)
    OUT_XSD.write_text(xsd, encoding="utf-8")
    print(
        f"{summary} -> {OUT_MODELS.relative_to(ROOT)}, {OUT_XSD.relative_to(ROOT)}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
