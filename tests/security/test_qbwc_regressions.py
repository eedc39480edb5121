"""Regression tests for the qbwc security fixes."""

from __future__ import annotations

import base64

import pytest

from qbprocore import qbwc

from ._endpoint import HttpRequest, VendorReader, call_wsgi, result_of, soap_call


@pytest.mark.parametrize(
    "stored",
    [
        "scrypt$x$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # not a number
        "scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # n not a power of two
        "scrypt$16$8$1$AAAAAAAAAAAAAAAAAAAAAA==$",  # empty digest
        "scrypt$16$8$1$!!!$AAAA",  # not base64
        "scrypt$1180591620717411303424$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # n too large
        "scrypt$16$0$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # r out of range
        "scrypt$16$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 20,  # a 15-byte digest
    ],
)
def test_a_malformed_stored_hash_never_authenticates_and_never_raises(stored: str) -> None:
    """These raised ValueError/TypeError out of ``authenticate``; through the endpoint that
    was an unhandled exception (an HTTP 500 without a SOAP answer) on every login."""
    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_hash("demo", stored)
    assert auth.authenticate("demo", "anything") is None
    service = qbwc.WebConnectorService(authenticator=auth, work=VendorReader())
    body = soap_call("authenticate", {"strUserName": "demo", "strPassword": "anything"})
    rs = call_wsgi(qbwc.wsgi_app(service), HttpRequest(body=body))
    assert rs.status == 200
    assert result_of("authenticate", rs.body)[1] == "nvu"


def test_a_stored_digest_too_short_to_be_ours_never_checks_even_with_the_password() -> None:
    # scrypt's shorter outputs are prefixes of its longer ones: a stored hash cut to a few
    # bytes would take the right password, and one in 256 wrong ones per byte left.
    stored = qbwc.hash_password("s3cret", salt=b"0123456789abcdef", n=2**8)
    auth = qbwc.PasswordAuthenticator(n=2**8)
    auth.add_hash("whole", stored)
    assert auth.authenticate("whole", "s3cret") is not None
    head, digest = stored.rsplit("$", 1)
    for size in (0, 1, 15):
        cut = base64.b64encode(base64.b64decode(digest)[:size]).decode()
        auth.add_hash(f"cut{size}", f"{head}${cut}")
        assert auth.authenticate(f"cut{size}", "s3cret") is None
    auth.add_hash("cut16", f"{head}${base64.b64encode(base64.b64decode(digest)[:16]).decode()}")
    assert auth.authenticate("cut16", "s3cret") is not None


class CountingStream:
    """A wsgi.input that records how much the app asked to read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        return self.data if size < 0 else self.data[:size]


def test_a_negative_content_length_is_refused_before_reading_the_body() -> None:
    """``Content-Length: -1`` made the WSGI adapter call ``wsgi.input.read(-1)``: the whole
    stream, whatever its size, was read into memory before the size check (413)."""
    app = qbwc.wsgi_app(
        qbwc.WebConnectorService(
            authenticator=qbwc.PasswordAuthenticator(n=2**8), work=VendorReader()
        ),
        max_body=1024,
    )
    stream = CountingStream(b"x" * 10_000)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "text/xml",
        "CONTENT_LENGTH": "-1",
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "testserver",
    }
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["411 Length Required"]
    assert body == b"bad Content-Length\n"
    assert stream.asked == []
