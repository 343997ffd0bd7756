"""Helpers for the letter tests, on top of tests/support/web.py."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.support import web

csrf = web.csrf_token


async def sign_in(client: AsyncTestClient, username: str) -> None:
    """Sign in with the demo password. Letters are the person's own; a citizen with several
    parties acts for the first one offered (appeals need the choice made)."""
    response = await web.sign_in(client, username)
    assert response.status_code == 303, response.text
    if response.headers["location"] == "/party":
        await web.act_for(client, "")


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
