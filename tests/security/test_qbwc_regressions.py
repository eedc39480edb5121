"""Regression tests for the qbwc security fixes."""

from __future__ import annotations

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
