"""Who may file appeals, how many a day, and the upload quota under concurrent appeals."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from models.identity import Person
from models.letters import CustomsBody, Letter
from tests.integration.letters_support import csrf, sign_in
from web.letters import service

pytestmark = pytest.mark.usefixtures("seeded")

PDF = (Path(__file__).resolve().parents[1] / "fixtures" / "invoice.pdf").read_bytes()
BAKI = "Bakı Baş Gömrük İdarəsi"


async def _post_appeal(client, subject: str, files=None, text: str = "Mətn"):
    body = await CustomsBody.get(name=BAKI)
    return await client.post(
        "/letters/new",
        data={
            "_csrf_token": await csrf(client),
            "body": str(body.id),
            "subject": subject,
            "text": text,
        },
        files=files or [("files", ("", b"", "application/octet-stream"))],
        follow_redirects=False,
    )


async def test_concurrent_appeals_with_attachments_cannot_overshoot_the_quota(
    make_app, monkeypatch
):
    """Two appeals at once, room for one file: one is saved, one is refused (the person's
    row is locked around the check, as for documents)."""
    count_bytes = service.attachment_bytes_of

    async def slow_count(*args, **kwargs) -> int:
        used = await count_bytes(*args, **kwargs)
        await asyncio.sleep(0.1)  # widen the gap between the check and the insert
        return used

    quota = {"bytes": 0}
    app = make_app(party_quota_bytes=10**12)
    async with AsyncTestClient(app=app) as client:
        person = await Person.get(accounts__username="vetendas2")
        used = await service.attachment_bytes_of(person)
        # The app reads the quota from its settings on every request: room for one file.
        quota["bytes"] = used + len(PDF) * 3 // 2
        client.app.state.settings = replace(
            client.app.state.settings, party_quota_bytes=quota["bytes"]
        )
        monkeypatch.setattr(service, "attachment_bytes_of", slow_count)
        transport = httpx.ASGITransport(app=app)
        browsers = [
            httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
            for _ in range(2)
        ]
        for browser in browsers:
            await sign_in(browser, "vetendas2")
        files = [("files", ("kvota.pdf", PDF, "application/pdf"))]
        responses = await asyncio.gather(
            *(_post_appeal(browser, "Kvota yarışı", files) for browser in browsers)
        )
        for browser in browsers:
            await browser.aclose()
        monkeypatch.setattr(service, "attachment_bytes_of", count_bytes)
        assert sorted(response.status_code for response in responses) == [303, 422]
        assert await Letter.filter(subject="Kvota yarışı", applicant=person).count() == 1
        assert await service.attachment_bytes_of(person) == used + len(PDF)
