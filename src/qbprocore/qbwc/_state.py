"""The session state machine: the state table and every legality rule, in one module.

This is the only place that decides what the Web Connector may call next and what we may
answer. `Session` asks it; the endpoint, the fakes and the documentation read it (the state
diagram in the guide is rendered from `TRANSITIONS` by `state_diagram`).

A session is born by ``authenticate`` and dies by ``closeConnection``. In between, the Web
Connector alternates ``sendRequestXML`` and ``receiveResponseXML``; ``getLastError`` follows a
negative progress or an empty request; ``connectionError`` replaces the first
``sendRequestXML`` when QuickBooks could not be opened. ``serverVersion`` and
``clientVersion`` come before ``authenticate`` and carry no ticket, so they belong to no
session: they are answered by policy alone.

An event is legal in a state when ``(state, operation)`` is in `TRANSITIONS`; what happens
next depends on the *outcome* the session chose (a request was handed out, there is no work,
QuickBooks failed …), so each entry maps outcomes to the next state.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from types import MappingProxyType

from qbprocore.qbwc._errors import LocalProtocolError, RemoteProtocolError
from qbprocore.qbwc._events import OPERATIONS

__all__ = [
    "END_OF_SESSION",
    "SESSIONLESS",
    "TRANSITIONS",
    "Outcome",
    "State",
    "check_company_file",
    "check_progress",
    "is_expired",
    "legal_operations",
    "parse_client_version",
    "state_diagram",
    "transition",
]


class State(str, enum.Enum):
    """Where a session is in the protocol."""

    NEW = "NEW"
    """Before ``authenticate``: no ticket yet."""
    AUTHENTICATED = "AUTHENTICATED"
    """A ticket was issued; the first ``sendRequestXML`` (with the HCP response) is next."""
    REQUEST_SENT = "REQUEST_SENT"
    """A qbXML request is with QuickBooks; ``receiveResponseXML`` is next."""
    RESPONSE_RECEIVED = "RESPONSE_RECEIVED"
    """A response arrived and progress was below 100; the next ``sendRequestXML`` is due."""
    PAUSED = "PAUSED"
    """Work is being prepared: an empty request was answered and ``getLastError`` says NoOp."""
    FAILED = "FAILED"
    """QuickBooks failed (hresult) or could not be opened; ``getLastError`` explains."""
    DONE = "DONE"
    """No more work (progress 100, or nothing to do): only ``closeConnection`` is left."""
    CLOSED = "CLOSED"
    """``closeConnection`` was answered. Terminal: the ticket is forgotten."""


class Outcome(str, enum.Enum):
    """What the session decided when it answered an event (selects the next state)."""

    ACCEPTED = "accepted"
    """authenticate: valid user with work (answer ``""`` or a company-file path)."""
    NO_WORK = "no work"
    """authenticate ``"none"``; sendRequestXML ``""`` with nothing left to do."""
    BUSY = "busy"
    """authenticate ``"busy"``: the company file already has a live session."""
    REJECTED = "rejected"
    """authenticate ``"nvu"``: not a valid user."""
    REQUEST = "request"
    """sendRequestXML returned a qbXML request."""
    NOOP = "noop"
    """sendRequestXML returned ``""`` while work is being prepared; getLastError says NoOp."""
    MORE = "more"
    """receiveResponseXML returned 0–99."""
    COMPLETE = "complete"
    """receiveResponseXML returned 100."""
    HRESULT = "hresult"
    """receiveResponseXML returned a negative number: QuickBooks itself failed."""
    RETRY = "retry"
    """connectionError answered a company-file path to try instead."""
    GIVE_UP = "give up"
    """connectionError answered ``"done"``."""
    ANSWERED = "answered"
    """getLastError and the interactive calls: answered, state unchanged."""
    CLOSED = "closed"
    """closeConnection."""


S = State
O = Outcome  # noqa: E741 - a one-letter alias keeps the table readable

_SAME = {O.ANSWERED}  # outcomes that keep the state (resolved per row below)
_INTERACTIVE = ("getInteractiveURL", "interactiveDone", "interactiveRejected")


def _answered(state: State) -> dict[Outcome, State]:
    return {O.ANSWERED: state}


def _send() -> dict[Outcome, State]:
    return {O.REQUEST: S.REQUEST_SENT, O.NOOP: S.PAUSED, O.NO_WORK: S.DONE}


def _close() -> dict[Outcome, State]:
    return {O.CLOSED: S.CLOSED}


def _live(state: State, *, interactive: bool = True) -> dict[str, dict[Outcome, State]]:
    # Calls every live session accepts: getLastError (the WC may ask at any time and shows the
    # text), closeConnection (the user can cancel an update at any moment) and, where a user
    # could be sent to a web page, the interactive calls.
    row: dict[str, dict[Outcome, State]] = {
        "getLastError": _answered(state),
        "closeConnection": _close(),
    }
    if interactive:
        for op in _INTERACTIVE:
            row[op] = _answered(state)
    return row


_TABLE: dict[State, dict[str, dict[Outcome, State]]] = {
    S.NEW: {
        "authenticate": {
            O.ACCEPTED: S.AUTHENTICATED,
            O.NO_WORK: S.DONE,
            O.BUSY: S.DONE,
            O.REJECTED: S.CLOSED,
        },
    },
    S.AUTHENTICATED: {
        "sendRequestXML": _send(),
        # connectionError comes instead of the first sendRequestXML: QuickBooks did not open.
        "connectionError": {O.RETRY: S.AUTHENTICATED, O.GIVE_UP: S.DONE},
        **_live(S.AUTHENTICATED),
    },
    S.REQUEST_SENT: {
        "receiveResponseXML": {
            O.MORE: S.RESPONSE_RECEIVED,
            O.COMPLETE: S.DONE,
            O.HRESULT: S.FAILED,
        },
        # No interactive calls while QuickBooks holds a request: nothing could be shown.
        **_live(S.REQUEST_SENT, interactive=False),
    },
    S.RESPONSE_RECEIVED: {"sendRequestXML": _send(), **_live(S.RESPONSE_RECEIVED)},
    # After "NoOp" the WC waits about 5 s and asks again.
    S.PAUSED: {"sendRequestXML": _send(), **_live(S.PAUSED)},
    # The WC normally closes after a failure; a further sendRequestXML is tolerated so a work
    # source can carry on (e.g. after an interactive fix), never required.
    S.FAILED: {"sendRequestXML": _send(), **_live(S.FAILED)},
    S.DONE: {**_live(S.DONE, interactive=False)},
    S.CLOSED: {},
}

TRANSITIONS: Mapping[tuple[State, str], Mapping[Outcome, State]] = MappingProxyType(
    {
        (state, op): MappingProxyType(outcomes)
        for state, row in _TABLE.items()
        for op, outcomes in row.items()
    }
)
"""``(state, operation) -> {outcome: next state}``; a pair that is absent is illegal."""

SESSIONLESS: frozenset[str] = frozenset({"serverVersion", "clientVersion"})
"""Operations that carry no ticket and belong to no session (answered by policy)."""

END_OF_SESSION: Mapping[str, str | int] = MappingProxyType(
    {
        # Answers that end a session cleanly, for an unknown or expired ticket and for a call the
        # table forbids. Never a SOAP fault: QBWC would retry the same call forever.
        "sendRequestXML": "",  # "" = no request; the WC calls getLastError, then closes
        "receiveResponseXML": 100,  # 100 = done; negative is reserved for QuickBooks' own failures
        "connectionError": "done",
        "getLastError": "The session has ended; the next scheduled update starts a new one.",
        "closeConnection": "The session has ended.",
        "getInteractiveURL": "",
        "interactiveDone": "Done",
        "interactiveRejected": "",
    }
)
"""The clean end-of-session answer for each ticketed operation."""


def legal_operations(state: State) -> frozenset[str]:
    """The operations a session in ``state`` accepts."""
    return frozenset(op for (s, op) in TRANSITIONS if s is state)


def transition(state: State, operation: str, outcome: Outcome) -> State:
    """The state after answering ``operation`` in ``state`` with ``outcome``.

    Raises:
        RemoteProtocolError: the Web Connector may not call ``operation`` in ``state``.
        LocalProtocolError: ``outcome`` is not an answer we may give to that call there.
    """
    if operation not in OPERATIONS:
        raise RemoteProtocolError(f"unknown operation {operation!r}", operation=operation)
    if operation in SESSIONLESS:
        raise RemoteProtocolError(
            f"{operation} carries no ticket and belongs to no session",
            operation=operation,
            state=state.value,
        )
    outcomes = TRANSITIONS.get((state, operation))
    if outcomes is None:
        allowed = ", ".join(sorted(legal_operations(state))) or "nothing"
        raise RemoteProtocolError(
            f"{operation} is not allowed in state {state.value} (allowed: {allowed})",
            operation=operation,
            state=state.value,
        )
    after = outcomes.get(outcome)
    if after is None:
        raise LocalProtocolError(
            f"{outcome.value!r} is not a possible answer to {operation} in state {state.value}",
            operation=operation,
            state=state.value,
        )
    return after


def check_progress(value: object, *, done: bool, hresult: bool) -> int:
    """Check the integer we are about to return from ``receiveResponseXML``.

    The Web Connector reads the answer as a percentage: 0–99 means "more to come" (it calls
    ``sendRequestXML`` again), 100 "done" (it closes), and a negative number "error" (it calls
    ``getLastError``). Peers returned fractions, 100 too early, or negatives for their own
    problems; each of those is refused here.

    Args:
        value: The progress we intend to return.
        done: Whether the session really has no work left.
        hresult: Whether QuickBooks itself reported a failure (``hresult`` set).

    Raises:
        LocalProtocolError: the value breaks one of the rules above.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise LocalProtocolError(
            f"receiveResponseXML must return an integer, not {type(value).__name__} {value!r}",
            operation="receiveResponseXML",
        )
    if hresult:
        if value >= 0:
            raise LocalProtocolError(
                "QuickBooks failed (hresult set): the answer must be negative",
                operation="receiveResponseXML",
            )
        return value
    if value < 0:
        raise LocalProtocolError(
            "a negative answer is reserved for a QuickBooks failure (hresult)",
            operation="receiveResponseXML",
        )
    if value > 100:
        raise LocalProtocolError(f"progress {value} is over 100", operation="receiveResponseXML")
    if done != (value == 100):
        raise LocalProtocolError(
            "100 means done: it must be returned exactly when no work is left"
            f" (done={done}, progress={value})",
            operation="receiveResponseXML",
        )
    return value


def is_expired(now: float, *, expires_at: float) -> bool:
    """Whether a ticket that expires at ``expires_at`` is dead at ``now`` (seconds)."""
    return now >= expires_at


def normalize_path(path: str) -> str:
    r"""A Windows path as Windows compares it: case-insensitive, ``/`` = ``\``."""
    return path.strip().replace("/", "\\").casefold()


def check_company_file(bound: str, given: str) -> str:
    r"""The company file a session is bound to after a call naming ``given``.

    A ticket is bound to one company file: the one the authenticator named, or else the one
    the first ``sendRequestXML`` reports. Every later call must report the same file (compared
    as Windows paths: case-insensitive, ``/`` = ``\``); a ticket replayed against another
    company file could otherwise read or write the wrong books.

    Returns:
        The bound path (``given`` when nothing was bound yet).

    Raises:
        RemoteProtocolError: ``given`` names another company file than the bound one.
    """
    if not bound:
        return given
    if given and normalize_path(given) != normalize_path(bound):
        raise RemoteProtocolError(
            "this session is bound to another company file than the one the Web Connector"
            " reports; start a new session for that file",
            operation="sendRequestXML",
        )
    return bound


_CLIENT_VERSION = re.compile(r"^\s*(\d+(?:\.\d+)*)")


def parse_client_version(text: str) -> tuple[int, ...] | None:
    """``"2.1.0.30"`` → ``(2, 1, 0, 30)``; ``None`` when it does not start with a version."""
    m = _CLIENT_VERSION.match(text or "")
    if m is None:
        return None
    return tuple(int(part) for part in m.group(1).split("."))


def state_diagram() -> str:
    """The state table as a Mermaid ``stateDiagram-v2`` (the guide embeds this text).

    Every transition of the table appears; transitions between the same two states share one
    edge whose label lists them (``operation (outcome)``), so the picture stays readable.
    """
    lines = ["stateDiagram-v2", "    [*] --> NEW"]
    edges: dict[tuple[State, State], list[str]] = {}
    for (state, op), outcomes in TRANSITIONS.items():
        for outcome, after in outcomes.items():
            text = op if outcome in _SAME else f"{op} ({outcome.value})"
            edges.setdefault((state, after), []).append(text)
    for (state, after), texts in edges.items():
        lines.append(f"    {state.value} --> {after.value}: {', '.join(texts)}")
    lines.append("    CLOSED --> [*]")
    return "\n".join(lines) + "\n"
