"""Binding metadata and base classes for the generated qbXML models.

Every generated class carries a `ClassSpec` in ``__qbxml__`` describing its XML shape:
the element (or attribute) behind each field, in schema order, with its scalar kind, whether it
repeats, its maximum length and the qbXML version that introduced it. The serializer, the parser
and construction-time validation are all driven by this one table, so the shape of a message is
written down exactly once (in the generated module) and can't drift between directions.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from qbprocore.qbxml._errors import QbxmlStatusError, QbxmlValueError

if TYPE_CHECKING:
    from qbprocore.qbxml._status import StatusInfo

__all__ = [
    "A",
    "AttrSpec",
    "C",
    "ClassSpec",
    "F",
    "FieldSpec",
    "QbxmlEnum",
    "QbxmlModel",
    "QbxmlRequest",
    "QbxmlResponse",
    "UnknownElement",
    "_init",
]

#: Scalar kinds that hold ``Decimal`` values, and how many decimal places each allows.
DECIMAL_PLACES: Mapping[str, int | None] = {
    "AMT": 2,
    "PRICE": 5,
    "QUAN": 5,
    "PERCENT": 5,
    "FLOAT": None,
}
_TEXT_KINDS = frozenset({"STR", "ID", "GUID", "DURATION", "ENUM"})


class QbxmlEnum(str, enum.Enum):
    """Base of the generated enumerations.

    Members are ``str`` subclasses, so they compare equal to their qbXML spelling
    (``ActiveStatus.ALL == "All"``). Fields typed ``SomeEnum | str`` also accept plain strings:
    responses keep values the schema does not list (QuickBooks sends some), and requests are
    checked against the schema when they are built.
    """

    def __str__(self) -> str:
        return str(self.value)


@attrs.frozen(kw_only=True)
class UnknownElement:
    """An element the schema does not describe, kept verbatim from a parsed document.

    QuickBooks versions newer than the schema add elements; parsing keeps them here (in the
    ``unknown_elements`` field of the enclosing record) rather than failing or dropping them.
    """

    tag: str
    text: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    children: tuple[UnknownElement, ...] = ()

    def find(self, tag: str) -> UnknownElement | None:
        """Return the first child element named ``tag``, or ``None``."""
        return next((c for c in self.children if c.tag == tag), None)


@attrs.frozen
class FieldSpec:
    """How one model field maps to XML element(s).

    Attributes:
        attr: The Python field name (``vendor_ref``).
        tag: The element name, or the names of a repeated choice's alternatives.
        kind: The scalar kind (``"STR"``, ``"AMT"``, ``"BOOL"`` …), ``"CLASS"`` for a nested
            record or ``"UNION"`` for a repeated choice.
        classes: The record class(es) of a ``CLASS`` or ``UNION`` field.
        is_list: The element repeats (the field is a tuple).
        required: The element must be present (scalars and records outside any choice).
        max_length: Maximum length of a text field, in characters.
        enum: The enumeration of an ``ENUM`` field.
        version: The qbXML version that introduced the element.
        choice: The schema choices this field belongs to, as ``(choice number, branch
            number)`` pairs from the outermost in: a field is allowed only when every branch
            on its path is taken.
        min_occurs: 1 when the element must appear whenever its choice branches are taken
            (for a list: at least one item).
        limits: Max lengths of the child record's fields that are tighter in this position:
            a `Ref`'s ``full_name`` may have 41 characters in a ``VendorRef``, 3 in a
            ``SalesTaxCodeRef``.
        min_value: Inclusive lower bound of an integer field (``MaxReturned`` >= 1).
        max_value: Inclusive upper bound of an integer field.
    """

    attr: str
    tag: str | tuple[str, ...]
    kind: str
    classes: tuple[type[QbxmlModel], ...] = ()
    is_list: bool = False
    required: bool = False
    max_length: int | None = None
    enum: type[QbxmlEnum] | None = None
    version: str | None = None
    choice: tuple[tuple[int, int], ...] = ()
    min_occurs: int = 0
    limits: tuple[tuple[str, int], ...] = ()
    min_value: int | None = None
    max_value: int | None = None

    @property
    def tags(self) -> tuple[str, ...]:
        """The element names of this field (several for a repeated choice)."""
        return self.tag if isinstance(self.tag, tuple) else (self.tag,)


@attrs.frozen
class AttrSpec:
    """How one model field maps to an XML attribute."""

    attr: str
    name: str
    kind: str
    enum: type[QbxmlEnum] | None = None
    required: bool = False


@attrs.define
class ClassSpec:
    """The XML shape of one model class (elements in schema order, then attributes)."""

    cls: type[QbxmlModel]
    tag: str
    fields: tuple[FieldSpec, ...]
    attributes: tuple[AttrSpec, ...] = ()
    #: Choices (by number, see `choice`) where one branch must be taken.
    required_choices: tuple[int, ...] = ()
    # Derived lookup tables, built on first use by the parser and serializer.
    cache: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def field(self, attr: str) -> FieldSpec:
        """Return the spec of field ``attr``."""
        for f in self.fields:
            if f.attr == attr:
                return f
        raise KeyError(attr)


# Short names keep the generated module compact.
F = FieldSpec
A = AttrSpec
C = ClassSpec


def _type_error(owner: str, attr: str, expected: str, value: object) -> QbxmlValueError:
    return QbxmlValueError(
        f"{owner}.{attr} must be {expected}, got {type(value).__name__} {value!r}",
        field=f"{owner}.{attr}",
        value=value,
    )


def _check_scalar(owner: str, attr: str, kind: str, value: object) -> None:
    if kind in _TEXT_KINDS:
        if not isinstance(value, str):
            raise _type_error(owner, attr, "str", value)
    elif kind in DECIMAL_PLACES:
        # Money is Decimal: a float has already lost cents, so it is refused, not converted.
        if not isinstance(value, Decimal):
            raise _type_error(owner, attr, "decimal.Decimal", value)
        if not value.is_finite():
            raise _type_error(owner, attr, "a finite Decimal", value)
    elif kind == "BOOL":
        if not isinstance(value, bool):
            raise _type_error(owner, attr, "bool", value)
    elif kind == "INT":
        if not isinstance(value, int) or isinstance(value, bool):
            raise _type_error(owner, attr, "int", value)
    elif kind == "DATE":
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise _type_error(owner, attr, "datetime.date", value)
    elif kind == "DATETIME":
        if not isinstance(value, datetime.datetime):
            raise _type_error(owner, attr, "datetime.datetime", value)
    else:  # pragma: no cover - the generator only emits the kinds above
        raise AssertionError(kind)


def _check_item(owner: str, spec: FieldSpec, value: object) -> None:
    if spec.classes:
        if not isinstance(value, spec.classes):
            names = " or ".join(c.__name__ for c in spec.classes)
            raise _type_error(owner, spec.attr, names, value)
    else:
        _check_scalar(owner, spec.attr, spec.kind, value)
        if spec.min_value is not None and value < spec.min_value:  # type: ignore[operator]
            raise _type_error(owner, spec.attr, f"at least {spec.min_value}", value)
        if spec.max_value is not None and value > spec.max_value:  # type: ignore[operator]
            raise _type_error(owner, spec.attr, f"at most {spec.max_value}", value)


def _check_required_choices(owner: str, spec: ClassSpec, values: dict[str, Any]) -> None:
    for number in spec.required_choices:
        members = [f for f in spec.fields if any(n == number for n, _ in f.choice)]
        if not any(values[f.attr] not in (None, ()) for f in members):
            names = ", ".join(f.attr for f in members)
            raise QbxmlValueError(
                f"{owner} needs one of: {names} (the schema requires one of these alternatives)",
                field=owner,
            )


def _init(obj: QbxmlModel, values: dict[str, Any]) -> None:
    """Set a new model's fields in one step and check them (called by generated ``__init__``).

    A repeated field given as a list is stored as a tuple (see `QbxmlModel._check`).
    """
    object.__setattr__(obj, "__dict__", values)
    obj._check()


class QbxmlModel:
    """Base of every generated qbXML record class.

    Instances are frozen attrs classes built with keyword arguments. Types are checked when an
    instance is constructed (``Decimal`` for money, real ``bool`` …) so a mistake surfaces where
    it is made; lengths, character set and schema rules are checked when a document is built
    (see `dumps`). A repeated element is a tuple (a list passed to the constructor becomes
    one), so a record cannot change after it is made, nested records and lines included. Two
    instances are equal when they are of the same class with equal fields; they are not
    hashable.
    """

    __qbxml__: ClassVar[ClassSpec]
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        # Only the fields that are set: a VendorRet has ~60 fields, most of them empty.
        parts = ", ".join(f"{name}={value!r}" for name, value in self.iter_set_fields())
        return f"{type(self).__name__}({parts})"

    def _check(self) -> None:
        # Also where a list given for a repeated field becomes the tuple that is stored.
        spec = type(self).__qbxml__
        owner = type(self).__name__
        values = self.__dict__
        for a in spec.attributes:
            value = values[a.attr]
            if value is None:
                if a.required:
                    raise _type_error(owner, a.attr, "set (the attribute is required)", value)
                continue
            _check_scalar(owner, a.attr, a.kind, value)
        for f in spec.fields:
            value = values[f.attr]
            if f.is_list:
                if isinstance(value, list):
                    value = values[f.attr] = tuple(value)
                elif not isinstance(value, tuple):
                    raise _type_error(owner, f.attr, "a tuple or list", value)
                if not value and f.min_occurs and not f.choice:
                    raise _type_error(owner, f.attr, "a tuple or list of at least one item", value)
                for item in value:
                    _check_item(owner, f, item)
            elif value is None:
                if f.required:
                    raise _type_error(owner, f.attr, "set (the element is required)", value)
            else:
                _check_item(owner, f, value)
        if spec.required_choices:
            _check_required_choices(owner, spec, values)
        unknown = values["unknown_elements"]
        if not isinstance(unknown, tuple):
            raise _type_error(owner, "unknown_elements", "a tuple", unknown)
        for item in unknown:
            if not isinstance(item, UnknownElement):
                raise _type_error(owner, "unknown_elements", "a tuple of UnknownElement", item)

    def iter_set_fields(self) -> Iterator[tuple[str, object]]:
        """Yield ``(field name, value)`` for every field that is set, in schema order."""
        values = self.__dict__
        spec = type(self).__qbxml__
        for a in spec.attributes:
            if values[a.attr] is not None:
                yield a.attr, values[a.attr]
        for f in spec.fields:
            value = values[f.attr]
            if value is not None and value != ():
                yield f.attr, value
        if values["unknown_elements"]:
            yield "unknown_elements", values["unknown_elements"]


class QbxmlRequest(QbxmlModel):
    """Base of the generated ``*Rq`` message classes."""

    request_id: str | None


class QbxmlResponse(QbxmlModel):
    """Base of the generated ``*Rs`` message classes.

    Every response carries a status. Status code ``0`` is success and ``1`` means "no match"
    (a query that found nothing), which is *not* an error; ``500`` and other warnings are
    not errors either. `raise_for_status` raises only for ``Error`` severity.
    """

    request_id: str | None
    status_code: int
    status_severity: str
    status_message: str | None

    @property
    def status(self) -> StatusInfo:
        """What the status code means and how to react (see `STATUS_CODES`)."""
        from qbprocore.qbxml._status import describe_status

        return describe_status(self.status_code)

    @property
    def ok(self) -> bool:
        """True unless QuickBooks reported an error (status 1 "no match" is ok)."""
        return self.status_severity != "Error" or self.status_code == 1

    @property
    def is_no_match(self) -> bool:
        """True when a query matched nothing (status code 1)."""
        return self.status_code == 1

    @property
    def records(self) -> tuple[QbxmlModel, ...]:
        """The ``*Ret`` records in this response, in document order (may be empty)."""
        out: tuple[QbxmlModel, ...] = ()
        for f in type(self).__qbxml__.fields:
            value = self.__dict__[f.attr]
            if f.classes and value is not None and all(t.endswith("Ret") for t in f.tags):
                out += value if isinstance(value, tuple) else (value,)
        return out

    def raise_for_status(self) -> None:
        """Raise `QbxmlStatusError` if QuickBooks reported an error.

        Status 1 ("no match") and warnings (severity ``Warn``, e.g. 500) do not raise.
        """
        if not self.ok:
            raise QbxmlStatusError(
                status_code=self.status_code,
                severity=self.status_severity,
                message=self.status_message or "",
                request_id=self.request_id,
                response_type=type(self).__name__,
            )
