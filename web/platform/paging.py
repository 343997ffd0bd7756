"""Page links for lists: the params of the `pagination` component from a page number."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web.platform.i18n import gettext as _

WINDOW = 1  # pages shown either side of the current one


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
