"""The reference server's configuration: a TOML file, then environment variables on top.

Every key is checked when the file is read, and a bad one is reported with its full name and
what was expected (``config key [server].port: expected an integer 1-65535, got 'abc'``).
Secret values (the Procore client secret, the token key, Web Connector passwords) are never
echoed: not in errors, not in reprs.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from qbprocore._errors import QbprocoreError

if TYPE_CHECKING:
    from qbprocore.sync import Store

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_CONFIG",
    "ENV_VARS",
    "ConfigError",
    "ProcoreSettings",
    "QwcSettings",
    "ServerConfig",
    "UserConfig",
    "load_config",
    "open_store",
    "parse_config",
]

DEFAULT_CONFIG = "qbprocore.toml"
"""The config file read when none is named (in the current directory)."""

ENV_VARS: Mapping[str, str] = {
    "QBPROCORE_DATABASE": "database",
    "QBPROCORE_SERVER_HOST": "server.host",
    "QBPROCORE_SERVER_PORT": "server.port",
    "QBPROCORE_SERVER_PUBLIC_URL": "server.public_url",
    "QBPROCORE_SERVER_SYNC_EVERY": "server.sync_every",
    "QBPROCORE_SERVER_LOG_LEVEL": "server.log_level",
    "QBPROCORE_PROCORE_ENVIRONMENT": "procore.environment",
    "QBPROCORE_PROCORE_LOGIN_URL": "procore.login_url",
    "QBPROCORE_PROCORE_API_URL": "procore.api_url",
    "QBPROCORE_PROCORE_CLIENT_ID": "procore.client_id",
    "QBPROCORE_PROCORE_CLIENT_SECRET": "procore.client_secret",
    "QBPROCORE_PROCORE_TOKEN_STORE": "procore.token_store",
    "QBPROCORE_TOKEN_KEY": "procore.token_key",
    "QBPROCORE_QWC_APP_NAME": "qwc.app_name",
    "QBPROCORE_QWC_APP_SUPPORT": "qwc.app_support",
}
"""Environment variables that override config keys (variable → ``section.key``)."""

_SECRET_KEYS = frozenset({"procore.client_secret", "procore.token_key"})
_ENVIRONMENTS = ("production", "developer-sandbox", "monthly-sandbox", "custom")
_LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(QbprocoreError, ValueError):
    """A config key is missing, unknown or has a value of the wrong kind.

    Attributes:
        key: The key, as ``[section].name`` (``database`` for top-level keys).
    """

    def __init__(self, message: str, *, key: str = "") -> None:
        super().__init__(message)
        self.key = key


@attrs.frozen(kw_only=True)
class UserConfig:
    """One Web Connector login (one per company file).

    Attributes:
        username: The ``.qwc`` UserName.
        connection: The connection its sessions serve (the authenticator's tenant).
        password_hash: A `qbprocore.qbwc.hash_password` hash (``qbprocore hash-password``).
        password_env: Or: the environment variable holding the password.
        company_file: The company file path to open (``""``: the file open in QuickBooks).
    """

    username: str
    connection: str
    password_hash: str = attrs.field(default="", repr=False)
    password_env: str = ""
    company_file: str = ""


@attrs.frozen(kw_only=True)
class ProcoreSettings:
    """The Procore app this server signs in as.

    Attributes:
        environment: ``production``, ``developer-sandbox``, ``monthly-sandbox`` or
            ``custom`` (then `login_url` and `api_url` are used).
        login_url: OAuth host of a custom environment.
        api_url: API host of a custom environment.
        client_id: The app's client id (``""``: Procore is not configured, nothing syncs).
        client_secret: The app's client secret (never shown).
        token_store: The encrypted SQLite token file.
        token_keys: Fernet keys for the token store, newest first (never shown).
    """

    environment: str = "production"
    login_url: str = ""
    api_url: str = ""
    client_id: str = ""
    client_secret: str = attrs.field(default="", repr=False)
    token_store: pathlib.Path | None = None
    token_keys: tuple[str, ...] = attrs.field(default=(), repr=False)

    @property
    def configured(self) -> bool:
        """A client id, secret, token store and key are all set."""
        return bool(self.client_id and self.client_secret and self.token_store and self.token_keys)


@attrs.frozen(kw_only=True)
class QwcSettings:
    """Defaults for the ``.qwc`` files the ``qwc`` command writes.

    Attributes:
        app_name: The application name (the connection's name is appended, since each
            company file needs its own).
        app_support: The support page shown in the Web Connector (default: the public URL).
        run_every_minutes: The Web Connector's schedule (``None``: the user sets it).
    """

    app_name: str = "qbprocore"
    app_support: str = ""
    run_every_minutes: int | None = 15


@attrs.frozen(kw_only=True)
class ServerConfig:
    """Everything the reference server and the ``qbprocore`` command need.

    Attributes:
        database: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a
            ``postgresql://`` URL (kept out of the repr: it may hold a password).
        host: Interface ``qbprocore serve`` binds to.
        port: Port it listens on.
        public_url: The server's base URL as the Web Connector and browsers reach it
            (``https://`` in production); ``/qbwc`` and ``/oauth/callback`` hang off it.
        sync_every: Seconds between background engine runs (``0``: no background worker).
        log_level: ``debug``, ``info``, ``warning`` or ``error``.
        procore: The Procore app.
        users: The Web Connector logins.
        qwc: ``.qwc`` defaults.
        source: The file the config came from (``None``: defaults and environment only).

    Examples:
        >>> config = parse_config({"database": "sqlite:///sync.db"}, environ={})
        >>> config.port, config.qbwc_url
        (8000, 'http://127.0.0.1:8000/qbwc')
    """

    database: str = attrs.field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    sync_every: int = 300
    log_level: str = "info"
    procore: ProcoreSettings = attrs.field(factory=ProcoreSettings)
    users: tuple[UserConfig, ...] = ()
    qwc: QwcSettings = attrs.field(factory=QwcSettings)
    source: pathlib.Path | None = None

    @property
    def qbwc_url(self) -> str:
        """The Web Connector endpoint's public URL."""
        return f"{self.public_url}/qbwc"

    @property
    def redirect_uri(self) -> str:
        """The OAuth redirect URI to register with the Procore app."""
        return f"{self.public_url}/oauth/callback"

    def users_of(self, connection_id: str) -> list[UserConfig]:
        """The Web Connector logins of one connection."""
        return [u for u in self.users if u.connection == connection_id]


# -- reading ---------------------------------------------------------------------------------------


def _name(key: str) -> str:
    section, _, name = key.rpartition(".")
    return f"[{section}].{name}" if section else key


def _shown(key: str, value: object) -> str:
    secret = key in _SECRET_KEYS or key.endswith(("password", "password_hash"))
    return "<hidden>" if secret else repr(value)


def _fail(key: str, expected: str, value: object) -> ConfigError:
    return ConfigError(
        f"config key {_name(key)}: expected {expected}, got {_shown(key, value)}", key=_name(key)
    )


class _Reader:
    """Pops typed values out of one table, remembering where they came from."""

    def __init__(self, table: Mapping[str, Any], section: str) -> None:
        self.table = dict(table)
        self.section = section

    def key(self, name: str) -> str:
        return f"{self.section}.{name}" if self.section else name

    def text(self, name: str, default: str) -> str:
        value = self.table.pop(name, default)
        if not isinstance(value, str):
            raise _fail(self.key(name), "a string", value)
        return value.strip()

    def integer(self, name: str, default: int | None, low: int, high: int) -> int | None:
        value = self.table.pop(name, default)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)  # from an environment variable
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(self.key(name), f"an integer {low}-{high}", value)
        return value

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in allowed:
            raise _fail(self.key(name), "one of " + ", ".join(allowed), value)
        return value

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default).rstrip("/")
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise _fail(self.key(name), "an absolute http(s) URL", value)
        return value

    def done(self) -> None:
        if self.table:
            unknown = sorted(self.table)[0]
            raise ConfigError(
                f"config key {_name(self.key(unknown))}: unknown key (check its spelling and"
                " section; see docs/reference/cli.md for every key)",
                key=_name(self.key(unknown)),
            )


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.pop(name, {})
    if not isinstance(value, dict):
        raise ConfigError(
            f"config key [{name}]: expected a table ([{name}] section), got {value!r}",
            key=f"[{name}]",
        )
    return value


def _resolve(base: pathlib.Path, value: str) -> pathlib.Path:
    path = pathlib.Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _database(value: str, base: pathlib.Path) -> str:
    if not value:
        return ""
    if value.startswith(("postgresql://", "postgres://")):
        return value
    if value.startswith("sqlite:///"):
        rest = value[len("sqlite:///") :]
        if not rest:
            raise _fail("database", "a file after sqlite:///", value)
        return f"sqlite:///{_resolve(base, rest)}"
    raise _fail("database", "a sqlite:///path.db or postgresql:// URL", _redact_url(value))


def _redact_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.password:
        return value.replace(parts.password, "***")
    return value


def _users(raw: object) -> tuple[UserConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError(
            "config key [[users]]: expected an array of tables ([[users]] sections)",
            key="[[users]]",
        )
    users: list[UserConfig] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError(f"config key [[users]][{i}]: expected a table", key="[[users]]")
        r = _Reader(item, f"users[{i}]")
        username = r.text("username", "")
        connection = r.text("connection", "")
        password_hash = r.text("password_hash", "")
        password_env = r.text("password_env", "")
        company_file = r.text("company_file", "")
        r.done()
        for field, value in (("username", username), ("connection", connection)):
            if not value:
                raise ConfigError(
                    f"config key [users[{i}]].{field}: required (a non-empty string)",
                    key=f"[users[{i}]].{field}",
                )
        if bool(password_hash) == bool(password_env):
            raise ConfigError(
                f"config key [users[{i}]].password_hash: give exactly one of password_hash"
                " (from `qbprocore hash-password`) or password_env (an environment variable)",
                key=f"[users[{i}]].password_hash",
            )
        if password_hash and not password_hash.startswith("scrypt$"):
            raise ConfigError(
                f"config key [users[{i}]].password_hash: expected a hash made by"
                " `qbprocore hash-password` ('scrypt$...'), got <hidden>",
                key=f"[users[{i}]].password_hash",
            )
        users.append(
            UserConfig(
                username=username,
                connection=connection,
                password_hash=password_hash,
                password_env=password_env,
                company_file=company_file,
            )
        )
    names = [u.username for u in users]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(
                f"config key [[users]]: user name {name!r} appears twice; give each company"
                " file its own Web Connector user",
                key="[[users]]",
            )
    return tuple(users)


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for variable, key in ENV_VARS.items():
        value = environ.get(variable)
        if value is None or value == "":
            continue
        section, _, name = key.rpartition(".")
        table = data.setdefault(section, {}) if section else data
        if not isinstance(table, dict):
            continue  # reported as a bad section by the parser
        table[name] = value


def parse_config(
    data: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    base: pathlib.Path | None = None,
    source: pathlib.Path | None = None,
) -> ServerConfig:
    """Build a `ServerConfig` from parsed TOML, with environment overrides applied.

    Args:
        data: The TOML document as a mapping.
        environ: Environment variables (default: `os.environ`); see `ENV_VARS`.
        base: Relative paths are resolved against this directory (default: the current one).
        source: Where ``data`` came from, for messages.

    Raises:
        ConfigError: A key is unknown, missing or of the wrong kind (the message names it).
    """
    env = os.environ if environ is None else environ
    base = base or pathlib.Path.cwd()
    doc: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    _apply_env(doc, env)
    server = _Reader(_section(doc, "server"), "server")
    procore = _Reader(_section(doc, "procore"), "procore")
    qwc = _Reader(_section(doc, "qwc"), "qwc")
    users = _users(doc.pop("users", []))
    top = _Reader(doc, "")
    database = _database(top.text("database", ""), base)
    top.done()

    host = server.text("host", "127.0.0.1")
    port = server.integer("port", 8000, 1, 65535)
    public_url = server.url("public_url", "") or f"http://{host}:{port}"
    sync_every = server.integer("sync_every", 300, 0, 7 * 24 * 3600)
    log_level = server.choice("log_level", "info", _LOG_LEVELS)
    server.done()

    environment = procore.choice("environment", "production", _ENVIRONMENTS)
    login_url = procore.url("login_url", "")
    api_url = procore.url("api_url", "")
    if environment == "custom" and not (login_url and api_url):
        raise ConfigError(
            "config key [procore].environment: 'custom' needs [procore].login_url and"
            " [procore].api_url",
            key="[procore].environment",
        )
    client_id = procore.text("client_id", "")
    client_secret = procore.text("client_secret", "")
    token_store_text = procore.text("token_store", "")
    token_key = procore.text("token_key", "")
    procore.done()
    keys = tuple(k.strip() for k in token_key.split(",") if k.strip())
    if keys:
        from qbprocore.procore import TokenCipher

        try:
            TokenCipher(keys)
        except ValueError:
            raise _fail(
                "procore.token_key",
                "comma-separated Fernet keys, newest first (make one with"
                " `qbprocore generate-key`)",
                token_key,
            ) from None

    app_name = qwc.text("app_name", "qbprocore")
    app_support = qwc.url("app_support", "") or public_url
    run_every = qwc.integer("run_every_minutes", 15, 1, 24 * 60)
    qwc.done()
    if not app_name:
        raise _fail("qwc.app_name", "a non-empty string", app_name)

    assert port is not None
    assert sync_every is not None
    return ServerConfig(
        database=database,
        host=host,
        port=port,
        public_url=public_url,
        sync_every=sync_every,
        log_level=log_level,
        procore=ProcoreSettings(
            environment=environment,
            login_url=login_url,
            api_url=api_url,
            client_id=client_id,
            client_secret=client_secret,
            token_store=_resolve(base, token_store_text) if token_store_text else None,
            token_keys=keys,
        ),
        users=users,
        qwc=QwcSettings(app_name=app_name, app_support=app_support, run_every_minutes=run_every),
        source=source,
    )


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> ServerConfig:
    """Read a TOML config file, then apply environment overrides (see `ENV_VARS`).

    Relative paths in the file (the SQLite database, the token store) are relative to the
    file's directory.

    Args:
        path: The file. ``None`` reads `DEFAULT_CONFIG` from the current directory if it
            exists, and otherwise starts from defaults (the environment may supply the rest).
        environ: Environment variables (default: `os.environ`).

    Raises:
        ConfigError: The file is missing or not valid TOML, or a key is wrong.

    Examples:
        >>> try:
        ...     load_config(environ={"QBPROCORE_SERVER_PORT": "abc"})
        ... except ConfigError as exc:
        ...     print(exc)
        config key [server].port: expected an integer 1-65535, got 'abc'
    """
    if path is None:
        default = pathlib.Path(DEFAULT_CONFIG)
        if not default.exists():
            return parse_config({}, environ=environ)
        path = default
    file = pathlib.Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {str(file)!r} not found (pass --config PATH, or create it from"
            " examples/server/qbprocore.toml)",
            key="--config",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(file)!r}: {exc}", key="--config") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {str(file)!r} is not valid TOML: {exc}", key="--config"
        ) from None
    return parse_config(data, environ=environ, base=file.resolve().parent, source=file)


def open_store(config: ServerConfig, *, migrate: bool = True) -> Store:
    """Open the sync store `ServerConfig.database` names (SQLite or PostgreSQL).

    Raises:
        ConfigError: No database is configured.
    """
    from qbprocore import sync

    url = config.database
    if not url:
        raise ConfigError(
            'config key database: required: set database = "sqlite:///qbprocore.db" (or a'
            " postgresql:// URL) in the config file, or QBPROCORE_DATABASE",
            key="database",
        )
    if url.startswith("sqlite:///"):
        return sync.SQLiteStore(url[len("sqlite:///") :], migrate=migrate)
    return sync.PostgresStore(url, migrate=migrate)
