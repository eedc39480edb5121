"""Build qbXML documents from model objects.

Element order comes from the models' binding metadata (schema order), never from dict or
keyword order, so a document is in schema order by construction. Text goes through
`check_text` (character set, length); the finished tree is validated against qbprocore's
schema unless the caller turns that off; and everything outside
ASCII is written as numeric character references, which QuickBooks reads regardless of how
the Web Connector transcodes the document.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs
from lxml import etree

from qbprocore.qbxml._config import Change, DumpConfig, VersionPolicy
from qbprocore.qbxml._document import QBXMLDocument
from qbprocore.qbxml._errors import QbxmlValueError, QbxmlVersionError
from qbprocore.qbxml._meta import (
    DECIMAL_PLACES,
    ClassSpec,
    FieldSpec,
    QbxmlEnum,
    QbxmlModel,
    QbxmlRequest,
    QbxmlResponse,
    UnknownElement,
)
from qbprocore.qbxml._schema import validate_tree
from qbprocore.qbxml._text import check_text, report_change
from qbprocore.qbxml._version import parse_version

__all__ = ["dumps", "to_element"]

_SubElement = etree.SubElement
_ON_ERROR = ("stopOnError", "continueOnError")
# Integer digits QuickBooks accepts per decimal kind (AMTTYPE: 13, PRICE/QUAN/PERCENT: 10).
_INT_DIGITS = {"AMT": 13, "PRICE": 10, "QUAN": 10, "PERCENT": 10}


def _format_decimal(value: Decimal, kind: str, field: str) -> str:
    places = DECIMAL_PLACES[kind]
    if places is None:
        return format(value, "f")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: checked when the model was built
    # Amounts are always written with two decimals, prices and quantities with at most five.
    # More precision than that would be rounded by QuickBooks, so it is refused here rather
    # than changed silently (trailing zeros are fine: 1.500000 is 1.50000).
    if kind == "AMT" or exponent < -places:
        quantized = value.quantize(Decimal(1).scaleb(-places))
        if quantized != value:
            raise QbxmlValueError(
                f"{field}: {value} has more than {places} decimal places", field=field, value=value
            )
        value = quantized
    text = format(value, "f")
    digits = text.lstrip("-").split(".")[0]
    if len(digits) > _INT_DIGITS[kind]:
        raise QbxmlValueError(
            f"{field}: {value} has more than {_INT_DIGITS[kind]} integer digits",
            field=field,
            value=value,
        )
    return text


def _format_scalar(value: object, spec: FieldSpec, field: str, cfg: DumpConfig) -> str:
    kind = spec.kind
    if kind in ("STR", "ID", "GUID", "DURATION", "ENUM"):
        text = value.value if isinstance(value, QbxmlEnum) else value
        assert isinstance(text, str)  # checked when the model was built
        return check_text(text, field, spec.max_length, cfg)
    if kind == "BOOL":
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _format_decimal(value, kind, field)
    if kind == "DATETIME":
        assert isinstance(value, datetime.datetime)
        # QuickBooks takes whole seconds and an optional UTC offset, kept as given.
        if value.microsecond:
            whole = value.replace(microsecond=0)
            report_change(
                cfg,
                Change(field, "truncated", value, whole, "QuickBooks stores whole seconds"),
            )
            value = whole
        return value.isoformat(timespec="seconds")
    if kind == "DATE":
        assert isinstance(value, datetime.date)
        return value.isoformat()
    return str(value)


class _Writer:
    """One document build: the config, the target version and the change reports."""

    def __init__(self, cfg: DumpConfig) -> None:
        self.cfg = cfg
        self.version = parse_version(cfg.version)

    def too_new(self, spec: FieldSpec, field: str, value: object) -> bool:
        if spec.version is None or parse_version(spec.version) <= self.version:
            return False
        if self.cfg.version_policy is VersionPolicy.REFUSE:
            raise QbxmlVersionError(
                f"{field} needs qbXML {spec.version}, but the document is for {self.cfg.version};"
                " leave it unset or use VersionPolicy.DROP",
                field=field,
                value=value,
            )
        report_change(
            self.cfg,
            Change(
                field, "dropped", value, None, f"needs qbXML {spec.version} > {self.cfg.version}"
            ),
        )
        return True

    def write(
        self,
        parent: etree._Element,
        obj: QbxmlModel,
        tag: str,
        path: str,
        limits: tuple[tuple[str, int], ...] = (),
    ) -> None:
        el = _SubElement(parent, tag)
        spec: ClassSpec = type(obj).__qbxml__
        values = obj.__dict__
        for a in spec.attributes:
            value = values[a.attr]
            if value is not None:
                text = _format_scalar(value, _ATTR_AS_FIELD[a.kind], f"{path}.{a.attr}", self.cfg)
                el.set(a.name, text)
        for f in spec.fields:
            value = values[f.attr]
            if value is None or (f.is_list and not value):
                continue
            field = f"{path}.{f.attr}"
            if f.version is not None and self.too_new(f, field, value):
                continue
            items: Iterable[Any] = value if f.is_list else (value,)
            if f.kind == "CLASS":
                for item in items:
                    self.write(el, item, f.tag, field, f.limits)  # type: ignore[arg-type]
            elif f.kind == "UNION":
                tags = _union_tags(f)
                for item in items:
                    self.write(el, item, tags[type(item)], field)
            else:
                scalar = _tighter(f, limits) if limits else f
                for item in items:
                    _SubElement(el, f.tag).text = _format_scalar(  # type: ignore[arg-type]
                        item, scalar, field, self.cfg
                    )
        for unknown in values["unknown_elements"]:
            _write_unknown(el, unknown)


def _tighter(spec: FieldSpec, limits: tuple[tuple[str, int], ...]) -> FieldSpec:
    for attr, limit in limits:
        if attr == spec.attr:
            return attrs.evolve(spec, max_length=limit)
    return spec


def _union_tags(spec: FieldSpec) -> dict[type, str]:
    return dict(zip(spec.classes, spec.tags, strict=True))


_ATTR_AS_FIELD = {
    kind: FieldSpec("", "", kind)
    for kind in ("STR", "ID", "GUID", "ENUM", "INT", "BOOL", "AMT", "DATE", "DATETIME")
}


def _write_unknown(parent: etree._Element, item: UnknownElement) -> None:
    el = _SubElement(parent, item.tag, dict(item.attributes))
    el.text = item.text
    for child in item.children:
        _write_unknown(el, child)


def _message_tag(obj: QbxmlModel) -> str:
    return type(obj).__qbxml__.tag


def to_element(
    *messages: QbxmlRequest | QbxmlResponse, config: DumpConfig | None = None
) -> etree._Element:
    """Build the ``QBXML`` element tree for ``messages`` (no prolog, not validated).

    Most callers want `dumps`; this is for hosts that embed the tree in something else.
    """
    cfg = config or DumpConfig()
    if not messages:
        raise QbxmlValueError("a qbXML document needs at least one request or response")
    is_request = isinstance(messages[0], QbxmlRequest)
    root = etree.Element("QBXML")
    if is_request:
        if cfg.on_error not in _ON_ERROR:
            raise QbxmlValueError(
                f"on_error must be one of {_ON_ERROR}, got {cfg.on_error!r}", value=cfg.on_error
            )
        msgs = _SubElement(root, "QBXMLMsgsRq", onError=cfg.on_error)
    else:
        msgs = _SubElement(root, "QBXMLMsgsRs")
    writer = _Writer(cfg)
    for message in messages:
        if isinstance(message, QbxmlRequest) != is_request or not isinstance(
            message, (QbxmlRequest, QbxmlResponse)
        ):
            raise QbxmlValueError(
                "a qbXML document holds either requests or responses, got "
                + ", ".join(type(m).__name__ for m in messages),
                value=message,
            )
        tag = _message_tag(message)
        writer.write(msgs, message, tag, tag)
    return root


def dumps(
    *messages: QbxmlRequest | QbxmlResponse | QBXMLDocument,
    version: str | None = None,
    on_error: str | None = None,
    validate: bool | None = None,
    config: DumpConfig | None = None,
) -> bytes:
    """Build a complete qbXML document from request or response objects.

    The result has the XML prolog, ``<?qbxml version?>``, ``QBXML`` and ``QBXMLMsgsRq``
    (with ``onError``) or ``QBXMLMsgsRs``, and each message's ``requestID`` and iterator
    attributes as set on it. It is ASCII: every other character is written as a numeric
    character reference.

    Args:
        *messages: Request objects (``VendorQueryRq`` …) or response objects
            (``VendorQueryRs`` …), not mixed; or one `QBXMLDocument`.
        version: qbXML version (default ``config.version``, 13.0).
        on_error: ``"stopOnError"`` or ``"continueOnError"`` for requests.
        validate: Validate against qbprocore's schema (default ``config.validate``, on).
        config: Everything else: text and version policies, truncation, change reports.

    Returns:
        The document as bytes.

    Raises:
        QbxmlValueError: a value the document cannot carry (its subclasses
            `QbxmlTextError` and `QbxmlVersionError` name the field).
        QbxmlSchemaError: the document breaks a schema rule (e.g. two branches of a choice).

    Examples:
        >>> from qbprocore import qbxml
        >>> qbxml.dumps(qbxml.VendorQueryRq(request_id="1", max_returned=10))[:38]
        b'<?xml version="1.0" encoding="utf-8"?>'
    """
    cfg = config or DumpConfig()
    if len(messages) == 1 and isinstance(messages[0], QBXMLDocument):
        document = messages[0]
        overrides: dict[str, Any] = {}
        if document.version and version is None:
            overrides["version"] = document.version
        if document.on_error and on_error is None:
            overrides["on_error"] = document.on_error
        cfg = _evolve(cfg, **overrides)
        messages = tuple(document.messages)
    cfg = _evolve(
        cfg,
        **{
            k: v
            for k, v in (("version", version), ("on_error", on_error), ("validate", validate))
            if v is not None
        },
    )
    root = to_element(*messages, config=cfg)  # type: ignore[arg-type]
    if cfg.validate:
        validate_tree(root)
    body = etree.tostring(root, encoding="us-ascii", xml_declaration=False)
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="'
        + cfg.version.encode("ascii")
        + b'"?>\n'
        + body
    )


def _evolve(cfg: DumpConfig, **changes: Any) -> DumpConfig:
    return attrs.evolve(cfg, **changes) if changes else cfg
