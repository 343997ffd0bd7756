"""A request body that stops arriving ends the request (408) and leaves nothing behind."""

from __future__ import annotations

import asyncio
import time

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
