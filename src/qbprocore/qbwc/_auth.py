"""Who may start a session: the `Authenticator` protocol and a password-hash default.

`PasswordAuthenticator` never keeps a password: it keeps an scrypt hash (memory-hard, so a
stolen table is expensive to brute-force), compares in constant time with
`hmac.compare_digest`, and spends the same work on an unknown user as on a wrong password so
response time does not reveal which user names exist. No check depends on ``assert``, so
``python -O`` changes nothing.
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import attrs
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from qbprocore._xmlchars import describe_illegal

__all__ = [
    "Account",
    "Authenticator",
    "PasswordAuthenticator",
    "ThrottledAuthenticator",
    "hash_password",
]

_log = logging.getLogger("qbprocore.qbwc")


@attrs.frozen(kw_only=True)
class Account:
    """An authenticated Web Connector user and what its sessions are bound to.

    Attributes:
        username: The user name from the `.qwc` file.
        company_file: The company-file path ``authenticate`` answers; ``""`` means "the file
            open in QuickBooks" (which works only while QuickBooks is running).
        tenant: The tenant (customer) the user belongs to. Two tenants may use the same user
            name; the work source must key its data by tenant, never by user name alone.
    """

    username: str
    company_file: str = ""
    tenant: str | None = None


@runtime_checkable
class Authenticator(Protocol):
    """Checks the user name and password the Web Connector sends."""

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account for valid credentials, ``None`` otherwise (answered ``"nvu"``)."""


# scrypt cost: N=2**14, r=8, p=1 uses 16 MiB and tens of milliseconds per check (the
# parameters recommended for interactive logins). Hashes carry their parameters, so they can be
# raised later without invalidating stored hashes.
_N, _R, _P = 2**14, 8, 1
_DKLEN = 32
_MIN_DIGEST = 16
"""Stored digests shorter than this (bytes) never check: `hash_password` writes 32."""
_MAX_MEMORY = 2**26
"""The most memory one check may take (64 MiB): a stored hash asking for more never checks."""


def _scrypt(password: str, salt: bytes, *, n: int, r: int, p: int, length: int) -> bytes:
    """The scrypt digest of ``password`` (ValueError for unusable parameters).

    cryptography's scrypt, not hashlib's: the same function (the same bytes out), and the
    OpenSSL cryptography ships computed it about a fifth faster here than the one Python was
    built with (a check is tens of milliseconds). It takes no memory limit, so the one
    hashlib's ``maxmem`` gave is kept here, by OpenSSL's own count of what scrypt needs.
    """
    if n < 2 or r < 1 or p < 1 or length < 1 or 128 * r * (n + p + 2) > _MAX_MEMORY:
        raise ValueError(f"unusable scrypt parameters n={n}, r={r}, p={p}, length={length}")
    return Scrypt(salt=salt, length=length, n=n, r=r, p=p).derive(password.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(
    password: str,
    *,
    salt: bytes | None = None,
    n: int = _N,
    r: int = _R,
    p: int = _P,
) -> str:
    """Hash a password with scrypt into ``"scrypt$n$r$p$salt$hash"`` (base64 fields).

    Args:
        password: The password.
        salt: At least 16 random bytes (a fresh random salt by default).
        n: CPU/memory cost (a power of two).
        r: Block size.
        p: Parallelism.

    Raises:
        ValueError: a salt shorter than 16 bytes.
    """
    if salt is None:
        salt = secrets.token_bytes(16)
    if len(salt) < 16:
        raise ValueError("the salt must be at least 16 random bytes")
    digest = _scrypt(password, salt, n=n, r=r, p=p, length=_DKLEN)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _verify(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    try:
        expected = base64.b64decode(digest)
        if len(expected) < _MIN_DIGEST:
            return False  # (an empty digest would match anything, a short one can be guessed)
        actual = _scrypt(
            password,
            base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            length=len(expected),
        )
    except (ValueError, TypeError, OverflowError):
        # A malformed stored hash (bad number, base64 or scrypt parameters) never
        # authenticates; raising would turn every login of that user into a server error.
        return False
    return hmac.compare_digest(actual, expected)


class PasswordAuthenticator:
    r"""Users with scrypt password hashes, each bound to a company file and a tenant.

    Args:
        random_bytes: Source of salts (``secrets.token_bytes`` by default; tests pass a
            deterministic one).
        n: scrypt cost for new hashes (lower it only in tests).

    Examples:
        >>> auth = PasswordAuthenticator(n=2**10)
        >>> auth.add_user("demo", "demo", company_file=r"C:\Books\Demo.QBW")
        >>> auth.authenticate("demo", "demo").company_file
        'C:\\Books\\Demo.QBW'
        >>> auth.authenticate("demo", "wrong") is None
        True
    """

    def __init__(
        self, *, random_bytes: Callable[[int], bytes] = secrets.token_bytes, n: int = _N
    ) -> None:
        self._random_bytes = random_bytes
        self._n = n
        self._users: dict[str, tuple[str, Account]] = {}
        self._lock = threading.Lock()
        # Checked against for unknown users, so they cost as much as a wrong password.
        self._dummy = hash_password("", salt=random_bytes(16), n=n)

    def __repr__(self) -> str:
        return f"PasswordAuthenticator(<{len(self._users)} users>)"

    def add_user(
        self,
        username: str,
        password: str,
        *,
        company_file: str = "",
        tenant: str | None = None,
    ) -> None:
        """Add a user, or replace the password of one of the same tenant.

        Only a hash of ``password`` is kept. Raises `ValueError` if ``username`` belongs to
        another tenant (see `add_hash`).
        """
        stored = hash_password(password, salt=self._random_bytes(16), n=self._n)
        self.add_hash(username, stored, company_file=company_file, tenant=tenant)

    def add_hash(
        self,
        username: str,
        password_hash: str,
        *,
        company_file: str = "",
        tenant: str | None = None,
    ) -> None:
        """Add (or replace) a user from a hash made by `hash_password` (e.g. from config).

        Raises:
            ValueError: ``username`` already belongs to another tenant (sharing a user name
                between tenants would let one tenant's Web Connector log into the other's
                data; give each tenant its own user names), or ``username`` or
                ``company_file`` has a character XML cannot carry (the Web Connector could
                never send that name, nor receive that path).
        """
        if not password_hash.startswith("scrypt$"):
            raise ValueError("expected a hash made by hash_password ('scrypt$...')")
        for name, value in (("username", username), ("company_file", company_file)):
            bad = describe_illegal(value)
            if bad:
                raise ValueError(f"{name} {value!r} has characters XML cannot carry: {bad}")
        account = Account(username=username, company_file=company_file, tenant=tenant)
        with self._lock:
            existing = self._users.get(username)
            if existing is not None and existing[1].tenant != tenant:
                raise ValueError(
                    f"user {username!r} already belongs to tenant {existing[1].tenant!r}; each"
                    f" tenant needs its own Web Connector user names (not adding it for {tenant!r})"
                )
            self._users[username] = (password_hash, account)

    def authenticate(self, username: str, password: str) -> Account | None:
        """See `Authenticator.authenticate`."""
        entry = self._users.get(username)
        if entry is None:
            _verify(password, self._dummy)  # same work as a wrong password
            return None
        stored, account = entry
        return account if _verify(password, stored) else None


class ThrottledAuthenticator:
    """Locks a user name out for a while after repeated wrong passwords.

    Wraps any `Authenticator`. After `max_failures` failed attempts for one user name within
    `window` seconds, every attempt for that name is refused (``"nvu"``) for `lockout`
    seconds *without* being checked — so a password guesser gets nowhere, and cannot make the
    server burn a memory-hard hash per guess either. A successful login clears the count.
    Counts are kept per process: with several server processes a guesser gets at most
    `max_failures` tries per process per window.

    Args:
        inner: The authenticator that checks passwords.
        max_failures: Failed attempts allowed per user name within `window`.
        window: Seconds over which failures are counted.
        lockout: Seconds a locked-out name stays refused.
        clock: Current time in seconds (``time.monotonic`` by default; tests pass a fake).

    Examples:
        >>> now = [0.0]
        >>> inner = PasswordAuthenticator(n=2**10)
        >>> inner.add_user("books", "right")
        >>> auth = ThrottledAuthenticator(inner, max_failures=2, lockout=60, clock=lambda: now[0])
        >>> [auth.authenticate("books", "wrong") for _ in range(2)]
        [None, None]
        >>> auth.authenticate("books", "right") is None  # locked out, not even checked
        True
        >>> now[0] = 61.0
        >>> auth.authenticate("books", "right").username
        'books'
    """

    def __init__(
        self,
        inner: Authenticator,
        *,
        max_failures: int = 5,
        window: float = 15 * 60,
        lockout: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, got {max_failures}")
        self.inner = inner
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ThrottledAuthenticator(max_failures={self.max_failures}, lockout={self.lockout})"

    def locked(self, username: str) -> bool:
        """Whether ``username`` is locked out now."""
        with self._lock:
            return self._locked_until.get(username, 0.0) > self._clock()

    def authenticate(self, username: str, password: str) -> Account | None:
        """See `Authenticator.authenticate`; refused without a check while locked out."""
        now = self._clock()
        with self._lock:
            if self._locked_until.get(username, 0.0) > now:
                return None
        account = self.inner.authenticate(username, password)
        with self._lock:
            if account is not None:
                self._failures.pop(username, None)
                self._locked_until.pop(username, None)
                return account
            recent = [t for t in self._failures.get(username, []) if now - t < self.window]
            recent.append(now)
            if len(recent) >= self.max_failures:
                self._locked_until[username] = now + self.lockout
                self._failures.pop(username, None)
                _log.warning("Web Connector user locked out after %d failed logins", len(recent))
            else:
                self._failures[username] = recent
        return None
