"""The state table: every (state, event) pair, the legality rules, and the diagram."""

from __future__ import annotations

import pytest

from qbprocore import qbwc
from qbprocore.qbwc import Outcome as O  # noqa: N817 - the table reads better short
from qbprocore.qbwc import State as S  # noqa: N817 - as above

LIVE_COMMON = {"getLastError", "closeConnection"}
INTERACTIVE = {"getInteractiveURL", "interactiveDone", "interactiveRejected"}

# Written out by hand from the protocol (DOMAIN §2), independently of the module's table.
EXPECTED: dict[S, set[str]] = {
    S.NEW: {"authenticate"},
    S.AUTHENTICATED: {"sendRequestXML", "connectionError"} | LIVE_COMMON | INTERACTIVE,
    S.REQUEST_SENT: {"receiveResponseXML"} | LIVE_COMMON,
    S.RESPONSE_RECEIVED: {"sendRequestXML"} | LIVE_COMMON | INTERACTIVE,
    S.PAUSED: {"sendRequestXML"} | LIVE_COMMON | INTERACTIVE,
    S.FAILED: {"sendRequestXML"} | LIVE_COMMON | INTERACTIVE,
    S.DONE: LIVE_COMMON,
    S.CLOSED: set(),
}

NEXT: dict[tuple[S, str], dict[O, S]] = {
    (S.NEW, "authenticate"): {
        O.ACCEPTED: S.AUTHENTICATED,
        O.NO_WORK: S.DONE,
        O.BUSY: S.DONE,
        O.REJECTED: S.CLOSED,
    },
    (S.AUTHENTICATED, "connectionError"): {O.RETRY: S.AUTHENTICATED, O.GIVE_UP: S.DONE},
    (S.REQUEST_SENT, "receiveResponseXML"): {
        O.MORE: S.RESPONSE_RECEIVED,
        O.COMPLETE: S.DONE,
        O.HRESULT: S.FAILED,
    },
}
SEND = {O.REQUEST: S.REQUEST_SENT, O.NOOP: S.PAUSED, O.NO_WORK: S.DONE}

PAIRS = [(state, op) for state in S for op in qbwc.OPERATIONS]


def test_expected_table_covers_every_state() -> None:
    assert set(EXPECTED) == set(S)


@pytest.mark.parametrize(("state", "operation"), PAIRS, ids=[f"{s.value}-{o}" for s, o in PAIRS])
def test_every_state_event_pair(state: S, operation: str) -> None:
    legal = operation in EXPECTED[state]
    assert (operation in qbwc.legal_operations(state)) is legal
    if not legal:
        with pytest.raises(qbwc.RemoteProtocolError) as info:
            qbwc.transition(state, operation, O.ANSWERED)
        assert info.value.operation == operation
        if operation not in qbwc.SESSIONLESS:
            assert info.value.state == state.value
        return
    outcomes = dict(qbwc.TRANSITIONS[state, operation])
    if (state, operation) in NEXT:
        expected = NEXT[state, operation]
    elif operation == "sendRequestXML":
        expected = SEND
    elif operation == "closeConnection":
        expected = {O.CLOSED: S.CLOSED}
    else:  # getLastError and the interactive calls keep the state
        expected = {O.ANSWERED: state}
    assert outcomes == expected
    for outcome, after in expected.items():
        assert qbwc.transition(state, operation, outcome) is after
    for outcome in set(O) - set(expected):
        with pytest.raises(qbwc.LocalProtocolError):
            qbwc.transition(state, operation, outcome)


def test_sessionless_operations_belong_to_no_state() -> None:
    assert {"serverVersion", "clientVersion"} == qbwc.SESSIONLESS
    for state in S:
        assert not (qbwc.legal_operations(state) & qbwc.SESSIONLESS)


def test_end_of_session_answers_cover_every_ticketed_operation() -> None:
    ticketed = {name for name, cls in qbwc.OPERATIONS.items() if cls.ticketed}
    assert set(qbwc.END_OF_SESSION) == ticketed
    assert qbwc.END_OF_SESSION["receiveResponseXML"] == 100  # never negative, never a fault
    assert qbwc.END_OF_SESSION["connectionError"] == "done"
    assert qbwc.END_OF_SESSION["sendRequestXML"] == ""


@pytest.mark.parametrize(
    ("value", "done", "hresult", "ok"),
    [
        (0, False, False, True),
        (99, False, False, True),
        (100, True, False, True),
        (-1, False, True, True),
        (100, False, False, False),  # 100 too early
        (50, True, False, False),  # done but not 100
        (-1, False, False, False),  # negative without a QuickBooks failure
        (0, False, True, False),  # QuickBooks failed but not negative
        (101, True, False, False),
        (0.5, False, False, False),  # a fraction
        (True, False, False, False),
        ("50", False, False, False),
    ],
)
def test_progress_rules(value: object, done: bool, hresult: bool, ok: bool) -> None:
    if ok:
        assert qbwc.check_progress(value, done=done, hresult=hresult) == value
    else:
        with pytest.raises(qbwc.LocalProtocolError):
            qbwc.check_progress(value, done=done, hresult=hresult)


def test_company_file_binding() -> None:
    assert qbwc.check_company_file("", r"C:\A.QBW") == r"C:\A.QBW"
    assert qbwc.check_company_file(r"C:\Books\A.QBW", "c:/books/a.qbw") == r"C:\Books\A.QBW"
    assert qbwc.check_company_file(r"C:\A.QBW", "") == r"C:\A.QBW"
    with pytest.raises(qbwc.RemoteProtocolError, match="another company file"):
        qbwc.check_company_file(r"C:\A.QBW", r"C:\B.QBW")


def test_state_diagram_draws_every_transition() -> None:
    diagram = qbwc.state_diagram()
    assert diagram.startswith("stateDiagram-v2\n")
    edges = [line.strip() for line in diagram.splitlines()[1:]]
    for (state, op), outcomes in qbwc.TRANSITIONS.items():
        for outcome, after in outcomes.items():
            label = op if outcome is O.ANSWERED else f"{op} ({outcome.value})"
            assert any(
                e.startswith(f"{state.value} --> {after.value}:") and label in e for e in edges
            ), (state, op, outcome)


def test_expiry_and_client_version_rules() -> None:
    assert not qbwc.is_expired(9.99, expires_at=10.0)
    assert qbwc.is_expired(10.0, expires_at=10.0)
    assert qbwc.parse_client_version("2.1.0.30") == (2, 1, 0, 30)
    assert qbwc.parse_client_version("2.3.0.36 beta") == (2, 3, 0, 36)
    assert qbwc.parse_client_version("") is None
    assert qbwc.parse_client_version("v2") is None
