"""A realistic construction company on both fakes, for the demo and the end-to-end tests.

`seed_company` sets up what exists before the first sync: in Procore two projects with a
cost-code list, a budget, a subcontract and a purchase order (each with an approved change
order), subcontractor invoices (one that overbills its commitment, one negative) and a
payment issued; in QuickBooks the vendors the bookkeeper already has, a job, and the parent
customer jobs go under. `enter_bookkeeping` is what the bookkeeper enters in QuickBooks once
the first sync has created the jobs and items: bills, a check, a card charge, a bill payment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from qbprocore.sync import Entity, MappingSettings
from qbprocore.testing._harness import SimulatedConnector

__all__ = ["Company", "company_mapping", "enter_bookkeeping", "seed_company"]

PARENT = "Builders Clients"
"""The QuickBooks customer that jobs go under."""

_COST_CODES = [
    ("01-100", "General Conditions"),
    ("03-300", "Cast-in-Place Concrete"),
    ("05-100", "Structural Steel"),
    ("09-250", "Gypsum Board"),
    ("16-100", "Electrical"),
]


@attrs.define
class Company:
    """Ids of what `seed_company` created, for tests to look up.

    Attributes:
        projects: Project name → Procore id.
        cost_codes: (project id, code) → Procore cost code id.
        vendors: Vendor name → Procore id (vendors that start in Procore).
        subcontract: The subcontract's Procore id.
        purchase_order: The purchase order contract's Procore id.
        change_orders: The approved change orders' Procore ids.
        invoices: Invoice number → Procore requisition id.
        payment: The payment issued's Procore id.
        qb_vendors: Vendor names that start in QuickBooks.
        qb_job: The job that starts in QuickBooks (full name).
    """

    projects: dict[str, int] = attrs.field(factory=dict)
    cost_codes: dict[tuple[int, str], int] = attrs.field(factory=dict)
    vendors: dict[str, int] = attrs.field(factory=dict)
    subcontract: int = 0
    purchase_order: int = 0
    change_orders: list[int] = attrs.field(factory=list)
    invoices: dict[str, int] = attrs.field(factory=dict)
    payment: int = 0
    qb_vendors: list[str] = attrs.field(factory=list)
    qb_job: str = ""


def company_mapping(**changes: Any) -> MappingSettings:
    """The mapping settings the demo company uses."""
    settings: dict[str, Any] = {
        "job_parent_customer": PARENT,
        "item_account": "Job Costs",
        "bank_account": "Checking",
        "commitment_statuses": {"approved"},
    }
    settings.update(changes)
    return MappingSettings(**settings)


def _d(text: str) -> Decimal:
    return Decimal(text)


def seed_company(sim: SimulatedConnector) -> Company:
    """Create the company on both sides (see the module docs)."""
    p, qb = sim.procore, sim.quickbooks
    out = Company()
    p.seed("line_item_types", [{"name": "Other", "code": "O", "base_type": "other"}])
    for name, number in (("Harbor Point Tower", "HPT-24"), ("Riverside Clinic", "RSC-25")):
        [row] = p.seed(
            "projects",
            [
                {
                    "name": name,
                    "display_name": name,
                    "project_number": number,
                    "active": True,
                    "start_date": "2026-03-02",
                }
            ],
        )
        out.projects[name] = row["id"]
    for pid in out.projects.values():
        rows = p.seed(
            "cost_codes",
            [{"name": n, "code": c, "full_code": c} for c, n in _COST_CODES],
            project_id=pid,
        )
        for row in rows:
            out.cost_codes[(pid, row["code"])] = row["id"]
    # Vendors: two start in Procore (subcontractors the PM invited), three in QuickBooks.
    for name in ("Ironwood Steel Erectors", "Summit Drywall"):
        [row] = p.seed(
            "vendors",
            [
                {
                    "name": name,
                    "is_active": True,
                    "city": "Boston",
                    "state_code": "MA",
                    "email_address": f"ap@{name.split()[0].lower()}.example",
                }
            ],
        )
        out.vendors[name] = row["id"]
    qb.add_customer(PARENT)
    for name in ("Keystone Concrete", "Brightline Electric", "Côté Glazing"):
        qb.add_vendor(name, company_name=f"{name} LLC")
        out.qb_vendors.append(name)
    out.qb_job = f"{PARENT}:Maple Street Renovation"
    qb.add_job("Maple Street Renovation", PARENT)

    tower = out.projects["Harbor Point Tower"]
    code = out.cost_codes
    p.seed(
        "budget_line_items",
        [
            {
                "cost_code": {"id": code[(tower, c)], "full_code": c, "name": n},
                "original_budget_amount": amount,
            }
            for (c, n), amount in zip(
                _COST_CODES,
                ("180000.00", "420000.00", "610000.00", "145000.00", "260000.00"),
                strict=True,
            )
        ],
        project_id=tower,
    )
    steel = out.vendors["Ironwood Steel Erectors"]
    drywall = out.vendors["Summit Drywall"]
    [sc] = p.seed(
        "work_order_contracts",
        [
            {
                "number": "SC-001",
                "title": "Structural steel package",
                "status": "Approved",
                "vendor": {"id": steel},
                "project": {"id": tower},
                "grand_total": "600000.00",
                "revised_contract": "625000.00",
                "approved_change_orders": "25000.00",
                "contract_date": "2026-03-10",
            }
        ],
        project_id=tower,
    )
    out.subcontract = sc["id"]
    p.seed(
        "work_order_contract_line_items",
        [
            {
                "description": "Steel supply",
                "amount": "400000.00",
                "cost_code": {"id": code[(tower, "05-100")], "full_code": "05-100"},
            },
            {
                "description": "Erection",
                "amount": "200000.00",
                "cost_code": {"id": code[(tower, "05-100")], "full_code": "05-100"},
            },
        ],
        project_id=tower,
        parent_id=sc["id"],
    )
    [po] = p.seed(
        "purchase_order_contracts",
        [
            {
                "number": "PO-014",
                "title": "Gypsum board and framing",
                "status": "Approved",
                "vendor": {"id": drywall},
                "project": {"id": tower},
                "grand_total": "48000.00",
                "revised_contract": "52500.00",
                "approved_change_orders": "4500.00",
                "contract_date": "2026-04-01",
            }
        ],
        project_id=tower,
    )
    out.purchase_order = po["id"]
    p.seed(
        "purchase_order_contract_line_items",
        [
            {
                "description": "Board, studs, fasteners",
                "amount": "48000.00",
                "cost_code": {"id": code[(tower, "09-250")], "full_code": "09-250"},
            }
        ],
        project_id=tower,
        parent_id=po["id"],
    )
    for contract, number, amount, cc in (
        (sc["id"], "CO-001", "25000.00", "05-100"),
        (po["id"], "CO-002", "4500.00", "09-250"),
    ):
        [co] = p.seed(
            "commitment_change_orders",
            [
                {
                    "number": number,
                    "title": f"{number} added scope",
                    "status": "Approved",
                    "contract_id": contract,
                    "grand_total": amount,
                    "line_items": [
                        {
                            "description": "Added scope",
                            "amount": amount,
                            "cost_code": {"id": code[(tower, cc)], "full_code": cc},
                        }
                    ],
                }
            ],
            project_id=tower,
        )
        out.change_orders.append(co["id"])
    for number, amount, contract, vendor in (
        ("IW-1001", "300000.00", sc["id"], steel),
        ("IW-1002", "340000.00", sc["id"], steel),  # 640k billed on a 625k commitment
        ("SD-77", "-1500.00", po["id"], drywall),  # a credit: negative
        ("SD-78", "21000.00", po["id"], drywall),
    ):
        [rq] = p.seed(
            "requisitions",
            [
                {
                    "invoice_number": number,
                    "number": len(out.invoices) + 1,
                    "status": "approved",
                    "commitment_id": contract,
                    "vendor_id": vendor,
                    "project_id": tower,
                    "billing_date": "2026-05-31",
                    "total_claimed_amount": amount,
                }
            ],
            project_id=tower,
        )
        cc = "05-100" if contract == sc["id"] else "09-250"
        p.seed(
            "requisition_items",
            [
                {
                    "description": f"Work this period ({number})",
                    "work_completed_this_period": amount,
                    "cost_code": {"id": code[(tower, cc)], "full_code": cc},
                }
            ],
            project_id=tower,
            parent_id=rq["id"],
        )
        out.invoices[number] = rq["id"]
    [paid] = p.seed(
        "contract_payments",
        [
            {
                "amount": "21000.00",
                "date": "2026-06-15",
                "check_number": "4410",
                "invoice_number": "SD-78",
                "contract_id": po["id"],
                "requisition_id": out.invoices["SD-78"],
                "notes": "Pay app 1",
            }
        ],
        project_id=tower,
        parent_id=po["id"],
    )
    out.payment = paid["id"]
    return out


def enter_bookkeeping(sim: SimulatedConnector, company: Company) -> dict[str, str]:
    """What the bookkeeper enters in QuickBooks after the first sync; returns the TxnIDs.

    A bill against the drywall purchase order (it becomes a subcontractor invoice), a
    concrete supplier's bill coded to a job (a direct cost), a check and a card charge (direct
    costs), and a bill payment for the concrete bill (a payment issued needs an invoice, so
    it is reported as not synced).
    """
    qb = sim.quickbooks
    job = f"{PARENT}:Harbor Point Tower"
    refs = sim.store.list_xrefs(sim.connection_id, Entity.COMMITMENT)
    po_txn = next(x.qb_id for x in refs if x.procore_id == company.purchase_order and x.qb_id)
    drywall_bill = qb.add_bill(
        "Summit Drywall",
        [("09-250", _d("9800.00"), job)],
        ref_number="SD-79",
        memo="Board delivery, levels 3-4",
        link_to_po=po_txn,
        txn_date=dt.date(2026, 6, 30),
    )
    concrete = qb.add_bill(
        "Keystone Concrete",
        [
            ("03-300", _d("18250.00"), job),
            ("03-300", _d("1200.00"), job),
            (None, _d("95.00"), None),
        ],
        ref_number="KC-5521",
        memo="Ready-mix, level 2 deck",
        txn_date=dt.date(2026, 6, 28),
    )
    check = qb.add_check(
        "Brightline Electric",
        [("16-100", _d("2450.00"), job)],
        ref_number="10231",
        txn_date=dt.date(2026, 6, 29),
    )
    charge = qb.add_credit_card_charge(
        "Côté Glazing",
        [(None, _d("312.40"), job)],
        memo="Sealant, site pickup",
        txn_date=dt.date(2026, 6, 29),
    )
    payment = qb.add_bill_payment(
        "Summit Drywall", [(drywall_bill.txn_id or "", _d("9800.00"))], ref_number="10232"
    )
    return {
        "drywall_bill": drywall_bill.txn_id or "",
        "concrete_bill": concrete.txn_id or "",
        "check": check.txn_id or "",
        "charge": charge.txn_id or "",
        "payment": payment.txn_id or "",
    }
