"""The reference connector for people who host the ASGI app themselves.

``qbprocore serve`` does the same with uvicorn. To run it under your own server::

    export QBPROCORE_CONFIG=examples/server/qbprocore.toml
    uvicorn examples.server.app:app --no-access-log --host 127.0.0.1 --port 8000

``--no-access-log`` matters: uvicorn's access log prints query strings, and the OAuth
callback's query string holds the authorization code. The app logs every request itself
(method, path, status, ms) as a JSON line.

Everything here is public API: `qbprocore.server.load_config` reads the TOML file and the
``QBPROCORE_*`` environment variables, `qbprocore.server.create_app` wires the Web Connector
endpoint (`qbprocore.qbwc`), Procore OAuth (`qbprocore.procore`) and the sync worker
(`qbprocore.sync`) into one ASGI application.
"""

from __future__ import annotations

import os

from qbprocore.server import configure_logging, create_app, load_config

config = load_config(os.environ.get("QBPROCORE_CONFIG", "examples/server/qbprocore.toml"))
configure_logging(config.log_level)
app = create_app(config)
