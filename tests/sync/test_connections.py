"""Connections: the rules customers rely on, on both stores."""

from __future__ import annotations

import pytest

from qbprocore import sync

from .conftest import Clock

ADMIN = sync.Actor(user_id="7", is_company_admin=True)
CO = 10


def manager(store: sync.Store, clock: Clock, **kw: object) -> sync.ConnectionManager:
    return sync.ConnectionManager(store, clock=clock, **kw)  # type: ignore[arg-type]


def create(m: sync.ConnectionManager, file: str, **kw: object) -> sync.ConnectionChange:
    return m.create(
        actor=ADMIN,
        procore_company_id=CO,
        company_file_id=file,
        credentials_ref=f"procore/{file}",
        name=file,
        **kw,  # type: ignore[arg-type]
    )


def test_create_maps_all_projects_by_default(store: sync.Store, clock: Clock) -> None:
    m = manager(store, clock)
    change = create(m, "main.qbw")
    conn = change.connection
    assert conn.id == sync.connection_id_for(CO, "main.qbw")
    assert conn.project_scope is sync.ProjectScope.ALL
    assert conn.credentials_ref == "procore/main.qbw"  # a reference, not a secret
    assert m.connection_for_project(CO, 123) == conn
    status = m.status(conn.id)
    assert status.connected
    assert not status.needs_reconnection
    assert (status.pending, status.open_problems, status.last_sync_at) == (0, 0, None)


def test_selected_projects_and_reassignment_reports_where_it_was(
    store: sync.Store, clock: Clock
) -> None:
    m = manager(store, clock)
    main = create(m, "main.qbw").connection
    second = create(m, "second.qbw", projects=[1, 2])
    # Projects 1 and 2 were covered by main's "all projects": the move is reported.
    assert [(r.project_id, r.from_connection_id, r.explicit) for r in second.reassigned] == [
        (1, main.id, False),
        (2, main.id, False),
    ]
    third = create(m, "third.qbw", projects=[2, 3])
    assert [(r.project_id, r.from_connection_name, r.explicit) for r in third.reassigned] == [
        (2, "second.qbw", True),
        (3, "main.qbw", False),
    ]
    assert m.connection_for_project(CO, 2) == third.connection
    assert m.connection_for_project(CO, 1) == second.connection
    assert m.connection_for_project(CO, 99) == main
    assert m.status(second.connection.id).selected_projects == (1,)
    m.deselect_projects(second.connection.id, [1, 3], actor=ADMIN)  # 3 is not its to remove
    assert m.connection_for_project(CO, 1) == main
    assert m.connection_for_project(CO, 3) == third.connection


def test_only_one_connection_maps_all_projects(store: sync.Store, clock: Clock) -> None:
    m = manager(store, clock)
    create(m, "main.qbw")
    with pytest.raises(sync.ConnectionConflictError, match="already maps all projects"):
        create(m, "second.qbw")
    second = create(m, "second.qbw", projects=[5]).connection
    with pytest.raises(sync.ConnectionConflictError, match="already maps all projects"):
        m.map_all_projects(second.id, actor=ADMIN)


def test_the_same_file_cannot_be_connected_twice(store: sync.Store, clock: Clock) -> None:
    m = manager(store, clock)
    create(m, "main.qbw")
    with pytest.raises(sync.ConnectionConflictError, match=r"already connected.*reconnect"):
        create(m, "main.qbw", projects=[1])


def test_disconnect_is_soft_and_reconnecting_the_file_restores_it(
    store: sync.Store, clock: Clock
) -> None:
    m = manager(store, clock)
    settings = sync.MappingSettings(vendor_cost_codes={"V-1": 11}, bank_account="Checking")
    conn = create(m, "main.qbw", projects=[4], mapping=settings).connection
    store.link(conn.id, sync.Entity.VENDOR, qb_id="V-1", procore_id=501)
    off = m.disconnect(conn.id, actor=ADMIN)
    assert off.state is sync.ConnectionState.DISCONNECTED
    assert m.connection_for_project(CO, 4) is None  # syncing stops for its projects
    assert store.list_xrefs(conn.id)  # mappings kept
    again = create(m, "main.qbw", mapping=sync.MappingSettings())
    assert again.restored
    assert again.connection.id == conn.id
    assert again.connection.mapping == settings  # settings kept
    assert again.connection.project_scope is sync.ProjectScope.SELECTED
    assert m.connection_for_project(CO, 4) == again.connection
    assert m.status(conn.id).synced == {sync.Entity.VENDOR: 1}


def test_reconnect_keeps_settings_and_mappings(store: sync.Store, clock: Clock) -> None:
    m = manager(store, clock)
    conn = create(m, "main.qbw", verification=sync.VerificationPolicy(tolerance="1")).connection
    broken = m.mark_needs_reconnection(conn.id, reason="invalid_grant: refresh token revoked")
    status = m.status(conn.id)
    assert status.needs_reconnection
    assert "revoked" in status.state_reason
    assert broken.state is sync.ConnectionState.NEEDS_RECONNECTION
    fixed = m.reconnect(conn.id, actor=ADMIN, credentials_ref="procore/main-v2")
    assert fixed.state is sync.ConnectionState.CONNECTED
    assert (fixed.credentials_ref, fixed.verification) == ("procore/main-v2", conn.verification)
    assert fixed.state_reason == ""


def test_each_connection_has_its_own_environment(store: sync.Store, clock: Clock) -> None:
    from qbprocore import procore

    m = manager(store, clock)
    prod = create(m, "main.qbw").connection
    sandbox = create(m, "test.qbw", projects=[9], environment=procore.DEVELOPER_SANDBOX).connection
    assert (prod.environment, sandbox.environment) == ("production", "developer-sandbox")
    assert (prod.credentials_ref, sandbox.credentials_ref) == (
        "procore/main.qbw",
        "procore/test.qbw",
    )


def test_one_integration_type_per_company(store: sync.Store, clock: Clock) -> None:
    m = manager(store, clock)
    create(m, "main.qbw")
    with pytest.raises(sync.ConnectionConflictError, match="only one accounting integration type"):
        create(m, "online", projects=[1], integration_type=sync.IntegrationType.QUICKBOOKS_ONLINE)


def test_guards_say_why(store: sync.Store, clock: Clock) -> None:
    m = manager(
        store, clock, guard=sync.DefaultGuard(feature_enabled=lambda company: company != CO)
    )
    with pytest.raises(sync.FeatureNotEnabledError, match="not enabled for Procore company 10"):
        create(m, "main.qbw")
    m = manager(store, clock)
    with pytest.raises(sync.AdminOnlyError, match="user 8 is not an admin") as info:
        m.create(
            actor=sync.Actor(user_id="8"),
            procore_company_id=CO,
            company_file_id="f",
            credentials_ref="r",
        )
    assert isinstance(info.value, PermissionError)


def test_settings_sync_time_and_unknown_ids(store: sync.Store, clock: Clock) -> None:
    m = manager(store, clock)
    conn = create(m, "main.qbw").connection
    updated = m.update_settings(
        conn.id, actor=ADMIN, mapping=sync.MappingSettings(skip_negative_invoices=False)
    )
    assert updated.mapping.skip_negative_invoices is False
    assert m.record_sync(conn.id).last_sync_at == clock.now
    assert m.status(conn.id).last_sync_at == clock.now
    with pytest.raises(sync.ConnectionNotFoundError, match="'nope'") as info:
        m.status("nope")
    assert isinstance(info.value, LookupError)


def test_status_counts_pending_and_problems(store: sync.Store, clock: Clock) -> None:
    m = manager(store, clock)
    conn = create(m, "main.qbw").connection
    for i in range(3):
        store.stage(
            conn.id,
            source=sync.Side.QUICKBOOKS,
            entity=sync.Entity.INVOICE,
            source_id=f"T{i}",
            version="1",
            payload="",
        )
    [first, *_] = store.claim_staged("w", limit=1)
    store.finish_staged(first.id, sync.ItemStatus.BLOCKED, error="over commitment")
    status = m.status(conn.id)
    assert (status.pending, status.open_problems) == (2, 1)
