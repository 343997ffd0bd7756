"""Each input that once gave a 500 (issue 11, point 3) now gets a 4xx or is stored cleaned.

The fuzz test (test_input_fuzz.py) looks for new ones; these pin the known ones down.
Run on SQLite and PostgreSQL (NUL bytes are refused by PostgreSQL's text type).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from models.documents import ClearanceDocument
from models.letters import CustomsBody, Letter
from tests.integration.letters_support import csrf, sign_in
from tests.support.database import seeded_database_of_its_own
from tests.support.web import act_for
from web.app import create_app


@pytest.fixture(scope="module")
def own_settings(settings):
    """These tests add bodies, letters and documents: in a database of their own."""
    with seeded_database_of_its_own(settings, "edges") as own:
        yield own


@pytest.fixture
async def client(own_settings):
    async with AsyncTestClient(app=create_app(own_settings)) as test_client:
        yield test_client


BAKI = "Bakı Baş Gömrük İdarəsi"
PDF = (Path(__file__).resolve().parent.parent / "fixtures" / "invoice.pdf").read_bytes()


async def _demo_letter_id(client) -> int:
    page = await client.get("/registry")
    return int(re.search(r"/registry/letters/(\d+)\"", page.text).group(1))


async def test_non_ascii_csrf_token_is_403_in_field_header_and_cookie(client):
    token = await csrf(client)
    # As long as a real token, so Litestar gets as far as comparing them.
    wrong = token[:-5] + "tökən"
    form = {"username": "x", "password": "y"}
    response = await client.post("/login/password", data={**form, "_csrf_token": wrong})
    assert response.status_code == 403
    assert "<html" in response.text  # the normal error page
    header = {"x-csrftoken": wrong.encode()}
    response = await client.post("/login/password", data=form, headers=header)
    assert response.status_code == 403
    client.cookies.clear()
    raw_cookie = {"cookie": f"csrftoken={wrong}".encode()}
    response = await client.post(
        "/login/password", data={**form, "_csrf_token": token}, headers=raw_cookie
    )
    assert response.status_code == 403


async def test_superscript_digits_are_not_numbers(client):
    await sign_in(client, "katib")
    letter_id = await _demo_letter_id(client)
    for query in ("page=²", "body=²", "unit=³", "executor=¹", "page=１"):
        assert (await client.get(f"/registry?{query}")).status_code == 200, query
    token = await csrf(client)
    forward = await client.post(
        f"/registry/letters/{letter_id}/forward",
        data={"unit": "²", "executor": "²", "_csrf_token": token},
    )
    assert forward.status_code == 422
    extend = await client.post(
        f"/registry/letters/{letter_id}/extend", data={"days": "²", "_csrf_token": token}
    )
    assert extend.status_code == 422

    await sign_in(client, "vetendas")
    track = await client.get(
        "/letters/track",
        params={"body": "²", "number": "M-1", "registered-day": "²", "registered-month": "1"},
    )
    assert track.status_code == 422
    appeal = await client.post(
        "/letters/new",
        data={"body": "²", "subject": "S", "text": "T", "_csrf_token": await csrf(client)},
        files={"files": ("", b"")},
    )
    assert appeal.status_code == 422
    await act_for(client, "Aysel")
    assert (await client.get("/documents?page=²")).status_code == 200


async def test_nul_and_bidi_characters_are_removed_before_the_database(client):
    """PostgreSQL refuses NUL in text: every text field is cleaned at the form's edge."""
    response = await client.post(
        "/login/password",
        data={"username": "adm\x00in", "password": "x", "_csrf_token": await csrf(client)},
    )
    assert response.status_code == 422

    await sign_in(client, "vetendas")
    body_id = (await CustomsBody.get(name=BAKI)).id
    track = await client.get(
        "/letters/track",
        params={
            "body": str(body_id),
            "number": "M-1\x00024",
            "registered-day": "3",
            "registered-month": "11",
            "registered-year": "2026",
        },
    )
    assert track.status_code == 200
    appeal = await client.post(
        "/letters/new",
        data={
            "body": str(body_id),
            "subject": "Mövzu\x00 \u202eyox",
            "text": "Sətir 1\r\nSətir\x00 2",
            "_csrf_token": await csrf(client),
        },
        files={"files": ("", b"")},
        follow_redirects=False,
    )
    assert appeal.status_code == 303, appeal.text
    letter = await Letter.get(id=int(re.search(r"/letters/(\d+)/", appeal.headers["location"])[1]))
    assert letter.subject == "Mövzu yox"
    assert letter.text == "Sətir 1\nSətir 2"

    await act_for(client, "Aysel")
    await client.post("/documents/obligation", data={"_csrf_token": await csrf(client)})
    created = await client.post(
        "/documents/new",
        data={
            "_csrf_token": await csrf(client),
            "kind": "invoice",
            "number": "F\x00-\u202e77",
            "issued_on-day": "1",
            "issued_on-month": "2",
            "issued_on-year": "2026",
            "note": "qeyd\x00",
        },
        files={"files": ("invoice.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    document = await ClearanceDocument.filter(number="F-77").first()
    assert document is not None and document.note == "qeyd"

    await sign_in(client, "katib")
    paper = await client.post(
        "/registry/new",
        data={
            "name": "Ad\x00 Soyad",
            "channel": "paper",
            "body": str(body_id),
            "subject": "Kağız\x00",
            "_csrf_token": await csrf(client),
        },
        follow_redirects=False,
    )
    assert paper.status_code == 303, paper.text

    await sign_in(client, "mufettis")
    search = await client.get("/officer/documents", params={"declaration": "A\x00B"})
    assert search.status_code in (200, 422)

    await sign_in(client, "admin")
    added = await client.post(
        "/registry/bodies",
        data={"name": "Yeni\x00 idarə\u202e", "_csrf_token": await csrf(client)},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    assert await CustomsBody.exists(name="Yeni idarə")
