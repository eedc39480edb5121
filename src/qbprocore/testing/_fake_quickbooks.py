"""`FakeQuickBooks`: an in-memory company file that answers qbXML like QuickBooks Desktop.

It reads requests and writes responses with `qbprocore.qbxml`, so what it accepts is what
the schema allows. It models the behaviour connectors trip over:

- queries with ``MaxReturned``, iterators (Start/Continue, ``iteratorRemainingCount``,
  iterators that die with the session or on demand), ``FromModifiedDate``/``ToModifiedDate``
  (lists, inclusive) and ``ModifiedDateRangeFilter`` (transactions), ``ActiveStatus`` (default
  ``ActiveOnly``), ``ListID``/``FullName``/``TxnID``/``RefNumber`` filters, name filters;
- Add/Mod with ``EditSequence`` (3200 when stale), duplicate names (3100), references to
  missing vendors (3140), injectable record locks (3170/3175);
- ``TxnDel``, ``TxnDeletedQuery``, ``ListDeletedQuery``;
- the HCP response of a session's first call (HostQueryRs with SupportedQBXMLVersion,
  CompanyQueryRs, PreferencesQueryRs);
- ``onError``: ``stopOnError`` stops after an error *or a warning*, as QuickBooks does;
- injectable failures of the whole request (hresult ``0x80040400``, ``0x80040408`` …) and of
  opening the company file (for ``connectionError``); a request that is not well-formed qbXML
  fails with ``0x80040400`` by itself.

Lists: Vendor, Customer (jobs are customers with a parent) and ItemService (cost codes).
Transactions: Bill. Anything else is answered with status 1030 and a message saying the fake
does not implement it.
"""

from __future__ import annotations

import datetime
import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
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


@attrs.define
class _Iterator:
    entity: str
    ids: list[str]
    request_id: str | None


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
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{e}={len(t)}" for e, t in self.lists.items())
        return f"FakeQuickBooks({sizes}, Bill={len(self.bills)})"

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
            handler = {
                "BillAdd": self._bill_add,
                "BillQuery": self._bill_query,
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
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        limit = q.max_returned
        if q.iterator == qbxml.Iterator.START:
            page, rest = (rets[:limit], rets[limit:]) if limit else (rets, [])
            iterator_id = "{" + f"{next(self._ids):08x}-fake-iterator" + "}"
            key = "list_id" if entity in _LISTS else "txn_id"
            self._iterators[iterator_id] = _Iterator(
                entity=entity, ids=[getattr(r, key) for r in rest], request_id=rq.request_id
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
        table: dict[str, Any] = self.bills if it.entity == "Bill" else self.lists[it.entity]
        page = [table[i] for i in take if i in table]
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

    # -- bills -----------------------------------------------------------------------------------

    def _bill_add(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        add: qbxml.BillAdd = rq.bill_add  # type: ignore[attr-defined]
        vendor = self._resolve("Vendor", add.vendor_ref)
        if vendor is None:
            who = add.vendor_ref.full_name or add.vendor_ref.list_id
            raise _Status(
                3140, f'There is an invalid reference to QuickBooks Vendor "{who}" in the Bill.'
            )
        now, seq = self._stamp()
        lines = next(self._ids)
        expense = [
            qbxml.ExpenseLineRet(
                txn_line_id=f"{lines:X}-{n}", **_copy_fields(line, qbxml.ExpenseLineRet)
            )
            for n, line in enumerate(add.expense_line_add)
        ]
        items: list[Any] = [
            qbxml.ItemLineRet(
                txn_line_id=f"{lines:X}-I{n}", **_copy_fields(line, qbxml.ItemLineRet)
            )
            for n, line in enumerate(add.item_line_add_or_item_group_line_add)
            if isinstance(line, qbxml.ItemLineAdd)
        ]
        total = sum(
            (line.amount or Decimal("0.00") for line in [*expense, *items]), Decimal("0.00")
        )
        txn_id = f"{next(self._ids):X}-1767632400"
        bill = qbxml.BillRet(
            txn_id=txn_id,
            time_created=now,
            time_modified=now,
            edit_sequence=seq,
            txn_number=len(self.bills) + 1,
            vendor_ref=qbxml.Ref(list_id=vendor.list_id, full_name=vendor.name),  # type: ignore[attr-defined]
            txn_date=add.txn_date or now.date(),
            due_date=add.due_date,
            amount_due=total,
            ref_number=add.ref_number,
            memo=add.memo,
            is_paid=False,
            expense_line_ret=expense,
            item_line_ret_or_item_group_line_ret=items,
            open_amount=total,
        )
        self.bills[txn_id] = bill
        return self._rs(rs_cls, rq, bill_ret=bill)

    def _bill_query(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        if q.iterator == qbxml.Iterator.CONTINUE:
            return self._continue(rq, rs_cls, "bill_ret")
        if q.txn_id:
            rets = [self.bills[i] for i in q.txn_id if i in self.bills]
        elif q.ref_number:
            wanted = {r.casefold() for r in q.ref_number}
            rets = [b for b in self.bills.values() if (b.ref_number or "").casefold() in wanted]
        else:
            rets = [b for b in self.bills.values() if _bill_matches(q, b)]
        if not q.include_line_items:
            rets = [
                attrs.evolve(b, expense_line_ret=[], item_line_ret_or_item_group_line_ret=[])
                for b in rets
            ]
        return self._page(rq, rs_cls, "bill_ret", "Bill", rets)

    def _txn_del(
        self, rq: qbxml.QbxmlRequest, rs_cls: type[qbxml.QbxmlResponse]
    ) -> qbxml.QbxmlResponse:
        q: Any = rq
        if str(q.txn_del_type) != "Bill" or q.txn_id not in self.bills:
            raise _Status(3120, f'Object "{q.txn_id}" specified in the request cannot be found.')
        self._check_lock(q.txn_id)
        bill = self.bills.pop(q.txn_id)
        now, _ = self._stamp()
        self.deleted_txns.append(
            qbxml.TxnDeletedRet(
                txn_del_type=q.txn_del_type,
                txn_id=q.txn_id,
                time_created=bill.time_created,
                time_deleted=now,
                ref_number=bill.ref_number,
            )
        )
        return self._rs(
            rs_cls,
            rq,
            txn_del_type=q.txn_del_type,
            txn_id=q.txn_id,
            time_deleted=now,
            ref_number=bill.ref_number,
        )

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
        if value is None or value == []:
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


def _bill_matches(q: Any, bill: qbxml.BillRet) -> bool:
    f = q.modified_date_range_filter
    if (
        f is not None
        and bill.time_modified is not None
        and not _in_range(bill.time_modified, f.from_modified_date, f.to_modified_date)
    ):
        return False
    t = q.txn_date_range_filter
    if t is not None and bill.txn_date is not None:
        if t.from_txn_date is not None and bill.txn_date < t.from_txn_date:
            return False
        if t.to_txn_date is not None and bill.txn_date > t.to_txn_date:
            return False
    e = q.entity_filter
    if e is not None and bill.vendor_ref is not None:
        if e.list_id and bill.vendor_ref.list_id not in e.list_id:
            return False
        if e.full_name and (bill.vendor_ref.full_name or "") not in e.full_name:
            return False
    r = q.ref_number_filter
    if r is not None:
        got = (bill.ref_number or "").casefold()
        wanted = r.ref_number.casefold()
        how = str(r.match_criterion)
        if not {
            "StartsWith": got.startswith(wanted),
            "Contains": wanted in got,
            "EndsWith": got.endswith(wanted),
        }[how]:
            return False
    return True


def _deleted_in(f: Any, ret: Any) -> bool:
    if f is None:
        return True
    return _in_range(ret.time_deleted, f.from_deleted_date, f.to_deleted_date)
