"""A full database (SQLite's SQLITE_FULL, PostgreSQL's 53100 disk_full): the form comes back
with what was typed and a 503 "try again later", no row and no file is left, nothing hangs.

The refused COMMIT is SQLite's own error (made by a database held to its page limit) or
asyncpg's DiskFullError, raised where the engine raises it: at the COMMIT, after the
upload's files were moved into place. Where a tiny tmpfs can be mounted (root), a real
full filesystem under the SQLite database does the same without any injection.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import asyncpg.exceptions
import pytest
from litestar.testing import AsyncTestClient
from tortoise.backends.asyncpg.client import TransactionWrapper
from tortoise.backends.sqlite.client import SqliteTransactionWrapper

from models.letters import Letter
from tests.integration.test_documents import PDF, acknowledge, new_trader, pdf_of
from tests.integration.test_upload_safety import (
    files_in,
    party_documents,
    post_appeal,
    post_document,
    sign_in_citizen,
)
from tests.support.database import run_sync
from tests.support.tmpfs import tiny_tmpfs
from web.platform import db
from web.storage.batch import UploadBatch

pytestmark = pytest.mark.usefixtures("seeded")

DATABASE_FULL_MESSAGE = "This could not be saved now and nothing was saved"  # en catalogue


def sqlite_full_error() -> sqlite3.OperationalError:
    """SQLite's own SQLITE_FULL: a row larger than a database held to its page limit."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE TABLE t (b BLOB)")
        connection.execute("PRAGMA max_page_count = 1")  # becomes the current size
        connection.execute("INSERT INTO t VALUES (zeroblob(100000))")
    except sqlite3.OperationalError as error:
        return error
    finally:
        connection.close()
    raise AssertionError("SQLite stored a row past its page limit")


def disk_full_error(settings) -> Exception:
    if settings.uses_sqlite:
        return sqlite_full_error()
    return asyncpg.exceptions.DiskFullError(
        'could not extend file "base/16384/16500": No space left on device'
    )


@pytest.fixture
def full_at_commit(settings, monkeypatch) -> dict[str, int]:
    """The first COMMIT after an upload's files were moved into place is refused as on a
    full disk; later ones go through."""
    state = {"armed": 0, "refused": 0}
    commit_all = UploadBatch.commit_all

    async def moved_then_arm(self):
        stored = await commit_all(self)
        state["armed"] = 1
        return stored

    wrapper = SqliteTransactionWrapper if settings.uses_sqlite else TransactionWrapper
    commit = wrapper.commit

    async def refuse_once(self):
        if state["armed"] and not state["refused"]:
            state["armed"] = 0
            state["refused"] += 1
            raise disk_full_error(settings)
        await commit(self)

    monkeypatch.setattr(UploadBatch, "commit_all", moved_then_arm)
    monkeypatch.setattr(wrapper, "commit", refuse_once)
    return state


def test_the_engines_disk_full_errors_are_recognised(settings):
    from tortoise.exceptions import OperationalError

    from web.platform.health import outage_of

    engine_error = sqlite_full_error()
    assert engine_error.sqlite_errorcode == sqlite3.SQLITE_FULL
    try:
        try:
            raise engine_error
        except sqlite3.OperationalError as raw:
            raise OperationalError(raw)  # noqa: B904 - as Tortoise raises it (context only)
    except OperationalError as wrapped:
        assert db.is_disk_full(wrapped) and outage_of(wrapped) == "database"
    pg_full = asyncpg.exceptions.DiskFullError("no space")
    assert pg_full.sqlstate == "53100"
    assert db.is_disk_full(pg_full) and outage_of(pg_full) == "database"
    other = sqlite3.OperationalError("no such table: nothing")
    assert not db.is_disk_full(other) and outage_of(other) is None
    # A COMMIT the database answered did not commit; one whose answer was lost may have.
    assert db.commit_refused(engine_error) and db.commit_refused(pg_full)
    lost = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
    assert not db.commit_refused(lost)
    assert not db.commit_refused(ConnectionResetError()) and not db.commit_refused(None)


async def test_a_full_database_at_commit_keeps_the_form_and_leaves_no_file(
    client, settings, full_at_commit
):
    company = await new_trader(client)
    await acknowledge(client)
    client.cookies.set("lang", "en")
    before = files_in(settings.upload_dir)
    response = await post_document(
        client,
        files=[
            ("files", ("a.pdf", pdf_of(200_000), "application/pdf")),
            ("files", ("b.pdf", PDF, "application/pdf")),
        ],
        number="FULL-DB-7",
        note="Qeyd yazıldı",
    )
    assert full_at_commit["refused"] == 1  # the files were in place when COMMIT failed
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert DATABASE_FULL_MESSAGE in response.text
    assert 'value="FULL-DB-7"' in response.text and "Qeyd yazıldı" in response.text
    assert await party_documents(client, company) == []
    assert files_in(settings.upload_dir) == before  # the moved files are gone again
    # Nothing was left pending on the connection: the next save commits only itself.
    again = await post_document(client, number="AFTER-FULL")
    assert again.status_code == 303
    assert [d.number for d in await party_documents(client, company)] == ["AFTER-FULL"]
    assert len(files_in(settings.upload_dir)) == len(before) + 1


async def test_a_full_database_at_commit_keeps_the_appeal_in_russian(
    client, settings, full_at_commit
):
    await sign_in_citizen(client, "vetendas")
    client.cookies.set("lang", "ru")
    letters_before = await Letter.all().count()
    before = files_in(settings.upload_dir)
    response = await post_appeal(client, None, "Baza dolu")
    assert full_at_commit["refused"] == 1
    assert response.status_code == 503
    assert "Сейчас не удалось сохранить" in response.text  # Russian
    assert 'value="Baza dolu"' in response.text
    assert await Letter.all().count() == letters_before
    assert files_in(settings.upload_dir) == before


async def test_a_full_database_without_files_is_the_503_page(client, settings, monkeypatch):
    """A statement refused for a full disk where no form catches it: the outage page."""
    from web.documents import service

    await new_trader(client)
    client.cookies.set("lang", "en")

    async def full(*args, **kwargs):
        raise disk_full_error(settings)

    monkeypatch.setattr(service, "acknowledgment_of", full)
    response = await client.get("/documents/new")
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert "Traceback" not in response.text and "disk" not in response.text.lower()


# --------------------------------------------------------------------------- a real full disk


@pytest.fixture
def tiny_database_filesystem(settings):
    """A 2 MB tmpfs for a SQLite database of its own (migrated): needs root to mount."""
    if not settings.uses_sqlite:
        pytest.skip("the database file on a tmpfs is SQLite's")
    # Lazy unmount: a connection the test's own loop opened may still hold the database file.
    with tiny_tmpfs("3m", covered_by="injected COMMIT", lazy_unmount=True) as mount_point:
        yield mount_point


def fill(directory: Path) -> None:
    """Take every free byte of the filesystem."""
    descriptor = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(descriptor)


async def test_a_really_full_disk_under_sqlite_keeps_the_form(
    settings, make_app, tiny_database_filesystem, monkeypatch
):
    from tortoise import connections

    app_settings = replace(
        settings, database_url=f"sqlite://{tiny_database_filesystem / 'db.sqlite3'}"
    )
    run_sync(db.migrate(app_settings))
    undone = []
    uncommit = UploadBatch.uncommit

    async def counted(self):
        undone.append(len(self._stored or []))
        await uncommit(self)

    monkeypatch.setattr(UploadBatch, "uncommit", counted)
    app = make_app(database_url=app_settings.database_url)
    async with AsyncTestClient(app=app) as client:
        company = await new_trader(client)
        await acknowledge(client)
        client.cookies.set("lang", "en")
        before = files_in(app_settings.upload_dir)
        # The write-ahead log starts empty, so the COMMIT's frames need new room.
        await connections.get("default").execute_script("PRAGMA wal_checkpoint(TRUNCATE)")
        fill(tiny_database_filesystem)
        response = await post_document(client, number="REALLY-FULL", note="Yazılan qeyd")
        assert response.status_code == 503
        assert undone == [1]  # at the COMMIT: the file had been moved into place, then removed
        assert DATABASE_FULL_MESSAGE in response.text
        assert 'value="REALLY-FULL"' in response.text and "Yazılan qeyd" in response.text
        assert files_in(app_settings.upload_dir) == before
        (tiny_database_filesystem / "filler").unlink()
        assert await party_documents(client, company) == []
        again = await post_document(client, number="ROOM-AGAIN")
        assert again.status_code == 303
        assert [d.number for d in await party_documents(client, company)] == ["ROOM-AGAIN"]
