"""Driving the app like a browser over HTTP (integration tests and the benchmarks): CSRF
token, sign-in, party choice. The browser tests' counterpart is `e2e/support.py`."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from web.devdata.demo_data import DEMO_PASSWORD


async def csrf_token(client: AsyncTestClient) -> str:
    if not client.cookies.get("csrftoken"):
        await client.get("/login")
    return client.cookies.get("csrftoken")


async def sign_in(
    client: AsyncTestClient,
    username: str,
    password: str = DEMO_PASSWORD,
    *,
    next_path: str | None = None,
    headers: dict[str, str] | None = None,
    expect: int | None = None,
    party: str | None = None,
):
    """Post the password form; `next_path` is the hidden field the form carries from
    `/login?next=…` (where to go once signed in). With `expect`, assert the answer's status
    (303: signed in); with `party`, when asked on whose behalf, act for the party whose
    label names it ("" for the first one)."""
    data = {"username": username, "password": password, "_csrf_token": await csrf_token(client)}
    if next_path is not None:
        data["next"] = next_path
    response = await client.post(
        "/login/password", data=data, headers=headers, follow_redirects=False
    )
    if expect is not None:
        assert response.status_code == expect, response.text
    if party is not None and response.headers.get("location") == "/party":
        await act_for(client, party)
    return response


async def act_for(client: AsyncTestClient, party_name: str) -> None:
    """Choose the party whose label names `party_name` on “Kimin adından daxil olursunuz?”."""
    page = await client.get("/party")
    for match in re.finditer(r'value="(\d+)"[^>]*>\s*<label[^>]*>\s*([^<]+)', page.text):
        if party_name in match.group(2):
            response = await client.post(
                "/party",
                data={"party": match.group(1), "_csrf_token": await csrf_token(client)},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
            return
    raise AssertionError(f"no party {party_name!r} to choose")
