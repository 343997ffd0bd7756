"""Idempotency keys of the forms that create something (“Yeni sənəd”, “Yeni müraciət”).

A key is made when the form is rendered and comes back as a hidden field. The row the form
creates keeps it under a unique (owner, key) constraint, so the same form sent twice (a
retry after a lost answer, a double click, a second tab) saves once, and the second answer
shows what the first one saved. A form shown again with errors keeps its key: nothing was
saved under it yet.
"""

from __future__ import annotations

import re
import secrets

FIELD = "idempotency_key"
_KEY_RE = re.compile(r"\A[A-Za-z0-9_-]{16,64}\Z")


class AlreadySaved(Exception):
    """Raised inside a transaction that found its key already used: it rolls back, and the
    caller answers with what was saved the first time (`saved`)."""

    def __init__(self, saved: object) -> None:
        super().__init__("already saved under this idempotency key")
        self.saved = saved


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


def idempotency_key_of(raw: str | None) -> str | None:
    """The key a form sent, or None when it sent none (or something that is not one of ours:
    the form is then saved without the protection, as before keys existed)."""
    return raw if raw and _KEY_RE.match(raw) else None


def form_idempotency_key(raw: str | None) -> str:
    """The key to render into a form: the one it came with, else a new one."""
    return idempotency_key_of(raw) or new_idempotency_key()
