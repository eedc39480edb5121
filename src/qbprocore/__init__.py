"""qbprocore: connect QuickBooks Desktop to Procore.

The package is layered; import the layer you need:

- `qbxml` — typed, schema-validated qbXML builder and parser.

Importing `qbprocore` itself is cheap: it only defines the error root, and the layers load
when first used.
"""

from __future__ import annotations

from qbprocore._errors import QbprocoreError

__all__ = ["QbprocoreError", "__version__"]

__version__ = "0.1.0"
