"""Tokens: expiry from expires_in, redaction, encryption at rest with rotation, store safety."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from qbprocore.procore import (
    ClientCredentials,
    FileTokenStore,
    MemoryTokenStore,
    SQLiteTokenStore,
    Token,
    TokenCipher,
    TokenStore,
    TokenStoreError,
)

SECRET_ACCESS = "access-0123456789abcdefSECRET"
SECRET_REFRESH = "refresh-0123456789abcdefSECRET"


def _token(**overrides: object) -> Token:
    fields: dict[str, object] = {
        "access_token": SECRET_ACCESS,
        "refresh_token": SECRET_REFRESH,
        "expires_at": 1_800_005_400.0,
        "created_at": 1_800_000_000.0,
    }
    fields.update(overrides)
    return Token(**fields)  # type: ignore[arg-type]


def test_expiry_comes_from_expires_in_never_a_constant() -> None:
    for lifetime in (5400, 7200, 60):
        token = Token.from_response(
            {"access_token": "a", "expires_in": lifetime, "created_at": 1000},
            now=1000.0,
            grant_type="client_credentials",
        )
        assert token.expires_at == 1000 + lifetime


def test_missing_expires_in_is_refused() -> None:
    with pytest.raises(ValueError, match="expires_in"):
        Token.from_response({"access_token": "a"}, now=0.0, grant_type="client_credentials")


def test_server_created_at_in_the_future_does_not_extend_life() -> None:
    token = Token.from_response(
        {"access_token": "a", "expires_in": 100, "created_at": 5000},
        now=1000.0,
        grant_type="refresh_token",
    )
    assert token.expires_at == 1100


def test_reprs_and_logs_never_show_secrets(caplog: pytest.LogCaptureFixture) -> None:
    token = _token()
    creds = ClientCredentials(client_id="cid", client_secret="very-secret-client-secret-value")
    cipher = TokenCipher([TokenCipher.generate_key()])
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("token %r creds %r cipher %r", token, creds, cipher)
    text = caplog.text + repr(token) + str(token) + repr(creds) + repr(cipher)
    assert SECRET_ACCESS not in text
    assert SECRET_REFRESH not in text
    assert "very-secret-client-secret-value" not in text
    assert "cid" in repr(creds)


def test_cipher_rotation_keeps_old_tokens_readable_and_rotate_rewrites(tmp_path: Path) -> None:
    old, new = TokenCipher.generate_key(), TokenCipher.generate_key()
    path = tmp_path / "tokens.json"
    FileTokenStore(path, cipher=TokenCipher([old])).save("k", _token())
    rotated = FileTokenStore(path, cipher=TokenCipher([new, old]))
    assert rotated.load("k") == _token()
    assert rotated.rotate_keys() == 1
    # After rotation the old key alone can no longer read it; the new key alone can.
    with pytest.raises(TokenStoreError, match="cannot be decrypted"):
        FileTokenStore(path, cipher=TokenCipher([old])).load("k")
    assert FileTokenStore(path, cipher=TokenCipher([new])).load("k") == _token()


def test_cipher_rejects_bad_keys_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="invalid Fernet key") as info:
        TokenCipher(["not-a-key-but-maybe-a-secret"])
    assert "not-a-key-but-maybe-a-secret" not in str(info.value)
    with pytest.raises(TypeError):
        TokenCipher("single-string")


def test_file_store_is_encrypted_0600_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path, cipher=TokenCipher([TokenCipher.generate_key()]))
    assert store.load("k") is None
    assert not path.exists()  # nothing written until the first save
    store.save("k", _token())
    store.save("other", _token(access_token="second-access-token-xyz"))
    raw = path.read_bytes()
    assert SECRET_ACCESS.encode() not in raw
    assert SECRET_REFRESH.encode() not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(json.loads(raw)) == {"k", "other"}
    # No temp files are left behind by the atomic replace.
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        "tokens.json"
    ]
    store.delete("k")
    assert store.load("k") is None
    assert store.load("other") is not None


def test_file_store_reports_corruption(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    store = FileTokenStore(path, cipher=TokenCipher([TokenCipher.generate_key()]))
    with pytest.raises(TokenStoreError, match="not valid JSON"):
        store.load("k")


def test_sqlite_store_round_trip_encrypted_0600(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    key1, key2 = TokenCipher.generate_key(), TokenCipher.generate_key()
    store = SQLiteTokenStore(path, cipher=TokenCipher([key1]))
    assert store.load("k") is None
    assert not path.exists()
    store.save("k", _token())
    store.save("k", _token(access_token="replaced-access-token-value"))
    assert store.load("k") == _token(access_token="replaced-access-token-value")
    assert SECRET_REFRESH.encode() not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rotated = SQLiteTokenStore(path, cipher=TokenCipher([key2, key1]))
    assert rotated.rotate_keys() == 1
    assert SQLiteTokenStore(path, cipher=TokenCipher([key2])).load("k") is not None
    rotated.delete("k")
    assert rotated.load("k") is None


@pytest.mark.parametrize("kind", ["memory", "file", "sqlite"])
def test_every_store_satisfies_the_protocol(kind: str, tmp_path: Path) -> None:
    cipher = TokenCipher([TokenCipher.generate_key()])
    factories: dict[str, Callable[[], TokenStore]] = {
        "memory": MemoryTokenStore,
        "file": lambda: FileTokenStore(tmp_path / "t.json", cipher=cipher),
        "sqlite": lambda: SQLiteTokenStore(tmp_path / "t.db", cipher=cipher),
    }
    store = factories[kind]()
    assert isinstance(store, TokenStore)
    with store.lock("k"):
        store.save("k", _token())  # saving while holding the refresh lock must not deadlock
        assert store.load("k") == _token()


_LOCKER = textwrap.dedent(
    """
    import sys, time
    from qbprocore.procore import FileTokenStore, TokenCipher
    store = FileTokenStore(sys.argv[1], cipher=TokenCipher([sys.argv[2]]))
    for _ in range(5):
        with store.lock("shared-key"):
            with open(sys.argv[3], "a") as log:
                log.write("enter\\n")
                log.flush()
                time.sleep(0.01)
                log.write("exit\\n")
    """
)


def test_store_lock_excludes_other_processes(tmp_path: Path) -> None:
    """Two real processes taking the refresh lock never overlap (enter/exit strictly pair)."""
    script = tmp_path / "locker.py"
    script.write_text(_LOCKER)
    log = tmp_path / "log.txt"
    key = TokenCipher.generate_key()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "t.json"), key, str(log)], env=env
        )
        for _ in range(3)
    ]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    lines = log.read_text().split()
    assert len(lines) == 30
    assert lines == ["enter", "exit"] * 15


def test_a_tampered_or_foreign_blob_is_a_store_error(tmp_path: Path) -> None:
    cipher = TokenCipher([TokenCipher.generate_key()])
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"k": cipher.encrypt(b'{"unexpected": 1}').decode()}))
    with pytest.raises(TokenStoreError, match="malformed"):
        FileTokenStore(path, cipher=cipher).load("k")
