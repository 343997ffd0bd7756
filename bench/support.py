"""What the benchmarks share: signing a demo user in on an in-process client."""

from __future__ import annotations

import httpx

from web.devdata.demo_data import DEMO_PASSWORD


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    """Sign in with the demo password, as a browser would (CSRF cookie first)."""
    await client.get("/login")
    response = await client.post(
        "/login/password",
        data={
            "username": username,
            "password": DEMO_PASSWORD,
            "_csrf_token": client.cookies.get("csrftoken"),
        },
    )
    assert response.status_code in (200, 303), response.status_code
