"""Service “Rəsmiləşdirmə üçün tələb olunan sənədlərin surətləri”, through HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from tests.support.web import act_for, csrf_token, sign_in

pytestmark = pytest.mark.usefixtures("seeded")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PDF = (FIXTURES / "invoice.pdf").read_bytes()
PNG = (FIXTURES / "stamp.png").read_bytes()
COMPANY = "Xəzər Logistika MMC"


async def trader(client: AsyncTestClient) -> AsyncTestClient:
    await sign_in(client, "vetendas")
    await act_for(client, COMPANY)
    return client


async def acknowledge(client: AsyncTestClient) -> None:
    response = await client.post(
        "/documents/obligation",
        data={"_csrf_token": await csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def details(**changes: str) -> dict[str, str]:
    return {
        "kind": "invoice",
        "number": "INV-2026/17",
        "issued_on": "2026-11-03",
        "declaration_number": "10200010/031126/0001234",
        "note": "",
        **changes,
    }


async def upload(client: AsyncTestClient, files=None, **changes: str):
    files = [("files", ("invoice.pdf", PDF, "application/pdf"))] if files is None else files
    return await client.post(
        "/documents/new",
        data={"_csrf_token": await csrf_token(client), **details(**changes)},
        files=files,
        follow_redirects=False,
    )


async def test_trader_adds_a_document_and_sees_it_counted(client):
    await trader(client)
    page = await client.get("/documents")
    assert page.status_code == 200, page.text
    assert "<h1>Rəsmiləşdirilmə üçün tələb olunan sənədlərin surətləri</h1>" in page.text
    assert "Sayı:" in page.text
    await acknowledge(client)
    response = await upload(
        client,
        files=[
            ("files", ("invoice.pdf", PDF, "application/pdf")),
            ("files", ("stamp.png", PNG, "image/png")),
        ],
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/documents"
    page = await client.get("/documents")
    assert "Sənəd yadda saxlanıldı" in page.text
    assert re.search(r"RS-\d{7}", page.text)
    assert "INV-2026/17" in page.text
