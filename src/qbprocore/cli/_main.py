"""The ``qbprocore`` command line: the parser, and the errors turned into exit codes.

Exit codes: ``0`` done; ``1`` the command could not do it (unknown connection, a conflict,
a refused change, a sync error); ``2`` bad usage or configuration (the message names the
flag or config key).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import textwrap
from collections.abc import Sequence

from qbprocore.cli import _commands as commands

__all__ = ["build_parser", "main"]

_CONFIG_HELP = (
    "TOML config file (default: ./qbprocore.toml if present); QBPROCORE_* environment"
    " variables override its keys"
)

_TOP_EPILOG = """\
examples:
  qbprocore demo                                   simulated two-way sync, no setup needed
  qbprocore serve --config examples/server/qbprocore.toml
  qbprocore connections add --company 5000001 --file acme-books --id acme --name "Acme"
  qbprocore qwc acme --user acme-books -o acme.qwc
  qbprocore status
  qbprocore audit 80000001-1234567890 --connection acme
  qbprocore replay --connection acme

configuration:
  A TOML file (--config, default ./qbprocore.toml) with database = "sqlite:///qbprocore.db"
  or a postgresql:// URL, and [server], [procore], [qwc] and [[users]] sections. Environment
  variables override keys: QBPROCORE_DATABASE, QBPROCORE_SERVER_PORT,
  QBPROCORE_PROCORE_CLIENT_ID, QBPROCORE_PROCORE_CLIENT_SECRET, QBPROCORE_TOKEN_KEY …
  (docs/reference/cli.md lists them all).

exit codes: 0 done, 1 the command failed (e.g. unknown connection), 2 bad usage or config.
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=pathlib.Path, default=None, metavar="PATH", help=_CONFIG_HELP
    )
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="sync store URL, overriding the config (sqlite:///path.db or postgresql://…)",
    )


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON (for scripts)")


def _connection_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--connection",
        "-c",
        metavar="ID",
        default=None,
        help="the connection (may be omitted when the store holds exactly one)",
    )


def _status_args(parser: argparse.ArgumentParser) -> None:
    """The arguments of `connections status` and of `status`, which is the same command."""
    _common(parser)
    parser.add_argument(
        "connection", nargs="?", metavar="CONNECTION", help="one connection (default: all)"
    )
    _json_flag(parser)
    parser.set_defaults(handler=commands.connections_status)


def _sub(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    help: str,
    description: str,
    epilog: str = "",
) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name,
        help=help,
        description=textwrap.fill(description, 88),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - read top to bottom like --help
    """The ``qbprocore`` argument parser (every command, its options and examples)."""
    parser = argparse.ArgumentParser(
        prog="qbprocore",
        description="qbprocore: connect QuickBooks Desktop to Procore.",
        epilog=_TOP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # demo: unchanged from the first release.
    demo = sub.add_parser(
        "demo",
        help="run a complete simulated sync: a construction company in a simulated QuickBooks"
        " and Procore, synced both ways through the real Web Connector endpoint and engine",
        description="Builds a construction company in FakeQuickBooks and FakeProcore, serves"
        " the Web Connector endpoint on 127.0.0.1 with the embedded SQLite store, drives it"
        " with FakeWebConnector and syncs both ways; prints what moved, what verification"
        " held back and why, and a reconciliation. Exits 1 if a duplicate is found.",
    )
    demo.add_argument(
        "--json", action="store_true", help="print the summary as one JSON object (for scripts)"
    )
    demo.add_argument(
        "--database",
        type=pathlib.Path,
        default=None,
        help="SQLite file to create (default: ./qbprocore-demo.db; replaced if it exists)",
    )
    demo.set_defaults(handler=commands.demo)

    serve = _sub(
        sub,
        "serve",
        help="run the reference server (Web Connector endpoint, Procore OAuth, sync worker)",
        description="Serves the reference connector with uvicorn: POST /qbwc for the Web"
        " Connector (GET /qbwc?wsdl), GET /oauth/start?connection=ID and /oauth/callback to"
        " authorize Procore, GET /health; runs the sync engine for every connected connection"
        " every [server].sync_every seconds and after each Web Connector session. Logs are"
        " JSON lines on standard error.",
        epilog="examples:\n  qbprocore serve --config examples/server/qbprocore.toml\n"
        "  QBPROCORE_SERVER_PORT=9000 qbprocore serve\n\n"
        "The Web Connector needs https (except on localhost): put a TLS-terminating reverse"
        " proxy in front\n(see docs/guides/deploy.md).",
    )
    _common(serve)
    serve.add_argument("--host", default=None, help="interface to bind (default: [server].host)")
    serve.add_argument("--port", type=int, default=None, help="port (default: [server].port)")
    serve.set_defaults(handler=commands.serve)

    qwc = _sub(
        sub,
        "qwc",
        help="write the .qwc file a user loads into the Web Connector for a connection",
        description="Writes the QBWCXML file for one connection: AppName (the [qwc].app_name"
        " plus the connection's name: each company file needs its own), AppURL"
        " ([server].public_url + /qbwc), the user name, and OwnerID/FileID derived from the"
        " connection id (the same every time, so regenerating it never asks QuickBooks to"
        " authorize a new application).",
        epilog="examples:\n  qbprocore qwc acme --user acme-books -o acme.qwc\n"
        "  qbprocore qwc acme --url https://qb.example.com/qbwc --run-every-minutes 30",
    )
    _common(qwc)
    qwc.add_argument("connection", metavar="CONNECTION", help="the connection id")
    qwc.add_argument(
        "--user",
        default=None,
        help="Web Connector user name (default: the one [[users]] entry of the connection)",
    )
    qwc.add_argument("--app-name", default=None, help="AppName (default: see above)")
    qwc.add_argument("--url", default=None, help="AppURL (default: [server].public_url/qbwc)")
    qwc.add_argument(
        "--support-url", default=None, help="AppSupport page (default: [qwc].app_support)"
    )
    qwc.add_argument("--owner-id", default=None, help="OwnerID GUID in braces (default: derived)")
    qwc.add_argument("--file-id", default=None, help="FileID GUID in braces (default: derived)")
    qwc.add_argument(
        "--run-every-minutes",
        type=int,
        default=None,
        help="Web Connector schedule (default: [qwc].run_every_minutes)",
    )
    qwc.add_argument(
        "--output", "-o", type=pathlib.Path, default=None, help="file to write (default: stdout)"
    )
    qwc.set_defaults(handler=commands.qwc)

    conns = _sub(
        sub,
        "connections",
        help="list, add, map projects, reconnect, disconnect, and show status of connections",
        description="A connection links one QuickBooks company file to one Procore company."
        " Changes are made as a company admin (the operator running this command).",
        epilog="examples:\n  qbprocore connections list\n"
        "  qbprocore connections add --company 5000001 --file acme-books --id acme\n"
        "  qbprocore connections map-projects acme 101 102\n"
        "  qbprocore connections map-projects acme --all\n"
        "  qbprocore connections status acme --json",
    )
    csub = conns.add_subparsers(dest="action", metavar="ACTION")
    conns.set_defaults(handler=lambda args: _help(conns))

    c_list = _sub(
        csub,
        "list",
        help="every connection: id, name, state, Procore company, company file",
        description="Lists every connection in the store, disconnected ones included.",
        epilog="example:\n  qbprocore connections list --json",
    )
    _common(c_list)
    _json_flag(c_list)
    c_list.set_defaults(handler=commands.connections_list)

    c_add = _sub(
        csub,
        "add",
        help="connect a company file to a Procore company",
        description="Creates a connection (all projects unless --projects is given). Adding"
        " a company file whose connection was disconnected restores it with its settings.",
        epilog="examples:\n  qbprocore connections add --company 5000001 --file acme-books"
        ' --id acme --name "Acme Builders"\n'
        "  qbprocore connections add --company 5000001 --file acme-2 --projects 101,102",
    )
    _common(c_add)
    c_add.add_argument("--company", type=int, required=True, help="the Procore company id")
    c_add.add_argument(
        "--file", required=True, help="a stable id of the QuickBooks company file (your choice)"
    )
    c_add.add_argument("--id", default=None, help="the connection id (default: derived)")
    c_add.add_argument("--name", default="", help="a name people recognize")
    c_add.add_argument(
        "--environment",
        default=None,
        help="Procore environment name (default: [procore].environment)",
    )
    c_add.add_argument(
        "--credentials-ref",
        default=None,
        help="token-store key of its Procore tokens (default: procore/<environment>/<company>)",
    )
    c_add.add_argument(
        "--projects", default=None, help="comma-separated project ids (default: all projects)"
    )
    _json_flag(c_add)
    c_add.set_defaults(handler=commands.connections_add)

    c_map = _sub(
        csub,
        "map-projects",
        help="select the projects a connection syncs, or map all projects",
        description="Selects projects for a connection (a project belongs to at most one"
        " connection: selecting it here moves it, and the move is printed), or with --all"
        " maps every project not selected elsewhere.",
        epilog="examples:\n  qbprocore connections map-projects acme 101 102\n"
        "  qbprocore connections map-projects acme --all",
    )
    _common(c_map)
    c_map.add_argument("connection", metavar="CONNECTION", help="the connection id")
    c_map.add_argument("projects", nargs="*", type=int, metavar="PROJECT_ID", help="project ids")
    c_map.add_argument("--all", action="store_true", help="map all projects")
    c_map.set_defaults(handler=commands.connections_map)

    for name, text, handler in (
        (
            "reconnect",
            "re-enable a connection; its settings, mappings and projects are kept",
            commands.connections_reconnect,
        ),
        (
            "disconnect",
            "stop syncing a connection (soft delete: everything is kept for a reconnect)",
            commands.connections_disconnect,
        ),
    ):
        p = _sub(
            csub,
            name,
            help=text,
            description=text[0].upper() + text[1:] + ".",
            epilog=f"example:\n  qbprocore connections {name} acme",
        )
        _common(p)
        p.add_argument("connection", metavar="CONNECTION", help="the connection id")
        if name == "reconnect":
            p.add_argument("--credentials-ref", default=None, help="a new token-store key")
        p.set_defaults(handler=handler)

    c_status = _sub(
        csub,
        "status",
        help="state, last sync, synced counts, pending work and open problems",
        description="Shows each connection (or one): its state and why, when it last"
        " synced, how many records are paired per entity, what is pending, and how many"
        " failed or blocked records wait for a person (see `qbprocore replay`).",
        epilog="examples:\n  qbprocore connections status\n"
        "  qbprocore connections status acme --json",
    )
    _status_args(c_status)

    # `qbprocore status` is the same as `qbprocore connections status`: the command people
    # reach for first.
    _status_args(
        _sub(
            sub,
            "status",
            help="each connection's state, last sync, counts and open problems",
            description="The same as `qbprocore connections status`.",
            epilog="examples:\n  qbprocore status\n  qbprocore status acme --json",
        )
    )

    audit = _sub(
        sub,
        "audit",
        help="one record's journey through the sync, by QuickBooks id or Procore id",
        description="Prints every audit event of one record, oldest first: received, mapped,"
        " verified or blocked, written, failed, retried, deleted. An id of digits is taken as"
        " a Procore id, anything else as a QuickBooks ListID/TxnID (force with --quickbooks"
        " or --procore).",
        epilog="examples:\n  qbprocore audit 80000001-1234567890 --connection acme\n"
        "  qbprocore audit 8589934593 --procore --json",
    )
    _common(audit)
    audit.add_argument("record", metavar="ID", help="the record's QuickBooks or Procore id")
    _connection_flag(audit)
    side = audit.add_mutually_exclusive_group()
    side.add_argument("--quickbooks", action="store_true", help="ID is a QuickBooks id")
    side.add_argument("--procore", action="store_true", help="ID is a Procore id")
    _json_flag(audit)
    audit.set_defaults(handler=commands.audit)

    replay = _sub(
        sub,
        "replay",
        help="queue failed and blocked records (and failed QuickBooks writes) again",
        description="Puts failed and blocked staged records back in the queue, and failed"
        " QuickBooks writes back in the outbox; the next engine run and Web Connector session"
        " take them up. Fix the cause first (a mapping, a setting, the data).",
        epilog="examples:\n  qbprocore replay --connection acme\n"
        "  qbprocore replay --connection acme --record 17 --record 18",
    )
    _common(replay)
    _connection_flag(replay)
    replay.add_argument(
        "--record",
        type=int,
        action="append",
        default=None,
        metavar="N",
        help="only this staged record (repeatable; default: every failed or blocked one)",
    )
    replay.set_defaults(handler=commands.replay)

    hashpw = _sub(
        sub,
        "hash-password",
        help="hash a Web Connector password for [[users]].password_hash",
        description="Reads a password (prompted twice, or one line from standard input when"
        " it is not a terminal) and prints its scrypt hash. Only the hash goes in the config.",
        epilog="examples:\n  qbprocore hash-password\n"
        "  printf '%s' \"$PASSWORD\" | qbprocore hash-password",
    )
    hashpw.set_defaults(handler=commands.hash_password)

    genkey = _sub(
        sub,
        "generate-key",
        help="print a new token-store encryption key for QBPROCORE_TOKEN_KEY",
        description="Prints a fresh Fernet key. To rotate keys, put the new key first in"
        " QBPROCORE_TOKEN_KEY (comma-separated, newest first) and keep the old ones until every"
        " token has been re-encrypted (see docs/guides/deploy.md).",
        epilog="example:\n  export QBPROCORE_TOKEN_KEY=$(qbprocore generate-key)",
    )
    genkey.set_defaults(handler=commands.generate_key)
    return parser


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``qbprocore`` command; return its exit code.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        ``0`` done, ``1`` the command failed, ``2`` bad usage or configuration (the
        message on standard error names the flag or config key).

    Examples:
        >>> main(["connections", "list", "--database", "mysql://nowhere"])
        2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    handler = getattr(args, "handler", None)
    if handler is None:
        return _help(parser)
    return commands.run(handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
