"""TLS verification toward Procore is always on.

The client builds its own ``httpx.Client`` with httpx's defaults (certificate and host name
verified against the system's trust store); nothing in the library turns that off. Proven
against a real HTTPS server on 127.0.0.1 with a self-signed certificate: the default client
refuses it, while a client that is told to trust that certificate reaches it (so the refusal
is the verification, not a broken server).
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import re
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qbprocore.procore import APIConnectionError, Environment, ProcoreAuth, ProcoreClient
from qbprocore.testing import FakeClock

SRC = Path(__file__).resolve().parents[2] / "src" / "qbprocore"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - shared with the test on purpose

    def do_POST(self) -> None:
        self.requests.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"access_token": "at", "token_type": "Bearer", "expires_in": 5400})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _TokenHandler.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


def _auth(url: str) -> ProcoreAuth:
    return ProcoreAuth.client_credentials(
        environment=Environment.custom(login_url=url, api_url=url),
        client_id="id",
        client_secret="secret",
        clock=FakeClock(),  # connection retries wait on the fake clock
    )


def test_the_default_client_refuses_a_certificate_it_cannot_verify(
    https_server: tuple[str, Path],
) -> None:
    url, _cert = https_server
    auth = _auth(url)
    with (
        ProcoreClient(auth=auth, company_id=1) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.vendors.get(1)
    causes = []
    exc: BaseException | None = caught.value
    while exc is not None:
        causes.append(repr(exc))
        exc = exc.__cause__ or exc.__context__
    assert any("CERTIFICATE_VERIFY_FAILED" in c for c in causes), causes
    assert _TokenHandler.requests == []  # no HTTP request got through


def test_the_same_server_is_reached_when_its_certificate_is_trusted(
    https_server: tuple[str, Path],
) -> None:
    """Control for the test above: the server works; only verification stopped the client."""
    url, cert = https_server
    context = ssl.create_default_context(cafile=str(cert))
    with httpx.Client(verify=context) as http:
        token = _auth(url).get_token(http)
    assert token.access_token == "at"
    assert _TokenHandler.requests == ["/oauth/token"]


_DISABLING = re.compile(
    r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context"
    r"|verify\s*=\s*(?!True)\w"
)


def test_no_source_file_disables_or_overrides_certificate_verification() -> None:
    """Static guard: no ``verify=False``, ``CERT_NONE``, unverified contexts, or any
    ``verify=`` argument at all in the library (httpx's default is the verified one)."""
    offenders = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _DISABLING.search(line)
    ]
    assert offenders == []
