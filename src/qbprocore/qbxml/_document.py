"""A whole qbXML document: its version, message-set attributes and messages."""

from __future__ import annotations

from typing import Literal

import attrs

from qbprocore.qbxml._meta import QbxmlRequest, QbxmlResponse, UnknownElement

__all__ = ["QBXMLDocument"]


@attrs.frozen(kw_only=True, unsafe_hash=False)
class QBXMLDocument:
    """A parsed qbXML document (what `loads` returns).

    Attributes:
        kind: ``"request"`` for ``QBXMLMsgsRq``, ``"response"`` for ``QBXMLMsgsRs``.
        version: The ``<?qbxml version?>`` of the document, if it had one.
        on_error: ``onError`` of a request document.
        requests: The request messages, in order (empty for a response document).
        responses: The response messages, in order (empty for a request document).
        unknown_elements: Messages outside qbprocore's message set, kept verbatim.
    """

    __hash__ = None  # type: ignore[assignment]

    kind: Literal["request", "response"]
    version: str | None = None
    on_error: str | None = None
    requests: list[QbxmlRequest] = attrs.field(factory=list)
    responses: list[QbxmlResponse] = attrs.field(factory=list)
    unknown_elements: tuple[UnknownElement, ...] = attrs.field(default=(), repr=False)

    @property
    def messages(self) -> list[QbxmlRequest] | list[QbxmlResponse]:
        """The requests or the responses, whichever this document holds."""
        return self.requests if self.kind == "request" else self.responses
