""".qwc files: every field, escaped, validated, stable IDs per connection."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from qbprocore import qbwc

BASE = {
    "app_name": "Acme <Procore> & QB",
    "app_url": "https://books.example.com/qbwc",
    "app_support": "https://books.example.com/support",
    "username": "acme",
    "owner_id": "{57F3B9B1-86F1-4FCC-B1EE-566DE1813D20}",
    "file_id": "{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}",
}


def test_every_field_is_written_and_escaped() -> None:
    qwc = qbwc.QwcFile(
        **BASE,
        app_id="IDN1",
        app_description="Syncs vendors & bills",
        cert_url="https://books.example.com/cert",
        run_every_n_minutes=15,
        is_read_only=False,
        personal_data_pref="pdpOptional",
        unattended_mode_pref="umpOptional",
        auth_flags=0xF,
        style="Document",
    )
    xml = qwc.to_xml()
    assert b"Acme &lt;Procore&gt; &amp; QB" in xml
    root = etree.fromstring(xml)
    assert root.tag == "QBWCXML"
    assert [c.tag for c in root] == [
        "AppName",
        "AppID",
        "AppURL",
        "AppDescription",
        "AppSupport",
        "CertURL",
        "UserName",
        "OwnerID",
        "FileID",
        "QBType",
        "Style",
        "Scheduler",
        "IsReadOnly",
        "PersonalDataPref",
        "UnattendedModePref",
        "AuthFlags",
    ]
    assert root.findtext("AppName") == "Acme <Procore> & QB"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "15"
    assert root.findtext("IsReadOnly") == "false"
    assert root.findtext("AuthFlags") == "0xF"
    assert root.findtext("QBType") == "QBFS"


def test_seconds_scheduler_and_minimal_file() -> None:
    root = etree.fromstring(qbwc.QwcFile(**BASE, run_every_n_seconds=30).to_xml())
    assert root.findtext("Scheduler/RunEveryNSeconds") == "30"
    assert root.find("Scheduler/RunEveryNMinutes") is None
    assert etree.fromstring(qbwc.QwcFile(**BASE).to_xml()).find("Scheduler") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"app_url": "http://books.example.com/qbwc"}, "AppURL"),
        ({"app_support": "mailto:help@example.com"}, "AppSupport"),
        ({"cert_url": "http://books.example.com/cert"}, "CertURL"),
        ({"cert_url": "ftp://x"}, "CertURL"),
        ({"app_url": "books.example.com"}, "AppURL"),
        ({"owner_id": "57F3B9B1-86F1-4FCC-B1EE-566DE1813D20"}, "OwnerID"),
        ({"file_id": "{not-a-guid}"}, "FileID"),
        ({"run_every_n_minutes": 5, "run_every_n_seconds": 30}, "Scheduler"),
        ({"run_every_n_minutes": 0}, "RunEveryNMinutes"),
        ({"qb_type": "QBOE"}, "QBType"),
        ({"personal_data_pref": "yes"}, "PersonalDataPref"),
        ({"unattended_mode_pref": "no"}, "UnattendedModePref"),
        ({"style": "SOAP"}, "Style"),
        ({"app_name": " "}, "AppName"),
        ({"username": ""}, "UserName"),
        ({"auth_flags": 4096}, "AuthFlags"),
        # A trailing newline is not part of a GUID (a "$" anchor would let it through).
        ({"file_id": "{57F3B9B1-86F1-4FCC-B1EE-566DE1813D20}\n"}, "FileID"),
        # Wrong types are named, not left to fail (or worse, pass) later.
        ({"run_every_n_minutes": 1.5}, "RunEveryNMinutes"),
        ({"run_every_n_minutes": "15"}, "RunEveryNMinutes"),
        ({"run_every_n_seconds": True}, "RunEveryNSeconds"),
        ({"auth_flags": "0xF"}, "AuthFlags"),
        ({"auth_flags": 2.5}, "AuthFlags"),
        ({"is_read_only": "no"}, "IsReadOnly"),
        ({"app_name": 7}, "AppName"),
        ({"app_description": None}, "AppDescription"),
        # Characters XML cannot carry.
        ({"app_name": "A\x01B"}, "AppName"),
        ({"app_description": "tab\tok, but not \x0b"}, "AppDescription"),
        ({"username": "u\ufffe"}, "UserName"),
    ],
)
def test_invalid_values_are_refused(change: dict[str, object], field: str) -> None:
    with pytest.raises(qbwc.QwcError) as info:
        qbwc.QwcFile(**{**BASE, **change})  # type: ignore[arg-type]
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("url", ["http://localhost:8000/qbwc", "http://127.0.0.1/qbwc"])
def test_http_is_allowed_for_localhost(url: str) -> None:
    qbwc.QwcFile(**{**BASE, "app_url": url, "app_support": url})


def test_ids_are_stable_per_connection() -> None:
    def make(connection: str) -> qbwc.QwcFile:
        return qbwc.QwcFile.for_connection(
            connection,
            app_name="Acme",
            app_url=BASE["app_url"],
            app_support=BASE["app_support"],
            username="acme",
            run_every_n_minutes=10,
        )

    a1, a2, b = make("conn-a"), make("conn-a"), make("conn-b")
    assert (a1.owner_id, a1.file_id) == (a2.owner_id, a2.file_id)
    assert a1.file_id != b.file_id
    assert a1.to_xml() == a2.to_xml()
    assert qbwc.stable_guid("x").startswith("{")


def test_reference_samples_pass_our_validation(reference_dir: Path) -> None:
    for path in sorted((reference_dir / "soap" / "qwc").glob("*.qwc")):
        root = etree.fromstring(path.read_bytes())
        sched = root.find("Scheduler/RunEveryNMinutes")
        qwc = qbwc.QwcFile(
            app_name=root.findtext("AppName") or "",
            app_id=root.findtext("AppID") or "",
            app_url=root.findtext("AppURL") or "",
            app_support=root.findtext("AppSupport") or "",
            username=root.findtext("UserName") or "",
            owner_id=root.findtext("OwnerID") or "",
            file_id=root.findtext("FileID") or "",
            run_every_n_minutes=int(sched.text or "1") if sched is not None else None,
        )
        again = etree.fromstring(qwc.to_xml())
        for tag in ("AppName", "AppURL", "OwnerID", "FileID", "UserName"):
            assert again.findtext(tag) == root.findtext(tag), (path.name, tag)
