"""Uploads against a real server process (tests/support/server.py): a trader's client,
slow streamed uploads that a kill or a shutdown can cut, and the rows as the database
holds them (read with plain SQL, outside the server)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from tests.support.database import provision_test_database
from tests.support.server import ServerProcess, server_environment
from tests.support.web import act_for, csrf_token, sign_in
from web.platform.idempotency import new_idempotency_key

COMPANY = "Xəzər Logistika MMC"
ROWS_SQL = (
    "SELECT d.id, f.id, d.number FROM document_file f "
    "JOIN clearance_document d ON d.id = f.document_id ORDER BY f.id"
)


@contextmanager
def server_place(preload: str | None = None, **settings: str) -> Iterator[ServerProcess]:
    """A server (not started) with a DATA_DIR and a database of its own (SQLite, or a
    throw-away PostgreSQL database with TEST_DATABASE=postgres), cleaned up afterwards;
    `preload`: a module the server process imports first (ServerProcess)."""
    database = provision_test_database()
    root = Path(tempfile.mkdtemp(prefix="egomruk-server-"))
    environment = server_environment(root / "data", database.url, **settings)
    server = ServerProcess(environment, preload=preload)
    try:
        yield server
    finally:
        server.kill()
        database.drop()
        shutil.rmtree(root, ignore_errors=True)


async def trader(server: ServerProcess) -> httpx.AsyncClient:
    """The demo trader acting for her company, the obligation acknowledged."""
    client = httpx.AsyncClient(base_url=server.url, timeout=30)
    response = await sign_in(client, "vetendas")
    assert response.status_code == 303, response.text
    await act_for(client, COMPANY)
    acknowledged = await client.post(
        "/documents/obligation", data={"_csrf_token": await csrf_token(client)}
    )
    assert acknowledged.status_code in (200, 303)
    return client


def document_body(index: int, size: int) -> bytes:
    """A PDF-signed body, different for every upload."""
    seed = os.urandom(16) + index.to_bytes(4, "big")
    return (b"%PDF-1.4\n" + seed * (size // len(seed) + 1))[:size]


@dataclass(frozen=True)
class SlowUpload:
    number: str
    body: bytes
    chunk_size: int = 32 * 1024
    pause: float = 0.01
    key: str = field(default_factory=new_idempotency_key)  # as the rendered form carries
    # Set: the body stops after its first chunk until this event is set (an upload that is
    # certainly still arriving when the test acts, however fast the machine).
    held: asyncio.Event | None = None


async def send_slowly(client: httpx.AsyncClient, upload: SlowUpload) -> int | str:
    """Post “Yeni sənəd” with the file streamed in small chunks; the status, or the error
    that cut it off."""
    boundary = "egomruk-" + os.urandom(8).hex()
    fields = {
        "_csrf_token": await csrf_token(client),
        "kind": "invoice",
        "number": upload.number,
        "issued_on-day": "03",
        "issued_on-month": "11",
        "issued_on-year": "2026",
        "idempotency_key": upload.key,
    }
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{upload.number}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    )

    async def body():
        yield head.encode()
        for start in range(0, len(upload.body), upload.chunk_size):
            yield upload.body[start : start + upload.chunk_size]
            if upload.held is not None:
                await upload.held.wait()
            await asyncio.sleep(upload.pause)
        yield f"\r\n--{boundary}--\r\n".encode()

    try:
        response = await client.post(
            "/documents/new",
            content=body(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    except httpx.HTTPError as error:
        return type(error).__name__
    return response.status_code


def at_once(upload: SlowUpload) -> SlowUpload:
    """The same upload (same form, same key) sent again without pauses."""
    return replace(upload, pause=0, held=None)


async def document_rows(server: ServerProcess) -> list[tuple[int, int, str]]:
    """(document id, file id, number) of every stored file row."""
    url = server.env.get("DATABASE_URL")
    if not url:
        path = Path(server.env["DATA_DIR"]) / "egomruk.sqlite3"
        with closing(sqlite3.connect(path)) as connection:
            return [tuple(row) for row in connection.execute(ROWS_SQL)]
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return [tuple(row) for row in await connection.fetch(ROWS_SQL)]
    finally:
        await connection.close()


async def downloads_matching(
    client: httpx.AsyncClient, rows: list[tuple[int, int, str]], sent: dict[str, bytes]
) -> list[str]:
    """The numbers whose download is not byte-identical to what was sent (should be none)."""
    wrong = []
    for document_id, file_id, number in rows:
        response = await client.get(f"/documents/{document_id}/files/{file_id}")
        if response.status_code != 200 or response.content != sent.get(number):
            wrong.append(f"{number}: {response.status_code}")
    return wrong
