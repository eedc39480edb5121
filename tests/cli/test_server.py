"""The reference server on a real uvicorn on 127.0.0.1: health, WSDL, a full Web Connector
update, Procore OAuth into the encrypted token store, the background worker, and logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import etree

from qbprocore import procore
from qbprocore.cli import main
from qbprocore.server import ConfigError, JsonFormatter, create_app, credentials_key, load_config
from qbprocore.sync import Entity, Side, SQLiteStore
from qbprocore.testing import FakeProcore, FakeQuickBooks, FakeWebConnector, free_socket, serve_asgi
from tests.cli.conftest import PASSWORD, PASSWORD_HASH, wait_for, write_config


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything logged (any logger, any level) as the server's JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _quickbooks() -> FakeQuickBooks:
    qb = FakeQuickBooks()
    qb.add_vendors(["Acme Steel", "Beta Concrete"])
    return qb


def _add_connection(config: Path, company: int = 7) -> None:
    code = main(
        [
            "connections",
            "add",
            "--config",
            str(config),
            "--company",
            str(company),
            "--file",
            "acme-books",
            "--id",
            "acme",
            "--name",
            "Acme",
        ]
    )
    assert code == 0


def test_health_wsdl_and_a_full_web_connector_update(config_file: Path) -> None:
    _add_connection(config_file)
    app = create_app(load_config(config_file, environ={}))
    assert app.worker is None  # no Procore configured: nothing runs in the background
    qb = _quickbooks()
    with serve_asgi(app, lifespan="on") as base:
        health = httpx.get(f"{base}/health")
        assert health.status_code == 200
        assert health.json() == {"ok": True, "database": True, "schema_version": 1}

        wsdl = httpx.get(f"{base}/qbwc?wsdl")
        assert wsdl.status_code == 200
        root = etree.fromstring(wsdl.content)
        assert root.tag == "{http://schemas.xmlsoap.org/wsdl/}definitions"
        assert f"{base}/qbwc".encode() in wsdl.content

        assert httpx.get(f"{base}/nowhere").status_code == 404

        with FakeWebConnector(url=f"{base}/qbwc", username="acme-books", password="wrong") as wc:
            assert wc.update(qb).status == "nvu"
        with FakeWebConnector(url=f"{base}/qbwc", username="acme-books", password=PASSWORD) as wc:
            result = wc.update(qb)
    assert result.status == "done", result.last_error
    store = SQLiteStore(config_file.parent / "sync.db")
    staged = [
        r
        for r in store.list_staged("acme")
        if r.entity is Entity.VENDOR and r.source is Side.QUICKBOOKS
    ]
    store.close()
    assert sorted(r.source_id for r in staged) == sorted(v.list_id or "" for v in qb.vendors)


def test_password_env_users_need_their_variable(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "q.toml",
        'database = "sqlite:///s.db"\n[[users]]\nusername = "u"\nconnection = "c"\n'
        'password_env = "ACME_WC_PASSWORD"\n',
    )
    config = load_config(path, environ={})
    with pytest.raises(ConfigError, match=r"\[users\[0\]\]\.password_env.*ACME_WC_PASSWORD"):
        create_app(config, environ={})
    app = create_app(config, environ={"ACME_WC_PASSWORD": "pw"})
    assert app.service.authenticator.authenticate("u", "pw") is not None
    app.close()


@pytest.fixture
def fake_procore() -> FakeProcore:
    return FakeProcore()


def _procore_config(tmp_path: Path, fake: FakeProcore, public_url: str, key: str) -> Path:
    return write_config(
        tmp_path / "qbprocore.toml",
        f"""
database = "sqlite:///sync.db"

[server]
public_url = "{public_url}"
sync_every = 3600

[procore]
environment = "custom"
login_url = "{fake.environment.login_url}"
api_url = "{fake.environment.api_url}"
client_id = "{fake.client_id}"
token_store = "tokens.db"

[[users]]
username = "acme-books"
connection = "acme"
password_hash = "{PASSWORD_HASH}"
""",
    )


def test_oauth_then_update_then_worker_writes_to_procore_and_logs_hold_no_secret(
    tmp_path: Path, fake_procore: FakeProcore, logs: io.StringIO
) -> None:
    key = procore.TokenCipher.generate_key()
    sock = free_socket()
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    path = _procore_config(tmp_path, fake_procore, public, key)
    environ = {
        "QBPROCORE_PROCORE_CLIENT_SECRET": fake_procore.client_secret,
        "QBPROCORE_TOKEN_KEY": key,
    }
    _add_connection(path, company=fake_procore.company_id)
    config = load_config(path, environ=environ)
    http = httpx.Client(transport=fake_procore.transport())
    app = create_app(config, procore_http=http)
    assert app.worker is not None
    qb = _quickbooks()
    with serve_asgi(app, sock=sock, lifespan="on") as base, httpx.Client(base_url=base) as browser:
        start = browser.get("/oauth/start", params={"connection": "acme"})
        assert start.status_code == 302
        consent = http.get(start.headers["location"])  # Procore's consent page says yes
        assert consent.status_code == 302
        back = consent.headers["location"]
        assert back.startswith(f"{public}/oauth/callback?")
        code = parse_qs(urlsplit(back).query)["code"][0]
        done = browser.get(back)
        assert done.status_code == 200, done.text
        assert "authorized for Acme" in done.text
        # The same link again: the code is spent and the state was for one use.
        stolen = httpx.get(back)  # another browser: no cookie
        assert stolen.status_code == 400

        with FakeWebConnector(url=f"{base}/qbwc", username="acme-books", password=PASSWORD) as wc:
            assert wc.update(qb).status == "done"
        # The finished session woke the worker: the vendors reach Procore.
        wait_for(
            lambda: (
                {"Acme Steel", "Beta Concrete"}
                <= {r["name"] for r in fake_procore.records("vendors")}
            ),
            "the worker to write the vendors to Procore",
        )
        wait_for(lambda: app.store.get_connection("acme").last_sync_at is not None, "last sync")
    http.close()

    tokens = procore.SQLiteTokenStore(tmp_path / "tokens.db", cipher=procore.TokenCipher([key]))
    store = SQLiteStore(tmp_path / "sync.db")
    conn = store.get_connection("acme")
    store.close()
    assert conn is not None
    assert conn.last_sync_at is not None
    token = tokens.load(credentials_key(conn))
    assert token is not None
    raw = (tmp_path / "tokens.db").read_bytes()
    assert token.access_token.encode() not in raw  # encrypted at rest

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    # The test's own HTTP clients (browser, Web Connector) log their URLs, which carry the
    # code by design; every other line (server, engine, its Procore client) is checked.
    server_side = [
        x
        for x in lines
        if not x["logger"].startswith("httpcore")
        and not (x["logger"] == "httpx" and "127.0.0.1" in x["message"])
    ]
    text = "\n".join(json.dumps(x) for x in server_side)
    assert any(x["logger"] == "qbprocore.server.worker" for x in server_side)
    requests = [x for x in lines if x.get("logger") == "qbprocore.server.access"]
    assert {"method", "path", "status", "ms"} <= set(requests[0])
    assert any(x["path"] == "/oauth/callback" and x["status"] == 200 for x in requests)
    assert any(x["path"] == "/qbwc" and x["method"] == "POST" for x in requests)
    for secret in (
        PASSWORD,
        fake_procore.client_secret,
        key,
        code,
        token.access_token,
        token.refresh_token or "<none>",
    ):
        assert secret not in text
        assert secret not in repr(app)
        assert secret not in repr(config)


def test_oauth_callback_refuses_forged_or_missing_state(
    tmp_path: Path, fake_procore: FakeProcore
) -> None:
    key = procore.TokenCipher.generate_key()
    path = _procore_config(tmp_path, fake_procore, "http://127.0.0.1:1", key)
    _add_connection(path, company=fake_procore.company_id)
    config = load_config(
        path, environ={"QBPROCORE_PROCORE_CLIENT_SECRET": "x", "QBPROCORE_TOKEN_KEY": key}
    )
    app = create_app(config, procore_http=httpx.Client(transport=fake_procore.transport()))
    transport = httpx.ASGITransport(app=app)

    async def go() -> list[int]:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [
                (
                    await client.get("/oauth/callback", params={"code": "c", "state": "forged"})
                ).status_code,
                (await client.get("/oauth/callback", params={"code": "c"})).status_code,
                (
                    await client.get("/oauth/callback", params={"error": "access_denied"})
                ).status_code,
                (await client.get("/oauth/start", params={"connection": "nope"})).status_code,
            ]

    import asyncio

    assert asyncio.run(go()) == [400, 400, 400, 404]
    app.close()


def test_the_example_app_wires_the_same_server(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runpy

    from qbprocore.server import ConnectorApp

    example = Path(__file__).resolve().parents[2] / "examples" / "server" / "app.py"
    monkeypatch.setenv("QBPROCORE_CONFIG", str(config_file))
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        namespace = runpy.run_path(str(example))
    finally:  # the example configures logging for the whole process: put pytest's back
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    app = namespace["app"]
    assert isinstance(app, ConnectorApp)
    assert app.config.source == config_file
    app.close()


def test_worker_marks_a_connection_without_procore_tokens_for_reconnection(
    tmp_path: Path, fake_procore: FakeProcore
) -> None:
    key = procore.TokenCipher.generate_key()
    path = _procore_config(tmp_path, fake_procore, "https://qb.example.com", key)
    _add_connection(path, company=fake_procore.company_id)
    config = load_config(
        path, environ={"QBPROCORE_PROCORE_CLIENT_SECRET": "x", "QBPROCORE_TOKEN_KEY": key}
    )
    app = create_app(config, procore_http=httpx.Client(transport=fake_procore.transport()))
    assert app.worker is not None
    assert app.worker.run_once() == {"acme": "needs_reconnection"}
    # A connection that needs reconnection is skipped by the next round.
    assert app.worker.run_once() == {}
    app.close()
    store = SQLiteStore(tmp_path / "sync.db")
    conn = store.get_connection("acme")
    store.close()
    assert conn is not None
    assert conn.state.value == "needs_reconnection"
    assert "/oauth/start?connection=acme" in conn.state_reason
