"""The smallest useful Web Connector endpoint: print every vendor in QuickBooks.

Run it, point a QuickBooks Web Connector (or `qbprocore.testing.FakeWebConnector`) at
``http://127.0.0.1:8000/qbwc`` with user ``demo`` and password ``demo``, and each vendor's name
is printed on its own line as the pages of the iterator arrive::

    python examples/qbwc_minimal.py --host 127.0.0.1 --port 8000

It uses only the standard library's WSGI server; any WSGI or ASGI server works the same way
(`qbwc.wsgi_app` / `qbwc.asgi_app`). Log lines go to stderr, vendor names to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from qbprocore import qbwc, qbxml


class PrintVendors:
    """One vendor query per session; the session sends the iterator's Continue pages."""

    def __init__(self) -> None:
        self.asked: set[str] = set()
        self.finished: set[str] = set()

    def has_work(self, session: qbwc.SessionInfo) -> bool:
        """Every new session reads the vendors once."""
        return session.session_id not in self.finished

    def next_request(self, session: qbwc.SessionInfo) -> qbwc.WorkRequest | None:
        """The vendor query the first time a session asks, then nothing."""
        if session.session_id in self.asked:
            return None
        self.asked.add(session.session_id)
        query = qbxml.VendorQueryRq(
            request_id="all-vendors",
            iterator=qbxml.Iterator.START,
            max_returned=100,
            active_status=qbxml.ActiveStatus.ALL,
        )
        return qbwc.WorkRequest(messages=[query])

    def receive(self, session: qbwc.SessionInfo, received: qbwc.Received) -> None:
        """Print each vendor of a page; the last page ends this session's work."""
        for vendor in received.iter_records():
            print(vendor.name, flush=True)
        if not received.continuing:
            self.finished.add(session.session_id)


class StderrHandler(WSGIRequestHandler):
    """Request logs go to stderr, so stdout carries only vendor names."""

    def log_message(self, format: str, *args: object) -> None:
        """Write one access-log line to stderr."""
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main(argv: list[str] | None = None) -> int:
    """Serve the endpoint until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    users = qbwc.PasswordAuthenticator()
    users.add_user("demo", "demo")  # the .qwc file's UserName; the password is typed into QBWC
    service = qbwc.WebConnectorService(authenticator=users, work=PrintVendors())

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO") != "/qbwc":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"the endpoint is at /qbwc\n"]
        return endpoint(environ, start_response)

    endpoint = qbwc.wsgi_app(service)
    with make_server(args.host, args.port, app, handler_class=StderrHandler) as server:
        print(f"serving http://{args.host}:{server.server_port}/qbwc", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
