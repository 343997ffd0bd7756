"""Typed text kept through a forced sign-in (WCAG 2.2.1, 2.2.5).

Two minutes before the idle sign-out the page warns (static/js/app.js) and sends the text
of a long form (an appeal, a new document) here; it is kept for a day, keyed to the person,
and put back into the same form the next time that person opens it, once. Files are never
kept: the form says so. The store is the app's (memory, or Redis with several workers).
"""

from __future__ import annotations

import json
from typing import Any

from litestar.stores.base import Store

DRAFT_STORE = "drafts"
DRAFT_SECONDS = 24 * 3600
# The text fields of each form that may be kept; anything else posted is ignored.
FORMS: dict[str, tuple[str, ...]] = {
    "appeal": ("body", "subject", "text"),
    "document": (
        "kind",
        "number",
        "issued_on-day",
        "issued_on-month",
        "issued_on-year",
        "declaration_number",
        "note",
    ),
}
MAX_FIELD_CHARS = 20_000


def _key(person_id: int, form: str) -> str:
    return f"draft:{person_id}:{form}"


async def save(store: Store, person_id: int, form: str, data: dict[str, Any]) -> bool:
    """Keep the form's known text fields; False for a form that keeps no drafts."""
    fields = FORMS.get(form)
    if fields is None:
        return False
    kept = {name: str(data.get(name, ""))[:MAX_FIELD_CHARS] for name in fields}
    if any(kept.values()):
        await store.set(_key(person_id, form), json.dumps(kept), expires_in=DRAFT_SECONDS)
    return True


async def take(store: Store, person_id: int, form: str) -> dict[str, str] | None:
    """The kept text (and forget it), or None."""
    raw = await store.get(_key(person_id, form))
    if raw is None:
        return None
    await store.delete(_key(person_id, form))
    return json.loads(raw)
