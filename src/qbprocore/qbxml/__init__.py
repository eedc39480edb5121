"""Typed, schema-validated qbXML in both directions.

Build a request, serialize it, parse a response::

    from decimal import Decimal
    from qbprocore import qbxml

    rq = qbxml.VendorAddRq(request_id="1", vendor_add=qbxml.VendorAdd(name="Acme Concrete"))
    data = qbxml.dumps(rq)                      # bytes, schema-valid, ASCII
    doc = qbxml.loads(response_bytes)           # QBXMLDocument with typed responses
    for rs in doc.responses:
        rs.raise_for_status()                   # status 1 (no match) does not raise

Every qbXML element of the message set has a class of the same name (``VendorQueryRq``,
``VendorAdd``, ``VendorRet``, ``BillQueryRs`` …) with snake_case fields in schema order;
amounts are ``Decimal``, booleans ``bool``, dates ``datetime.date``, date-times
``datetime.datetime`` with their offset as given, references `Ref`, and repeatable
elements lists.
"""

from __future__ import annotations

from qbprocore.qbxml import _models
from qbprocore.qbxml._config import (
    DEFAULT_VERSION,
    Change,
    DumpConfig,
    ParseConfig,
    TextPolicy,
    VersionPolicy,
)
from qbprocore.qbxml._document import QBXMLDocument
from qbprocore.qbxml._errors import (
    QbxmlChangeWarning,
    QbxmlError,
    QbxmlParseError,
    QbxmlSchemaError,
    QbxmlSecurityError,
    QbxmlStatusError,
    QbxmlTextError,
    QbxmlValueError,
    QbxmlVersionError,
)
from qbprocore.qbxml._meta import (
    AttrSpec,
    ClassSpec,
    FieldSpec,
    QbxmlEnum,
    QbxmlModel,
    QbxmlRequest,
    QbxmlResponse,
    UnknownElement,
)
from qbprocore.qbxml._models import *  # noqa: F403 - the generated module lists its names in __all__
from qbprocore.qbxml._models import REQUEST_TYPES, RESPONSE_TYPES
from qbprocore.qbxml._parse import iterparse, loads, parse_element, speedups_enabled
from qbprocore.qbxml._schema import schema_path, schema_text
from qbprocore.qbxml._serialize import dumps, to_element
from qbprocore.qbxml._status import STATUS_CODES, RetryHint, StatusInfo, describe_status
from qbprocore.qbxml._version import SUPPORTED_VERSIONS, negotiate_version, parse_version

__all__ = [  # noqa: PLE0604 - the generated model names are strings from _models.__all__
    # entry points
    "dumps",
    "loads",
    "iterparse",
    "to_element",
    "parse_element",
    "speedups_enabled",
    "QBXMLDocument",
    # configuration
    "DEFAULT_VERSION",
    "DumpConfig",
    "ParseConfig",
    "TextPolicy",
    "VersionPolicy",
    "Change",
    # status codes
    "STATUS_CODES",
    "StatusInfo",
    "RetryHint",
    "describe_status",
    # versions
    "SUPPORTED_VERSIONS",
    "negotiate_version",
    "parse_version",
    # schema
    "schema_path",
    "schema_text",
    # errors
    "QbxmlError",
    "QbxmlValueError",
    "QbxmlTextError",
    "QbxmlVersionError",
    "QbxmlSchemaError",
    "QbxmlParseError",
    "QbxmlSecurityError",
    "QbxmlStatusError",
    "QbxmlChangeWarning",
    # model bases and metadata
    "QbxmlModel",
    "QbxmlRequest",
    "QbxmlResponse",
    "QbxmlEnum",
    "UnknownElement",
    "ClassSpec",
    "FieldSpec",
    "AttrSpec",
    "REQUEST_TYPES",
    "RESPONSE_TYPES",
    *_models.__all__,
]
