"""Configuration: TOML keys, environment overrides, and errors that name the key (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbprocore import procore
from qbprocore.server import ENV_VARS, ConfigError, load_config, parse_config
from tests.cli.conftest import Cli, write_config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[server]\nport = "abc"\n',
            "config key [server].port: expected an integer 1-65535, got 'abc'",
        ),
        (
            "[server]\nport = 70000\n",
            "config key [server].port: expected an integer 1-65535, got 70000",
        ),
        ("[server]\nprot = 1\n", "config key [server].prot: unknown key"),
        ("[server]\nsync_every = -1\n", "config key [server].sync_every: expected an integer"),
        (
            '[server]\npublic_url = "qb.example.com"\n',
            "config key [server].public_url: expected an absolute http(s) URL",
        ),
        ('[server]\nlog_level = "loud"\n', "config key [server].log_level: expected one of debug"),
        (
            'database = "mysql://x"\n',
            "config key database: expected a sqlite:///path.db or postgresql:// URL",
        ),
        (
            '[procore]\nenvironment = "staging"\n',
            "config key [procore].environment: expected one of production",
        ),
        ('[procore]\nenvironment = "custom"\n', "config key [procore].environment: 'custom' needs"),
        ("server = 3\n", "config key [server]: expected a table"),
        (
            '[[users]]\nusername = "u"\npassword_env = "P"\n',
            "config key [users[0]].connection: required",
        ),
        (
            '[[users]]\nusername = "u"\nconnection = "c"\n',
            "config key [users[0]].password_hash: give exactly one",
        ),
        (
            "[qwc]\nrun_every_minutes = 0\n",
            "config key [qwc].run_every_minutes: expected an integer 1-1440",
        ),
        ("database = [\n", "is not valid TOML"),
    ],
)
def test_bad_config_names_the_key_and_exits_2(
    cli: Cli, tmp_path: Path, text: str, message: str
) -> None:
    path = write_config(tmp_path / "bad.toml", text)
    code, out, err = cli("connections", "list", "--config", str(path))
    assert code == 2
    assert message in err
    assert err.startswith("qbprocore: error: ")
    assert out == ""


def test_missing_config_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("connections", "list", "--config", str(tmp_path / "none.toml"))
    assert code == 2
    assert "none.toml" in err
    assert "not found" in err


def test_no_database_anywhere_exits_2(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QBPROCORE_DATABASE", raising=False)
    code, _, err = cli("connections", "list")
    assert code == 2
    assert "config key database: required" in err


def test_environment_overrides_file_keys(tmp_path: Path) -> None:
    path = write_config(tmp_path / "q.toml", 'database = "sqlite:///a.db"\n[server]\nport = 1\n')
    key = procore.TokenCipher.generate_key()
    config = load_config(
        path,
        environ={
            "QBPROCORE_DATABASE": "sqlite:///b.db",
            "QBPROCORE_SERVER_PORT": "9000",
            "QBPROCORE_PROCORE_CLIENT_ID": "cid",
            "QBPROCORE_PROCORE_CLIENT_SECRET": "csecret",
            "QBPROCORE_TOKEN_KEY": key,
            "QBPROCORE_PROCORE_TOKEN_STORE": "tokens.db",
        },
    )
    assert config.port == 9000
    # Relative paths are relative to the config file's directory.
    assert config.database == f"sqlite:///{tmp_path / 'b.db'}"
    assert config.procore.token_store == tmp_path / "tokens.db"
    assert config.procore.client_id == "cid"
    assert config.procore.configured
    # Secrets never reach a repr.
    shown = repr(config)
    assert "csecret" not in shown
    assert key not in shown


def test_every_documented_variable_overrides_a_real_key() -> None:
    for variable, key in ENV_VARS.items():
        assert variable.startswith("QBPROCORE_")
        section, _, name = key.rpartition(".")
        assert name
        assert section in ("", "server", "procore", "qwc")


def test_a_bad_secret_is_reported_without_its_value() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({}, environ={"QBPROCORE_TOKEN_KEY": "not-a-fernet-key-SECRET"})
    assert "[procore].token_key" in str(caught.value)
    assert "SECRET" not in str(caught.value)
    assert caught.value.key == "[procore].token_key"


def test_a_database_password_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"database": "mysql://u:hunter2@db/x"}, environ={})
    assert "hunter2" not in str(caught.value)


def test_postgres_url_is_kept_out_of_the_repr() -> None:
    config = parse_config({"database": "postgresql://u:hunter2@db/x"}, environ={})
    assert config.database == "postgresql://u:hunter2@db/x"
    assert "hunter2" not in repr(config)


def test_the_example_config_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "server" / "qbprocore.toml"
    config = load_config(example, environ={})
    assert config.database.startswith("sqlite:///")
    assert config.procore.environment == "developer-sandbox"
    assert [u.username for u in config.users] == ["acme-books"]
