"""Encryption at rest for token stores, with a key the host provides and can rotate."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from qbprocore.procore._errors import TokenStoreError

__all__ = ["TokenCipher"]


class TokenCipher:
    """Authenticated encryption of serialized tokens (Fernet: AES-128-CBC + HMAC-SHA256).

    The first key encrypts; every key decrypts. To rotate, put the new key first and keep the
    old one until `rotate` (or the next save) has re-encrypted every stored token.

    Args:
        keys: One or more url-safe base64 32-byte keys (see `generate_key`), newest
            first. The keys never appear in this object's repr.
    """

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if isinstance(keys, (str, bytes)):
            raise TypeError("TokenCipher takes a sequence of keys, newest first")
        if not keys:
            raise ValueError("TokenCipher needs at least one key")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except (ValueError, TypeError) as exc:
            # Fernet's message may echo part of the key; keep ours generic.
            raise ValueError("invalid Fernet key (expected 32 url-safe base64 bytes)") from exc
        self._count = len(keys)

    @staticmethod
    def generate_key() -> str:
        """A fresh random key, url-safe base64, for the host to keep in its secret store."""
        return Fernet.generate_key().decode()

    def encrypt(self, data: bytes) -> bytes:
        """Encrypt with the newest key."""
        return self._fernet.encrypt(data)

    def decrypt(self, data: bytes) -> bytes:
        """Decrypt with whichever key matches.

        Raises:
            TokenStoreError: When no key decrypts the data or it was tampered with.
        """
        try:
            return self._fernet.decrypt(data)
        except InvalidToken as exc:
            raise TokenStoreError(
                "stored token cannot be decrypted with the configured keys "
                "(wrong key, key rotated away too early, or tampered data)"
            ) from exc

    def rotate(self, data: bytes) -> bytes:
        """Re-encrypt ``data`` under the newest key."""
        try:
            return self._fernet.rotate(data)
        except InvalidToken as exc:
            raise TokenStoreError("stored token cannot be decrypted for rotation") from exc

    def __repr__(self) -> str:
        return f"TokenCipher(<{self._count} key(s) hidden>)"
