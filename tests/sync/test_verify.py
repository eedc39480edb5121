"""Verification rules: each fires with its reason, and each is block / warn / off."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qbprocore import sync

R, M = sync.Rule, sync.RuleMode


def commitment(**kw: object) -> sync.CommitmentFacts:
    base: dict[str, object] = {
        "commitment_id": "SC-7",
        "vendor_id": "V1",
        "original_amount": "100000.00",
        "approved_change_orders": "0",
        "invoiced_to_date": "0",
    }
    base.update(kw)
    return sync.CommitmentFacts(**base)  # type: ignore[arg-type]


def invoice(amount: str = "1000.00", **kw: object) -> sync.InvoiceFacts:
    return sync.InvoiceFacts(invoice_id="B-1", vendor_id="V1", amount=amount, **kw)  # type: ignore[arg-type]


def rules(verdict: sync.Verdict) -> list[str]:
    return [f.rule.value for f in verdict.findings]


POLICY = sync.VerificationPolicy()


def test_a_clean_invoice_passes() -> None:
    verdict = sync.verify_invoice(invoice(), commitment(), POLICY)
    assert verdict.findings == ()
    assert not verdict.blocked


def test_cumulative_overbilling_across_many_invoices_is_blocked() -> None:
    """14 invoices that each look fine but total 103% of the commitment."""
    c = commitment(invoiced_to_date="95000.00", invoice_count=13)
    verdict = sync.verify_invoice(invoice("8000.00", change_order_reference="CO-1"), c, POLICY)
    assert rules(verdict) == ["cumulative_over_commitment"]
    finding = verdict.findings[0]
    assert finding.amount == Decimal("3000.00")
    assert "14 invoices total 103000.00 (103.0%)" in finding.reason
    assert verdict.blocked


def test_approved_change_orders_raise_the_ceiling() -> None:
    c = commitment(invoiced_to_date="95000.00", approved_change_orders="10000.00")
    assert sync.verify_invoice(invoice("8000.00"), c, POLICY).findings == ()


def test_beyond_the_commitment_without_change_order_reference_warns() -> None:
    c = commitment(invoiced_to_date="99500.00")
    policy = sync.VerificationPolicy(modes={R.CUMULATIVE_OVER_COMMITMENT: M.OFF})
    verdict = sync.verify_invoice(invoice("1000.00"), c, policy)
    assert rules(verdict) == ["over_commitment_without_change_order"]
    assert verdict.findings[0].amount == Decimal("500.00")
    assert not verdict.blocked
    assert verdict.warnings
    cited = sync.verify_invoice(invoice("1000.00", change_order_reference="CO-9"), c, policy)
    assert cited.findings == ()


def test_negative_and_duplicate_invoices() -> None:
    c = commitment(invoice_numbers={"INV-001"})
    verdict = sync.verify_invoice(invoice("-10.00", invoice_number=" inv-001"), c, POLICY)
    assert rules(verdict) == ["negative_invoice", "duplicate_invoice_number"]
    assert verdict.blocked
    assert "negative_invoice: invoice  inv-001 totals -10.00" in verdict.reason


def test_missing_mappings_block() -> None:
    verdict = sync.verify_invoice(
        invoice(vendor_mapped=False, unmapped_cost_codes=["01-100", "02-200"]), None, POLICY
    )
    assert rules(verdict) == ["missing_vendor_mapping", "missing_cost_code_mapping"]
    assert "01-100, 02-200" in verdict.findings[1].reason


def test_stale_commitment_after_approved_change_order() -> None:
    c = commitment(approved_change_orders="2500.00", recorded_amount="100000.00")
    verdict = sync.verify_commitment(c, POLICY)
    assert rules(verdict) == ["stale_commitment"]
    assert verdict.findings[0].mode is M.WARN
    revised = commitment(approved_change_orders="2500.00", recorded_amount="102500.00")
    assert sync.verify_commitment(revised, POLICY).findings == ()
    # Checked with invoices too.
    assert "stale_commitment" in rules(sync.verify_invoice(invoice(), c, POLICY))


@pytest.mark.parametrize("mode", [M.BLOCK, M.WARN, M.OFF])
def test_every_rule_is_configurable(mode: sync.RuleMode) -> None:
    policy = sync.VerificationPolicy(modes=dict.fromkeys(sync.Rule, mode))
    c = commitment(
        invoiced_to_date="99999.00",
        invoice_numbers={"X"},
        approved_change_orders="1",
        recorded_amount="100000.00",
    )
    verdict = sync.verify_invoice(
        invoice("-5.00", invoice_number="X", vendor_mapped=False, unmapped_cost_codes=["01"]),
        c,
        policy,
    )
    if mode is M.OFF:
        assert verdict.findings == ()
    else:
        fired = set(rules(verdict))
        # A negative invoice cannot also overbill; every other rule fires here.
        assert fired == {r.value for r in sync.Rule} - {
            "cumulative_over_commitment",
            "over_commitment_without_change_order",
        }
        assert verdict.blocked is (mode is M.BLOCK)
    over = sync.verify_invoice(invoice("5.00"), c, policy)
    assert ("cumulative_over_commitment" in rules(over)) is (mode is not M.OFF)


def test_tolerance_and_policy_round_trip() -> None:
    c = commitment(invoiced_to_date="100000.00")
    tolerant = sync.VerificationPolicy(tolerance="0.05")
    assert (
        sync.verify_invoice(invoice("0.05", change_order_reference="r"), c, tolerant).findings == ()
    )
    assert sync.VerificationPolicy.from_dict(tolerant.to_dict()) == tolerant
    assert tolerant.tolerance == Decimal("0.05")


def test_commitment_facts_from_a_procore_commitment() -> None:
    from qbprocore import procore

    commitment = procore.WorkOrderContract.from_api(
        {
            "id": 7,
            "number": "SC-7",
            "vendor": {"id": 501},
            "grand_total": "100000.00",
            "approved_change_orders": "2500.00",
        }
    )
    earlier = [
        procore.Requisition(invoice_number=f"A-{i}", total_claimed_amount="7500.00")
        for i in range(13)
    ]
    facts = sync.commitment_facts(
        commitment, earlier_invoices=earlier, recorded_amount=Decimal("100000.00")
    )
    assert (facts.commitment_id, facts.vendor_id, facts.invoice_count) == ("SC-7", "501", 13)
    assert facts.revised_amount == Decimal("102500.00")
    assert facts.invoiced_to_date == Decimal("97500.00")
    verdict = sync.verify_invoice(invoice("7500.00", invoice_number="A-3"), facts, POLICY)
    assert rules(verdict) == [
        "duplicate_invoice_number",
        "cumulative_over_commitment",
        "over_commitment_without_change_order",
        "stale_commitment",
    ]
    # Without approved_change_orders, the revised value tells.
    revised_only = procore.PurchaseOrderContract(
        id=8, grand_total="10.00", revised_contract="12.50"
    )
    assert sync.commitment_facts(revised_only).approved_change_orders == Decimal("2.50")


def test_bill_facts_check_mappings_and_sum_lines() -> None:
    import datetime as dt

    from qbprocore import qbxml

    refs = sync.RefTable({sync.Entity.VENDOR: {"V-1": 501}, sync.Entity.COST_CODE: {"I-1": 11}})
    ctx = sync.MappingContext(refs=refs)
    bill = qbxml.BillRet(
        txn_id="B-1",
        ref_number="A-14",
        memo="CO 3 extra rebar",
        txn_date=dt.date(2026, 3, 1),
        vendor_ref=qbxml.Ref(list_id="V-1"),
        expense_line_ret=[qbxml.ExpenseLineRet(txn_line_id="1", amount=Decimal("10.05"))],
        item_line_ret_or_item_group_line_ret=[
            qbxml.ItemLineRet(
                txn_line_id="2", item_ref=qbxml.Ref(list_id="I-1"), amount=Decimal("1.00")
            ),
            qbxml.ItemLineRet(
                txn_line_id="3",
                item_ref=qbxml.Ref(list_id="I-9", full_name="Crane"),
                amount=Decimal("2.00"),
            ),
            qbxml.ItemLineRet(
                txn_line_id="4",
                item_ref=qbxml.Ref(list_id="I-9", full_name="Crane"),
                amount=Decimal("3.00"),
            ),
        ],
    )
    facts = sync.bill_facts(bill, ctx)
    assert (facts.invoice_id, facts.vendor_id, facts.invoice_number) == ("B-1", "V-1", "A-14")
    assert facts.amount == Decimal("16.05")
    assert facts.vendor_mapped
    assert facts.unmapped_cost_codes == ("Crane",)
    assert facts.change_order_reference == "CO 3 extra rebar"
    unmapped = sync.bill_facts(
        qbxml.BillRet(txn_id="B-2", vendor_ref=qbxml.Ref(list_id="V-404")), ctx
    )
    assert not unmapped.vendor_mapped
    assert unmapped.amount == Decimal(0)
