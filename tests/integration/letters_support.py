"""Helpers for the letter tests, on top of tests/support/web.py."""

from __future__ import annotations

from functools import partial

from tests.support import web

csrf = web.csrf_token


# Letters are the person's own: a citizen with several parties acts for the first one
# offered (appeals need the choice made); signed in is a 303.
sign_in = partial(web.sign_in, expect=303, party="")


def lookup_params(body_id: int, number: str, day: str) -> dict[str, str]:
    """The tracking form's query for a body id, a number and a date written dd.mm.yyyy."""
    d, m, y = day.split(".")
    return {
        "body": str(body_id),
        "number": number,
        "registered-day": d,
        "registered-month": m,
        "registered-year": y,
    }
