"""Build qbXML model instances with every allowed field filled, driven by ``__qbxml__`` alone.

Used by the conformance tests: for a class and a variant number ``k`` the filler picks one
branch of every schema choice, fills every field allowed on that path with a valid value of
its kind, recurses into classes, and records which slots it filled, so a test can keep asking
for variants until every slot reachable from a message has been filled at least once.

Branch selection is mixed-radix: a class's choices (numbered per class) are the low digits of
the variant (choice ``c`` takes branch ``(k // stride_c) % n_c``, ``n_c`` its branch count and
``stride_c`` the product of the branch counts of the choices before it), and a child class
gets the digits above them (``k // P``, ``P`` the product of all of them). For a class with a
single choice that is exactly ``k % n``. Plain ``k % n`` for every choice would leave some
nested branches unreachable when branch counts share a factor (a two-way choice under branch
0 of another two-way choice could never take its branch 1); mixed radix reaches every
combination along every path. The items of a list get consecutive variants, so that they
differ (an odd variant writes text at the field's full maximum length, an even one short
text; enumerations rotate through their members; integers take their bounds).

Maximum lengths are the tighter of the field's own ``max_length`` and the per-position limit
its parent field gives (``FieldSpec.limits``: a ``Ref``'s ``full_name`` is 3 characters in a
``SalesTaxCodeRef``, 41 in a ``VendorRef``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from qbprocore.qbxml import AttrSpec, ClassSpec, FieldSpec, QbxmlModel

__all__ = [
    "Coverage",
    "Filler",
    "branch_counts",
    "field_allowed",
    "reachable_classes",
    "reachable_slots",
    "selection",
]

#: A filled slot: (class name, what). ``what`` is a field name, ``"@attribute"``,
#: ``"field=EnumMember"``, ``"field#max"`` (text written at its full maximum length, or an
#: integer at its upper bound), ``"field#min"`` (an integer at its lower bound) or
#: ``"field.child#max"`` (a child's text at the tighter limit this position gives it).
Slot = tuple[str, str]
Coverage = set[Slot]

MAX_DEPTH = 6
LATIN1_LETTER = "é"
_TZ = datetime.timezone(datetime.timedelta(hours=-5))
_STATUS_SEVERITIES = ("Info", "Warn", "Error")


def branch_counts(spec: ClassSpec) -> dict[int, int]:
    """Number of branches of each choice of a class, from the fields' ``choice`` paths."""
    counts: dict[int, int] = {}
    for f in spec.fields:
        for number, branch in f.choice:
            counts[number] = max(counts.get(number, 0), branch + 1)
    return counts


def selection(spec: ClassSpec, k: int) -> tuple[dict[int, int], int]:
    """The branch taken by each choice in variant ``k``, and the class's radix ``P``."""
    counts = branch_counts(spec)
    chosen: dict[int, int] = {}
    stride = 1
    for number in sorted(counts):
        chosen[number] = (k // stride) % counts[number]
        stride *= counts[number]
    return chosen, stride


def field_allowed(f: FieldSpec, chosen: Mapping[int, int]) -> bool:
    """True when every branch on the field's choice path is the one taken."""
    return all(chosen[number] == branch for number, branch in f.choice)


def reachable_classes(root: type[QbxmlModel]) -> list[type[QbxmlModel]]:
    """Every class reachable from ``root`` through class and union fields (``root`` first)."""
    out: list[type[QbxmlModel]] = []
    todo = [root]
    while todo:
        cls = todo.pop(0)
        if cls in out:
            continue
        out.append(cls)
        for f in cls.__qbxml__.fields:
            todo.extend(f.classes)
    return out


def reachable_slots(root: type[QbxmlModel]) -> Coverage:
    """Every slot reachable from ``root``: each field and attribute of each class, each member
    of each enumeration, and the full maximum length of each limited text field."""
    slots: Coverage = set()
    for cls in reachable_classes(root):
        spec = cls.__qbxml__
        name = cls.__name__
        for f in spec.fields:
            slots.add((name, f.attr))
            if f.enum is not None:
                slots.update((name, f"{f.attr}={m.value}") for m in f.enum)
            if f.kind == "STR" and f.max_length is not None:
                slots.add((name, f"{f.attr}#max"))
            if f.kind == "INT":
                slots.update((name, f"{f.attr}#{end}") for end in ("min", "max"))
            slots.update((name, f"{f.attr}.{child}#max") for child, _ in f.limits)
        for a in spec.attributes:
            slots.add((name, "@" + a.attr))
            if a.enum is not None:
                slots.update((name, f"@{a.attr}={m.value}") for m in a.enum)
    return slots


def text(seed: str, k: int, max_length: int | None) -> str:
    """ASCII with one Latin-1 letter: short for even ``k``, exactly ``max_length`` for odd."""
    short = f"{seed[:10]}{LATIN1_LETTER}{k}"
    if max_length is None:
        return short
    if k % 2 == 1 or len(short) > max_length:
        filler = (short + "xyz0123456789" * (max_length // 13 + 1))[:max_length]
        return filler[:-1] + LATIN1_LETTER if LATIN1_LETTER not in filler else filler
    return short


def integer(k: int, low: int | None, high: int | None) -> int:
    """An integer within the bounds, by ``k % 3``: the lower bound, the upper bound, or one
    between. A missing lower bound is stood in for by a negative number, a missing upper one
    by a large number."""
    lo = low if low is not None else -1 - k
    hi = high if high is not None else 1000 + k
    return (lo, hi, (lo + hi) // 2)[k % 3]


def scalar(
    kind: str,
    k: int,
    *,
    seed: str = "",
    max_length: int | None = None,
    enum: Any = None,
    low: int | None = None,
    high: int | None = None,
) -> Any:
    """A valid value of scalar ``kind`` for variant ``k``."""
    if kind == "STR":
        return text(seed, k, max_length)
    if kind == "ID":
        return f"8000{k % 0x10000:04X}-17000000{k % 100:02d}"
    if kind == "GUID":
        return f"{{6B2F1D2C-1A2B-4C3D-8E9F-0A1B2C3D{k % 0x10000:04X}}}"
    if kind == "DURATION":
        return f"PT{k % 24}H{k % 60}M0S"
    if kind == "ENUM":
        if enum is None:
            return text(seed, k, max_length)
        members = list(enum)
        return members[k % len(members)]
    if kind == "BOOL":
        return k % 2 == 0
    if kind == "INT":
        return integer(k, low, high)
    if kind == "AMT":
        return Decimal(f"{1234 + k}.34") * (-1 if k % 3 == 2 else 1)
    if kind in ("PRICE", "QUAN"):
        return Decimal(f"{12 + k}.12345")
    if kind == "PERCENT":
        return Decimal(f"{k % 100}.125")
    if kind == "FLOAT":
        return Decimal(f"{k}.5")
    if kind == "DATE":
        return datetime.date(2024, 1 + k % 12, 1 + k % 28)
    if kind == "DATETIME":
        return datetime.datetime(2024, 1 + k % 12, 1 + k % 28, 10, 30, k % 60, tzinfo=_TZ)
    raise AssertionError(f"unknown kind {kind}")


class Filler:
    """Builds filled instances; see the module docstring."""

    def build(
        self,
        cls: type[QbxmlModel],
        k: int,
        coverage: Coverage | None = None,
        *,
        depth: int = 0,
        limits: Mapping[str, int] | None = None,
    ) -> QbxmlModel:
        """Variant ``k`` of ``cls`` with every field allowed by its choice branches filled.

        At ``MAX_DEPTH`` and below only required fields are filled (the message set is only
        five levels deep, so this never triggers; it would keep a recursive shape finite).
        ``coverage`` collects the slots filled; ``limits`` are the tighter maximum lengths
        the parent field gives this instance's fields (:attr:`FieldSpec.limits`).
        """
        spec = cls.__qbxml__
        chosen, radix = selection(spec, k)
        child_k = k // radix
        name = cls.__name__
        values: dict[str, Any] = {}
        for a in spec.attributes:
            values[a.attr] = value = self._attribute(a, k)
            if coverage is not None:
                coverage.add((name, "@" + a.attr))
                if a.enum is not None:
                    coverage.add((name, f"@{a.attr}={value.value}"))
        for f in spec.fields:
            if not field_allowed(f, chosen) or (depth >= MAX_DEPTH and not f.required):
                continue
            limit = f.max_length
            if limits and f.attr in limits:
                limit = min(limit or limits[f.attr], limits[f.attr])
            values[f.attr] = self._field_value(f, child_k, coverage, depth, limit)
            if coverage is not None:
                self._record(coverage, name, f, values[f.attr], limit)
        return cls(**values)

    @staticmethod
    def _record(coverage: Coverage, name: str, f: FieldSpec, value: Any, limit: int | None) -> None:
        coverage.add((name, f.attr))
        items = value if f.is_list else [value]
        if f.enum is not None:
            coverage.update((name, f"{f.attr}={item.value}") for item in items)
        if f.kind == "STR" and f.max_length is not None and any(len(i) == limit for i in items):
            coverage.add((name, f"{f.attr}#max"))
        if f.kind == "INT":
            if any(i == f.min_value if f.min_value is not None else i < 0 for i in items):
                coverage.add((name, f"{f.attr}#min"))
            if any(i == f.max_value if f.max_value is not None else i >= 1000 for i in items):
                coverage.add((name, f"{f.attr}#max"))
        for child, child_limit in f.limits:
            if any(len(getattr(i, child) or "") == child_limit for i in items):
                coverage.add((name, f"{f.attr}.{child}#max"))

    @staticmethod
    def _attribute(a: AttrSpec, k: int) -> Any:
        if a.name == "statusSeverity":
            return _STATUS_SEVERITIES[k % len(_STATUS_SEVERITIES)]
        if a.name == "statusCode":
            return (0, 1, 500)[k % 3]
        if a.name in ("requestID", "iteratorID"):
            return f"{a.name}-{k}"
        if a.kind == "INT":
            return k
        return scalar(a.kind, k, seed=a.name, enum=a.enum)

    def _field_value(
        self, f: FieldSpec, k: int, coverage: Coverage | None, depth: int, limit: int | None
    ) -> Any:
        if f.kind == "UNION":
            # One item of each member class.
            return [
                self.build(sub, k + i, coverage, depth=depth + 1) for i, sub in enumerate(f.classes)
            ]
        if f.kind == "CLASS":
            (sub,) = f.classes
            items = [
                self.build(sub, k + i, coverage, depth=depth + 1, limits=dict(f.limits))
                for i in range(2 if f.is_list else 1)
            ]
        else:
            items = [
                scalar(
                    f.kind,
                    k + i,
                    seed=f.tags[0],
                    max_length=limit,
                    enum=f.enum,
                    low=f.min_value,
                    high=f.max_value,
                )
                for i in range(2 if f.is_list else 1)
            ]
        return items if f.is_list else items[0]

    def variants(
        self, cls: type[QbxmlModel], *, limit: int = 5000
    ) -> Iterator[tuple[int, QbxmlModel, Coverage]]:
        """Yield ``(k, instance, slots filled)`` for variant 0 and each later variant that
        fills a slot no earlier one did, until every slot reachable from ``cls`` is covered
        (or ``limit`` variants were tried; callers assert the coverage)."""
        target = reachable_slots(cls)
        covered: Coverage = set()
        for k in range(limit):
            filled: Coverage = set()
            obj = self.build(cls, k, filled)
            if k == 0 or not filled <= covered:
                covered |= filled
                yield k, obj, filled
            if covered >= target:
                return
