"""Thin WSGI and ASGI adapters around `WebConnectorService`.

Each adapter does only HTTP: it limits the body size (413), checks the content type (415),
passes ``SOAPAction`` along (tolerantly: the body decides the operation), serves the WSDL on
``GET …?wsdl`` with the address the client used, and refuses other methods (405). Everything
about the protocol happens in the service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import attrs

from qbprocore.qbwc._service import SoapResponse, WebConnectorService

__all__ = ["DEFAULT_MAX_BODY", "asgi_app", "wsgi_app"]

DEFAULT_MAX_BODY = 64 * 1024 * 1024
"""Default body limit: 64 MiB, room for a large query response (QBWC has no paging of its own)."""

# SOAP 1.1 is text/xml; some clients send application/xml or the SOAP 1.2 type by mistake.
_XML_TYPES = ("text/xml", "application/xml", "application/soap+xml")
_TEXT = "text/plain; charset=utf-8"


@attrs.frozen
class _Plain:
    status: int
    body: bytes
    content_type: str = _TEXT
    headers: tuple[tuple[str, str], ...] = ()


def _reason(status: int) -> str:
    return {
        200: "OK",
        405: "Method Not Allowed",
        411: "Length Required",
        413: "Content Too Large",
        415: "Unsupported Media Type",
        500: "Internal Server Error",
    }.get(status, "")


def _is_wsdl_query(query: str) -> bool:
    return any(part.split("=", 1)[0].lower() == "wsdl" for part in query.split("&"))


def _content_type_ok(content_type: str) -> bool:
    if not content_type:
        return True  # the Web Connector always sends one; curl users often do not
    return content_type.split(";", 1)[0].strip().lower() in _XML_TYPES


def _too_large(limit: int) -> _Plain:
    return _Plain(413, f"request body over {limit} bytes\n".encode())


def _before_body(
    service: WebConnectorService,
    *,
    method: str,
    query: str,
    content_type: str,
    content_length: str | None,
    address: Callable[[], str],
    limit: int,
) -> _Plain | SoapResponse | None:
    """The answer that needs no body (WSDL, refusals), or ``None`` to go on with a POST."""
    if method in ("GET", "HEAD"):
        if _is_wsdl_query(query):
            return _Plain(200, service.wsdl(address()), "text/xml; charset=utf-8")
        return _Plain(200, b"QuickBooks Web Connector endpoint (qbprocore); WSDL at ?wsdl\n")
    if method != "POST":
        return _Plain(405, b"use POST for SOAP calls\n", headers=(("Allow", "GET, POST"),))
    if not _content_type_ok(content_type):
        return _Plain(415, b"expected a SOAP 1.1 body (Content-Type: text/xml)\n")
    if content_length:
        try:
            length = int(content_length)
        except ValueError:
            return _Plain(411, b"bad Content-Length\n")
        if length < 0:
            # The WSGI adapter reads Content-Length bytes; read(-1) would read without limit.
            return _Plain(411, b"bad Content-Length\n")
        if length > limit:
            return _too_large(limit)
    return None


def wsgi_app(
    service: WebConnectorService,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    address: str | None = None,
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI application serving ``service`` at whatever path it is mounted on.

    Args:
        service: The endpoint.
        max_body: Largest request body accepted, in bytes (larger: 413).
        address: The endpoint URL written into the WSDL (default: the URL of the request).
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        early = _before_body(
            service,
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            query=environ.get("QUERY_STRING", ""),
            content_type=environ.get("CONTENT_TYPE", ""),
            content_length=environ.get("CONTENT_LENGTH") or None,
            address=lambda: address or _wsgi_url(environ),
            limit=max_body,
        )
        if early is None:
            stream = environ["wsgi.input"]
            length = environ.get("CONTENT_LENGTH")
            # Without a Content-Length, read one byte past the limit to tell "too large".
            body = stream.read(int(length)) if length else stream.read(max_body + 1)
            early = (
                _too_large(max_body)
                if len(body) > max_body
                else service.handle(body, soap_action=environ.get("HTTP_SOAPACTION"))
            )
        headers = [("Content-Type", early.content_type), ("Content-Length", str(len(early.body)))]
        if isinstance(early, _Plain):
            headers += list(early.headers)
        start_response(f"{early.status} {_reason(early.status)}", headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else early.body]

    return app


def _wsgi_url(environ: dict[str, Any]) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or (
        f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    )
    return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi_app(
    service: WebConnectorService,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    address: str | None = None,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI application serving ``service`` at whatever path it is mounted on.

    The service runs in the default thread pool, since authenticators, stores and work
    sources may block (scrypt, SQLite, a database).

    Args:
        service: The endpoint.
        max_body: Largest request body accepted, in bytes (larger: 413).
        address: The endpoint URL written into the WSDL (default: the URL of the request).
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        early = _before_body(
            service,
            method=scope["method"].upper(),
            query=scope.get("query_string", b"").decode("latin-1"),
            content_type=headers.get("content-type", ""),
            content_length=headers.get("content-length"),
            address=lambda: address or _asgi_url(scope, headers),
            limit=max_body,
        )
        if early is None:
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > max_body:
                    early = _too_large(max_body)
                    break
                chunks.append(chunk)
                more = message.get("more_body", False)
            if early is None:
                body = b"".join(chunks)
                del chunks
                loop = asyncio.get_running_loop()
                early = await loop.run_in_executor(
                    None, lambda: service.handle(body, soap_action=headers.get("soapaction"))
                )
        out = [
            (b"content-type", early.content_type.encode("latin-1")),
            (b"content-length", str(len(early.body)).encode("latin-1")),
        ]
        if isinstance(early, _Plain):
            out += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in early.headers]
        await send({"type": "http.response.start", "status": early.status, "headers": out})
        body_out = b"" if scope["method"].upper() == "HEAD" else early.body
        await send({"type": "http.response.body", "body": body_out})

    return app


def _asgi_url(scope: Scope, headers: dict[str, str]) -> str:
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}{scope.get('root_path', '')}{scope.get('path', '')}"
