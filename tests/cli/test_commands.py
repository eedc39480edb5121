"""Each ``qbprocore`` command, run in process through `qbprocore.cli.main`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from qbprocore import qbwc
from qbprocore.sync import ConnectionState, Entity, ItemStatus, SQLiteStore
from tests.cli.conftest import Cli


def _db(path: Path) -> str:
    return f"sqlite:///{path}"


def test_help_teaches_every_command_with_examples(cli: Cli) -> None:
    code, out, _ = cli("--help")
    assert code == 0
    for command in ("demo", "serve", "qwc", "connections", "audit", "replay", "hash-password"):
        assert command in out
    assert "examples:" in out
    assert "QBPROCORE_DATABASE" in out
    code, out, _ = cli("connections", "add", "--help")
    assert code == 0
    assert "qbprocore connections add --company" in out


def test_no_command_prints_help_and_exits_2(cli: Cli) -> None:
    code, out, _ = cli()
    assert code == 2
    assert "usage: qbprocore" in out


def test_add_list_map_disconnect_reconnect_and_status(cli: Cli, config_file: Path) -> None:
    c = ("--config", str(config_file))
    code, out, err = cli(
        "connections",
        "add",
        *c,
        "--company",
        "7",
        "--file",
        "acme-books",
        "--id",
        "acme",
        "--name",
        "Acme Builders",
    )
    assert (code, err) == (0, "")
    assert "added connection acme" in out
    code, out, _ = cli(
        "connections",
        "add",
        *c,
        "--company",
        "7",
        "--file",
        "north",
        "--id",
        "north",
        "--projects",
        "11,12",
    )
    assert code == 0
    # Project 11 and 12 were covered by acme's "all projects": the move is reported.
    assert "project 11 moved here" in out

    code, out, _ = cli("connections", "list", *c, "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert set(rows) == {"acme", "north"}
    assert rows["acme"]["project_scope"] == "all"
    assert rows["north"]["project_scope"] == "selected"
    code, out, _ = cli("connections", "list", *c)
    assert code == 0
    assert out.splitlines()[0].split() == [
        "ID",
        "NAME",
        "STATE",
        "COMPANY",
        "FILE",
        "ENVIRONMENT",
        "PROJECTS",
    ]

    code, out, _ = cli("connections", "map-projects", *c, "acme", "12", "13")
    assert code == 0
    assert "project 12 moved here from connection 'north'" in out
    code, out, _ = cli("connections", "status", *c, "acme", "--json")
    status = json.loads(out)
    # `qbprocore status` says the same.
    same_code, same_out, _ = cli("status", *c, "acme", "--json")
    assert (same_code, json.loads(same_out)) == (code, status)
    assert status["selected_projects"] == [12, 13]
    assert status["state"] == "connected"
    assert status["open_problems"] == 0

    code, out, _ = cli("connections", "disconnect", *c, "north")
    assert code == 0
    store = SQLiteStore(config_file.parent / "sync.db")
    north = store.get_connection("north")
    assert north is not None
    assert north.state is ConnectionState.DISCONNECTED
    code, out, _ = cli("connections", "reconnect", *c, "north")
    assert code == 0
    north = store.get_connection("north")
    assert north is not None
    assert north.state is ConnectionState.CONNECTED
    store.close()

    code, out, _ = cli("connections", "status", *c)
    assert code == 0
    assert "acme (Acme Builders)" in out
    assert "last sync:     never" in out

    code, out, err = cli("connections", "map-projects", *c, "north", "--all")
    # acme maps selected projects now, so north may take "all projects".
    assert code == 0, err
    assert "all projects" in out


def test_map_projects_needs_ids_or_all(cli: Cli, config_file: Path) -> None:
    cli(
        "connections",
        "add",
        "--config",
        str(config_file),
        "--company",
        "7",
        "--file",
        "f",
        "--id",
        "acme",
    )
    code, _, err = cli("connections", "map-projects", "--config", str(config_file), "acme")
    assert code == 2
    assert "project ids or --all" in err


def test_conflicts_exit_1_with_the_reason(cli: Cli, config_file: Path) -> None:
    c = ("--config", str(config_file))
    cli("connections", "add", *c, "--company", "7", "--file", "f1", "--id", "a")
    code, _, err = cli("connections", "add", *c, "--company", "7", "--file", "f2", "--id", "b")
    assert code == 1
    assert "already maps all projects" in err


@pytest.mark.parametrize(
    "args",
    [
        ("connections", "status", "nope"),
        ("connections", "disconnect", "nope"),
        ("connections", "reconnect", "nope"),
        ("connections", "map-projects", "nope", "1"),
        ("qwc", "nope"),
        ("audit", "X-1", "--connection", "nope"),
        ("replay", "--connection", "nope"),
    ],
)
def test_unknown_connection_exits_1_and_says_so(
    cli: Cli, config_file: Path, args: tuple[str, ...]
) -> None:
    code, out, err = cli(*args, "--config", str(config_file))
    assert code == 1
    assert "no connection 'nope'" in err
    assert out == ""


def test_qwc_is_valid_xml_with_the_connection_fields(
    cli: Cli, config_file: Path, tmp_path: Path
) -> None:
    c = ("--config", str(config_file))
    cli(
        "connections",
        "add",
        *c,
        "--company",
        "7",
        "--file",
        "acme-books",
        "--id",
        "acme",
        "--name",
        "Acme",
    )
    code, out, err = cli("qwc", *c, "acme")
    assert code == 0, err
    root = etree.fromstring(out.encode())
    assert root.tag == "QBWCXML"
    assert root.findtext("AppName") == "qbprocore - Acme"
    assert root.findtext("AppURL") == "https://qb.example.com/qbwc"
    assert root.findtext("UserName") == "acme-books"  # the config's user of this connection
    assert root.findtext("OwnerID") == qbwc.stable_guid("owner", "acme")
    assert root.findtext("FileID") == qbwc.stable_guid("file", "acme")
    assert root.findtext("QBType") == "QBFS"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "15"
    # Regenerating gives the same IDs (QBWC would otherwise treat it as a new application).
    code, again, _ = cli("qwc", *c, "acme")
    assert again == out

    target = tmp_path / "acme.qwc"
    code, out, _ = cli(
        "qwc",
        *c,
        "acme",
        "--user",
        "other-user",
        "--app-name",
        "Acme QB",
        "--url",
        "https://sync.example.org/qbwc",
        "-o",
        str(target),
    )
    assert code == 0
    root = etree.fromstring(target.read_bytes())
    assert root.findtext("UserName") == "other-user"
    assert root.findtext("AppName") == "Acme QB"
    assert root.findtext("AppURL") == "https://sync.example.org/qbwc"


def test_qwc_refuses_plain_http_for_a_remote_host(cli: Cli, config_file: Path) -> None:
    c = ("--config", str(config_file))
    cli("connections", "add", *c, "--company", "7", "--file", "f", "--id", "acme")
    code, _, err = cli("qwc", *c, "acme", "--url", "http://qb.example.com/qbwc")
    assert code == 2
    assert "AppURL must use https" in err


def test_audit_by_quickbooks_id_and_by_procore_id(cli: Cli, demo_copy: Path) -> None:
    store = SQLiteStore(demo_copy)
    vendor = next(x for x in store.list_xrefs("demo", Entity.VENDOR) if x.qb_id and x.procore_id)
    store.close()
    d = ("--database", _db(demo_copy))
    code, out, err = cli("audit", vendor.qb_id or "", *d)  # one connection: no --connection
    assert code == 0, err
    assert f"QuickBooks id {vendor.qb_id} in connection demo" in out
    code, out, _ = cli("audit", str(vendor.procore_id), "--connection", "demo", "--json", *d)
    assert code == 0
    data = json.loads(out)
    assert data["side"] == "Procore"
    stages = [e["stage"] for e in data["events"]]
    assert stages
    assert all(e["entity"] == "vendor" for e in data["events"])
    # Either id finds the same journey.
    code, out_qb, _ = cli("audit", vendor.qb_id or "", "--quickbooks", "--json", *d)
    assert [e["stage"] for e in json.loads(out_qb)["events"]] == stages


def test_audit_of_an_unknown_record_exits_1(cli: Cli, demo_copy: Path) -> None:
    code, out, _ = cli("audit", "NOPE-1", "--database", _db(demo_copy))
    assert code == 1
    assert "no audit events" in out


def test_replay_requeues_blocked_records(cli: Cli, demo_copy: Path) -> None:
    d = ("--database", _db(demo_copy))
    code, out, _ = cli("connections", "status", "demo", "--json", *d)
    assert json.loads(out)["open_problems"] == 2
    code, out, err = cli("replay", *d)
    assert code == 0, err
    assert "queued 2 record(s)" in out
    code, out, _ = cli("connections", "status", "demo", "--json", *d)
    assert json.loads(out)["open_problems"] == 0
    store = SQLiteStore(demo_copy)
    assert len(store.list_staged("demo", status=ItemStatus.BLOCKED)) == 0
    assert any(e.stage.value == "retried" for e in store.events(connection_id="demo"))
    store.close()


def test_replay_of_chosen_records_only(cli: Cli, demo_copy: Path) -> None:
    store = SQLiteStore(demo_copy)
    blocked = store.list_staged("demo", status=ItemStatus.BLOCKED)
    store.close()
    code, out, _ = cli("replay", "--database", _db(demo_copy), "--record", str(blocked[0].id))
    assert code == 0
    assert "queued 1 record(s)" in out


def test_several_connections_need_connection_flag(cli: Cli, config_file: Path) -> None:
    c = ("--config", str(config_file))
    cli("connections", "add", *c, "--company", "7", "--file", "f1", "--id", "a")
    cli("connections", "add", *c, "--company", "7", "--file", "f2", "--id", "b", "--projects", "1")
    code, _, err = cli("replay", *c)
    assert code == 1
    assert "--connection" in err


def test_hash_password_reads_stdin_and_verifies(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pw\n"))
    code, out, _ = cli("hash-password")
    assert code == 0
    stored = out.strip()
    assert stored.startswith("scrypt$")
    assert "s3cret-pw" not in out
    auth = qbwc.PasswordAuthenticator()
    auth.add_hash("u", stored)
    assert auth.authenticate("u", "s3cret-pw") is not None


def test_generate_key_makes_a_usable_token_key(cli: Cli) -> None:
    from qbprocore import procore

    code, out, _ = cli("generate-key")
    assert code == 0
    cipher = procore.TokenCipher([out.strip()])
    assert cipher.decrypt(cipher.encrypt(b"x")) == b"x"


def test_demo_keeps_its_flags(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("demo", "--json", "--database", str(tmp_path / "d.db"))
    assert code == 0
    assert json.loads(out)["duplicates"] == 0


def test_an_unreachable_store_exits_1_without_a_traceback(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "s.db"
    code, out, err = cli("connections", "list", "--database", _db(missing))
    assert code == 1
    assert err == "qbprocore: error: cannot open the sync store: unable to open database file\n"
    assert out == ""
