"""qbwc's public names, its error tree, and what it may import."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

import qbprocore
from qbprocore import qbwc, testing
from qbprocore.testing import FakeQuickBooks, FakeWebConnector

from .conftest import Clock, VendorReader, make_service

SRC = Path(qbwc.__file__).parent


@pytest.mark.parametrize("module", [qbwc, testing], ids=lambda m: m.__name__)
def test_all_names_exist_and_are_unique(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), name


def test_private_modules_export_only_public_names() -> None:
    missing = []
    for path in SRC.glob("_*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                assert isinstance(node.value, ast.List)
                for elt in node.value.elts:
                    assert isinstance(elt, ast.Constant)
                    if elt.value not in qbwc.__all__:
                        missing.append((path.name, elt.value))
    assert missing == []


def test_qbwc_imports_only_qbxml_and_the_error_root() -> None:
    for path in SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("qbprocore") and name != "qbprocore":
                    allowed = (
                        "qbprocore.qbwc",
                        "qbprocore.qbxml",
                        "qbprocore._errors",
                        "qbprocore._sqlite",
                        "qbprocore._xmlchars",
                    )
                    assert name.startswith(allowed) or name == "qbprocore.qbxml", (path, name)


def test_error_tree() -> None:
    assert issubclass(qbwc.QbwcError, qbprocore.QbprocoreError)
    assert issubclass(qbwc.LocalProtocolError, qbwc.ProtocolError)
    assert issubclass(qbwc.RemoteProtocolError, qbwc.ProtocolError)
    assert issubclass(qbwc.SoapFaultError, qbwc.RemoteProtocolError)
    assert issubclass(qbwc.SoapFaultError, ValueError)
    assert issubclass(qbwc.QwcError, ValueError)
    assert issubclass(qbwc.RoundTripLimitError, qbwc.QbwcError)


def test_no_secret_reaches_the_logs(
    authenticator: qbwc.PasswordAuthenticator, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="qbprocore")
    service = make_service(authenticator, VendorReader(), clock)
    qb = FakeQuickBooks()
    qb.add_vendor("Acme")
    wc = FakeWebConnector(service=service, username="acme", password="s3cret")
    qb.company_file = r"C:\Books\Acme.QBW"
    result = wc.update(qb)
    assert result.status == "done"
    ticket = service.call(qbwc.Authenticate(username="demo", password="demo"))[0]  # type: ignore[index]
    service.call(qbwc.ReceiveResponseXML(ticket=ticket, response="<x/>"))  # type: ignore[arg-type]
    service.call(qbwc.GetLastError(ticket="unknown-ticket-value"))
    text = caplog.text + repr(result) + repr(service)
    assert ticket not in text
    assert "unknown-ticket-value" not in text
    assert "s3cret" not in text + repr(wc) + repr(result.transcript)
