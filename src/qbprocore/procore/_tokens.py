"""OAuth2 token and client-credential values that never print their secrets."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["OOB_REDIRECT_URI", "ClientCredentials", "Token"]

#: The out-of-band redirect URI: Procore shows the code on a page for the user to copy.
OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"


def redact(secret: str | None) -> str:
    """Render a secret for logs: a fixed mask plus the last 4 characters at most.

    Short secrets are fully masked so that the visible tail never is most of the secret.
    """
    if not secret:
        return "None"
    tail = secret[-4:] if len(secret) >= 16 else ""
    return f"'***{tail}'"


@attrs.frozen(kw_only=True, repr=False)
class ClientCredentials:
    """An app's client id and secret for one environment.

    Attributes:
        client_id: The app's client id (not secret, shown in reprs).
        client_secret: The app's client secret (never shown).
        redirect_uri: Redirect URI registered for the app; the out-of-band URI by default.
    """

    client_id: str
    client_secret: str
    redirect_uri: str = OOB_REDIRECT_URI

    def __repr__(self) -> str:
        return (
            f"ClientCredentials(client_id={self.client_id!r}, "
            f"client_secret={redact(self.client_secret)}, redirect_uri={self.redirect_uri!r})"
        )


_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")


@attrs.frozen(kw_only=True, repr=False)
class Token:
    """An OAuth2 token pair with its absolute expiry.

    Attributes:
        access_token: The bearer token.
        refresh_token: The single-use refresh token; ``None`` for client credentials.
        token_type: Normally ``"Bearer"``.
        expires_at: Epoch seconds after which the access token is invalid.
        created_at: Epoch seconds at which the token was issued.
        grant_type: The grant that produced it (``"authorization_code"``,
            ``"client_credentials"`` or ``"refresh_token"``).
    """

    access_token: str
    refresh_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: float
    created_at: float
    grant_type: str = "authorization_code"

    @classmethod
    def from_response(cls, payload: Mapping[str, Any], *, now: float, grant_type: str) -> Token:
        """Build a token from a token-endpoint answer.

        Expiry always comes from ``expires_in`` (Procore changed it from 7200 s to 5400 s
        once; hard-coding it breaks silently). ``created_at`` from the server is preferred
        when present so clock skew does not lengthen the token's life.

        Args:
            payload: The decoded JSON of the token response.
            now: Current epoch seconds (the injected clock).
            grant_type: The grant used to obtain it.

        Returns:
            The token.

        Raises:
            ValueError: When ``access_token`` or ``expires_in`` is missing.
        """
        if "access_token" not in payload:
            raise ValueError("token response has no access_token")
        if "expires_in" not in payload:
            raise ValueError("token response has no expires_in; refusing to guess a lifetime")
        created = float(payload.get("created_at") or now)
        # A server clock ahead of ours must not make the token look younger than it is.
        created = min(created, now)
        lifetime = float(payload["expires_in"])
        if not (math.isfinite(created) and math.isfinite(lifetime)):
            # A NaN expiry would never compare as due, so the token would never be refreshed.
            raise ValueError("token response has a non-finite expires_in or created_at")
        access, refresh = payload["access_token"], payload.get("refresh_token") or None
        for name, value in (("access_token", access), ("refresh_token", refresh)):
            if (value is not None or name == "access_token") and not (
                isinstance(value, str) and _TOKEN_TEXT.fullmatch(value)
            ):
                # Tokens travel in a header and a form: only visible ASCII can (RFC 6750's
                # b64token is a subset). The value itself is a secret: never in the message.
                raise ValueError(f"token response has a malformed {name}")
        return cls(
            access_token=access,
            refresh_token=refresh,
            token_type=str(payload.get("token_type") or "Bearer"),
            expires_at=created + lifetime,
            created_at=created,
            grant_type=grant_type,
        )

    def expires_within(self, seconds: float, *, now: float) -> bool:
        """Whether the token expires within ``seconds`` from ``now``."""
        return self.expires_at - now <= seconds

    def to_json(self) -> bytes:
        """Serialize (for a token store; the store encrypts it)."""
        return json.dumps(attrs.asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Token:
        """Inverse of `to_json`.

        Raises:
            ValueError: The data is not a serialized token (the message holds no secret).
        """
        try:
            fields = json.loads(data)
            return cls(**fields)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a serialized token ({type(exc).__name__})") from None

    def __repr__(self) -> str:
        return (
            f"Token(access_token={redact(self.access_token)}, "
            f"refresh_token={redact(self.refresh_token)}, token_type={self.token_type!r}, "
            f"expires_at={self.expires_at!r}, grant_type={self.grant_type!r})"
        )
