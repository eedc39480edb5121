"""`.qwc` files: what a user loads into the Web Connector to connect it to our endpoint.

`QwcFile` checks every rule the Web Connector enforces before the file reaches a customer:
HTTPS for the URLs the Web Connector calls unless the host is the local machine, GUIDs in
braces, one scheduler interval, known preference values. `QwcFile.for_connection` derives
``OwnerID`` and ``FileID`` from a connection id, so regenerating the file for the same
connection gives the same IDs (the Web Connector treats new IDs as a new application and asks
the user to authorise it again in QuickBooks).
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import attrs
from lxml import etree

from qbprocore._xmlchars import describe_illegal
from qbprocore.qbwc._errors import QwcError

__all__ = ["QwcFile", "stable_guid"]

# Fixed namespace for the derived GUIDs: changing it would change every customer's IDs.
_NAMESPACE = uuid.UUID("5b0d7d2e-7f9e-4c39-9f0e-2a6f8f3b1c41")
_GUID = re.compile(
    r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}"
)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def stable_guid(*parts: str) -> str:
    """A GUID in braces derived from ``parts`` (the same parts always give the same GUID)."""
    return "{" + str(uuid.uuid5(_NAMESPACE, "\x00".join(parts))).upper() + "}"


def _check_url(field: str, url: str, *, https: bool = True) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise QwcError(f"{field} must be an absolute http(s) URL, got {url!r}", field=field)
    if https and parts.scheme != "https" and parts.hostname.lower() not in _LOCAL_HOSTS:
        raise QwcError(
            f"{field} must use https (the Web Connector allows http only for localhost),"
            f" got {url!r}",
            field=field,
        )


def _check_guid(field: str, value: str) -> None:
    if not _GUID.fullmatch(value):
        raise QwcError(
            f"{field} must be a GUID in braces like {{57F3B9B1-86F1-4FCC-B1EE-566DE1813D20}},"
            f" got {value!r}",
            field=field,
        )


def _check_text(field: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise QwcError(f"{field} must be a str, got {value!r}", field=field)
    bad = describe_illegal(value)
    if bad:
        raise QwcError(f"{field} has characters XML cannot carry: {bad}", field=field)


def _check_int(field: str, value: object, *, minimum: int, maximum: int | None = None) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise QwcError(f"{field} must be an int, got {value!r}", field=field)
    if value < minimum or (maximum is not None and value > maximum):
        within = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise QwcError(f"{field} must be {within}, got {value!r}", field=field)


def _one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise QwcError(f"{field} must be one of {', '.join(allowed)}, got {value!r}", field=field)


@attrs.frozen(kw_only=True)
class QwcFile:
    """The contents of a `.qwc` file, validated when built.

    Attributes:
        app_name: Name shown in the Web Connector; unique per company file.
        app_url: The SOAP endpoint (https, or http on localhost).
        app_support: A support page for the application (an absolute http(s) URL).
        username: The user name the Web Connector sends to ``authenticate``.
        owner_id: GUID in braces identifying the application's data in QuickBooks.
        file_id: GUID in braces identifying this company-file connection.
        app_id: Optional application id (often empty).
        app_description: Optional description.
        cert_url: Optional certificate URL (same URL rules).
        qb_type: ``"QBFS"`` (QuickBooks Financial Software) or ``"QBPOS"``.
        run_every_n_minutes: Scheduler interval in minutes (exclusive with seconds).
        run_every_n_seconds: Scheduler interval in seconds (exclusive with minutes).
        is_read_only: Ask QuickBooks for read-only access.
        personal_data_pref: ``pdpOptional``, ``pdpRequired`` or ``pdpNotNeeded``.
        unattended_mode_pref: ``umpOptional`` or ``umpRequired``.
        auth_flags: Which QuickBooks editions may connect (bit mask, e.g. ``0xF``).
        style: SOAP style: ``Document`` (default), ``DocWrapped`` or ``RPC``.

    Raises:
        QwcError: a value the Web Connector would refuse (the message names the element).
    """

    app_name: str
    app_url: str
    app_support: str
    username: str
    owner_id: str
    file_id: str
    app_id: str = ""
    app_description: str = ""
    cert_url: str | None = None
    qb_type: str = "QBFS"
    run_every_n_minutes: int | None = None
    run_every_n_seconds: int | None = None
    is_read_only: bool | None = None
    personal_data_pref: str | None = None
    unattended_mode_pref: str | None = None
    auth_flags: int | None = None
    style: str | None = None

    def __attrs_post_init__(self) -> None:
        for name, value, optional in (
            ("AppName", self.app_name, False),
            ("AppID", self.app_id, False),
            ("AppURL", self.app_url, False),
            ("AppDescription", self.app_description, False),
            ("AppSupport", self.app_support, False),
            ("CertURL", self.cert_url, True),
            ("UserName", self.username, False),
            ("OwnerID", self.owner_id, False),
            ("FileID", self.file_id, False),
            ("QBType", self.qb_type, False),
            ("Style", self.style, True),
            ("PersonalDataPref", self.personal_data_pref, True),
            ("UnattendedModePref", self.unattended_mode_pref, True),
        ):
            _check_text(name, value, optional=optional)
        if self.is_read_only is not None and not isinstance(self.is_read_only, bool):
            raise QwcError(
                f"IsReadOnly must be a bool, got {self.is_read_only!r}", field="IsReadOnly"
            )
        if not self.app_name.strip():
            raise QwcError("AppName must not be empty", field="AppName")
        if not self.username.strip():
            raise QwcError("UserName must not be empty", field="UserName")
        _check_url("AppURL", self.app_url)
        # The Web Connector calls AppURL (and CertURL) itself, so those must be HTTPS; AppSupport
        # is only a page shown to the user, and Intuit's own samples serve it over http.
        _check_url("AppSupport", self.app_support, https=False)
        if self.cert_url is not None:
            _check_url("CertURL", self.cert_url)
        _check_guid("OwnerID", self.owner_id)
        _check_guid("FileID", self.file_id)
        _one_of("QBType", self.qb_type, ("QBFS", "QBPOS"))
        _one_of(
            "PersonalDataPref",
            self.personal_data_pref,
            ("pdpOptional", "pdpRequired", "pdpNotNeeded"),
        )
        _one_of("UnattendedModePref", self.unattended_mode_pref, ("umpOptional", "umpRequired"))
        _one_of("Style", self.style, ("Document", "DocWrapped", "RPC"))
        if self.run_every_n_minutes is not None and self.run_every_n_seconds is not None:
            raise QwcError(
                "Scheduler takes RunEveryNMinutes or RunEveryNSeconds, not both", field="Scheduler"
            )
        _check_int("RunEveryNMinutes", self.run_every_n_minutes, minimum=1)
        _check_int("RunEveryNSeconds", self.run_every_n_seconds, minimum=1)
        _check_int("AuthFlags", self.auth_flags, minimum=0, maximum=0xFF)  # a small bit mask

    @classmethod
    def for_connection(
        cls,
        connection_id: str,
        *,
        app_name: str,
        app_url: str,
        app_support: str,
        username: str,
        **options: object,
    ) -> QwcFile:
        """A `.qwc` whose OwnerID and FileID are derived from ``connection_id`` (stable).

        Regenerating the file for the same connection gives the same IDs, and two connections
        never share a FileID.
        """
        return cls(
            app_name=app_name,
            app_url=app_url,
            app_support=app_support,
            username=username,
            owner_id=stable_guid("owner", connection_id),
            file_id=stable_guid("file", connection_id),
            **options,  # type: ignore[arg-type]
        )

    def to_xml(self) -> bytes:
        """The `.qwc` document (UTF-8, every value escaped by lxml)."""
        root = etree.Element("QBWCXML")

        def add(tag: str, value: str | None, parent: etree._Element = root) -> None:
            if value is not None:
                etree.SubElement(parent, tag).text = value

        add("AppName", self.app_name)
        add("AppID", self.app_id)
        add("AppURL", self.app_url)
        add("AppDescription", self.app_description)
        add("AppSupport", self.app_support)
        add("CertURL", self.cert_url)
        add("UserName", self.username)
        add("OwnerID", self.owner_id)
        add("FileID", self.file_id)
        add("QBType", self.qb_type)
        add("Style", self.style)
        if self.run_every_n_minutes is not None or self.run_every_n_seconds is not None:
            scheduler = etree.SubElement(root, "Scheduler")
            if self.run_every_n_minutes is not None:
                add("RunEveryNMinutes", str(self.run_every_n_minutes), scheduler)
            else:
                add("RunEveryNSeconds", str(self.run_every_n_seconds), scheduler)
        if self.is_read_only is not None:
            add("IsReadOnly", "true" if self.is_read_only else "false")
        add("PersonalDataPref", self.personal_data_pref)
        add("UnattendedModePref", self.unattended_mode_pref)
        if self.auth_flags is not None:
            add("AuthFlags", f"0x{self.auth_flags:X}")
        return bytes(
            etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
        )
