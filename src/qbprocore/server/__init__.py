"""The reference connector: the Web Connector endpoint, Procore OAuth and a sync worker.

One ASGI application (`create_app`) on the public API of `qbprocore.qbwc`,
`qbprocore.procore` and `qbprocore.sync`, configured by a TOML file with environment
overrides (`load_config`, `ENV_VARS`):

    from qbprocore.server import configure_logging, create_app, load_config

    config = load_config("qbprocore.toml")
    configure_logging(config.log_level)
    app = create_app(config)          # serve with any ASGI server, e.g. uvicorn

``qbprocore serve`` does exactly this with uvicorn.

Routes: ``POST /qbwc`` (``GET /qbwc?wsdl``), ``GET /oauth/start?connection=ID``,
``GET /oauth/callback``, ``GET /health``.

Errors::

    QbprocoreError
    └── ConfigError (ValueError)      a config key is missing, unknown or malformed
"""

from __future__ import annotations

from qbprocore.server._app import ConnectorApp, create_app, credentials_key, procore_environment
from qbprocore.server._config import (
    DEFAULT_CONFIG,
    ENV_VARS,
    ConfigError,
    ProcoreSettings,
    QwcSettings,
    ServerConfig,
    UserConfig,
    load_config,
    open_store,
    parse_config,
)
from qbprocore.server._logging import JsonFormatter, configure_logging
from qbprocore.server._worker import SyncWorker

__all__ = [
    "DEFAULT_CONFIG",
    "ENV_VARS",
    "ConfigError",
    "ConnectorApp",
    "JsonFormatter",
    "ProcoreSettings",
    "QwcSettings",
    "ServerConfig",
    "SyncWorker",
    "UserConfig",
    "configure_logging",
    "create_app",
    "credentials_key",
    "load_config",
    "open_store",
    "parse_config",
    "procore_environment",
]
