"""Single-flight refresh across real processes that share a FileTokenStore.

FakeProcore is served by uvicorn on 127.0.0.1; four processes find the stored access token
expired at the same moment. Exactly one of them may spend the (single-use) refresh token; the
others must wait on the store's lock, re-read it, and use the pair the winner saved.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import pytest
import uvicorn

from qbprocore.procore import (
    Environment,
    FileTokenStore,
    ProcoreAuth,
    SQLiteTokenStore,
    TokenCipher,
)
from qbprocore.testing import FakeClock, FakeProcore

REDIRECT = "https://connector.example/cb"

_WORKER = textwrap.dedent(
    """
    import sys, httpx
    from qbprocore.procore import (
        Environment, FileTokenStore, ProcoreAuth, SQLiteTokenStore, TokenCipher,
    )
    url, path, key, client_id, secret, redirect, kind = sys.argv[1:8]
    env = Environment.custom(login_url=url, api_url=url, name="served")
    store_cls = SQLiteTokenStore if kind == "sqlite" else FileTokenStore
    auth = ProcoreAuth.authorization_code(
        environment=env, client_id=client_id, client_secret=secret, redirect_uri=redirect,
        store=store_cls(path, cipher=TokenCipher([key])),
    )
    with httpx.Client() as http:
        print(auth.get_token(http).access_token)
    """
)


@pytest.fixture
def served() -> Iterator[tuple[FakeProcore, str]]:
    fake = FakeProcore(clock=FakeClock(start=time.time()))
    server = uvicorn.Server(uvicorn.Config(fake, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
        assert thread.is_alive(), "uvicorn did not start"
    yield fake, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(10)


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_one_refresh_for_four_processes(
    served: tuple[FakeProcore, str], tmp_path: Path, kind: str
) -> None:
    fake, url = served
    key = TokenCipher.generate_key()
    path = tmp_path / ("tokens.db" if kind == "sqlite" else "tokens.json")
    store_cls = SQLiteTokenStore if kind == "sqlite" else FileTokenStore
    env = Environment.custom(login_url=url, api_url=url, name="served")
    auth = ProcoreAuth.authorization_code(
        environment=env,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        redirect_uri=REDIRECT,
        store=store_cls(path, cipher=TokenCipher([key])),
    )
    with httpx.Client() as http:
        login_url, state = auth.authorization_url()
        token = auth.exchange_code(http, http.get(login_url).headers["Location"], state=state)
    # Make the stored access token look expired; its refresh token is still good.
    auth.store.save(auth.key, attrs.evolve(token, expires_at=time.time() - 1))
    before = fake.token_calls
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    args = [str(script), url, str(path), key, fake.client_id, fake.client_secret, REDIRECT, kind]
    procs = [
        subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outputs]
    tokens = {out.strip() for out, _ in outputs}
    assert fake.token_calls - before == 1
    assert len(tokens) == 1
    assert tokens != {token.access_token}
