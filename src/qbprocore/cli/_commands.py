"""What each ``qbprocore`` command does, on the public API of the library.

Handlers take the parsed arguments and return the exit code; `run` turns the library's
errors into a one-line message and an exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported where used, so `qbprocore --help` does not load every layer.
    from qbprocore import procore
    from qbprocore.server import ServerConfig
    from qbprocore.sync import Actor, Connection, Store

__all__ = ["run"]

Handler = Callable[[argparse.Namespace], int]


def _err(message: str) -> None:
    print(f"qbprocore: error: {message}", file=sys.stderr)


def run(handler: Handler, args: argparse.Namespace) -> int:
    """Run a command handler; map errors to exit codes (1: failed, 2: bad usage/config)."""
    from qbprocore import qbwc, sync
    from qbprocore.server import ConfigError

    try:
        return handler(args)
    except ConfigError as exc:
        _err(str(exc))
        return 2
    except qbwc.QwcError as exc:
        _err(f"bad .qwc value: {exc}")
        return 2
    except sync.ConnectionNotFoundError as exc:
        _err(f"no connection {exc.connection_id!r} (see `qbprocore connections list`)")
        return 1
    except (sync.SyncError, _CommandError) as exc:
        _err(str(exc))
        return 1


class _CommandError(Exception):
    """The command could not do what was asked (exit code 1)."""


# -- shared helpers -------------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> ServerConfig:
    from qbprocore.server import load_config

    environ = dict(os.environ)
    database = getattr(args, "database", None)
    if database:
        # The flag is the strongest override, and goes through the same checks as the key.
        environ["QBPROCORE_DATABASE"] = database
    return load_config(getattr(args, "config", None), environ=environ)


@contextlib.contextmanager
def _store(args: argparse.Namespace) -> Iterator[Store]:
    from qbprocore.server import ConfigError, open_store

    config = _config(args)
    try:
        store = open_store(config)
    except ConfigError:
        raise
    except Exception as exc:  # sqlite3, psycopg or a StoreError: say which, no traceback
        # Driver messages name the host and file, never the password of the URL.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _CommandError(f"cannot open the sync store: {reason}") from exc
    try:
        yield store
    finally:
        store.close()


def _actor() -> Actor:
    from qbprocore.sync import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in a minimal container
        user = "unknown"
    # The operator at the command line manages connections as a company admin.
    return Actor(user_id=f"cli:{user}", is_company_admin=True)


def _connection(store: Store, wanted: str | None) -> Connection:
    from qbprocore.sync import ConnectionNotFoundError

    if wanted:
        found = store.get_connection(wanted)
        if found is None:
            raise ConnectionNotFoundError(wanted)
        return found
    connections = store.list_connections()
    if len(connections) == 1:
        return connections[0]
    if not connections:
        raise _CommandError(
            "the store holds no connection (add one with `qbprocore connections add`)"
        )
    ids = ", ".join(c.id for c in connections)
    raise _CommandError(f"several connections ({ids}): name one with --connection ID")


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "never"


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


# -- demo, serve, keys ----------------------------------------------------------------------------


def demo(args: argparse.Namespace) -> int:
    """``qbprocore demo``: the simulated two-way sync (`qbprocore._demo.run_demo`)."""
    from qbprocore._demo import run_demo

    result = run_demo(sys.stdout, database=args.database, as_json=args.json)
    return 0 if result["duplicates"] == 0 else 1


def serve(args: argparse.Namespace) -> int:
    """``qbprocore serve``: the reference server under uvicorn."""
    from qbprocore.server import ConfigError

    config = _config(args)
    host = args.host or config.host
    port = args.port if args.port is not None else config.port
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port: expected an integer 1-65535, got {port!r}", key="--port")
    try:
        import uvicorn
    except ImportError:
        raise _CommandError("`qbprocore serve` needs uvicorn: pip install uvicorn") from None
    from qbprocore.server import configure_logging, create_app

    configure_logging(config.log_level)
    app = create_app(config)
    # uvicorn's own access log would print query strings (OAuth codes): ours logs paths only.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
    return 0


def hash_password(args: argparse.Namespace) -> int:
    """``qbprocore hash-password``: an scrypt hash for ``[[users]].password_hash``."""
    from qbprocore import qbwc

    if sys.stdin.isatty():
        password = getpass.getpass("Web Connector password: ")
        if getpass.getpass("Again: ") != password:
            raise _CommandError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise _CommandError("empty password")
    print(qbwc.hash_password(password))
    return 0


def generate_key(args: argparse.Namespace) -> int:
    """``qbprocore generate-key``: a new Fernet key for the token store."""
    from qbprocore import procore

    print(procore.TokenCipher.generate_key())
    return 0


# -- qwc ------------------------------------------------------------------------------------------


def qwc(args: argparse.Namespace) -> int:
    """``qbprocore qwc``: the ``.qwc`` file of one connection."""
    from qbprocore import qbwc

    config = _config(args)
    with _store(args) as store:
        connection = _connection(store, args.connection)
    connection_id = connection.id
    username = args.user
    if username is None:
        users = config.users_of(connection_id)
        if len(users) != 1:
            found = ", ".join(u.username for u in users) or "none"
            raise _CommandError(
                f"connection {connection_id!r} has {len(users)} Web Connector users in the"
                f" config ({found}): name one with --user"
            )
        username = users[0].username
    options: dict[str, object] = {
        "app_description": "qbprocore: QuickBooks ↔ Procore for"
        f" {connection.name or connection.id}",
    }
    minutes = args.run_every_minutes or config.qwc.run_every_minutes
    if minutes is not None:
        options["run_every_n_minutes"] = minutes
    file = qbwc.QwcFile.for_connection(
        connection_id,
        app_name=args.app_name or f"{config.qwc.app_name} - {connection.name or connection.id}",
        app_url=args.url or config.qbwc_url,
        app_support=args.support_url or config.qwc.app_support,
        username=username,
        **options,
    )
    if args.owner_id or args.file_id:
        import attrs

        file = attrs.evolve(
            file,
            owner_id=args.owner_id or file.owner_id,
            file_id=args.file_id or file.file_id,
        )
    data = file.to_xml()
    if args.output is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        args.output.write_bytes(data)
        print(f"wrote {args.output} (load it in the Web Connector: Add an application)")
    return 0


# -- connections ----------------------------------------------------------------------------------


def _connection_dict(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "state": c.state.value,
        "procore_company_id": c.procore_company_id,
        "company_file_id": c.company_file_id,
        "environment": c.environment,
        "project_scope": c.project_scope.value,
        "last_sync_at": _when(c.last_sync_at),
    }


def connections_list(args: argparse.Namespace) -> int:
    """``qbprocore connections list``."""
    with _store(args) as store:
        rows = [_connection_dict(c) for c in store.list_connections()]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no connections (add one with `qbprocore connections add`)")
        return 0
    header = ("ID", "NAME", "STATE", "COMPANY", "FILE", "ENVIRONMENT", "PROJECTS")
    table = [header] + [
        (
            r["id"],
            r["name"],
            r["state"],
            str(r["procore_company_id"]),
            r["company_file_id"],
            r["environment"],
            r["project_scope"],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _project_ids(text: str | None) -> list[int] | None:
    from qbprocore.server import ConfigError

    if text is None:
        return None
    try:
        return [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise ConfigError(
            f"--projects: expected comma-separated project ids, got {text!r}", key="--projects"
        ) from None


def _print_moves(change: Any) -> None:
    for move in change.reassigned:
        origin = move.from_connection_name or move.from_connection_id
        print(f"  project {move.project_id} moved here from connection {origin!r}")


def connections_add(args: argparse.Namespace) -> int:
    """``qbprocore connections add``."""
    from qbprocore.sync import ConnectionManager

    config = _config(args)
    environment = args.environment or (
        "custom" if config.procore.environment == "custom" else config.procore.environment
    )
    with _store(args) as store:
        change = ConnectionManager(store).create(
            actor=_actor(),
            procore_company_id=args.company,
            company_file_id=args.file,
            credentials_ref=args.credentials_ref or f"procore/{environment}/{args.company}",
            name=args.name,
            environment=environment,
            projects=_project_ids(args.projects),
            connection_id=args.id,
        )
    c = change.connection
    if args.json:
        _print_json({**_connection_dict(c), "restored": change.restored})
        return 0
    verb = "restored" if change.restored else "added"
    print(
        f"{verb} connection {c.id} ({c.name}): Procore company {c.procore_company_id},"
        f" company file {c.company_file_id!r}, {c.project_scope.value} projects"
    )
    _print_moves(change)
    print(
        f"next: give it a Web Connector user in [[users]] (connection = {c.id!r}), then"
        f" `qbprocore qwc {c.id}`"
    )
    return 0


def connections_map(args: argparse.Namespace) -> int:
    """``qbprocore connections map-projects``."""
    from qbprocore.server import ConfigError
    from qbprocore.sync import ConnectionManager

    if args.all == bool(args.projects):
        raise ConfigError(
            "map-projects: give project ids or --all (not both, not neither)", key="--all"
        )
    with _store(args) as store:
        manager = ConnectionManager(store)
        if args.all:
            connection = manager.map_all_projects(args.connection, actor=_actor())
            print(f"connection {connection.id} now maps all projects not selected elsewhere")
            return 0
        change = manager.select_projects(args.connection, args.projects, actor=_actor())
    projects = ", ".join(str(p) for p in args.projects)
    print(f"connection {change.connection.id} now syncs projects {projects}")
    _print_moves(change)
    return 0


def connections_reconnect(args: argparse.Namespace) -> int:
    """``qbprocore connections reconnect``."""
    from qbprocore.sync import ConnectionManager

    with _store(args) as store:
        c = ConnectionManager(store).reconnect(
            args.connection, actor=_actor(), credentials_ref=args.credentials_ref
        )
    print(f"connection {c.id} is {c.state.value}; settings, mappings and projects kept")
    return 0


def connections_disconnect(args: argparse.Namespace) -> int:
    """``qbprocore connections disconnect``."""
    from qbprocore.sync import ConnectionManager

    with _store(args) as store:
        c = ConnectionManager(store).disconnect(args.connection, actor=_actor())
    print(f"connection {c.id} is {c.state.value}: nothing syncs; reconnect to resume")
    return 0


def _status_dict(s: Any) -> dict[str, Any]:
    return {
        "id": s.connection_id,
        "name": s.name,
        "state": s.state.value,
        "state_reason": s.state_reason,
        "last_sync_at": _when(s.last_sync_at),
        "project_scope": s.project_scope.value,
        "selected_projects": list(s.selected_projects),
        "synced": {e.value: n for e, n in sorted(s.synced.items(), key=lambda i: i[0].value)},
        "pending": s.pending,
        "open_problems": s.open_problems,
    }


def connections_status(args: argparse.Namespace) -> int:
    """``qbprocore connections status``."""
    from qbprocore.sync import ConnectionManager

    with _store(args) as store:
        manager = ConnectionManager(store)
        if args.connection:
            statuses = [manager.status(args.connection)]
        else:
            statuses = [manager.status(c.id) for c in store.list_connections()]
    rows = [_status_dict(s) for s in statuses]
    if args.json:
        _print_json(rows if not args.connection else rows[0])
        return 0
    if not rows:
        print("no connections (add one with `qbprocore connections add`)")
        return 0
    for r in rows:
        state = r["state"] + (f" ({r['state_reason']})" if r["state_reason"] else "")
        scope = r["project_scope"]
        if r["selected_projects"]:
            scope += ": " + ", ".join(str(p) for p in r["selected_projects"])
        synced = ", ".join(f"{k} {v}" for k, v in r["synced"].items()) or "nothing yet"
        print(f"{r['id']} ({r['name']})")
        print(f"  state:         {state}")
        print(f"  last sync:     {r['last_sync_at']}")
        print(f"  projects:      {scope}")
        print(f"  synced:        {synced}")
        print(f"  pending:       {r['pending']}")
        hint = " (see `qbprocore replay`)" if r["open_problems"] else ""
        print(f"  open problems: {r['open_problems']}{hint}")
    return 0


# -- audit and replay -----------------------------------------------------------------------------


def audit(args: argparse.Namespace) -> int:
    """``qbprocore audit``: one record's journey."""
    from qbprocore.server import ConfigError
    from qbprocore.sync import journey

    record: str = args.record.strip()
    as_procore = args.procore or (not args.quickbooks and record.isdigit())
    if as_procore and not record.isdigit():
        raise ConfigError(f"--procore: a Procore id is a number, got {record!r}", key="ID")
    with _store(args) as store:
        connection_id = _connection(store, args.connection).id
        events = (
            journey(store, connection_id, procore_id=int(record))
            if as_procore
            else journey(store, connection_id, qb_id=record)
        )
    rows = [
        {
            "at": _when(e.at),
            "entity": e.entity.value,
            "stage": e.stage.value,
            "qb_id": e.qb_id,
            "procore_id": e.procore_id,
            "detail": e.detail,
        }
        for e in events
    ]
    side = "Procore" if as_procore else "QuickBooks"
    if args.json:
        _print_json({"connection": connection_id, "id": record, "side": side, "events": rows})
        return 0 if rows else 1
    if not rows:
        print(f"no audit events for {side} id {record!r} in connection {connection_id!r}")
        return 1
    print(f"{side} id {record} in connection {connection_id}: {len(rows)} events")
    for r in rows:
        ids = " ".join(
            part
            for part in (
                f"qb={r['qb_id']}" if r["qb_id"] else "",
                f"procore={r['procore_id']}" if r["procore_id"] is not None else "",
            )
            if part
        )
        print(f"  {r['at']}  {r['entity']:<12} {r['stage']:<9} {ids}  {r['detail']}".rstrip())
    return 0


def _no_procore(connection: Connection) -> procore.ProcoreClient:
    raise _CommandError(
        "replay only re-queues records and needs no Procore client; this code path is a bug"
    )


def replay(args: argparse.Namespace) -> int:
    """``qbprocore replay``: queue failed and blocked records again."""
    from qbprocore.sync import SyncEngine

    with _store(args) as store:
        connection_id = _connection(store, args.connection).id
        engine = SyncEngine(store, procore_client=_no_procore)
        count = engine.replay(connection_id, record_ids=args.record)
    print(
        f"queued {count} record(s) again for connection {connection_id}; the next sync run"
        " and Web Connector session take them up"
    )
    return 0
