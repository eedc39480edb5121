"""MappingRegistry: overrides per connection or for all, with the contract checked on each call."""

from __future__ import annotations

import pytest

from qbprocore import procore, qbxml, sync


def upper(vendor: procore.Vendor, ctx: sync.MappingContext) -> sync.MappingResult[qbxml.VendorAdd]:
    result = sync.VENDOR_TO_QB_VENDOR.default(vendor, ctx)  # extend the default
    if isinstance(result, sync.Skip):
        return result
    return sync.Mapped(record=qbxml.VendorAdd(name=result.record.name.upper()))


def never(vendor: procore.Vendor, ctx: sync.MappingContext) -> sync.MappingResult[qbxml.VendorAdd]:
    return sync.Skip(reason="vendors are managed in QuickBooks here", code="policy")


ACME = procore.Vendor(id=1, name="Acme")


def test_defaults_apply_without_overrides() -> None:
    registry = sync.MappingRegistry()
    ctx = sync.MappingContext(connection_id="a")
    assert registry.resolve(sync.VENDOR_TO_QB_VENDOR) is sync.vendor_to_qb_vendor
    result = registry.map(sync.VENDOR_TO_QB_VENDOR, ACME, ctx)
    assert isinstance(result, sync.Mapped)
    assert result.record.name == "Acme"


def test_connection_override_beats_global_override_beats_default() -> None:
    registry = sync.MappingRegistry()
    registry.register(sync.VENDOR_TO_QB_VENDOR, never)
    registry.register(sync.VENDOR_TO_QB_VENDOR, upper, connection_id="a")
    a = registry.map(sync.VENDOR_TO_QB_VENDOR, ACME, sync.MappingContext(connection_id="a"))
    b = registry.map(sync.VENDOR_TO_QB_VENDOR, ACME, sync.MappingContext(connection_id="b"))
    assert isinstance(a, sync.Mapped)
    assert a.record.name == "ACME"
    assert isinstance(b, sync.Skip)
    assert b.code == "policy"
    registry.unregister(sync.VENDOR_TO_QB_VENDOR)
    registry.unregister(sync.VENDOR_TO_QB_VENDOR, connection_id="a")
    registry.unregister(sync.VENDOR_TO_QB_VENDOR, connection_id="never-registered")
    assert registry.resolve(sync.VENDOR_TO_QB_VENDOR, connection_id="a") is sync.vendor_to_qb_vendor


def test_wrong_source_type_is_a_mapping_error() -> None:
    registry = sync.MappingRegistry()
    with pytest.raises(sync.MappingError, match="vendor_to_qb_vendor maps Vendor, got CostCode"):
        registry.map(sync.VENDOR_TO_QB_VENDOR, procore.CostCode(id=1), sync.MappingContext())  # type: ignore[arg-type]


def test_a_function_returning_something_else_is_a_mapping_error() -> None:
    registry = sync.MappingRegistry()
    registry.register(sync.VENDOR_TO_QB_VENDOR, lambda v, ctx: qbxml.VendorAdd(name="x"))  # type: ignore[arg-type, return-value]
    with pytest.raises(sync.MappingError, match=r"returned VendorAdd; a mapping returns Mapped"):
        registry.map(sync.VENDOR_TO_QB_VENDOR, ACME, sync.MappingContext())


def test_unknown_specs_and_non_callables_are_refused() -> None:
    registry = sync.MappingRegistry()
    fake = sync.MappingSpec(
        name="vendor_to_qb_vendor",
        entity=sync.Entity.VENDOR,
        target=sync.Side.QUICKBOOKS,
        sources=(procore.Vendor,),
        default=upper,
    )
    with pytest.raises(sync.MappingError, match="unknown mapping"):
        registry.register(fake, upper)
    with pytest.raises(sync.MappingError, match="must be callable"):
        registry.register(sync.VENDOR_TO_QB_VENDOR, "upper")  # type: ignore[arg-type]
    assert "0 overrides" in repr(registry)
