"""mkdocs hooks: parts of the docs site drawn from the code when the site is built.

The Web Connector state diagram on the pages is rendered from the state table
(`qbprocore.qbwc.state_diagram`), so the published diagram is the table whatever the copy
in the Markdown says; the copy stays for readers of the raw files, and the tests keep it
current.
"""

from __future__ import annotations

import re
from typing import Any

from qbprocore import qbwc

_STATE_DIAGRAM = re.compile(r"^```mermaid\nstateDiagram-v2\n.*?^```$", flags=re.S | re.M)


def render_state_diagrams(markdown: str) -> str:
    """``markdown`` with every Mermaid state diagram replaced by the one the table draws."""
    fresh = "```mermaid\n" + qbwc.state_diagram() + "```"
    return _STATE_DIAGRAM.sub(lambda _: fresh, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """mkdocs hook: draw the state diagrams of every page from the state table."""
    return render_state_diagrams(markdown)
