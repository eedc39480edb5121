"""The root of qbprocore's error tree.

Every error the library raises on purpose derives from `QbprocoreError`, so a host can
catch everything qbprocore-specific in one place. Each layer adds its own subclasses (for
example `QbxmlError`), and where a builtin base fits — ``ValueError`` for
bad input — the subclass derives from it too.
"""

from __future__ import annotations

__all__ = ["QbprocoreError"]


class QbprocoreError(Exception):
    """Base class of every error qbprocore raises on purpose."""
