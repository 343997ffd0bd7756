"""A request body that stops arriving ends the request (408) and leaves nothing behind."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from models.letters import CustomsBody, Letter
from tests.integration.letters_support import csrf, sign_in

pytestmark = pytest.mark.usefixtures("seeded")

BOUNDARY = "stalled-upload-boundary"
SUBJECT = "Yarımçıq yükləmə"


def _field(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def _files_in(directory) -> set[str]:
    return {str(path) for path in directory.rglob("*") if path.is_file()}


async def test_a_stalled_upload_times_out_and_leaves_nothing(make_app, settings):
    app = make_app(body_idle_timeout_seconds=0.5)
    async with AsyncTestClient(app=app) as client:
        await sign_in(client, "vetendas")
        token = await csrf(client)
        body = await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")
        first_part = (
            _field("_csrf_token", token)
            + _field("body", str(body.id))
            + _field("subject", SUBJECT)
            + _field("text", "Mətn")
            + (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
                'filename="yavaş.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + b"%PDF-1.4\n"
            + b"0" * 300_000  # enough for the file to be staged on disk
        )
        cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/letters/new",
            "raw_path": b"/letters/new",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver.local"),
                (b"cookie", cookies.encode()),
                (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
                (b"content-length", str(len(first_part) + 1_000_000).encode()),
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("testserver.local", 80),
        }
        parts = [first_part[i : i + 65536] for i in range(0, len(first_part), 65536)]
        stalled = asyncio.Event()

        async def receive():
            if parts:
                return {"type": "http.request", "body": parts.pop(0), "more_body": True}
            stalled.set()
            await asyncio.Event().wait()  # the client sends nothing more, and stays connected

        sent = []

        async def send(message):
            sent.append(message)

        before = _files_in(settings.upload_dir)
        started = time.monotonic()
        await asyncio.wait_for(app(scope, receive, send), timeout=10)
        elapsed = time.monotonic() - started

        assert stalled.is_set()
        assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 408
        page = b"".join(message.get("body", b"") for message in sent[1:])
        assert "Heç nə saxlanılmadı".encode() in page
        assert elapsed < 5
        assert _files_in(settings.upload_dir) == before  # no temp file left
        assert not await Letter.filter(subject=SUBJECT).exists()


async def test_a_real_server_ends_a_stalled_upload_with_408_and_closes(tmp_path):
    """Through uvicorn: a document upload whose body stops arriving gets a 408 within the
    timeout, the connection is closed, and no row or file is left."""
    from urllib.parse import urlsplit

    from tests.integration.server_support import document_rows, server_place, trader
    from tests.support.web import csrf_token

    with server_place(BODY_IDLE_TIMEOUT_SECONDS="1") as server:
        server.start()
        client = await trader(server)
        token = await csrf_token(client)
        cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        await client.aclose()
        fields = {
            "_csrf_token": token,
            "kind": "invoice",
            "number": "STALLED-1",
            "issued_on-day": "03",
            "issued_on-month": "11",
            "issued_on-year": "2026",
        }
        head = (
            b"".join(_field(name, value) for name, value in fields.items())
            + (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
                'filename="stalled.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
        )
        sent = head + b"%PDF-1.4\n" + b"0" * 200_000
        address = urlsplit(server.url)
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        writer.write(
            (
                "POST /documents/new HTTP/1.1\r\n"
                f"Host: {address.netloc}\r\n"
                f"Cookie: {cookies}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {len(sent) + 1_000_000}\r\n\r\n"
            ).encode()
            + sent
        )
        await writer.drain()
        started = time.monotonic()
        answer = await asyncio.wait_for(reader.read(65536), timeout=10)  # nothing more is sent
        rest = await asyncio.wait_for(reader.read(), timeout=10)  # the server closes
        elapsed = time.monotonic() - started
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert elapsed < 8
        assert rest == b"" or b"</html>" in answer + rest
        assert await document_rows(server) == []
        uploads = Path(server.env["DATA_DIR"]) / "uploads"
        assert not [path for path in uploads.rglob("*") if path.is_file()]
