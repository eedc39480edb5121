"""Structured logs: one JSON object per line, on the standard library's `logging`.

Request lines carry the method, the path (never the query string: an OAuth callback's query
holds the authorization code), the status and the duration. Bodies, headers and secrets are
never logged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

__all__ = ["JsonFormatter", "configure_logging"]

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is logged.
# uvicorn's ``color_message`` is its message again with terminal colours.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: time, level, logger, message and extras.

    Fields given with ``extra={...}`` become top-level keys, so request lines read
    ``{"method": "POST", "path": "/qbwc", "status": 200, "ms": 12.5, ...}``.

    Examples:
        >>> import logging
        >>> record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO", "name": "x"})
        >>> JsonFormatter().format(record).startswith('{"time": ')
        True
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's type and message only: a traceback's locals are never printed,
            # but its lines can quote source that handles secrets, so keep logs short.
            data["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return json.dumps(data, default=str)


def configure_logging(level: str = "info", *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record (ours, uvicorn's, the library's) to ``stream`` as JSON lines.

    Replaces the root logger's handlers; uvicorn's loggers propagate to it.

    Args:
        level: ``debug``, ``info``, ``warning`` or ``error``.
        stream: Where lines go (default: standard error).

    Returns:
        The handler installed.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
