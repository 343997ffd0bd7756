"""Helpers for the letter tests: sign in, find the demo body, pull a letter's CSRF."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from web.services.demo_data import DEMO_PASSWORD


async def csrf(client: AsyncTestClient) -> str:
    if not client.cookies.get("csrftoken"):
        await client.get("/login")
    return client.cookies.get("csrftoken")


async def sign_in(client: AsyncTestClient, username: str) -> None:
    response = await client.post(
        "/login/password",
        data={"username": username, "password": DEMO_PASSWORD, "_csrf_token": await csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def lookup_params(body_id: int, number: str, day: str) -> dict[str, str]:
    d, m, y = day.split(".")
    return {
        "body": str(body_id),
        "number": number,
        "registered-day": d,
        "registered-month": m,
        "registered-year": y,
    }
