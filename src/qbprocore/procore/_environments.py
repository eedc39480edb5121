"""Procore environments: each has its own login (OAuth) host and API host.

Tokens never cross environments, and the developer sandbox has its own client credentials;
the monthly sandbox takes production credentials. Keeping the two hosts apart in one value
means a client can never send a sandbox token to production by mixing two settings.
"""

from __future__ import annotations

import attrs

__all__ = [
    "DEVELOPER_SANDBOX",
    "MONTHLY_SANDBOX",
    "PRODUCTION",
    "Environment",
]


def _no_trailing_slash(value: str) -> str:
    return value.rstrip("/")


def _check_url(instance: Environment, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"Environment.{attribute.name} must be an http(s) URL, got {value!r}")


@attrs.frozen(kw_only=True)
class Environment:
    """A Procore environment: where to log in and where to call the API.

    Attributes:
        name: A short name used in token-store keys and logs (``"production"``...).
        login_url: Base URL of the OAuth2 server, e.g. ``https://login.procore.com``.
        api_url: Base URL of the REST API, e.g. ``https://api.procore.com``.
        uses_production_credentials: Whether this environment accepts production client
            credentials (true for the monthly sandbox, false for the developer sandbox).
    """

    name: str
    login_url: str = attrs.field(converter=_no_trailing_slash, validator=_check_url)
    api_url: str = attrs.field(converter=_no_trailing_slash, validator=_check_url)
    uses_production_credentials: bool = False

    @property
    def authorize_url(self) -> str:
        """The OAuth2 authorization endpoint."""
        return f"{self.login_url}/oauth/authorize"

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint."""
        return f"{self.login_url}/oauth/token"

    @classmethod
    def custom(cls, *, login_url: str, api_url: str, name: str = "custom") -> Environment:
        """An environment on other hosts (a proxy, FakeProcore, a future Procore region).

        Args:
            login_url: Base URL of the OAuth2 server.
            api_url: Base URL of the REST API.
            name: Name used in token-store keys; give distinct hosts distinct names.

        Returns:
            The environment.
        """
        return cls(name=name, login_url=login_url, api_url=api_url)


#: Production: ``login.procore.com`` / ``api.procore.com``.
PRODUCTION = Environment(
    name="production",
    login_url="https://login.procore.com",
    api_url="https://api.procore.com",
    uses_production_credentials=True,
)
#: Developer sandbox: its own client credentials.
DEVELOPER_SANDBOX = Environment(
    name="developer-sandbox",
    login_url="https://login-sandbox.procore.com",
    api_url="https://sandbox.procore.com",
)
#: Monthly sandbox: a monthly copy of production, reached with production credentials.
MONTHLY_SANDBOX = Environment(
    name="monthly-sandbox",
    login_url="https://login-sandbox-monthly.procore.com",
    api_url="https://api-monthly.procore.com",
    uses_production_credentials=True,
)
