"""qbprocore's own qbXML schema, and validation of built documents against it.

The schema file (``schema/qbprocore-qbxml.xsd``) is generated with the models by
``tools/gen_qbxml.py`` and ships in the package. It is compiled once, on first use, so
importing `qbxml` stays cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from importlib import resources
from typing import Any

from lxml import etree

from qbprocore.qbxml._errors import QbxmlSchemaError

__all__ = ["schema_path", "schema_text", "validate_tree"]

_lock = threading.Lock()
_schema: etree.XMLSchema | None = None


def schema_text() -> bytes:
    """Return the XSD of qbprocore's qbXML message set."""
    return resources.files("qbprocore.qbxml").joinpath("schema/qbprocore-qbxml.xsd").read_bytes()


def schema_path() -> str:
    """Return a filesystem path of the schema, for tools that want a file."""
    return str(resources.files("qbprocore.qbxml").joinpath("schema/qbprocore-qbxml.xsd"))


def _compiled() -> etree.XMLSchema:
    global _schema  # noqa: PLW0603 - a lazily compiled, process-wide validator
    if _schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        _schema = etree.XMLSchema(etree.fromstring(schema_text(), parser))
    return _schema


def validate_tree(root: etree._Element) -> None:
    """Validate a ``QBXML`` element tree; raise `QbxmlSchemaError` listing every problem."""
    # libxml2 validators keep per-run state, so one validation runs at a time.
    with _lock:
        schema = _compiled()
        if schema.validate(root):
            return
        log: Iterable[Any] = schema.error_log  # type: ignore[assignment] # stubs lack __iter__
        # The tree was built in memory, so entries have no line numbers: name the element.
        errors = [f"{e.path}: {e.message}" for e in log]
    raise QbxmlSchemaError(
        "qbXML document does not match the schema: "
        + "; ".join(errors[:5])
        + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""),
        errors=errors,
    )
