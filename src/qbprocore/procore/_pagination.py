"""Lazy auto-paging iterators.

Nothing is fetched until iteration starts; each page is fetched when the previous one is used
up. The next page comes from the ``Link: <…>; rel="next"`` header Procore sends (so filters
and ``per_page`` carry over exactly as Procore echoes them); when an endpoint sends no
``Link`` header, a short page ends the listing. ``per_page`` is always sent explicitly:
Procore's defaults differ per endpoint and silently returning page 1 of N is the classic bug.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from typing import Any, Generic, TypeVar

import attrs
import httpx

from qbprocore.procore._errors import ProcoreError, json_body
from qbprocore.procore._models import ProcoreModel

__all__ = ["AsyncPager", "Page", "Pager"]

M = TypeVar("M", bound=ProcoreModel)

#: Procore recommends staying at or below this page size.
MAX_PER_PAGE = 2000


@attrs.frozen(kw_only=True)
class Page(Generic[M]):
    """One page of a listing.

    Attributes:
        items: The records of this page.
        number: 1-based page number.
        total: The ``Total`` header (all pages), when sent.
        next_url: The ``rel="next"`` link, or ``None`` on the last page.
    """

    items: tuple[M, ...]
    number: int
    total: int | None
    next_url: str | None


def _page_from(response: httpx.Response, model: type[M], number: int, per_page: int) -> Page[M]:
    body = json_body(response)
    if isinstance(body, Mapping) and isinstance(body.get("data"), list):
        rows = body["data"]  # REST v2.0 wraps lists in "data"
    elif isinstance(body, list):
        rows = body
    else:
        raise TypeError(f"expected a JSON list from {response.request.url.path}, got {type(body)}")
    items = tuple(model.from_api(row) for row in rows)
    next_url = response.links.get("next", {}).get("url")
    if next_url is not None and httpx.URL(next_url).path != response.request.url.path:
        # Procore's next page is the same listing; a link elsewhere (even on the API host)
        # would mix another endpoint's records into this one, parsed as the wrong model.
        raise ProcoreError(
            f"refusing a pagination link from {response.request.url.path} to another path"
        )
    if next_url is None and "link" not in response.headers and len(items) >= per_page:
        # No Link header at all: fall back to asking for the next page number.
        next_url = str(response.request.url.copy_set_param("page", str(number + 1)))
    total = response.headers.get("Total")
    return Page(
        items=items,
        number=number,
        total=int(total) if total and total.isdigit() else None,
        next_url=next_url if items else None,
    )


def check_per_page(per_page: int) -> int:
    """Validate an explicit page size."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
    return per_page


class Pager(Generic[M]):
    """Iterate over every record of a listing, fetching pages lazily.

    Iterate it directly for records, or call `pages` for `Page` objects.
    """

    def __init__(
        self,
        fetch: Callable[[str, Mapping[str, Any] | None], httpx.Response],
        *,
        path: str,
        params: Mapping[str, Any],
        model: type[M],
        per_page: int,
    ) -> None:
        self._fetch = fetch
        self._path = path
        self._params = dict(params)
        self._model = model
        self._per_page = per_page

    def pages(self) -> Iterator[Page[M]]:
        """Each page in turn."""
        url: str | None = self._path
        params: Mapping[str, Any] | None = {**self._params, "page": 1, "per_page": self._per_page}
        number = 1
        while url is not None:
            page = _page_from(self._fetch(url, params), self._model, number, self._per_page)
            yield page
            url, params, number = page.next_url, None, number + 1

    def __iter__(self) -> Iterator[M]:
        for page in self.pages():
            yield from page.items


class AsyncPager(Generic[M]):
    """Async counterpart of `Pager`: ``async for record in pager``."""

    def __init__(
        self,
        fetch: Callable[[str, Mapping[str, Any] | None], Coroutine[Any, Any, httpx.Response]],
        *,
        path: str,
        params: Mapping[str, Any],
        model: type[M],
        per_page: int,
    ) -> None:
        self._fetch = fetch
        self._path = path
        self._params = dict(params)
        self._model = model
        self._per_page = per_page

    async def pages(self) -> AsyncIterator[Page[M]]:
        """Each page in turn."""
        url: str | None = self._path
        params: Mapping[str, Any] | None = {**self._params, "page": 1, "per_page": self._per_page}
        number = 1
        while url is not None:
            response = await self._fetch(url, params)
            page = _page_from(response, self._model, number, self._per_page)
            yield page
            url, params, number = page.next_url, None, number + 1

    async def __aiter__(self) -> AsyncIterator[M]:
        async for page in self.pages():
            for item in page.items:
                yield item
