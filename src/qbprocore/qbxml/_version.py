"""qbXML version negotiation.

On the first ``sendRequestXML`` of a session the Web Connector hands over QuickBooks'
``HostQueryRs``, whose ``HostRet`` lists every ``SupportedQBXMLVersion``. The connector should
speak the highest version both sides support; elements newer than that version must not be
sent (see `VersionPolicy`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qbprocore.qbxml._errors import QbxmlValueError

__all__ = ["SUPPORTED_VERSIONS", "negotiate_version", "parse_version"]

SUPPORTED_VERSIONS: tuple[str, ...] = (
    "1.0",
    "1.1",
    "2.0",
    "2.1",
    "3.0",
    "4.0",
    "4.1",
    "5.0",
    "6.0",
    "7.0",
    "8.0",
    "10.0",
    "11.0",
    "12.0",
    "13.0",
    "14.0",
    "15.0",
    "16.0",
)
"""qbXML versions qbprocore can speak.

Its models follow the 13.0 schema, which later versions (up to 16.0, QuickBooks 2022–2024)
accept unchanged; older hosts are served by leaving out the fields newer than their version.
"""

_VERSION = re.compile(r"^\s*(\d+)\.(\d+)\s*$")


def parse_version(version: str) -> tuple[int, int]:
    """Parse ``"13.0"`` into ``(13, 0)``; raise `QbxmlValueError` for anything else."""
    m = _VERSION.match(version)
    if m is None:
        raise QbxmlValueError(
            f"not a qbXML version: {version!r} (expected MAJOR.MINOR, e.g. '13.0')",
            value=version,
        )
    return int(m.group(1)), int(m.group(2))


def negotiate_version(host: object, supported: Iterable[str] = SUPPORTED_VERSIONS) -> str:
    """Choose the highest qbXML version both QuickBooks and we support.

    Args:
        host: A ``HostQueryRs``, a ``HostRet``, or an iterable of version strings (as in
            ``HostRet.supported_qbxml_version``). Country-prefixed versions such as ``"CA3.0"``
            are ignored: they name the same US version numbers.
        supported: Versions this side speaks (default `SUPPORTED_VERSIONS`).

    Raises:
        QbxmlValueError: if there is no version in common.
    """
    from qbprocore.qbxml._models import HostQueryRs, HostRet

    if isinstance(host, HostQueryRs):
        if host.host_ret is None:
            raise QbxmlValueError("HostQueryRs has no HostRet to negotiate from")
        theirs: Iterable[str] = host.host_ret.supported_qbxml_version
    elif isinstance(host, HostRet):
        theirs = host.supported_qbxml_version
    elif isinstance(host, Iterable) and not isinstance(host, str):
        theirs = [str(v) for v in host]
    else:
        raise QbxmlValueError(f"cannot negotiate from {type(host).__name__}", value=host)
    ours = {parse_version(v) for v in supported}
    common = {parse_version(v) for v in theirs if _VERSION.match(v) and parse_version(v) in ours}
    if not common:
        raise QbxmlValueError(
            f"no qbXML version in common: QuickBooks supports {sorted(set(theirs))},"
            f" we support {sorted(f'{a}.{b}' for a, b in ours)}",
            value=list(theirs),
        )
    major, minor = max(common)
    return f"{major}.{minor}"
