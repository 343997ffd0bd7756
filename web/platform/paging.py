"""Lists in pages: one page of a query (`page_of`), and the params of the `pagination`
component from a page number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil
from typing import Any

from web.platform.i18n import gettext as _

WINDOW = 1  # pages shown either side of the current one


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))


def clamped(number: int, total: int, size: int) -> int:
    """The page to show for a requested `number`: from 1 to the last page (an old link past
    the end shows the last page, not nothing)."""
    return min(max(number, 1), max(1, ceil(total / size)))


async def page_of(
    query: Any, number: int, size: int, rows: Callable[[Any], Any] = lambda query: query
) -> Page:
    """Page `number` (from 1) of `size` rows. A number past the end (an old link) gives the
    last page, not nothing. `query` is counted; `rows(query)` adds the ordering, joins and
    annotations for the rows themselves."""
    total = await query.count()
    number = clamped(number, total, size)
    items = await rows(query).offset((number - 1) * size).limit(size)
    return Page(items=list(items), total=total, number=number, size=size)


def pagination_params(number: int, pages: int, href: Callable[[int], str]) -> dict[str, Any] | None:
    """`{items, previous, next}` for `pagination`, or None when everything fits on one page.

    Shows the first and last page, the current one and its neighbours, and ellipses between."""
    if pages <= 1:
        return None
    shown = {1, pages, *range(number - WINDOW, number + WINDOW + 1)}
    items: list[dict[str, Any]] = []
    previous_shown = 0
    for page in sorted(p for p in shown if 1 <= p <= pages):
        if page - previous_shown > 1:
            items.append({"ellipsis": True})
        items.append({"number": page, "href": href(page), "current": page == number})
        previous_shown = page
    params: dict[str, Any] = {"items": items}
    if number > 1:
        params["previous"] = {"href": href(number - 1)}
    if number < pages:
        params["next"] = {"href": href(number + 1)}
    params["landmark_label"] = _("Pages of the list")
    return params
