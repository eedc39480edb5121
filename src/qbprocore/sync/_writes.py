"""Writes waiting in the outbox for QuickBooks, and how the engine recognises them later.

A `QbWrite` is the payload of one outbox item whose target is QuickBooks: one qbXML Add (or
the change order whose lines a purchase-order Mod will add). Its *marker* is how the write is
found in QuickBooks when its outcome is unknown (the Web Connector session died after the
request went out): list records by their full name, which QuickBooks keeps unique (the same
rule that answers a duplicate with status 3100); transactions by ``ExternalGUID``, a GUID
field of every transaction Add that QuickBooks stores and returns, derived here from the
outbox key so that a retry carries the same value.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import attrs

from qbprocore import qbxml
from qbprocore.sync._records import AuditEvent, Connection, Entity, Stage
from qbprocore.sync._results import MappingContext, RefTable
from qbprocore.sync._store import Store

__all__ = ["QbWrite", "external_guid"]

_GUID_NAMESPACE = uuid.UUID("5b0b1a2e-7c1d-4c55-9a8e-0c6b1f0d2a11")

RANKS: dict[str, int] = {
    "ItemService": 10,
    "Customer": 10,
    "Vendor": 10,
    "CustomerMod": 15,
    "VendorMod": 15,
    "Estimate": 20,
    "PurchaseOrder": 20,
    "PurchaseOrderMod": 30,
    "Bill": 30,
    "BillPaymentCheck": 40,
}
"""Dependency order of QuickBooks writes: lists first, then what refers to them."""

_LISTS = ("ItemService", "Customer", "Vendor")


def external_guid(key: str) -> str:
    """The ``ExternalGUID`` a transaction written for outbox key ``key`` carries."""
    return "{" + str(uuid.uuid5(_GUID_NAMESPACE, key)).upper() + "}"


@attrs.frozen(kw_only=True)
class QbWrite:
    """One write to QuickBooks, as kept in the outbox.

    Attributes:
        kind: The record type (``"Vendor"``, ``"Bill"``, ``"PurchaseOrderMod"`` …).
        entity: The entity the result is cross-referenced as.
        procore_id: The Procore record it comes from.
        request: The qbXML request document (for an Add).
        marker: How to find the result when the outcome is unknown: the full name of a list
            record, the ``ExternalGUID`` of a transaction.
        change_order: For ``"PurchaseOrderMod"``: the change order (Procore JSON), mapped
            against the purchase order as QuickBooks returns it just before the write.
        txn_id: For a Mod: the ListID or TxnID of the record it changes (fetched just before
            the write, for its current EditSequence).
    """

    kind: str
    entity: Entity
    procore_id: int | None = None
    request: str = ""
    marker: str = ""
    change_order: dict[str, Any] | None = None
    txn_id: str | None = None

    @property
    def is_mod(self) -> bool:
        """A change to a record QuickBooks has (sent after fetching its EditSequence)."""
        return self.kind.endswith("Mod")

    @property
    def is_list(self) -> bool:
        """A list record (vendor, job, item), found again by its name."""
        return self.kind in _LISTS

    def to_json(self) -> str:
        """The outbox payload."""
        return json.dumps(
            {
                "kind": self.kind,
                "entity": self.entity.value,
                "procore_id": self.procore_id,
                "request": self.request,
                "marker": self.marker,
                "change_order": self.change_order,
                "txn_id": self.txn_id,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> QbWrite:
        """Read an outbox payload."""
        data = json.loads(text)
        return cls(
            kind=data["kind"],
            entity=Entity(data["entity"]),
            procore_id=data.get("procore_id"),
            request=data.get("request", ""),
            marker=data.get("marker", ""),
            change_order=data.get("change_order"),
            txn_id=data.get("txn_id"),
        )

    def message(self) -> qbxml.QbxmlRequest:
        """The request message of an Add."""
        return qbxml.loads(self.request).requests[0]

    def probe(self, request_id: str) -> qbxml.QbxmlRequest:
        """A query that finds this write's result in QuickBooks, if it was made."""
        query: Any = getattr(qbxml, f"{self.kind}QueryRq")
        if self.is_list:
            return query(request_id=request_id, full_name=[self.marker])  # type: ignore[no-any-return]
        add = _payload(self.message())
        ref = add.ref_number
        if ref:
            return query(request_id=request_id, ref_number=[ref])  # type: ignore[no-any-return]
        # The transaction's vendor, payee or (for an estimate) customer narrows the search.
        entity = next(
            (
                ref
                for name in ("vendor_ref", "payee_entity_ref", "customer_ref")
                if (ref := getattr(add, name, None)) is not None
            ),
            None,
        )
        filt = None if entity is None else qbxml.EntityFilter(list_id=[entity.list_id])
        return query(request_id=request_id, entity_filter=filt)  # type: ignore[no-any-return]

    def matches(self, record: qbxml.QbxmlModel) -> bool:
        """Whether ``record`` (from `probe`) is this write's result."""
        if self.is_list:
            name = getattr(record, "full_name", None) or getattr(record, "name", None) or ""
            return bool(name.casefold() == self.marker.casefold())
        return getattr(record, "external_guid", None) == self.marker


def _payload(message: qbxml.QbxmlRequest) -> Any:
    """The record inside an ``…AddRq``/``…ModRq`` message."""
    spec = type(message).__qbxml__
    return getattr(message, spec.fields[0].attr)


def record_id(record: qbxml.QbxmlModel) -> str | None:
    """A QuickBooks record's ListID or TxnID."""
    value = getattr(record, "list_id", None) or getattr(record, "txn_id", None)
    return None if value is None else str(value)


def record_amount(record: Any) -> Decimal | None:
    """The amount a record carries, for the audit trail."""
    for name in ("total_amount", "amount_due", "amount", "grand_total", "total_claimed_amount"):
        value = getattr(record, name, None) if not isinstance(record, dict) else record.get(name)
        if value is not None:
            return Decimal(str(value))
    return None


def audit(
    store: Store,
    connection_id: str,
    entity: Entity,
    stage: Stage,
    *,
    qb_id: str | None = None,
    procore_id: int | None = None,
    amount: Decimal | None = None,
    detail: str = "",
) -> None:
    """Record one step of a record's journey."""
    store.record_event(
        AuditEvent(
            connection_id=connection_id,
            entity=entity,
            stage=stage,
            qb_id=qb_id,
            procore_id=procore_id,
            amount=amount,
            detail=detail,
        )
    )


def get_index(store: Store, connection_id: str, name: str) -> dict[str, Any]:
    """A small JSON index the engine keeps beside its watermarks (``index:<name>``)."""
    text = store.get_watermark(connection_id, f"index:{name}")
    data: dict[str, Any] = json.loads(text) if text else {}
    return data


def put_index(store: Store, connection_id: str, name: str, data: dict[str, Any]) -> None:
    """Replace an index written by `get_index`."""
    store.set_watermark(connection_id, f"index:{name}", json.dumps(data, sort_keys=True))


def mapping_context(store: Store, conn: Connection) -> MappingContext:
    """The mapping context of a connection: its cross-references and what the indexes know."""
    refs = RefTable.from_xrefs(store.list_xrefs(conn.id))
    for procore_id, qb_id in get_index(store, conn.id, "cost_code_alias").items():
        refs.alias(Entity.COST_CODE, str(qb_id), int(procore_id))

    def ints(name: str) -> dict[int, int]:
        return {int(k): int(v) for k, v in get_index(store, conn.id, name).items()}

    return MappingContext(
        connection_id=conn.id,
        settings=conn.mapping,
        refs=refs,
        company_country=store.get_watermark(conn.id, "qb:country"),
        line_item_type_ids={
            str(k): int(v) for k, v in get_index(store, conn.id, "line_item_types").items()
        },
        vendor_commitments=ints("vendor_commitments"),
        invoice_commitments=ints("invoice_commitments"),
        project_cost_codes={
            int(project): {str(code): int(cc) for code, cc in codes.items()}
            for project, codes in get_index(store, conn.id, "project_cost_codes").items()
        },
    )
