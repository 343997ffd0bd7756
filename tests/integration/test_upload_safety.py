"""Uploads that must not lose or double anything: the commit order (a row never names a
file that is not in place), the same form sent twice (idempotency keys), a full disk.

The crash itself (kill -9 of a real server during uploads) is in test_upload_crash.py.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from models.documents import ClearanceDocument, DocumentFile
from models.identity import Party, Person
from models.letters import CustomsBody, Letter, LetterAttachment
from tests.integration.letters_support import sign_in as sign_in_citizen
from tests.integration.test_documents import PDF, acknowledge, details, new_trader, pdf_of
from tests.support.tmpfs import tiny_tmpfs
from tests.support.web import csrf_token
from web.storage import local_disk
from web.storage.check import check
from web.storage.health import storage_ready
from web.storage.local_disk import LocalDiskStorage

pytestmark = pytest.mark.usefixtures("seeded")

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
FULL_DISK_MESSAGE = "could not be saved now"  # the English catalogue (lang=en)


async def form_key(client: AsyncTestClient, path: str) -> str:
    return KEY_RE.search((await client.get(path)).text).group(1)


async def post_document(client: AsyncTestClient, key: str | None = None, files=None, **changes):
    data = {"_csrf_token": await csrf_token(client), **details(**changes)}
    if key is not None:
        data["idempotency_key"] = key
    return await client.post(
        "/documents/new",
        data=data,
        files=files or [("files", ("invoice.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )


async def post_appeal(client: AsyncTestClient, key: str | None, subject: str, files=None):
    body = await CustomsBody.filter(is_active=True).order_by("position", "id").first()
    data = {"_csrf_token": await csrf_token(client), "body": str(body.id), "subject": subject}
    data["text"] = "Mətn"
    if key is not None:
        data["idempotency_key"] = key
    return await client.post(
        "/letters/new",
        data=data,
        files=files or [("files", ("a.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )


async def party_documents(client: AsyncTestClient, company: str) -> list[ClearanceDocument]:
    return await ClearanceDocument.filter(party=await Party.get(name=company)).order_by("id")


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --------------------------------------------------------------------------- commit order


async def test_a_file_that_cannot_be_moved_into_place_leaves_no_row(client, settings, monkeypatch):
    """The row used to commit first: a failed (or crashed) move left a row without its file."""
    company = await new_trader(client)
    await acknowledge(client)
    before = files_in(settings.upload_dir)

    def broken_replace(source, target):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(local_disk.os, "replace", broken_replace)
    response = await post_document(client, number="MOVE-FAILS")
    monkeypatch.undo()
    assert response.status_code == 500
    assert await party_documents(client, company) == []
    assert files_in(settings.upload_dir) == before
    result = await check(LocalDiskStorage(settings.upload_dir))
    assert result.report.missing == []


async def test_every_row_finds_its_file_in_place_when_it_commits(client, settings, monkeypatch):
    """At the moment a file row becomes visible, its file is already in its final place."""
    await new_trader(client)
    await acknowledge(client)
    storage = LocalDiskStorage(settings.upload_dir)
    seen: list[bool] = []
    original = DocumentFile.create

    async def create(**kwargs):
        row = await original(**kwargs)
        # Not yet: the transaction is open, so the file must still wait in the temp folder.
        seen.append(storage.path_for(row.storage_key).exists())
        return row

    monkeypatch.setattr(DocumentFile, "create", create)
    response = await post_document(client, number="ORDER-1")
    monkeypatch.undo()
    assert response.status_code == 303
    row = await DocumentFile.all().order_by("-id").first()
    assert seen == [False] and storage.path_for(row.storage_key).read_bytes() == PDF


async def test_the_sweep_at_start_recovers_named_files_and_removes_interrupted_ones(
    client, settings
):
    from web.storage.check import sweep_temp

    storage = LocalDiskStorage(settings.upload_dir)
    await new_trader(client)
    await acknowledge(client)
    await post_document(client, number="SWEEP-1")
    row = await DocumentFile.all().order_by("-id").first()
    # What the former commit order could leave: the row committed, its file still a temp file.
    final = storage.path_for(row.storage_key)
    os.replace(final, storage.temp_dir / f"{row.storage_key}.part")

    async def chunks():
        yield PDF

    interrupted = await storage.stage(chunks(), filename="x.pdf", max_bytes=10**6)
    storage._release(interrupted.key)  # its process died
    receiving = await storage.stage(chunks(), filename="y.pdf", max_bytes=10**6)
    result = await sweep_temp(storage)
    assert result.recovered == [row.storage_key]
    assert f"tmp/{interrupted.key}.part" in result.removed
    assert final.read_bytes() == PDF and not interrupted.temp_path.exists()
    assert receiving.temp_path.exists()  # a live upload's file stays
    await storage.discard(receiving)


# --------------------------------------------------------------------------- idempotency


async def test_the_same_document_form_sent_twice_saves_once(client):
    company = await new_trader(client)
    await acknowledge(client)
    key = await form_key(client, "/documents/new")
    first = await post_document(client, key, number="TWICE-1")
    second = await post_document(client, key, number="TWICE-1")  # the answer was lost: again
    assert first.status_code == second.status_code == 303
    saved = await party_documents(client, company)
    assert len(saved) == 1
    page = await client.get(second.headers["location"])
    assert saved[0].reference in page.text  # the saved result is shown
    assert await DocumentFile.filter(document=saved[0]).count() == 1
    # A new form (a new key) is a new document.
    await post_document(client, await form_key(client, "/documents/new"), number="TWICE-2")
    assert len(await party_documents(client, company)) == 2


async def test_the_same_document_form_sent_twice_at_once_saves_once(client, settings):
    company = await new_trader(client)
    await acknowledge(client)
    key = await form_key(client, "/documents/new")
    answers = await asyncio.gather(*(post_document(client, key, number="RACE") for _ in range(3)))
    assert [a.status_code for a in answers] == [303, 303, 303]
    saved = await party_documents(client, company)
    assert len(saved) == 1
    assert await DocumentFile.filter(document=saved[0]).count() == 1
    # The duplicates' files were not kept.
    assert (await check(LocalDiskStorage(settings.upload_dir))).report.in_progress == 0
    assert not files_in(settings.upload_dir / "tmp")


async def test_the_database_itself_refuses_a_key_twice_for_one_party(client):
    from datetime import date

    from tortoise.exceptions import IntegrityError

    company = await new_trader(client)
    party = await Party.get(name=company)
    person = await Person.filter(memberships__party=party).first()

    async def create(key: str | None) -> ClearanceDocument:
        return await ClearanceDocument.create(
            party=party,
            entered_by=person,
            kind="invoice",
            number="KEY",
            issued_on=date(2026, 11, 3),
            idempotency_key=key,
        )

    await create("same-key-0123456789ab")
    with pytest.raises(IntegrityError):
        await create("same-key-0123456789ab")
    await create(None)
    await create(None)  # rows without a key (made before keys existed) are not limited


async def test_a_form_shown_again_with_errors_keeps_its_key(client):
    await new_trader(client)
    await acknowledge(client)
    key = await form_key(client, "/documents/new")
    refused = await post_document(client, key, number="")
    assert refused.status_code == 422
    assert KEY_RE.search(refused.text).group(1) == key


async def test_the_same_appeal_sent_twice_registers_once(client):
    await sign_in_citizen(client, "vetendas2")
    person = await Person.get(fin="7XYZW34")
    before = await Letter.filter(applicant=person).count()
    key = await form_key(client, "/letters/new")
    first = await post_appeal(client, key, "Bir dəfə")
    second = await post_appeal(client, key, "Bir dəfə")
    racing = await asyncio.gather(*(post_appeal(client, key, "Bir dəfə") for _ in range(2)))
    answers = [first, second, *racing]
    assert {a.status_code for a in answers} == {303}
    assert len({a.headers["location"] for a in answers}) == 1  # the same “accepted” page
    assert await Letter.filter(applicant=person).count() == before + 1
    letter = await Letter.filter(applicant=person).order_by("-id").first()
    assert await LetterAttachment.filter(letter=letter).count() == 1
    other = await post_appeal(client, await form_key(client, "/letters/new"), "Başqa")
    assert other.headers["location"] != first.headers["location"]


# --------------------------------------------------------------------------- full disk


def _full_disk(code: int):
    def write(fd, data):
        raise OSError(code, os.strerror(code))

    return write


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
async def test_a_full_disk_is_a_form_error_keeping_what_was_typed(
    client, settings, monkeypatch, code
):
    company = await new_trader(client)
    await acknowledge(client)
    client.cookies.set("lang", "en")
    before = files_in(settings.upload_dir)
    monkeypatch.setattr(local_disk.os, "write", _full_disk(code))
    response = await post_document(
        client,
        files=[
            ("files", ("a.pdf", pdf_of(200_000), "application/pdf")),
            ("files", ("b.pdf", PDF, "application/pdf")),
        ],
        number="FULL-DISK-7",
        note="Qeyd yazıldı",
    )
    assert response.status_code == 422
    assert FULL_DISK_MESSAGE in response.text
    assert response.text.count(FULL_DISK_MESSAGE) == 2  # the summary and the field, once each
    assert 'value="FULL-DISK-7"' in response.text and "Qeyd yazıldı" in response.text
    assert await party_documents(client, company) == []
    assert files_in(settings.upload_dir) == before  # nothing partial
    ready, reason = await storage_ready(LocalDiskStorage(settings.upload_dir))
    assert not ready and "full" in reason
    monkeypatch.undo()
    assert (await storage_ready(LocalDiskStorage(settings.upload_dir)))[0]


async def test_a_full_disk_while_moving_into_place_is_a_form_error(client, settings, monkeypatch):
    await sign_in_citizen(client, "vetendas")
    client.cookies.set("lang", "ru")
    before_letters = await Letter.all().count()
    before = files_in(settings.upload_dir)

    def no_room(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(local_disk.os, "replace", no_room)
    response = await post_appeal(client, None, "Disk dolu")
    assert response.status_code == 422
    assert "не удалось сохранить" in response.text  # Russian
    assert 'value="Disk dolu"' in response.text
    assert await Letter.all().count() == before_letters
    assert files_in(settings.upload_dir) == before


async def test_readiness_fails_below_the_minimum_free_space(settings):
    storage = LocalDiskStorage(settings.upload_dir, min_free_bytes=10**18)
    ready, reason = await storage_ready(storage)
    assert not ready and "below the minimum" in reason
    storage.min_free_bytes = 1
    ready, reason = await storage_ready(storage)
    assert ready and "free" in reason


@pytest.fixture
def tiny_filesystem():
    """A real 1 MB filesystem (tmpfs): needs root and permission to mount."""
    with tiny_tmpfs("1m", covered_by="injected-ENOSPC") as mount_point:
        yield mount_point


async def test_a_really_full_filesystem_leaves_nothing_partial(make_app, tiny_filesystem):
    app = make_app(
        data_dir=tiny_filesystem,
        upload_max_file_bytes=4_000_000,
        upload_max_document_bytes=8_000_000,
    )
    async with AsyncTestClient(app=app) as client:
        company = await new_trader(client)
        await acknowledge(client)
        client.cookies.set("lang", "en")
        fits = await post_document(
            client, files=[("files", ("a.pdf", pdf_of(300_000), "application/pdf"))], number="FIT"
        )
        assert fits.status_code == 303
        too_big = await post_document(
            client, files=[("files", ("b.pdf", pdf_of(2_000_000), "application/pdf"))], number="BIG"
        )
        assert too_big.status_code == 422 and FULL_DISK_MESSAGE in too_big.text
        assert len(await party_documents(client, company)) == 1
        uploads = tiny_filesystem / "uploads"
        assert files_in(uploads / "tmp") == []
        assert sum(p.stat().st_size for p in files_in(uploads)) == 300_000
        storage = LocalDiskStorage(uploads, min_free_bytes=900_000)
        ready, reason = await storage_ready(storage)
        assert not ready and "below the minimum" in reason
