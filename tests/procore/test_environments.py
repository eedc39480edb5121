"""Environments keep login and API hosts apart."""

from __future__ import annotations

import pytest

from qbprocore.procore import DEVELOPER_SANDBOX, MONTHLY_SANDBOX, PRODUCTION, Environment


def test_documented_hosts() -> None:
    assert PRODUCTION.token_url == "https://login.procore.com/oauth/token"
    assert PRODUCTION.api_url == "https://api.procore.com"
    assert DEVELOPER_SANDBOX.authorize_url == "https://login-sandbox.procore.com/oauth/authorize"
    assert DEVELOPER_SANDBOX.api_url == "https://sandbox.procore.com"
    assert MONTHLY_SANDBOX.login_url == "https://login-sandbox-monthly.procore.com"
    assert MONTHLY_SANDBOX.api_url == "https://api-monthly.procore.com"


def test_credentials_policy_per_environment() -> None:
    assert MONTHLY_SANDBOX.uses_production_credentials
    assert not DEVELOPER_SANDBOX.uses_production_credentials


def test_custom_environment_strips_trailing_slash() -> None:
    env = Environment.custom(login_url="http://127.0.0.1:9/", api_url="http://127.0.0.1:9/api/")
    assert env.token_url == "http://127.0.0.1:9/oauth/token"
    assert env.api_url == "http://127.0.0.1:9/api"


def test_custom_environment_rejects_non_urls() -> None:
    with pytest.raises(ValueError, match="login_url"):
        Environment.custom(login_url="login.procore.com", api_url="https://api.procore.com")
