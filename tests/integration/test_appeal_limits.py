"""Who may file appeals, how many a day, and the upload quota under concurrent appeals."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from models.identity import Person
from models.letters import CustomsBody, Letter, LetterChannel
from tests.integration.letters_support import csrf, sign_in
from tests.support.web import act_for
from tests.support.web import sign_in as web_sign_in
from web.letters import service
from web.platform import portal_time

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


# --- who may file appeals, and how many a day --------------------------------------------


@pytest.mark.parametrize("username", ["katib", "icraci", "mufettis", "admin"])
async def test_staff_accounts_cannot_file_appeals(client, username: str):
    await sign_in(client, username)
    assert (await client.get("/letters/new")).status_code == 404
    refused = await _post_appeal(client, f"Əməkdaş müraciəti {username}")
    assert refused.status_code == 404
    assert not await Letter.filter(subject=f"Əməkdaş müraciəti {username}").exists()
    assert 'href="/letters/new"' not in (await client.get("/letters/mine")).text


async def test_a_citizen_with_several_parties_chooses_one_before_an_appeal(client):
    response = await web_sign_in(client, "vetendas")
    assert response.headers["location"] == "/party"
    redirected = await client.get("/letters/new", follow_redirects=False)
    assert redirected.status_code == 303 and redirected.headers["location"] == "/party"
    await act_for(client, "Xəzər Logistika MMC")
    assert (await client.get("/letters/new")).status_code == 200


async def _allow_today(client, person: Person, more: int) -> int:
    """Let the person send `more` appeals today, whatever earlier tests sent."""
    sent = await Letter.filter(
        applicant=person, channel=LetterChannel.ELECTRONIC, registered_on=portal_time.today()
    ).count()
    client.app.state.settings = replace(client.app.state.settings, appeals_per_day=sent + more)
    return sent + more


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("az", "bir nəfər gündə bundan çox göndərə bilməz"),
        ("en", "the most one person may send in a day"),
        ("ru", "больше одному человеку в день нельзя"),
    ],
)
async def test_the_daily_cap_has_a_clear_message_and_keeps_what_was_typed(
    client, language: str, message: str
):
    await sign_in(client, "vetendas2")
    client.cookies.set("lang", language)
    person = await Person.get(accounts__username="vetendas2")
    cap = await _allow_today(client, person, 1)
    assert (await _post_appeal(client, "Gündəlik hədd 1")).status_code == 303
    refused = await _post_appeal(client, "Gündəlik hədd <2>", text="Yazdığım mətn qalır")
    assert refused.status_code == 422
    assert message in refused.text and str(cap) in refused.text
    assert 'href="#text"' in refused.text
    assert 'value="Gündəlik hədd &lt;2&gt;"' in refused.text
    assert "Yazdığım mətn qalır" in refused.text
    assert not await Letter.filter(subject="Gündəlik hədd <2>").exists()


async def test_concurrent_appeals_cannot_pass_the_daily_cap(make_app):
    async with AsyncTestClient(app=make_app()) as client:
        person = await Person.get(accounts__username="vetendas2")
        await _allow_today(client, person, 2)
        transport = httpx.ASGITransport(app=client.app)
        browsers = [
            httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
            for _ in range(5)
        ]
        for browser in browsers:
            await sign_in(browser, "vetendas2")
        responses = await asyncio.gather(
            *(_post_appeal(browser, "Eyni anda") for browser in browsers)
        )
        for browser in browsers:
            await browser.aclose()
        assert sorted(response.status_code for response in responses) == [303] * 2 + [422] * 3
        assert await Letter.filter(subject="Eyni anda", applicant=person).count() == 2
