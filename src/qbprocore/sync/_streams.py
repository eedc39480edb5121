"""What the engine reads from QuickBooks, and how records are kept while they wait.

A *read stream* is one query kept current by a watermark: `QB_STREAMS` lists them in the
order a session reads them (lists before the transactions that refer to them, deletions
last). Records are staged as one-record qbXML documents (QuickBooks side) or JSON (Procore
side), so a staged record can be read back exactly as it was received.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import attrs

from qbprocore import procore, qbxml
from qbprocore.sync._records import Entity

__all__ = ["QB_STREAMS", "QbStream"]


@attrs.frozen(kw_only=True)
class QbStream:
    """One QuickBooks read stream.

    Attributes:
        name: The stream's name (its watermark is ``"qb:<name>"``).
        entity: The entity its records are staged as.
        query: The query request class.
        kind: ``"list"`` (``FromModifiedDate``), ``"txn"`` (``ModifiedDateRangeFilter``) or
            ``"deleted"`` (``DeletedDateRangeFilter``, no iterator).
        del_types: For deletion streams, the types asked for.
    """

    name: str
    entity: Entity
    query: type[qbxml.QbxmlRequest]
    kind: str
    del_types: tuple[str, ...] = ()

    def request(
        self, *, since: dt.datetime | None, max_returned: int, request_id: str
    ) -> qbxml.QbxmlRequest:
        """The query for everything modified since ``since`` (everything when ``None``)."""
        fields: dict[str, Any] = {"request_id": request_id}
        if self.kind == "deleted":
            fields["deleted_date_range_filter"] = (
                qbxml.DeletedDateRangeFilter(from_deleted_date=since) if since else None
            )
            key = "txn_del_type" if self.name == "TxnDeleted" else "list_del_type"
            fields[key] = list(self.del_types)
            return self.query(**fields)
        fields["iterator"] = qbxml.Iterator.START
        fields["max_returned"] = max_returned
        if self.kind == "list":
            fields["active_status"] = qbxml.ActiveStatus.ALL
            fields["from_modified_date"] = since
        else:
            fields["include_line_items"] = True
            if self.name in ("Bill", "PurchaseOrder"):
                fields["include_linked_txns"] = True
            if since is not None:
                fields["modified_date_range_filter"] = qbxml.ModifiedDateRangeFilter(
                    from_modified_date=since
                )
        return self.query(**fields)


QB_STREAMS: tuple[QbStream, ...] = (
    QbStream(
        name="ItemService", entity=Entity.COST_CODE, query=qbxml.ItemServiceQueryRq, kind="list"
    ),
    QbStream(name="Customer", entity=Entity.PROJECT, query=qbxml.CustomerQueryRq, kind="list"),
    QbStream(name="Vendor", entity=Entity.VENDOR, query=qbxml.VendorQueryRq, kind="list"),
    QbStream(
        name="PurchaseOrder", entity=Entity.COMMITMENT, query=qbxml.PurchaseOrderQueryRq, kind="txn"
    ),
    QbStream(name="Bill", entity=Entity.INVOICE, query=qbxml.BillQueryRq, kind="txn"),
    QbStream(name="Check", entity=Entity.DIRECT_COST, query=qbxml.CheckQueryRq, kind="txn"),
    QbStream(
        name="CreditCardCharge",
        entity=Entity.DIRECT_COST,
        query=qbxml.CreditCardChargeQueryRq,
        kind="txn",
    ),
    QbStream(
        name="BillPaymentCheck",
        entity=Entity.PAYMENT,
        query=qbxml.BillPaymentCheckQueryRq,
        kind="txn",
    ),
    QbStream(
        name="ListDeleted",
        entity=Entity.VENDOR,
        query=qbxml.ListDeletedQueryRq,
        kind="deleted",
        del_types=("Customer", "Vendor"),
    ),
    QbStream(
        name="TxnDeleted",
        entity=Entity.INVOICE,
        query=qbxml.TxnDeletedQueryRq,
        kind="deleted",
        del_types=("Bill", "BillPaymentCheck", "Check", "CreditCardCharge"),
    ),
)
"""Every QuickBooks read stream, in the order a session reads them."""

_BY_NAME = {s.name: s for s in QB_STREAMS}


def stream_by_name(name: str) -> QbStream:
    """The stream called ``name``."""
    return _BY_NAME[name]


# -- staged payloads ------------------------------------------------------------------------------

_RS_FIELD: dict[type[qbxml.QbxmlModel], tuple[type[qbxml.QbxmlResponse], str]] = {}


def _response_for(record: qbxml.QbxmlModel) -> tuple[type[qbxml.QbxmlResponse], str]:
    cls = type(record)
    found = _RS_FIELD.get(cls)
    if found is None:
        name = cls.__name__
        if name in ("TxnDeletedRet", "ListDeletedRet"):
            rs_name = name[:-3] + "QueryRs"
            field = "txn_deleted_ret" if name == "TxnDeletedRet" else "list_deleted_ret"
        else:
            rs_name = name[:-3] + "QueryRs"
            field = "".join(
                "_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name)
            )
        rs_cls = getattr(qbxml, rs_name)
        found = _RS_FIELD[cls] = (rs_cls, field)
    return found


def encode_qb(record: qbxml.QbxmlModel) -> str:
    """A QuickBooks record as a one-record qbXML response document (lossless)."""
    rs_cls, field = _response_for(record)
    rs = rs_cls(
        status_code=0, status_severity="Info", status_message="Status OK", **{field: [record]}
    )  # type: ignore[call-arg]
    return qbxml.dumps(rs, validate=False).decode("ascii")


def decode_qb(payload: str) -> qbxml.QbxmlModel:
    """The record `encode_qb` wrote."""
    records = qbxml.loads(payload).responses[0].records
    return records[0]


def encode_procore(record: procore.ProcoreModel, **extra: Any) -> str:
    """A Procore record (with extra keys such as ``"_resource"``) as JSON."""
    body = record.to_api()
    body.update(extra)
    return json.dumps(body, sort_keys=True, default=str)


def decode_procore(payload: str) -> dict[str, Any]:
    """The JSON object `encode_procore` wrote."""
    data: dict[str, Any] = json.loads(payload)
    return data


def procore_version(record: procore.ProcoreModel | Mapping[str, Any]) -> str:
    """A Procore record's version: its ``updated_at`` as Procore sent it."""
    value = (
        record.get("updated_at")
        if isinstance(record, Mapping)
        else getattr(record, "updated_at", None)
    )
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    return str(value or "")
