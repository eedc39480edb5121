"""The sync layer: the only part of qbprocore that knows both QuickBooks and Procore.

- **Store** — `Store`, with `SQLiteStore` (default, one file) and `PostgresStore` (several
  workers): connections, cross-references (`XRef`), watermarks, staged records
  (`StagedRecord`), the outbox (`OutboxItem`), audit events (`AuditEvent`) and Web Connector
  sessions (`StoreSessionStore` adapts the store to `qbprocore.qbwc.SessionStore`), with
  versioned migrations (`MIGRATIONS`) and row claims for workers.
- **Connections** — `ConnectionManager`: create, select projects, reconnect, disconnect,
  status; guarded by a `ConnectionGuard`.
- **Mappings** — one pure function per feature-map row (`vendor_to_qb_vendor`,
  `bill_to_requisition` …), each returning `Mapped` or `Skip`, configured by
  `MappingSettings` and replaceable per connection through `MappingRegistry`.
- **Verification** — `verify_invoice` and `verify_commitment`, each rule block / warn / off
  per `VerificationPolicy`.
- **Audit** — `journey` (a record's events by either side's id) and `reconcile` (counts and
  amounts per entity on each side, differences listed).
- **Engine** — `SyncEngine`: `SyncEngine.run` pulls Procore changes, maps, verifies and
  writes staged records (Procore in batch upserts, QuickBooks through the outbox);
  `SyncEngine.work_source` is the `QuickBooksWorkSource` a `qbprocore.qbwc` endpoint serves
  (reads by watermark and iterator, then one write per round trip); `SyncEngine.plan`,
  `SyncEngine.approve` and `SyncEngine.replay` are for people.

Errors::

    QbprocoreError
    └── SyncError
        ├── StoreError
        ├── ConnectionNotFoundError (LookupError)
        ├── ConnectionConflictError (ValueError)
        ├── AccessDeniedError (PermissionError)
        │   ├── FeatureNotEnabledError
        │   └── AdminOnlyError
        └── MappingError (ValueError)
"""

from __future__ import annotations

from qbprocore.sync._audit import (
    Difference,
    EntityTotals,
    LedgerRecord,
    ReconciliationReport,
    journey,
    reconcile,
    reconcile_store,
)
from qbprocore.sync._connections import (
    Actor,
    ConnectionChange,
    ConnectionGuard,
    ConnectionManager,
    ConnectionStatus,
    DefaultGuard,
    Reassignment,
    connection_id_for,
)
from qbprocore.sync._engine import EngineConfig, PlannedWrite, RunReport, SyncEngine
from qbprocore.sync._errors import (
    AccessDeniedError,
    AdminOnlyError,
    ConnectionConflictError,
    ConnectionNotFoundError,
    FeatureNotEnabledError,
    MappingError,
    StoreError,
    SyncError,
)
from qbprocore.sync._mappings import (
    CHANGE_ORDER_MARKER,
    bill_payment_to_payments,
    bill_to_requisition,
    budget_to_estimate,
    change_order_to_po_lines,
    commitment_to_purchase_order,
    cost_code_to_item,
    job_costs_to_direct_costs,
    job_to_project,
    list_deleted_to_deletion,
    origin_data,
    payment_to_bill_payment,
    project_to_job,
    qb_vendor_to_vendor,
    requisition_to_bill,
    txn_deleted_to_deletion,
    vendor_to_qb_vendor,
)
from qbprocore.sync._migrations import MIGRATIONS, Migration
from qbprocore.sync._postgres import PostgresStore
from qbprocore.sync._qbwork import QuickBooksWorkSource
from qbprocore.sync._records import (
    AuditEvent,
    Connection,
    ConnectionState,
    Entity,
    IntegrationType,
    ItemStatus,
    OutboxItem,
    ProjectScope,
    Side,
    Stage,
    StagedRecord,
    XRef,
)
from qbprocore.sync._registry import (
    BILL_PAYMENT_TO_PAYMENTS,
    BILL_TO_REQUISITION,
    BUDGET_TO_ESTIMATE,
    CHANGE_ORDER_TO_PO_LINES,
    COMMITMENT_TO_PURCHASE_ORDER,
    COST_CODE_TO_ITEM,
    DEFAULT_MAPPINGS,
    JOB_COSTS_TO_DIRECT_COSTS,
    JOB_TO_PROJECT,
    LIST_DELETED_TO_DELETION,
    PAYMENT_TO_BILL_PAYMENT,
    PROJECT_TO_JOB,
    QB_VENDOR_TO_VENDOR,
    REQUISITION_TO_BILL,
    TXN_DELETED_TO_DELETION,
    VENDOR_TO_QB_VENDOR,
    MappingFunction,
    MappingRegistry,
    MappingSpec,
)
from qbprocore.sync._results import (
    Budget,
    ChangeOrderLines,
    CommitmentPayment,
    Mapped,
    MappingContext,
    MappingResult,
    ProcoreDeletion,
    RefResolver,
    RefTable,
    Skip,
    SubcontractorInvoice,
    TextIssue,
    fit_text,
)
from qbprocore.sync._sessions import StoreSessionStore
from qbprocore.sync._settings import MappingSettings, Rule, RuleMode, VerificationPolicy
from qbprocore.sync._sqlite import SQLiteStore
from qbprocore.sync._store import Store, StoreSummary
from qbprocore.sync._streams import QB_STREAMS, QbStream
from qbprocore.sync._verify import (
    CommitmentFacts,
    Finding,
    InvoiceFacts,
    Verdict,
    bill_facts,
    commitment_facts,
    verify_commitment,
    verify_invoice,
)
from qbprocore.sync._writes import QbWrite, external_guid

__all__ = [
    "BILL_PAYMENT_TO_PAYMENTS",
    "BILL_TO_REQUISITION",
    "BUDGET_TO_ESTIMATE",
    "CHANGE_ORDER_MARKER",
    "CHANGE_ORDER_TO_PO_LINES",
    "COMMITMENT_TO_PURCHASE_ORDER",
    "COST_CODE_TO_ITEM",
    "DEFAULT_MAPPINGS",
    "JOB_COSTS_TO_DIRECT_COSTS",
    "JOB_TO_PROJECT",
    "LIST_DELETED_TO_DELETION",
    "MIGRATIONS",
    "PAYMENT_TO_BILL_PAYMENT",
    "PROJECT_TO_JOB",
    "QB_STREAMS",
    "QB_VENDOR_TO_VENDOR",
    "REQUISITION_TO_BILL",
    "TXN_DELETED_TO_DELETION",
    "VENDOR_TO_QB_VENDOR",
    "AccessDeniedError",
    "Actor",
    "AdminOnlyError",
    "AuditEvent",
    "Budget",
    "ChangeOrderLines",
    "CommitmentFacts",
    "CommitmentPayment",
    "Connection",
    "ConnectionChange",
    "ConnectionConflictError",
    "ConnectionGuard",
    "ConnectionManager",
    "ConnectionNotFoundError",
    "ConnectionState",
    "ConnectionStatus",
    "DefaultGuard",
    "Difference",
    "EngineConfig",
    "Entity",
    "EntityTotals",
    "FeatureNotEnabledError",
    "Finding",
    "IntegrationType",
    "InvoiceFacts",
    "ItemStatus",
    "LedgerRecord",
    "Mapped",
    "MappingContext",
    "MappingError",
    "MappingFunction",
    "MappingRegistry",
    "MappingResult",
    "MappingSettings",
    "MappingSpec",
    "Migration",
    "OutboxItem",
    "PlannedWrite",
    "PostgresStore",
    "ProcoreDeletion",
    "ProjectScope",
    "QbStream",
    "QbWrite",
    "QuickBooksWorkSource",
    "Reassignment",
    "ReconciliationReport",
    "RefResolver",
    "RefTable",
    "Rule",
    "RuleMode",
    "RunReport",
    "SQLiteStore",
    "Side",
    "Skip",
    "Stage",
    "StagedRecord",
    "Store",
    "StoreError",
    "StoreSessionStore",
    "StoreSummary",
    "SubcontractorInvoice",
    "SyncEngine",
    "SyncError",
    "TextIssue",
    "Verdict",
    "VerificationPolicy",
    "XRef",
    "bill_facts",
    "bill_payment_to_payments",
    "bill_to_requisition",
    "budget_to_estimate",
    "change_order_to_po_lines",
    "commitment_facts",
    "commitment_to_purchase_order",
    "connection_id_for",
    "cost_code_to_item",
    "external_guid",
    "fit_text",
    "job_costs_to_direct_costs",
    "job_to_project",
    "journey",
    "list_deleted_to_deletion",
    "origin_data",
    "payment_to_bill_payment",
    "project_to_job",
    "qb_vendor_to_vendor",
    "reconcile",
    "reconcile_store",
    "requisition_to_bill",
    "txn_deleted_to_deletion",
    "vendor_to_qb_vendor",
    "verify_commitment",
    "verify_invoice",
]
