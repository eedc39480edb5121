"""`FakeQuickBooks`: an in-memory company file that answers qbXML like QuickBooks Desktop.

It reads requests and writes responses with `qbprocore.qbxml`, so what it accepts is what
the schema allows. It models the behaviour connectors trip over:

- queries with ``MaxReturned``, iterators (Start/Continue, ``iteratorRemainingCount``,
  iterators that die with the session or on demand), ``FromModifiedDate``/``ToModifiedDate``
  (lists, inclusive) and ``ModifiedDateRangeFilter`` (transactions), ``ActiveStatus`` (default
  ``ActiveOnly``), ``ListID``/``FullName``/``TxnID``/``RefNumber`` filters, name filters;
  transaction queries also take ``TxnDateRangeFilter``, ``EntityFilter``, ``RefNumberFilter``,
  ``PaidStatus`` (bills), and return lines only with ``IncludeLineItems`` and linked
  transactions only with ``IncludeLinkedTxns``;
- Add/Mod with ``EditSequence`` (3200 when stale), duplicate names (3100), references to
  missing vendors, customers, jobs, items or transactions (3140), injectable record locks
  (3170/3175);
- transaction Mods with QuickBooks' line rules: ``TxnLineID`` ``-1`` adds a line, a known
  ``TxnLineID`` keeps (and changes) that line, and existing lines the Mod omits are deleted
  once the Mod lists any line;
- ``TxnDel``, ``TxnDeletedQuery``, ``ListDeletedQuery``;
- the HCP response of a session's first call (HostQueryRs with SupportedQBXMLVersion,
  CompanyQueryRs, PreferencesQueryRs);
- ``onError``: ``stopOnError`` stops after an error *or a warning*, as QuickBooks does;
- injectable failures of the whole request (hresult ``0x80040400``, ``0x80040408`` …) and of
  opening the company file (for ``connectionError``); a request that is not well-formed qbXML
  fails with ``0x80040400`` by itself.

Lists: Vendor, Customer (jobs are customers with a parent) and ItemService (cost codes):
Query, Add, Mod.

Transactions:

- PurchaseOrder: Query, Add, Mod.
- Estimate: Query, Add, Mod.
- Bill: Query, Add (``LinkToTxnID`` links purchase orders), Mod.
- BillPaymentCheck: Query, Add (pays bills down: ``OpenAmount``, ``IsPaid``).
- Check, CreditCardCharge: Query (seed them with `FakeQuickBooks.add_check` and
  `FakeQuickBooks.add_credit_card_charge`).
- ``TxnDel`` of all of them.

Group lines (``…LineGroupAdd``/``…LineGroupMod``) and anything else are answered with status
1030 and a message saying the fake does not implement it.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import itertools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from qbprocore import qbxml

__all__ = ["FakeQuickBooks", "QuickBooksAnswer"]

PARSE_ERROR = "0x80040400"
PARSE_MESSAGE = "QuickBooks found an error when parsing the provided XML text stream."
CANNOT_START = "0x80040408"
CANNOT_START_MESSAGE = "Could not start QuickBooks."

_LISTS = ("Vendor", "Customer", "ItemService")
_TXNS = ("Bill", "PurchaseOrder", "Estimate", "BillPaymentCheck", "Check", "CreditCardCharge")
# The Ret fields holding a transaction's lines (returned only with IncludeLineItems).
_LINES: dict[str, tuple[str, ...]] = {
    "Bill": ("expense_line_ret", "item_line_ret_or_item_group_line_ret"),
    "PurchaseOrder": ("purchase_order_line_ret_or_purchase_order_line_group_ret",),
    "Estimate": ("estimate_line_ret_or_estimate_line_group_ret",),
    "BillPaymentCheck": ("applied_to_txn_ret",),
    "Check": ("expense_line_ret", "item_line_ret_or_item_group_line_ret"),
    "CreditCardCharge": ("expense_line_ret", "item_line_ret_or_item_group_line_ret"),
}
# The Ret field naming a transaction's vendor, customer or payee (what EntityFilter matches).
_ENTITY_FIELD = {
    "Bill": "vendor_ref",
    "PurchaseOrder": "vendor_ref",
    "Estimate": "customer_ref",
    "BillPaymentCheck": "payee_entity_ref",
    "Check": "payee_entity_ref",
    "CreditCardCharge": "payee_entity_ref",
}
# The Ret classes of transaction lines, and the Mod line classes that change them.
_LINE_CLASSES: dict[type[qbxml.QbxmlModel], type[qbxml.QbxmlModel]] = {
    qbxml.PurchaseOrderLineMod: qbxml.PurchaseOrderLineRet,
    qbxml.EstimateLineMod: qbxml.EstimateLineRet,
    qbxml.ExpenseLineMod: qbxml.ExpenseLineRet,
    qbxml.ItemLineMod: qbxml.ItemLineRet,
}
_ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_OK = (0, "Info", "Status OK")
_NO_MATCH = (1, "Info", "A query request did not find a matching object in QuickBooks")


@attrs.frozen
class QuickBooksAnswer:
    """What QuickBooks hands the Web Connector for one request.

    Attributes:
        response: The qbXML response document (``""`` when QuickBooks failed).
        hresult: The COM error code when QuickBooks failed (``""`` otherwise).
        message: QuickBooks' message for ``hresult``.
    """

    response: str = attrs.field(default="", repr=lambda v: f"<{len(v)} characters>")
    hresult: str = ""
    message: str = ""


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class _Status(Exception):  # noqa: N818 - internal control flow, never escapes the fake
    def __init__(self, code: int, message: str, severity: str = "Error") -> None:
        super().__init__(message)
        self.code = code
        self.severity = severity
        self.message = message


def _same(ret: Any) -> Any:
    return ret


@attrs.define
class _Iterator:
    entity: str
    ids: list[str]
    request_id: str | None
    view: Callable[[Any], Any] = _same  # how the query shows each record (lines stripped …)


def _default_clock() -> Callable[[], datetime.datetime]:
    # Deterministic: starts on a fixed date in a US Pacific offset and moves one second per
    # read of the clock, so every write gets a distinct TimeModified.
    start = datetime.datetime(
        2026, 1, 5, 9, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-8))
    )
    counter = itertools.count()
    return lambda: start + datetime.timedelta(seconds=next(counter))


class FakeQuickBooks:
    """An in-memory QuickBooks company file.

    Args:
        company_file: The path the Web Connector reports for the open company file.
        company_name: Name in CompanyQueryRs.
        product_name: Name in HostQueryRs.
        supported_versions: SupportedQBXMLVersion values in HostQueryRs.
        country: ``US`` (default), ``CA`` or ``UK``.
        clock: Returns the current time (aware ``datetime``); by default a deterministic clock
            that advances one second per use.

    Examples:
        >>> from qbprocore import qbxml
        >>> qb = FakeQuickBooks()
        >>> _ = qb.add_vendor("Acme Concrete")
        >>> answer = qb.process(qbxml.dumps(qbxml.VendorQueryRq(request_id="1")))
        >>> [v.name for v in qbxml.loads(answer.response).responses[0].vendor_ret]
        ['Acme Concrete']
    """

    def __init__(
        self,
        *,
        company_file: str = r"C:\Users\Public\Documents\Intuit\QuickBooks\Fake Builders.QBW",
        company_name: str = "Fake Builders Inc",
        product_name: str = "QuickBooks Enterprise Solutions: Contractor 24.0",
        supported_versions: Sequence[str] = qbxml.SUPPORTED_VERSIONS,
        country: str = "US",
        clock: Callable[[], datetime.datetime] | None = None,
    ) -> None:
        self.company_file = company_file
        self.company_name = company_name
        self.product_name = product_name
        self.supported_versions = tuple(supported_versions)
        self.country = country
        self.clock = clock or _default_clock()
        self.lists: dict[str, dict[str, qbxml.QbxmlModel]] = {e: {} for e in _LISTS}
        # Full name (case-folded: QuickBooks names are case-insensitive) -> ListID, per list.
        self._names: dict[str, dict[str, str]] = {e: {} for e in _LISTS}
        self.bills: dict[str, qbxml.BillRet] = {}
        """Bills by TxnID."""
        self.purchase_orders: dict[str, qbxml.PurchaseOrderRet] = {}
        """Purchase orders by TxnID."""
        self.estimates: dict[str, qbxml.EstimateRet] = {}
        """Estimates by TxnID."""
        self.bill_payments: dict[str, qbxml.BillPaymentCheckRet] = {}
        """Bill payments by check, by TxnID."""
        self.checks: dict[str, qbxml.CheckRet] = {}
        """Checks (written directly, not bill payments) by TxnID."""
        self.credit_card_charges: dict[str, qbxml.CreditCardChargeRet] = {}
        """Credit card charges by TxnID."""
        self.deleted_lists: list[qbxml.ListDeletedRet] = []
        self.deleted_txns: list[qbxml.TxnDeletedRet] = []
        self.requests: list[qbxml.QBXMLDocument] = []
        """Every request document processed, parsed, in order."""
        self._iterators: dict[str, _Iterator] = {}
        self._locks: dict[str, int] = {}
        self._failures: list[tuple[str, str]] = []
        self._statuses: dict[str, list[tuple[int, str, str]]] = {}
        self._connection_failures: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self._txn_numbers = itertools.count(1)  # one sequence for all transactions, as in QB
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        # Lists and bills always; the other transaction types once there are any.
        sizes = [f"{e}={len(t)}" for e, t in self.lists.items()]
        sizes += [
            f"{kind}={len(self._table(kind))}"
            for kind in _TXNS
            if kind == "Bill" or self._table(kind)
        ]
        return f"FakeQuickBooks({', '.join(sizes)})"

    def _table(self, kind: str) -> dict[str, Any]:
        tables: dict[str, dict[str, Any]] = {
            "Bill": self.bills,
            "PurchaseOrder": self.purchase_orders,
            "Estimate": self.estimates,
            "BillPaymentCheck": self.bill_payments,
            "Check": self.checks,
            "CreditCardCharge": self.credit_card_charges,
        }
        return tables[kind]

    # -- seeding and inspection -------------------------------------------------------------

    def _new_list_id(self) -> str:
        return f"{0x80000000 + next(self._ids):08X}-1767632400"

    def _stamp(self) -> tuple[datetime.datetime, str]:
        now = self.clock()
        return now, str(int(now.timestamp()) * 1000 + next(self._ids) % 1000)

    def add_vendor(self, name: str, **fields: Any) -> qbxml.VendorRet:
        """Add a vendor directly (as if typed into QuickBooks) and return its record."""
        ret = self._add_list("Vendor", qbxml.VendorAdd(name=name, **fields))
        assert isinstance(ret, qbxml.VendorRet)
        return ret

    def add_vendors(self, names: Iterable[str]) -> None:
        """Add many vendors quickly (for large reads)."""
        for name in names:
            self.add_vendor(name)

    def add_customer(self, name: str, **fields: Any) -> qbxml.CustomerRet:
        """Add a customer (a job when ``parent_ref`` is given) and return its record."""
        ret = self._add_list("Customer", qbxml.CustomerAdd(name=name, **fields))
        assert isinstance(ret, qbxml.CustomerRet)
        return ret

    @property
    def vendors(self) -> list[qbxml.VendorRet]:
        """All vendor records, in creation order."""
        return [v for v in self.lists["Vendor"].values() if isinstance(v, qbxml.VendorRet)]

    def find(self, entity: str, name: str) -> qbxml.QbxmlModel | None:
        """The list record of ``entity`` (``"Vendor"`` …) whose full name is ``name``."""
        return self._by_name(entity, name)

    def modify_vendor(self, list_id: str, **changes: Any) -> qbxml.VendorRet:
        """Change a vendor as a QuickBooks user would (bumps EditSequence and TimeModified)."""
        with self._lock:
            old = self.lists["Vendor"][list_id]
            now, seq = self._stamp()
            new = attrs.evolve(old, time_modified=now, edit_sequence=seq, **changes)  # type: ignore[misc]
            self._put("Vendor", new, old)
            assert isinstance(new, qbxml.VendorRet)
            return new

    def delete_list(self, entity: str, list_id: str) -> None:
        """Delete a list record as a user would (it shows up in ListDeletedQuery)."""
        with self._lock:
            old = self.lists[entity].pop(list_id)
            self._names[entity].pop(_full_name(old).casefold(), None)
            now, _ = self._stamp()
            self.deleted_lists.append(
                qbxml.ListDeletedRet(
                    list_del_type=entity,
                    list_id=list_id,
                    time_created=old.time_created,  # type: ignore[attr-defined]
                    time_deleted=now,
                    full_name=getattr(old, "full_name", None) or old.name,  # type: ignore[attr-defined]
                )
            )

    def add_item_service(self, name: str, **fields: Any) -> qbxml.ItemServiceRet:
        """Add a service item (a cost code) and return its record.

        Args:
            name: The item's name (a sub-item when ``parent_ref`` is among ``fields``).
            **fields: Other `qbxml.ItemServiceAdd` fields. Without ``sales_or_purchase`` or
                ``sales_and_purchase`` the item posts to a ``Job Costs`` account.

        Returns:
            The new item.
        """
        if "sales_or_purchase" not in fields and "sales_and_purchase" not in fields:
            fields["sales_or_purchase"] = qbxml.SalesOrPurchase(
                account_ref=qbxml.Ref(full_name="Job Costs")
            )
        with self._lock, _as_user():
            ret = self._add_list("ItemService", qbxml.ItemServiceAdd(name=name, **fields))
        assert isinstance(ret, qbxml.ItemServiceRet)
        return ret

    def add_job(self, name: str, parent: str, **fields: Any) -> qbxml.CustomerRet:
        """Add a job under the customer ``parent`` (added first when missing).

        Args:
            name: The job's name; its full name is ``"{parent}:{name}"``.
            parent: The customer's full name.
            **fields: Other `qbxml.CustomerAdd` fields.

        Returns:
            The job, whose ``parent_ref`` names the customer.

        Raises:
            ValueError: ``parent`` is a missing sub-customer (``"A:B"``), or the job exists.
        """
        with self._lock:
            if self._by_name("Customer", parent) is None:
                if ":" in parent:
                    raise ValueError(f"No customer named {parent!r} in the company file")
                self.add_customer(parent)
            with _as_user():
                return self.add_customer(name, parent_ref=qbxml.Ref(full_name=parent), **fields)

    def add_purchase_order(
        self,
        vendor: str,
        lines: Sequence[tuple[str | None, Decimal, str | None]],
        *,
        ref_number: str | None = None,
        memo: str | None = None,
        txn_date: datetime.date | None = None,
    ) -> qbxml.PurchaseOrderRet:
        """Enter a purchase order as a QuickBooks user would.

        Args:
            vendor: The vendor's name.
            lines: ``(item name or None, amount, job full name or None)`` per line.
            ref_number: The PO number.
            memo: The memo.
            txn_date: The date (default: today on the fake's clock).

        Returns:
            The new purchase order.

        Raises:
            ValueError: A vendor, item or job that is not in the company file.
        """
        add = qbxml.PurchaseOrderAdd(
            vendor_ref=self._need("Vendor", vendor),
            ref_number=ref_number,
            memo=memo,
            txn_date=txn_date,
            purchase_order_line_add_or_purchase_order_line_group_add=[
                qbxml.PurchaseOrderLineAdd(
                    item_ref=None if item is None else self._need("ItemService", item),
                    amount=_money(amount),
                    customer_ref=None if job is None else self._need("Customer", job),
                )
                for item, amount, job in lines
            ],
        )
        with self._lock, _as_user():
            return self._purchase_order_from(add)

    def add_estimate(
        self,
        customer: str,
        lines: Sequence[tuple[str | None, Decimal]],
        *,
        ref_number: str | None = None,
        memo: str | None = None,
        txn_date: datetime.date | None = None,
    ) -> qbxml.EstimateRet:
        """Enter an estimate for a customer or job as a QuickBooks user would.

        Args:
            customer: The customer's or job's full name (``"Customer:Job"``).
            lines: ``(item name or None, amount)`` per line.
            ref_number: The estimate number.
            memo: The memo.
            txn_date: The date (default: today on the fake's clock).

        Returns:
            The new estimate.

        Raises:
            ValueError: A customer or item that is not in the company file.
        """
        add = qbxml.EstimateAdd(
            customer_ref=self._need("Customer", customer),
            ref_number=ref_number,
            memo=memo,
            txn_date=txn_date,
            estimate_line_add_or_estimate_line_group_add=[
                qbxml.EstimateLineAdd(
                    item_ref=None if item is None else self._need("ItemService", item),
                    amount=_money(amount),
                )
                for item, amount in lines
            ],
        )
        with self._lock, _as_user():
            return self._estimate_from(add)

    def add_bill(
        self,
        vendor: str,
        lines: Sequence[tuple[str | None, Decimal, str | None]],
        *,
        ref_number: str | None = None,
        memo: str | None = None,
        txn_date: datetime.date | None = None,
        link_to_po: str | None = None,
        expense_account: str = "Job Costs",
    ) -> qbxml.BillRet:
        """Enter a bill as a QuickBooks user would.

        Args:
            vendor: The vendor's name.
            lines: ``(item name or None, amount, job full name or None)`` per line: an item
                line when an item is named, else an expense line on ``expense_account``.
            ref_number: The vendor's invoice number.
            memo: The memo.
            txn_date: The date (default: today on the fake's clock).
            link_to_po: The TxnID of a purchase order this bill receives against.
            expense_account: The account of expense lines.

        Returns:
            The new bill.

        Raises:
            ValueError: A vendor, item, job or purchase order that is not in the company file.
        """
        expense, items = self._spend_lines(lines, expense_account)
        add = qbxml.BillAdd(
            vendor_ref=self._need("Vendor", vendor),
            ref_number=ref_number,
            memo=memo,
            txn_date=txn_date,
            link_to_txn_id=[] if link_to_po is None else [link_to_po],
            expense_line_add=expense,
            item_line_add_or_item_group_line_add=list(items),
        )
        with self._lock, _as_user():
            return self._bill_from(add)

    def add_check(
        self,
        payee: str,
        lines: Sequence[tuple[str | None, Decimal, str | None]],
        *,
        account: str = "Checking",
        ref_number: str | None = None,
        memo: str | None = None,
        txn_date: datetime.date | None = None,
        expense_account: str = "Job Costs",
    ) -> qbxml.CheckRet:
        """Write a check to a vendor (not a bill payment) as a QuickBooks user would.

        Args:
            payee: The vendor's name.
            lines: ``(item name or None, amount, job full name or None)`` per line, as in
                `add_bill`.
            account: The bank account's full name.
            ref_number: The check number.
            memo: The memo.
            txn_date: The date (default: today on the fake's clock).
            expense_account: The account of expense lines.

        Returns:
            The new check.

        Raises:
            ValueError: A vendor, item or job that is not in the company file.
        """
        ret = self._add_spend(
            "Check",
            payee,
            lines,
            account=account,
            ref_number=ref_number,
            memo=memo,
            txn_date=txn_date,
            expense_account=expense_account,
        )
        assert isinstance(ret, qbxml.CheckRet)
        return ret

    def add_credit_card_charge(
        self,
        payee: str,
        lines: Sequence[tuple[str | None, Decimal, str | None]],
        *,
        account: str = "Credit Card",
        ref_number: str | None = None,
        memo: str | None = None,
        txn_date: datetime.date | None = None,
        expense_account: str = "Job Costs",
    ) -> qbxml.CreditCardChargeRet:
        """Enter a credit card charge from a vendor as a QuickBooks user would.

        Args:
            payee: The vendor's name.
            lines: ``(item name or None, amount, job full name or None)`` per line, as in
                `add_bill`.
            account: The credit card account's full name.
            ref_number: The reference number.
            memo: The memo.
            txn_date: The date (default: today on the fake's clock).
            expense_account: The account of expense lines.

        Returns:
            The new charge.

        Raises:
            ValueError: A vendor, item or job that is not in the company file.
        """
        ret = self._add_spend(
            "CreditCardCharge",
            payee,
            lines,
            account=account,
            ref_number=ref_number,
            memo=memo,
            txn_date=txn_date,
            expense_account=expense_account,
        )
        assert isinstance(ret, qbxml.CreditCardChargeRet)
        return ret

    def add_bill_payment(
        self,
        vendor: str,
        bill_txn_ids_and_amounts: Mapping[str, Decimal] | Iterable[tuple[str, Decimal]],
        *,
        bank_account: str = "Checking",
        ref_number: str | None = None,
        memo: str | None = None,
        txn_date: datetime.date | None = None,
    ) -> qbxml.BillPaymentCheckRet:
        """Pay bills by check as a QuickBooks user would (the bills' open amounts go down).

        Args:
            vendor: The vendor's name.
            bill_txn_ids_and_amounts: The TxnID of each bill paid and the amount paid on it.
            bank_account: The bank account's full name.
            ref_number: The check number.
            memo: The memo.
            txn_date: The date (default: today on the fake's clock).

        Returns:
            The new bill payment.

        Raises:
            ValueError: An unknown vendor or bill, or more than a bill's open amount.
        """
        pairs = (
            bill_txn_ids_and_amounts.items()
            if isinstance(bill_txn_ids_and_amounts, Mapping)
            else bill_txn_ids_and_amounts
        )
        add = qbxml.BillPaymentCheckAdd(
            payee_entity_ref=self._need("Vendor", vendor),
            bank_account_ref=qbxml.Ref(full_name=bank_account),
            txn_date=txn_date,
            ref_number=ref_number,
            memo=memo,
            applied_to_txn_add=[
                qbxml.AppliedToTxnAdd(txn_id=txn_id, payment_amount=_money(amount))
                for txn_id, amount in pairs
            ],
        )
        with self._lock, _as_user():
            return self._bill_payment_from(add)

    def modify_bill(self, txn_id: str, **changes: Any) -> qbxml.BillRet:
        """Change a bill as a QuickBooks user would (bumps EditSequence and TimeModified).

        Args:
            txn_id: The bill's TxnID.
            **changes: `qbxml.BillRet` fields. When lines change, ``AmountDue`` and
                ``OpenAmount`` follow them (what was paid stays paid).

        Returns:
            The changed bill.
        """
        ret = self.modify_txn("Bill", txn_id, **changes)
        assert isinstance(ret, qbxml.BillRet)
        return ret

    def modify_txn(self, kind: str, txn_id: str, **changes: Any) -> Any:
        """Change any transaction as a QuickBooks user would; see `modify_bill`.

        Args:
            kind: ``"Bill"``, ``"PurchaseOrder"``, ``"Estimate"``, ``"BillPaymentCheck"``,
                ``"Check"`` or ``"CreditCardCharge"``.
            txn_id: The transaction's TxnID.
            **changes: Fields of its Ret class; totals follow changed lines.

        Returns:
            The changed transaction.
        """
        with self._lock:
            table = self._table(kind)
            old = table[txn_id]
            now, seq = self._stamp()
            new = attrs.evolve(old, time_modified=now, edit_sequence=seq, **changes)
            if set(changes) & set(_LINES[kind]):
                new = _retotal(kind, new, old)
            table[txn_id] = new
            return new

    def delete_txn(self, kind: str, txn_id: str) -> qbxml.TxnDeletedRet:
        """Delete a transaction as a user would (it shows up in TxnDeletedQuery).

        Deleting a bill payment gives the bills back their open amounts.

        Args:
            kind: The transaction type, as in `modify_txn`.
            txn_id: The transaction's TxnID.

        Returns:
            The deletion record.

        Raises:
            KeyError: No such transaction.
        """
        with self._lock:
            if txn_id not in self._table(kind):
                raise KeyError(txn_id)
            return self._delete_txn(kind, txn_id)

    # -- fault injection --------------------------------------------------------------------

    def lock(self, object_id: str, *, code: int = 3170) -> None:
        """Make changes to ``object_id`` (ListID or TxnID) fail with ``code`` (3170 or 3175)."""
        self._locks[object_id] = code

    def unlock(self, object_id: str) -> None:
        """Undo `lock`."""
        self._locks.pop(object_id, None)

    def answer_with(
        self,
        request_type: str,
        code: int,
        message: str = "",
        *,
        severity: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests of ``request_type`` (``"BillAddRq"``) with a status.

        For statuses the fake does not produce by itself, e.g. 3250 (feature not enabled) or
        3260 (permission). The severity follows the code's range unless given.
        """
        info = qbxml.describe_status(code)
        entry = (code, severity or info.severity, message or info.meaning)
        self._statuses.setdefault(request_type, []).extend([entry] * times)

    def fail_next(self, hresult: str = PARSE_ERROR, message: str = PARSE_MESSAGE) -> None:
        """Make the next request fail as a whole with ``hresult`` (no qbXML response)."""
        self._failures.append((hresult, message))

    def fail_connection(
        self, hresult: str = CANNOT_START, message: str = CANNOT_START_MESSAGE, *, times: int = 1
    ) -> None:
        """Make the next ``times`` attempts to open the company file fail."""
        self._connection_failures.extend([(hresult, message)] * times)

    def open(self, company_file: str) -> QuickBooksAnswer | None:
        """Open the company file for a session: ``None`` if it opened, else the failure.

        A path other than `company_file` (compared case-insensitively) fails as QuickBooks
        does when the file does not exist.
        """
        if self._connection_failures:
            hresult, message = self._connection_failures.pop(0)
            return QuickBooksAnswer(hresult=hresult, message=message)
        if company_file and company_file.casefold() != self.company_file.casefold():
            return QuickBooksAnswer(
                hresult="0x80040410",
                message=f"The company file {company_file!r} could not be found.",
            )
        return None

    def end_session(self) -> None:
        """The Web Connector closed the session: its iterators die with it."""
        self._iterators.clear()

    def expire_iterators(self) -> None:
        """Make every open iterator unknown (as when one is not continued promptly)."""
        self._iterators.clear()

    # -- the HCP response ---------------------------------------------------------------------

    def hcp_response(self) -> str:
        """The strHCPResponse of a session's first ``sendRequestXML``."""
        host = qbxml.HostQueryRs(
            request_id="0",
            status_code=0,
            status_severity="Info",
            status_message="Status OK",
            host_ret=self._host_ret(),
        )
        company = qbxml.CompanyQueryRs(
            request_id="1",
            status_code=0,
            status_severity="Info",
            status_message="Status OK",
            company_ret=qbxml.CompanyRet(
                is_sample_company=False,
                company_name=self.company_name,
                legal_company_name=self.company_name,
            ),
        )
        prefs = qbxml.PreferencesQueryRs(
            request_id="2",
            status_code=0,
            status_severity="Info",
            status_message="Status OK",
            preferences_ret=self._preferences(),
        )
        return qbxml.dumps(host, company, prefs, validate=False).decode("ascii")

    def _host_ret(self) -> qbxml.HostRet:
        return qbxml.HostRet(
            product_name=self.product_name,
            major_version="34",
            minor_version="0",
            country=self.country,
            supported_qbxml_version=list(self.supported_versions),
            is_automatic_login=False,
            qb_file_mode=qbxml.QBFileMode("SingleUser"),
        )

    def _preferences(self) -> qbxml.PreferencesRet:
        return qbxml.PreferencesRet(
            accounting_preferences=qbxml.AccountingPreferences(
                is_using_account_numbers=True,
                is_requiring_accounts=True,
                is_using_class_tracking=False,
                is_using_audit_trail=True,
                is_assigning_journal_entry_numbers=True,
            ),
            purchases_and_vendors_preferences=qbxml.PurchasesAndVendorsPreferences(
                is_using_inventory=False,
                days_bills_are_due=30,
                is_automatically_using_discounts=False,
            ),
            current_app_access_rights=qbxml.CurrentAppAccessRights(
                is_automatic_login_allowed=True, is_personal_data_access_allowed=True
            ),
        )

    # -- processing -----------------------------------------------------------------------------

    def process(self, request: str | bytes) -> QuickBooksAnswer:
        """Run one qbXML request document, as QuickBooks does for the Web Connector."""
        with self._lock:
            if self._failures:
                hresult, message = self._failures.pop(0)
                return QuickBooksAnswer(hresult=hresult, message=message)
            try:
                doc = qbxml.loads(request)
            except qbxml.QbxmlError:
                return QuickBooksAnswer(hresult=PARSE_ERROR, message=PARSE_MESSAGE)
            if doc.kind != "request" or doc.unknown_elements:
                return QuickBooksAnswer(hresult=PARSE_ERROR, message=PARSE_MESSAGE)
            self.requests.append(doc)
            stop_on_error = (doc.on_error or "stopOnError") == "stopOnError"
            out: list[qbxml.QbxmlResponse] = []
            for rq in doc.requests:
                rs = self._answer(rq)
                out.append(rs)
                # stopOnError stops on warnings too (a QuickBooks quirk connectors must know).
                if stop_on_error and rs.status_severity in ("Error", "Warn"):
                    break
            return QuickBooksAnswer(
                response=qbxml.dumps(*out, version=doc.version, validate=False).decode("ascii")
            )

    def _answer(self, rq: qbxml.QbxmlRequest) -> qbxml.QbxmlResponse:
        name = type(rq).__name__[:-2]  # "VendorQueryRq" -> "VendorQuery"
        rs_cls: Any = getattr(qbxml, f"{name}Rs", None)
        assert rs_cls is not None
        injected = self._statuses.get(type(rq).__name__)
        if injected:
            return self._rs(rs_cls, rq, status=injected.pop(0))
        try:
            for entity in _LISTS:
                if name == f"{entity}Query":
                    return self._list_query(entity, rq, rs_cls)
                if name == f"{entity}Add":
                    return self._list_add(entity, rq, rs_cls)
                if name == f"{entity}Mod":
                    return self._list_mod(entity, rq, rs_cls)
            handler = self._transaction_handlers().get(name) or {
                "TxnDel": self._txn_del,
                "TxnDeletedQuery": self._txn_deleted_query,
                "ListDeletedQuery": self._list_deleted_query,
                "HostQuery": self._host_query,
                "CompanyQuery": self._company_query,
                "PreferencesQuery": self._preferences_query,
            }.get(name)
            if handler is None:
                raise _Status(1030, f"FakeQuickBooks does not implement {name}Rq")
            return handler(rq, rs_cls)
        except _Status as status:
            return self._rs(rs_cls, rq, status=(status.code, status.severity, status.message))

    def _transaction_handlers(
        self,
    ) -> dict[str, Callable[[qbxml.QbxmlRequest, Any], qbxml.QbxmlResponse]]:
        builders: dict[str, Callable[[Any], Any]] = {
            "Bill": self._bill_from,
            "PurchaseOrder": self._purchase_order_from,
            "Estimate": self._estimate_from,
            "BillPaymentCheck": self._bill_payment_from,
        }
        handlers: dict[str, Callable[[qbxml.QbxmlRequest, Any], qbxml.QbxmlResponse]] = {}
        for kind in _TXNS:
            handlers[f"{kind}Query"] = functools.partial(self._txn_query, kind)
            if kind in builders:
                handlers[f"{kind}Add"] = functools.partial(self._txn_add, builders[kind], kind)
            if kind in ("Bill", "PurchaseOrder", "Estimate"):
                handlers[f"{kind}Mod"] = functools.partial(self._txn_mod, kind)
        return handlers

    @staticmethod
    def _rs(
        rs_cls: Any,
        rq: qbxml.QbxmlRequest,
        *,
        status: tuple[int, str, str] = _OK,
        **fields: Any,
    ) -> qbxml.QbxmlResponse:
        code, severity, message = status
        out: qbxml.QbxmlResponse = rs_cls(
            request_id=rq.request_id,
            status_code=code,
            status_severity=severity,
            status_message=message,
            **fields,
        )
        return out

    # -- lists -----------------------------------------------------------------------------------

    def _by_name(self, entity: str, full_name: str) -> qbxml.QbxmlModel | None:
        list_id = self._names[entity].get(full_name.casefold())
        return None if list_id is None else self.lists[entity][list_id]

    def _put(self, entity: str, ret: Any, old: Any = None) -> None:
        if old is not None:
            self._names[entity].pop(_full_name(old).casefold(), None)
        self.lists[entity][ret.list_id] = ret
        self._names[entity][_full_name(ret).casefold()] = ret.list_id

    def _resolve(self, entity: str, ref: qbxml.Ref | None) -> qbxml.QbxmlModel | None:
        if ref is None:
            return None
        if ref.list_id is not None:
            return self.lists[entity].get(ref.list_id)
        if ref.full_name is not None:
            return self._by_name(entity, ref.full_name)
        return None

    def _check_lock(self, object_id: str) -> None:
        code = self._locks.get(object_id)
        if code is not None:
            message = (
                "The record is locked by another user or process."
                if code == 3175
                else f"The object {object_id} specified in the request cannot be modified"
                " because it is in use by another user."
            )
            raise _Status(code, message)

    def _add_list(self, entity: str, add: qbxml.QbxmlModel) -> qbxml.QbxmlModel:
        name = add.name  # type: ignore[attr-defined]
        parent = None
        if getattr(add, "parent_ref", None) is not None:
            parent = self._resolve(entity, add.parent_ref)  # type: ignore[attr-defined]
            if parent is None:
                raise _Status(
                    3140,
                    f'There is an invalid reference to QuickBooks {entity} "parent" in the'
                    f" {entity}.",
                )
        full = f"{_full_name(parent)}:{name}" if parent is not None else name
        if self._by_name(entity, full) is not None:
            raise _Status(3100, f'The name "{full}" of the list element is already in use.')
        ret_cls: type[qbxml.QbxmlModel] = getattr(qbxml, f"{entity}Ret")
        now, seq = self._stamp()
        values = _copy_fields(add, ret_cls)
        values.update(
            list_id=self._new_list_id(),
            time_created=now,
            time_modified=now,
            edit_sequence=seq,
            is_active=values.get("is_active", True),
        )
        if "full_name" in _field_names(ret_cls):
            values["full_name"] = full
            values["sublevel"] = full.count(":")
            if parent is not None:
                values["parent_ref"] = qbxml.Ref(
                    list_id=parent.list_id,  # type: ignore[attr-defined]
                    full_name=_full_name(parent),
                )
        ret = ret_cls(**values)
        self._put(entity, ret)
        return ret

    def _list_add(
        self, entity: str, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        ret = self._add_list(entity, getattr(rq, f"{_snake(entity)}_add"))
        fields: dict[str, Any] = {f"{_snake(entity)}_ret": ret}
        return self._rs(rs_cls, rq, **fields)

    def _list_mod(
        self, entity: str, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        mod = getattr(rq, f"{_snake(entity)}_mod")
        old = self.lists[entity].get(mod.list_id)
        if old is None:
            raise _Status(3120, f'Object "{mod.list_id}" specified in the request cannot be found.')
        self._check_lock(mod.list_id)
        if mod.edit_sequence != old.edit_sequence:  # type: ignore[attr-defined]
            raise _Status(
                3200,
                f'The provided edit sequence "{mod.edit_sequence}" is out-of-date.',
            )
        changes = _copy_fields(mod, type(old))
        changes.pop("list_id", None)
        changes.pop("edit_sequence", None)
        if "name" in changes and changes["name"] != old.name:  # type: ignore[attr-defined]
            other = self._by_name(entity, changes["name"])
            if other is not None and other is not old:
                raise _Status(
                    3100, f'The name "{changes["name"]}" of the list element is already in use.'
                )
            if "full_name" in _field_names(type(old)):
                prefix = _full_name(old).rpartition(":")[0]
                changes["full_name"] = f"{prefix}:{changes['name']}" if prefix else changes["name"]
        now, seq = self._stamp()
        new = attrs.evolve(old, time_modified=now, edit_sequence=seq, **changes)  # type: ignore[misc]
        self._put(entity, new, old)
        fields: dict[str, Any] = {f"{_snake(entity)}_ret": new}
        return self._rs(rs_cls, rq, **fields)

    def _list_query(
        self, entity: str, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        field = f"{_snake(entity)}_ret"
        if q.iterator == qbxml.Iterator.CONTINUE:
            return self._continue(rq, rs_cls, field)
        table = self.lists[entity]
        if q.list_id:
            rets = [table[i] for i in q.list_id if i in table]
        elif q.full_name:
            found = (self._by_name(entity, n) for n in q.full_name)
            rets = [r for r in found if r is not None]
        else:
            rets = [r for r in table.values() if _list_matches(q, r)]
        return self._page(rq, rs_cls, field, entity, rets)

    def _page(
        self,
        rq: qbxml.QbxmlRequest,
        rs_cls: type[qbxml.QbxmlResponse],
        field: str,
        entity: str,
        rets: list[Any],
        *,
        view: Callable[[Any], Any] = _same,
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        limit = q.max_returned
        if q.iterator == qbxml.Iterator.START:
            page, rest = (rets[:limit], rets[limit:]) if limit else (rets, [])
            iterator_id = "{" + f"{next(self._ids):08x}-fake-iterator" + "}"
            key = "list_id" if entity in _LISTS else "txn_id"
            self._iterators[iterator_id] = _Iterator(
                entity=entity,
                ids=[getattr(r, key) for r in rest],
                request_id=rq.request_id,
                view=view,
            )
            status = _OK if page else _NO_MATCH
            return self._rs(
                rs_cls,
                rq,
                status=status,
                iterator_remaining_count=len(rest),
                iterator_id=iterator_id,
                **{field: page},
            )
        if limit:
            rets = rets[:limit]
        return self._rs(rs_cls, rq, status=_OK if rets else _NO_MATCH, **{field: rets})

    def _continue(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse], field: str
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        it = self._iterators.get(q.iterator_id or "")
        if it is None:
            # QuickBooks forgets iterators at the end of a session or when left idle.
            raise _Status(
                3120, f'Object "{q.iterator_id}" specified in the request cannot be found.'
            )
        limit = q.max_returned or len(it.ids)
        take, it.ids = it.ids[:limit], it.ids[limit:]
        table: dict[str, Any] = (
            self._table(it.entity) if it.entity in _TXNS else self.lists[it.entity]
        )
        page = [it.view(table[i]) for i in take if i in table]
        if not it.ids:
            del self._iterators[q.iterator_id]
        records: dict[str, Any] = {field: page}
        return self._rs(
            rs_cls,
            rq,
            iterator_remaining_count=len(it.ids),
            iterator_id=q.iterator_id,
            **records,
        )

    # -- transactions ----------------------------------------------------------------------------

    def _new_txn_id(self) -> str:
        return f"{next(self._ids):X}-1767632400"

    @staticmethod
    def _ref(ret: Any) -> qbxml.Ref:
        return qbxml.Ref(list_id=ret.list_id, full_name=_full_name(ret))

    def _need(self, entity: str, name: str) -> qbxml.Ref:
        # For the seeding helpers: a name that must already be in the company file.
        found = self._by_name(entity, name)
        if found is None:
            raise ValueError(f"No {_display(entity)} named {name!r} in the company file")
        return self._ref(found)

    def _require(self, entity: str, ref: qbxml.Ref | None, where: str) -> Any:
        found = self._resolve(entity, ref)
        if found is None:
            who = "" if ref is None else ref.full_name or ref.list_id
            raise _Status(
                3140,
                f'There is an invalid reference to QuickBooks {_display(entity)} "{who}" in the'
                f" {_display(where)}.",
            )
        return found

    def _line(
        self,
        ret_cls: type[qbxml.QbxmlModel],
        source: qbxml.QbxmlModel,
        where: str,
        *,
        old: Any = None,
        check_items: bool = True,
    ) -> Any:
        """A line's Ret from an Add or Mod line (``old`` is the line a Mod changes).

        Items (ItemService) and jobs (Customer) are resolved to their ListID and full name;
        unknown ones are 3140 (items are left as sent when ``check_items`` is false).
        Without an amount, one is worked out from quantity and rate (or cost) if given.
        """
        values = _copy_fields(source, ret_cls)
        values.pop("txn_line_id", None)
        for field, entity in (("item_ref", "ItemService"), ("customer_ref", "Customer")):
            ref = values.get(field)
            if ref is None:
                continue
            found = self._resolve(entity, ref)
            if found is not None:
                values[field] = self._ref(found)
            elif entity == "Customer" or check_items:
                self._require(entity, ref, where)
        if old is not None:
            new = attrs.evolve(old, **values)
        else:
            make: Callable[..., Any] = ret_cls
            new = make(txn_line_id=self._new_txn_id(), **values)
        if "amount" not in values and ({"quantity", "rate", "cost"} & set(values) or old is None):
            quantity = getattr(new, "quantity", None)
            rate = getattr(new, "rate", None) or getattr(new, "cost", None)
            if quantity is not None and rate is not None:
                new = attrs.evolve(new, amount=(quantity * rate).quantize(_CENT))
        return new

    def _lines(
        self,
        ret_cls: type[qbxml.QbxmlModel],
        add_cls: type[qbxml.QbxmlModel],
        sources: Sequence[qbxml.QbxmlModel],
        where: str,
        *,
        check_items: bool = True,
    ) -> list[Any]:
        out = []
        for line in sources:
            if not isinstance(line, add_cls):
                raise _Status(1030, f"FakeQuickBooks does not implement {type(line).__name__}")
            out.append(self._line(ret_cls, line, where, check_items=check_items))
        return out

    def _new_txn(self, ret_cls: type[qbxml.QbxmlModel], add: Any, **values: Any) -> Any:
        """A new transaction Ret: the Add's header fields (if any), ``values``, id, stamps.

        The date is ``values``' ``txn_date``, else the Add's, else today.
        """
        now, seq = self._stamp()
        fields = {} if add is None else _copy_fields(add, ret_cls)
        fields.update(values)
        fields.update(
            txn_id=self._new_txn_id(),
            time_created=now,
            time_modified=now,
            edit_sequence=seq,
            txn_number=next(self._txn_numbers),
            txn_date=values.get("txn_date") or getattr(add, "txn_date", None) or now.date(),
        )
        return ret_cls(**fields)

    def _txn_add(
        self,
        build: Callable[[Any], Any],
        kind: str,
        rq: qbxml.QbxmlRequest,
        rs_cls: type[qbxml.QbxmlResponse],
    ) -> qbxml.QbxmlResponse:
        ret = build(getattr(rq, f"{_snake(kind)}_add"))
        fields: dict[str, Any] = {f"{_snake(kind)}_ret": ret}
        return self._rs(rs_cls, rq, **fields)

    def _purchase_order_from(self, add: qbxml.PurchaseOrderAdd) -> qbxml.PurchaseOrderRet:
        vendor = self._require("Vendor", add.vendor_ref, "PurchaseOrder")
        lines = self._lines(
            qbxml.PurchaseOrderLineRet,
            qbxml.PurchaseOrderLineAdd,
            add.purchase_order_line_add_or_purchase_order_line_group_add,
            "PurchaseOrder",
        )
        po: qbxml.PurchaseOrderRet = self._new_txn(
            qbxml.PurchaseOrderRet,
            add,
            vendor_ref=self._ref(vendor),
            total_amount=_total(lines),
            is_manually_closed=False,
            is_fully_received=False,
            purchase_order_line_ret_or_purchase_order_line_group_ret=lines,
        )
        self.purchase_orders[po.txn_id or ""] = po
        return po

    def _estimate_from(self, add: qbxml.EstimateAdd) -> qbxml.EstimateRet:
        customer = self._require("Customer", add.customer_ref, "Estimate")
        lines = self._lines(
            qbxml.EstimateLineRet,
            qbxml.EstimateLineAdd,
            add.estimate_line_add_or_estimate_line_group_add,
            "Estimate",
        )
        total = _total(lines)
        estimate: qbxml.EstimateRet = self._new_txn(
            qbxml.EstimateRet,
            add,
            customer_ref=self._ref(customer),
            is_active=True if add.is_active is None else add.is_active,
            subtotal=total,
            total_amount=total,
            estimate_line_ret_or_estimate_line_group_ret=lines,
        )
        self.estimates[estimate.txn_id or ""] = estimate
        return estimate

    def _bill_from(self, add: qbxml.BillAdd) -> qbxml.BillRet:
        vendor = self._require("Vendor", add.vendor_ref, "Bill")
        pos = []
        for po_id in add.link_to_txn_id:
            po = self.purchase_orders.get(po_id)
            if po is None:
                raise _Status(
                    3140,
                    f'There is an invalid reference to QuickBooks Purchase Order "{po_id}" in'
                    " the Bill.",
                )
            if po.vendor_ref is None or po.vendor_ref.list_id != vendor.list_id:
                raise _Status(
                    3210, f'Purchase order "{po_id}" is for another vendor than the bill.'
                )
            self._check_lock(po_id)  # receiving against a PO changes the PO
            pos.append(po)
        # Items are not checked on bills (left as sent when unknown); vendors and jobs are.
        expense = self._lines(
            qbxml.ExpenseLineRet, qbxml.ExpenseLineAdd, add.expense_line_add, "Bill"
        )
        items = [
            self._line(qbxml.ItemLineRet, line, "Bill", check_items=False)
            for line in add.item_line_add_or_item_group_line_add
            if isinstance(line, qbxml.ItemLineAdd)
        ]
        total = _total([*expense, *items])
        bill: qbxml.BillRet = self._new_txn(
            qbxml.BillRet,
            add,
            vendor_ref=self._ref(vendor),
            amount_due=total,
            is_paid=False,
            linked_txn=[_linked(po, qbxml.TxnType.PURCHASE_ORDER, po.total_amount) for po in pos],
            expense_line_ret=expense,
            item_line_ret_or_item_group_line_ret=items,
            open_amount=total,
        )
        txn_id = bill.txn_id or ""
        self.bills[txn_id] = bill
        for po in pos:  # the PO shows the bill that received it
            now, seq = self._stamp()
            self.purchase_orders[po.txn_id or ""] = attrs.evolve(
                po,
                time_modified=now,
                edit_sequence=seq,
                linked_txn=[*po.linked_txn, _linked(bill, qbxml.TxnType.BILL, total)],
            )
        return bill

    def _bill_payment_from(self, add: qbxml.BillPaymentCheckAdd) -> qbxml.BillPaymentCheckRet:
        vendor = self._require("Vendor", add.payee_entity_ref, "BillPaymentCheck")
        paying: dict[str, Decimal] = {}
        for applied in add.applied_to_txn_add:
            bill = self.bills.get(applied.txn_id)
            if bill is None or bill.vendor_ref is None or bill.vendor_ref.list_id != vendor.list_id:
                raise _Status(
                    3140,
                    f'There is an invalid reference to QuickBooks Bill "{applied.txn_id}" in the'
                    " Bill Payment Check.",
                )
            self._check_lock(applied.txn_id)  # paying a bill changes the bill
            open_amount = (bill.open_amount or _ZERO) - paying.get(applied.txn_id, _ZERO)
            amount = open_amount if applied.payment_amount is None else applied.payment_amount
            if amount > open_amount:
                raise _Status(
                    3210,
                    f"The payment of {amount} is more than the open balance {open_amount} of bill"
                    f' "{applied.txn_id}".',
                )
            paying[applied.txn_id] = paying.get(applied.txn_id, _ZERO) + amount
        payment: qbxml.BillPaymentCheckRet = self._new_txn(
            qbxml.BillPaymentCheckRet,
            add,
            payee_entity_ref=self._ref(vendor),
            amount=sum(paying.values(), _ZERO),
            is_to_be_printed=bool(add.is_to_be_printed),
        )
        applied_rets = []
        for bill_id, amount in paying.items():
            bill = self.bills[bill_id]
            left = (bill.open_amount or _ZERO) - amount
            now, seq = self._stamp()
            self.bills[bill_id] = attrs.evolve(
                bill,
                time_modified=now,
                edit_sequence=seq,
                open_amount=left,
                is_paid=_is_paid(bill.amount_due, left),
                linked_txn=[
                    *bill.linked_txn,
                    _linked(payment, qbxml.TxnType.BILL_PAYMENT_CHECK, -amount),
                ],
            )
            applied_rets.append(
                qbxml.AppliedToTxnRet(
                    txn_id=bill_id,
                    txn_type=qbxml.TxnType.BILL,
                    txn_date=bill.txn_date,
                    ref_number=bill.ref_number,
                    balance_remaining=left,
                    amount=amount,
                )
            )
        payment = attrs.evolve(payment, applied_to_txn_ret=applied_rets)
        self.bill_payments[payment.txn_id or ""] = payment
        return payment

    def _spend_lines(
        self, lines: Sequence[tuple[str | None, Decimal, str | None]], expense_account: str
    ) -> tuple[list[qbxml.ExpenseLineAdd], list[qbxml.ItemLineAdd]]:
        expense, items = [], []
        for item, amount, job in lines:
            job_ref = None if job is None else self._need("Customer", job)
            if item is None:
                expense.append(
                    qbxml.ExpenseLineAdd(
                        account_ref=qbxml.Ref(full_name=expense_account),
                        amount=_money(amount),
                        customer_ref=job_ref,
                    )
                )
            else:
                items.append(
                    qbxml.ItemLineAdd(
                        item_ref=self._need("ItemService", item),
                        amount=_money(amount),
                        customer_ref=job_ref,
                    )
                )
        return expense, items

    def _add_spend(
        self,
        kind: str,
        payee: str,
        lines: Sequence[tuple[str | None, Decimal, str | None]],
        *,
        account: str,
        ref_number: str | None,
        memo: str | None,
        txn_date: datetime.date | None,
        expense_account: str,
    ) -> Any:
        # Checks and credit card charges: the fake has no Add request for them (the schema
        # subset has none), so they are built here directly.
        vendor_ref = self._need("Vendor", payee)
        expense, items = self._spend_lines(lines, expense_account)
        with self._lock, _as_user():
            expense_rets = [self._line(qbxml.ExpenseLineRet, line, kind) for line in expense]
            item_rets = [self._line(qbxml.ItemLineRet, line, kind) for line in items]
            ret_cls = qbxml.CheckRet if kind == "Check" else qbxml.CreditCardChargeRet
            ret = self._new_txn(
                ret_cls,
                None,
                txn_date=txn_date,
                account_ref=qbxml.Ref(full_name=account),
                payee_entity_ref=vendor_ref,
                ref_number=ref_number,
                memo=memo,
                amount=_total([*expense_rets, *item_rets]),
                expense_line_ret=expense_rets,
                item_line_ret_or_item_group_line_ret=item_rets,
            )
            self._table(kind)[ret.txn_id] = ret
            return ret

    def _txn_mod(
        self, kind: str, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        """A transaction Mod: EditSequence, header fields, then each list of lines.

        For each list of lines (a bill has two: expense and item lines) that the Mod names
        any line of, the lines become exactly those named: ``TxnLineID`` ``-1`` is a new
        line, a known ``TxnLineID`` keeps that line with the fields given, and the lines not
        named are deleted. ``ClearExpenseLines``/``ClearItemLines`` delete all of theirs.
        """
        mod: Any = getattr(rq, f"{_snake(kind)}_mod")
        table = self._table(kind)
        old = table.get(mod.txn_id)
        if old is None:
            raise _Status(3120, f'Object "{mod.txn_id}" specified in the request cannot be found.')
        self._check_lock(mod.txn_id)
        if mod.edit_sequence != old.edit_sequence:
            raise _Status(3200, f'The provided edit sequence "{mod.edit_sequence}" is out-of-date.')
        changes = _copy_fields(mod, type(old))
        changes.pop("txn_id", None)
        changes.pop("edit_sequence", None)
        entity_field = _ENTITY_FIELD[kind]
        if entity_field in changes:
            entity = "Customer" if kind == "Estimate" else "Vendor"
            changes[entity_field] = self._ref(self._require(entity, changes[entity_field], kind))
        for mod_field, clear_field, ret_field in _line_mods(kind):
            if clear_field is not None and getattr(mod, clear_field):
                changes[ret_field] = []
                continue
            given = getattr(mod, mod_field)
            if not given:
                continue
            existing = {line.txn_line_id: line for line in getattr(old, ret_field)}
            lines = []
            for line in given:
                ret_cls = _LINE_CLASSES.get(type(line))
                if ret_cls is None:
                    raise _Status(1030, f"FakeQuickBooks does not implement {type(line).__name__}")
                if line.txn_line_id == "-1":
                    lines.append(self._line(ret_cls, line, kind))
                    continue
                previous = existing.get(line.txn_line_id)
                if previous is None:
                    raise _Status(
                        3120,
                        f'Object "{line.txn_line_id}" specified in the request cannot be found.',
                    )
                lines.append(self._line(ret_cls, line, kind, old=previous))
            changes[ret_field] = lines
        now, seq = self._stamp()
        new = _retotal(
            kind, attrs.evolve(old, time_modified=now, edit_sequence=seq, **changes), old
        )
        table[mod.txn_id] = new
        fields: dict[str, Any] = {f"{_snake(kind)}_ret": new}
        return self._rs(rs_cls, rq, **fields)

    def _txn_query(
        self, kind: str, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        field = f"{_snake(kind)}_ret"
        if q.iterator == qbxml.Iterator.CONTINUE:
            return self._continue(rq, rs_cls, field)
        table = self._table(kind)
        if q.txn_id:
            rets = [table[i] for i in q.txn_id if i in table]
        elif q.ref_number:
            wanted = {r.casefold() for r in q.ref_number}
            rets = [t for t in table.values() if (t.ref_number or "").casefold() in wanted]
        elif q.ref_number_case_sensitive:
            exact = set(q.ref_number_case_sensitive)
            rets = [t for t in table.values() if t.ref_number in exact]
        else:
            rets = [t for t in table.values() if self._txn_matches(kind, q, t)]
        view = _view(kind, q)
        return self._page(rq, rs_cls, field, kind, [view(r) for r in rets], view=view)

    def _txn_matches(self, kind: str, q: Any, txn: Any) -> bool:
        if not _header_matches(q, txn):
            return False
        e = q.entity_filter
        if e is not None and not self._entity_matches(e, getattr(txn, _ENTITY_FIELD[kind])):
            return False
        paid = str(getattr(q, "paid_status", None) or "All")
        return not (
            (paid == "PaidOnly" and not txn.is_paid) or (paid == "NotPaidOnly" and txn.is_paid)
        )

    def _entity_matches(self, e: Any, ref: qbxml.Ref | None) -> bool:
        if ref is None:
            return False
        name = (ref.full_name or "").casefold()
        if e.list_id and ref.list_id not in e.list_id:
            return False
        if e.full_name and name not in {n.casefold() for n in e.full_name}:
            return False
        top = e.full_name_with_children
        if e.list_id_with_children is not None:
            found = (self.lists[entity].get(e.list_id_with_children) for entity in _LISTS)
            top = next((_full_name(r) for r in found if r is not None), "\0")
        if top is not None:
            top = top.casefold()
            return name == top or name.startswith(f"{top}:")
        return True

    def _txn_del(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        kind = str(q.txn_del_type)
        if kind not in _TXNS or q.txn_id not in self._table(kind):
            raise _Status(3120, f'Object "{q.txn_id}" specified in the request cannot be found.')
        self._check_lock(q.txn_id)
        deleted = self._delete_txn(kind, q.txn_id)
        return self._rs(
            rs_cls,
            rq,
            txn_del_type=q.txn_del_type,
            txn_id=q.txn_id,
            time_deleted=deleted.time_deleted,
            ref_number=deleted.ref_number,
        )

    def _delete_txn(self, kind: str, txn_id: str) -> qbxml.TxnDeletedRet:
        txn = self._table(kind).pop(txn_id)
        # Undo what the transaction did to others: payments give bills their open amounts
        # back, and linked transactions forget it.
        for link in [*getattr(txn, "linked_txn", []), *getattr(txn, "applied_to_txn_ret", [])]:
            other_kind = str(link.txn_type)
            other = self._table(other_kind).get(link.txn_id) if other_kind in _TXNS else None
            if other is None or not hasattr(other, "linked_txn"):
                continue  # a bill's payments keep naming a deleted bill
            changes: dict[str, Any] = {
                "linked_txn": [t for t in other.linked_txn if t.txn_id != txn_id]
            }
            if kind == "BillPaymentCheck":
                left = (other.open_amount or _ZERO) + (link.amount or _ZERO)
                changes.update(open_amount=left, is_paid=_is_paid(other.amount_due, left))
            now, seq = self._stamp()
            self._table(other_kind)[link.txn_id] = attrs.evolve(
                other, time_modified=now, edit_sequence=seq, **changes
            )
        now, _ = self._stamp()
        deleted = qbxml.TxnDeletedRet(
            txn_del_type=qbxml.TxnDelType(kind),
            txn_id=txn_id,
            time_created=txn.time_created,
            time_deleted=now,
            ref_number=txn.ref_number,
        )
        self.deleted_txns.append(deleted)
        return deleted

    def _txn_deleted_query(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        types = {str(t) for t in q.txn_del_type}
        rets = [
            r
            for r in self.deleted_txns
            if str(r.txn_del_type) in types and _deleted_in(q.deleted_date_range_filter, r)
        ]
        return self._rs(rs_cls, rq, status=_OK if rets else _NO_MATCH, txn_deleted_ret=rets)

    def _list_deleted_query(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        types = {str(t) for t in q.list_del_type}
        rets = [
            r
            for r in self.deleted_lists
            if str(r.list_del_type) in types and _deleted_in(q.deleted_date_range_filter, r)
        ]
        return self._rs(rs_cls, rq, status=_OK if rets else _NO_MATCH, list_deleted_ret=rets)

    def _host_query(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        return self._rs(rs_cls, rq, host_ret=self._host_ret())

    def _company_query(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        return self._rs(rs_cls, rq, company_ret=qbxml.CompanyRet(company_name=self.company_name))

    def _preferences_query(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        return self._rs(rs_cls, rq, preferences_ret=self._preferences())


# -- helpers ---------------------------------------------------------------------------------


def _field_names(cls: type[qbxml.QbxmlModel]) -> set[str]:
    return {f.attr for f in cls.__qbxml__.fields}


def _copy_fields(source: qbxml.QbxmlModel, target: type[qbxml.QbxmlModel]) -> dict[str, Any]:
    """The fields of ``source`` that ``target`` has with the same shape (Add -> Ret)."""
    specs = {f.attr: f for f in target.__qbxml__.fields}
    out: dict[str, Any] = {}
    for f in type(source).__qbxml__.fields:
        value = source.__dict__[f.attr]
        if value is None or value == ():
            continue
        other = specs.get(f.attr)
        if (
            other is not None
            and other.kind == f.kind
            and other.classes == f.classes
            and other.is_list == f.is_list
        ):
            out[f.attr] = value
    return out


def _full_name(ret: Any) -> str:
    return str(getattr(ret, "full_name", None) or ret.name)


def _aware(value: datetime.datetime, like: datetime.datetime) -> datetime.datetime:
    # A filter without an offset is in QuickBooks' local time (the records' offset here).
    return value if value.tzinfo is not None else value.replace(tzinfo=like.tzinfo)


def _in_range(
    when: datetime.datetime, start: datetime.datetime | None, end: datetime.datetime | None
) -> bool:
    # Both ends inclusive, as in QuickBooks.
    if start is not None and when < _aware(start, when):
        return False
    return not (end is not None and when > _aware(end, when))


def _list_matches(q: Any, ret: Any) -> bool:
    status = str(q.active_status or "ActiveOnly")  # QuickBooks' default: active records only
    if status == "ActiveOnly" and ret.is_active is False:
        return False
    if status == "InactiveOnly" and ret.is_active is not False:
        return False
    if not _in_range(ret.time_modified, q.from_modified_date, q.to_modified_date):
        return False
    name = _full_name(ret)
    if q.name_filter is not None:
        wanted = q.name_filter.name.casefold()
        how = str(q.name_filter.match_criterion)
        got = name.casefold()
        ok = {
            "StartsWith": got.startswith(wanted),
            "Contains": wanted in got,
            "EndsWith": got.endswith(wanted),
        }[how]
        if not ok:
            return False
    if q.name_range_filter is not None:
        lo, hi = q.name_range_filter.from_name, q.name_range_filter.to_name
        if lo is not None and name.casefold() < lo.casefold():
            return False
        if hi is not None and name.casefold() > hi.casefold():
            return False
    return True


def _header_matches(q: Any, txn: Any) -> bool:
    # The filters every transaction query shares (EntityFilter is matched by the fake).
    f = q.modified_date_range_filter
    if (
        f is not None
        and txn.time_modified is not None
        and not _in_range(txn.time_modified, f.from_modified_date, f.to_modified_date)
    ):
        return False
    t = q.txn_date_range_filter
    if t is not None and txn.txn_date is not None:
        if t.from_txn_date is not None and txn.txn_date < t.from_txn_date:
            return False
        if t.to_txn_date is not None and txn.txn_date > t.to_txn_date:
            return False
    r = q.ref_number_filter
    if r is not None:
        got = (txn.ref_number or "").casefold()
        wanted = r.ref_number.casefold()
        how = str(r.match_criterion)
        if not {
            "StartsWith": got.startswith(wanted),
            "Contains": wanted in got,
            "EndsWith": got.endswith(wanted),
        }[how]:
            return False
    return True


def _view(kind: str, q: Any) -> Callable[[Any], Any]:
    """How a query shows a transaction.

    Lines only with IncludeLineItems (for bill payments: AppliedToTxnRet), linked
    transactions only with IncludeLinkedTxns.
    """
    strip: dict[str, Any] = {}
    if not q.include_line_items:
        strip.update((field, ()) for field in _LINES[kind])
    if not getattr(q, "include_linked_txns", None) and "linked_txn" in _field_names(
        getattr(qbxml, f"{kind}Ret")
    ):
        strip["linked_txn"] = ()
    if not strip:
        return _same
    return lambda ret: attrs.evolve(ret, **strip)


def _line_mods(kind: str) -> list[tuple[str, str | None, str]]:
    """(Mod field with line Mods, its Clear… flag if any, Ret field with the lines) per kind."""
    if kind == "Bill":
        return [
            ("expense_line_mod", "clear_expense_lines", "expense_line_ret"),
            (
                "item_line_mod_or_item_group_line_mod",
                "clear_item_lines",
                "item_line_ret_or_item_group_line_ret",
            ),
        ]
    if kind == "PurchaseOrder":
        return [
            (
                "purchase_order_line_mod_or_purchase_order_line_group_mod",
                None,
                "purchase_order_line_ret_or_purchase_order_line_group_ret",
            )
        ]
    return [
        (
            "estimate_line_mod_or_estimate_line_group_mod",
            None,
            "estimate_line_ret_or_estimate_line_group_ret",
        )
    ]


def _total(lines: Iterable[Any]) -> Decimal:
    return sum((getattr(line, "amount", None) or _ZERO for line in lines), _ZERO)


def _is_paid(amount_due: Decimal | None, left: Decimal) -> bool:
    # Paid: something was paid and nothing is left.
    return left <= 0 and (amount_due or _ZERO) > left


def _retotal(kind: str, new: Any, old: Any) -> Any:
    """``new`` with its totals worked out from its lines (a bill keeps what was paid)."""
    if kind == "BillPaymentCheck":
        return new
    total = _total(line for field in _LINES[kind] for line in getattr(new, field))
    if kind == "PurchaseOrder":
        return attrs.evolve(new, total_amount=total)
    if kind == "Estimate":
        return attrs.evolve(new, subtotal=total, total_amount=total)
    if kind == "Bill":
        paid = (old.amount_due or _ZERO) - (old.open_amount or _ZERO)
        left = total - paid
        return attrs.evolve(new, amount_due=total, open_amount=left, is_paid=_is_paid(total, left))
    return attrs.evolve(new, amount=total)


def _linked(txn: Any, txn_type: qbxml.TxnType, amount: Decimal | None) -> qbxml.LinkedTxn:
    """A LinkedTxn naming ``txn``: amounts for payments, quantities for PO receipts."""
    link_type = (
        qbxml.LinkType.AMTTYPE
        if txn_type == qbxml.TxnType.BILL_PAYMENT_CHECK
        else qbxml.LinkType.QUANTYPE
    )
    return qbxml.LinkedTxn(
        txn_id=txn.txn_id,
        txn_type=txn_type,
        txn_date=txn.txn_date,
        ref_number=txn.ref_number,
        link_type=link_type,
        amount=amount or _ZERO,
    )


def _display(name: str) -> str:
    """How QuickBooks names a list or transaction type in messages (``Purchase Order``)."""
    if name == "ItemService":
        return "Item"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


def _money(amount: object) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"amounts are Decimal (not {type(amount).__name__}): {amount!r}")
    return Decimal(amount)


@contextlib.contextmanager
def _as_user() -> Iterator[None]:
    # The seeding helpers run the request code; what QuickBooks would refuse is a ValueError.
    try:
        yield
    except _Status as status:
        raise ValueError(f"QuickBooks refused it ({status.code}): {status.message}") from None


def _deleted_in(f: Any, ret: Any) -> bool:
    if f is None:
        return True
    return _in_range(ret.time_deleted, f.from_deleted_date, f.to_deleted_date)
