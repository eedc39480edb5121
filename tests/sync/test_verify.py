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
