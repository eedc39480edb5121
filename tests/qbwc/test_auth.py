"""The default authenticator: scrypt hashes, constant-time compare, same under python -O."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from typing import Any

import pytest

from qbprocore import qbwc
from qbprocore.qbwc import PasswordAuthenticator, ThrottledAuthenticator


def test_hash_format_and_verification() -> None:
    stored = qbwc.hash_password("s3cret", salt=b"0123456789abcdef", n=2**8)
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "256", "8", "1")
    assert "s3cret" not in stored
    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_hash("demo", stored, company_file="C:\\A.QBW", tenant="t1")
    account = auth.authenticate("demo", "s3cret")
    assert account == qbwc.Account(username="demo", company_file="C:\\A.QBW", tenant="t1")
    assert auth.authenticate("demo", "S3cret") is None
    assert auth.authenticate("Demo", "s3cret") is None
    assert auth.authenticate("demo", "") is None


def test_default_cost_is_memory_hard() -> None:
    stored = qbwc.hash_password("x")
    assert stored.split("$")[1:4] == ["16384", "8", "1"]


def test_salts_are_random_and_short_salts_refused() -> None:
    assert qbwc.hash_password("x", n=2**8) != qbwc.hash_password("x", n=2**8)
    with pytest.raises(ValueError, match="16"):
        qbwc.hash_password("x", salt=b"short")
    auth = qbwc.PasswordAuthenticator(n=2**8)
    with pytest.raises(ValueError, match="scrypt"):
        auth.add_hash("demo", "plaintext")


def test_malformed_stored_hash_never_authenticates() -> None:
    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_hash("demo", "scrypt$broken")
    assert auth.authenticate("demo", "anything") is None


@pytest.mark.parametrize(
    ("n", "r", "p"), [(2**8, 8, 1), (2**10, 1, 1), (2**4, 3, 5), (2**15, 8, 1), (2**2, 1, 16)]
)
def test_hashes_are_the_scrypt_the_standard_library_computes(n: int, r: int, p: int) -> None:
    # The KDF comes from cryptography (faster here); the bytes are hashlib's scrypt's.
    salt = b"0123456789abcdef"
    stored = qbwc.hash_password("pässword", salt=salt, n=n, r=r, p=p)
    digest = hashlib.scrypt("pässword".encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=2**26)
    assert stored == f"scrypt${n}${r}${p}${base64.b64encode(salt).decode()}$" + (
        base64.b64encode(digest).decode()
    )


@pytest.mark.parametrize(
    ("n", "r", "p"),
    [
        (2**16, 8, 1),
        (2**20, 8, 1),
        (2**14, 8, 2**20),
        (2**62, 8, 1),
        (1, 8, 1),
        (3, 8, 1),
        (2**8, 0, 1),
        (2**8, 8, 0),
        (-4, 8, 1),
    ],
)
def test_a_stored_hash_beyond_64_mib_or_not_scrypt_never_checks(n: int, r: int, p: int) -> None:
    # As hashlib's maxmem=2**26 refused them (OpenSSL's count: 128 r (N + p + 2) bytes), a
    # stored hash cannot make a login take more memory than that, nor raise.
    salt = base64.b64encode(b"0123456789abcdef").decode()
    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_hash("demo", f"scrypt${n}${r}${p}${salt}$" + base64.b64encode(b"x" * 32).decode())
    assert auth.authenticate("demo", "x") is None
    with pytest.raises(ValueError, match=r"scrypt parameters|power of 2"):
        qbwc.hash_password("x", n=n, r=r, p=p)


def test_secrets_not_in_repr() -> None:
    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_user("demo", "hunter2")
    assert "hunter2" not in repr(auth)
    assert "demo" not in repr(auth)


def test_behaviour_is_the_same_under_python_O() -> None:
    code = (
        "from qbprocore import qbwc\n"
        "a = qbwc.PasswordAuthenticator(n=2**8)\n"
        "a.add_user('demo', 'demo')\n"
        "print(a.authenticate('demo', 'demo') is not None, a.authenticate('demo', 'x') is None,"
        " a.authenticate('x', 'demo') is None)\n"
    )
    for flags in ([], ["-O"]):
        out = subprocess.run(
            [sys.executable, *flags, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == "True True True", flags


def test_authenticators_are_a_protocol() -> None:
    class Static:
        def authenticate(self, username: str, password: str) -> qbwc.Account | None:
            return qbwc.Account(username=username) if password == "ok" else None

    assert isinstance(Static(), qbwc.Authenticator)
    assert isinstance(qbwc.PasswordAuthenticator(n=2**8), qbwc.Authenticator)


def test_a_user_name_cannot_be_taken_over_by_another_tenant() -> None:
    """Tenants sharing a user name would reach each other's data: the second add is refused."""
    users = qbwc.PasswordAuthenticator()
    users.add_user("ap-sync", "first-secret", tenant="acme")
    with pytest.raises(ValueError, match="already belongs to tenant 'acme'"):
        users.add_user("ap-sync", "second-secret", tenant="brightline")
    account = users.authenticate("ap-sync", "first-secret")
    assert account is not None
    assert account.tenant == "acme"
    assert users.authenticate("ap-sync", "second-secret") is None
    users.add_user("ap-sync", "rotated-secret", tenant="acme")  # same tenant: a new password
    assert users.authenticate("ap-sync", "rotated-secret") is not None


@pytest.mark.parametrize(
    ("field", "options"),
    [("username", {"username": "ap\x00sync"}), ("company_file", {"company_file": "C:\\B\x01.QBW"})],
)
def test_names_xml_cannot_carry_are_refused_when_added(field: str, options: dict[str, str]) -> None:
    # Such a company file would make every authenticate answer unencodable.
    users = qbwc.PasswordAuthenticator(n=2**8)
    arguments = {"username": "ap-sync", **options}
    with pytest.raises(ValueError, match=f"^{field} .* has characters XML cannot carry"):
        users.add_user(arguments.pop("username"), "pw", **arguments)


def _throttled(**kwargs: Any) -> tuple[ThrottledAuthenticator, list[float], PasswordAuthenticator]:
    now = [0.0]
    inner = PasswordAuthenticator(n=2**10)
    inner.add_user("books", "right")
    inner.add_user("other", "right")
    return ThrottledAuthenticator(inner, clock=lambda: now[0], **kwargs), now, inner


def test_throttling_locks_a_name_out_after_repeated_failures_without_checking() -> None:
    auth, now, _ = _throttled(max_failures=3, window=60, lockout=300)
    for _ in range(3):
        assert auth.authenticate("books", "wrong") is None
    assert auth.locked("books")
    calls: list[str] = []
    original = auth.inner.authenticate
    auth.inner.authenticate = lambda u, p: calls.append(u) or original(u, p)  # type: ignore[method-assign]
    assert auth.authenticate("books", "right") is None  # locked: refused …
    assert calls == []  # … without spending a hash on it
    other = auth.authenticate("other", "right")  # another name is not affected
    assert other is not None
    now[0] = 301.0
    account = auth.authenticate("books", "right")
    assert account is not None
    assert not auth.locked("books")


def test_throttling_forgets_old_failures_and_a_success_clears_the_count() -> None:
    auth, now, _ = _throttled(max_failures=2, window=60, lockout=300)
    assert auth.authenticate("books", "wrong") is None
    now[0] = 61.0  # the first failure is outside the window
    assert auth.authenticate("books", "wrong") is None
    assert not auth.locked("books")
    assert auth.authenticate("books", "right") is not None
    assert auth.authenticate("books", "wrong") is None  # counting starts over
    assert not auth.locked("books")
    with pytest.raises(ValueError, match="max_failures"):
        ThrottledAuthenticator(auth.inner, max_failures=0)
