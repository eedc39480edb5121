"""The generated models and schema are current, and our schema is our own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lxml import etree

from qbprocore import qbxml

ROOT = Path(__file__).resolve().parents[2]


def test_generated_files_match_the_generator(reference_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_qbxml.py"), "--check", "--shared",
         str(reference_dir.parent)],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_shipped_schema_compiles_and_is_not_a_copy_of_the_official_one(reference_dir: Path) -> None:
    ours = qbxml.schema_text()
    etree.XMLSchema(etree.fromstring(ours))
    official = (reference_dir / "xsd" / "qbxml130.xsd").read_bytes()
    assert b"xsd:group" in official
    assert b"group" not in ours  # flat named types of our own, no copied groups
    assert b"Intuit" not in ours
    assert Path(qbxml.schema_path()).read_bytes() == ours


def test_every_message_of_the_issue_is_modelled() -> None:
    expected = [
        "HostQuery", "CompanyQuery", "PreferencesQuery",
        "VendorQuery", "VendorAdd", "VendorMod",
        "CustomerQuery", "CustomerAdd", "CustomerMod",
        "ItemServiceQuery", "ItemServiceAdd", "ItemServiceMod",
        "AccountQuery", "BillQuery", "BillAdd", "BillMod",
        "PurchaseOrderQuery", "PurchaseOrderAdd", "PurchaseOrderMod",
        "EstimateQuery", "EstimateAdd", "EstimateMod",
        "BillPaymentCheckQuery", "BillPaymentCheckAdd",
        "CheckQuery", "CreditCardChargeQuery", "VendorCreditQuery",
        "TxnDeletedQuery", "ListDeletedQuery", "TxnDel",
    ]  # fmt: skip
    assert [c.__name__ for c in qbxml.REQUEST_TYPES] == [f"{m}Rq" for m in expected]
    assert [c.__name__ for c in qbxml.RESPONSE_TYPES] == [f"{m}Rs" for m in expected]
    for record in ("VendorRet", "CustomerRet", "BillRet", "PurchaseOrderRet", "EstimateRet",
                   "ItemServiceRet", "AccountRet", "CheckRet", "CreditCardChargeRet",
                   "VendorCreditRet", "BillPaymentCheckRet", "TxnDeletedRet", "ListDeletedRet",
                   "HostRet", "CompanyRet", "PreferencesRet"):  # fmt: skip
        assert isinstance(getattr(qbxml, record), type)


def test_jobs_are_customers_with_a_parent() -> None:
    job = qbxml.CustomerAdd(name="Phase 1", parent_ref=qbxml.Ref(full_name="Harbor Tower"))
    data = qbxml.dumps(qbxml.CustomerAddRq(customer_add=job))
    assert b"<ParentRef><FullName>Harbor Tower</FullName></ParentRef>" in data
