"""Token stores: where the rotating token pair lives between runs and across processes.

Procore refresh tokens are single-use with no grace period, so a store must:

1. persist the new pair *before* anyone uses it (a crash after the refresh but before the
   save would otherwise leave only a spent refresh token behind),
2. offer an exclusive, cross-process lock per credential so that exactly one process
   refreshes at a time (the others wait, then re-read the store and find the new pair),
3. keep tokens encrypted at rest with a key the host provides.

Stores never pick a location themselves: a path is always explicit, and nothing is written
until the first `save`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl

from qbprocore.procore._crypto import TokenCipher
from qbprocore.procore._errors import TokenStoreError
from qbprocore.procore._tokens import Token

__all__ = ["FileTokenStore", "MemoryTokenStore", "SQLiteTokenStore", "TokenStore"]


@runtime_checkable
class TokenStore(Protocol):
    """Where tokens are kept, keyed by credential (environment + client id + account)."""

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None``."""
        ...

    def save(self, key: str, token: Token) -> None:
        """Store ``token`` for ``key`` durably before returning."""
        ...

    def delete(self, key: str) -> None:
        """Forget the token for ``key`` (no error if absent)."""
        ...

    def lock(self, key: str) -> contextlib.AbstractContextManager[None]:
        """An exclusive lock on ``key`` held while refreshing (across processes if shared).

        `load` and `save` must work while the lock is held, from any thread.
        """
        ...


class _KeyedThreadLocks:
    """One `Lock` per key, created on demand."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


@contextlib.contextmanager
def _held(lock: threading.Lock) -> Iterator[None]:
    with lock:
        yield


class MemoryTokenStore:
    """Tokens in process memory: for tests, scripts and client-credentials service accounts.

    A restart loses the tokens, which is harmless for client credentials (the grant re-runs)
    but means an authorization-code user must authorize again.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._locks = _KeyedThreadLocks()
        self._guard = threading.Lock()

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None``."""
        with self._guard:
            return self._tokens.get(key)

    def save(self, key: str, token: Token) -> None:
        """Store ``token`` for ``key``."""
        with self._guard:
            self._tokens[key] = token

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._guard:
            self._tokens.pop(key, None)

    def lock(self, key: str) -> contextlib.AbstractContextManager[None]:
        """Exclusive per-key lock within this process."""
        return _held(self._locks.get(key))

    def __repr__(self) -> str:
        return f"MemoryTokenStore(<{len(self._tokens)} token(s)>)"


def _lock_fd(handle: IO[bytes]) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        handle.seek(0)
        while True:
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError:
                # LK_LOCK gives up after ~10 s; a refresh can take longer, so keep waiting.
                continue
    else:
        # flock (not lockf): flock locks belong to the open file description, so two threads
        # of one process that each open the file also exclude each other.
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _unlock_fd(handle: IO[bytes]) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+b") as handle:
        _lock_fd(handle)
        try:
            yield
        finally:
            _unlock_fd(handle)


def _decode(data: bytes, path: Path) -> Token:
    try:
        return Token.from_json(data)
    except ValueError as exc:
        raise TokenStoreError(f"token store {path} holds a malformed token: {exc}") from None


def _key_suffix(key: str) -> str:
    # Key names may hold characters that are illegal in file names; hash them.
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class FileTokenStore:
    """Encrypted tokens in one JSON file at an explicit path (mode 0600, atomic writes).

    Processes that share the path share the tokens and the refresh lock (a ``.lock`` file
    per credential beside the store).

    Args:
        path: The file to use. Its directory must exist; the library never picks a default
            location (a token file inside site-packages or the CWD is a classic leak).
        cipher: Encrypts tokens at rest with the host's key(s).
    """

    def __init__(self, path: str | os.PathLike[str], *, cipher: TokenCipher) -> None:
        self._path = Path(path)
        self._cipher = cipher
        self._write_lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The store's file."""
        return self._path

    def _read_all(self) -> dict[str, str]:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TokenStoreError(f"cannot read token store {self._path}: {exc}") from exc
        try:
            data = json.loads(raw or b"{}")
        except ValueError as exc:
            raise TokenStoreError(f"token store {self._path} is not valid JSON") from exc
        if not isinstance(data, dict):
            raise TokenStoreError(f"token store {self._path} is not a JSON object")
        return {str(k): str(v) for k, v in data.items()}

    def _write_all(self, data: dict[str, str]) -> None:
        directory = self._path.parent
        # Write a sibling temp file then rename over the store: readers see the old or the new
        # content, never half a file, and a crash mid-write leaves the old store intact.
        fd, tmp = tempfile.mkstemp(prefix=f".{self._path.name}.", dir=directory)
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(data, sort_keys=True).encode())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _mutating(self) -> Iterator[dict[str, str]]:
        # Read-modify-write of the shared file must exclude other writers (any key).
        with self._write_lock, _file_lock(Path(f"{self._path}.lock")):
            data = self._read_all()
            yield data
            self._write_all(data)

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None``."""
        blob = self._read_all().get(key)
        if blob is None:
            return None
        return _decode(self._cipher.decrypt(blob.encode()), self._path)

    def save(self, key: str, token: Token) -> None:
        """Encrypt and store ``token`` (fsynced before returning)."""
        with self._mutating() as data:
            data[key] = self._cipher.encrypt(token.to_json()).decode()

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._mutating() as data:
            data.pop(key, None)

    def rotate_keys(self) -> int:
        """Re-encrypt every stored token under the cipher's newest key.

        Returns:
            How many tokens were re-encrypted.
        """
        with self._mutating() as data:
            for key, blob in data.items():
                data[key] = self._cipher.rotate(blob.encode()).decode()
            return len(data)

    def lock(self, key: str) -> contextlib.AbstractContextManager[None]:
        """Exclusive cross-process lock on ``key`` (a sidecar lock file)."""
        return _file_lock(Path(f"{self._path}.{_key_suffix(key)}.lock"))

    def __repr__(self) -> str:
        return f"FileTokenStore(path={str(self._path)!r})"


class SQLiteTokenStore:
    """Encrypted tokens in a SQLite database at an explicit path.

    Suits hosts that already keep state in SQLite and many credentials (one row each).
    Refresh locks are sidecar lock files per credential, like `FileTokenStore`,
    because a SQLite write transaction cannot be held across threads while the refresh
    request is in flight.

    Args:
        path: The database file; created with mode 0600 on first save.
        cipher: Encrypts tokens at rest with the host's key(s).
    """

    def __init__(self, path: str | os.PathLike[str], *, cipher: TokenCipher) -> None:
        self._path = Path(path)
        self._cipher = cipher

    @contextlib.contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        if not self._path.exists():
            if not create:
                yield None
                return
            # Create the file ourselves so it is 0600 from the first byte.
            os.close(os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlite3.connect(self._path, timeout=30.0)
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS qbprocore_tokens "
                "(key TEXT PRIMARY KEY, value BLOB NOT NULL)"
            )
            with conn:
                yield conn
        except sqlite3.Error as exc:
            raise TokenStoreError(f"token store {self._path}: {exc}") from exc
        finally:
            conn.close()

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None``."""
        with self._connect(create=False) as conn:
            if conn is None:
                return None
            row = conn.execute(
                "SELECT value FROM qbprocore_tokens WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return _decode(self._cipher.decrypt(bytes(row[0])), self._path)

    def save(self, key: str, token: Token) -> None:
        """Encrypt and store ``token`` (committed before returning)."""
        blob = self._cipher.encrypt(token.to_json())
        with self._connect(create=True) as conn:
            assert conn is not None
            conn.execute(
                "INSERT INTO qbprocore_tokens (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, blob),
            )

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._connect(create=False) as conn:
            if conn is not None:
                conn.execute("DELETE FROM qbprocore_tokens WHERE key = ?", (key,))

    def rotate_keys(self) -> int:
        """Re-encrypt every stored token under the cipher's newest key.

        Returns:
            How many tokens were re-encrypted.
        """
        with self._connect(create=False) as conn:
            if conn is None:
                return 0
            rows = conn.execute("SELECT key, value FROM qbprocore_tokens").fetchall()
            for key, value in rows:
                conn.execute(
                    "UPDATE qbprocore_tokens SET value = ? WHERE key = ?",
                    (self._cipher.rotate(bytes(value)), key),
                )
            return len(rows)

    def lock(self, key: str) -> contextlib.AbstractContextManager[None]:
        """Exclusive cross-process lock on ``key`` (a sidecar lock file)."""
        return _file_lock(Path(f"{self._path}.{_key_suffix(key)}.lock"))

    def __repr__(self) -> str:
        return f"SQLiteTokenStore(path={str(self._path)!r})"
