"""kill -9 of a real server process during concurrent uploads: afterwards every row's file
is there and byte-identical, nothing the user was told is saved is lost, and the temp files
of the cut-off uploads are reported apart, then swept when the server starts again. Sending
the cut-off forms again (same idempotency keys, as a user retrying would) saves each one
exactly once, also those whose answer the kill swallowed after they were saved."""

from __future__ import annotations

import asyncio
import random
import re
import time
from pathlib import Path

from tests.integration.server_support import (
    SlowUpload,
    at_once,
    document_body,
    document_rows,
    downloads_matching,
    send_slowly,
    server_place,
    trader,
)

UPLOADS = 20
KILL_AFTER_SAVED = 6
HELD_UNTIL_KILL = 4


def _count(pattern: str, text: str) -> int:
    return int(re.search(pattern, text).group(1))


async def test_kill_9_during_concurrent_uploads_leaves_no_row_without_its_file():
    rng = random.Random(2026)
    with server_place() as server:
        server.start()
        client = await trader(server)
        # The last few are held mid-body until after the kill: however fast the machine, some
        # uploads are certainly cut off.
        killed = asyncio.Event()
        uploads = [
            SlowUpload(
                f"CRASH-{i:03d}",
                document_body(i, rng.randrange(50_000, 500_000)),
                held=killed if i >= UPLOADS - HELD_UNTIL_KILL else None,
            )
            for i in range(UPLOADS)
        ]
        sent = {upload.number: upload.body for upload in uploads}
        tasks = [asyncio.create_task(send_slowly(client, upload)) for upload in uploads]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sum(t.done() and t.result() == 303 for t in tasks) >= KILL_AFTER_SAVED:
                break
            await asyncio.sleep(0.02)
        server.kill()  # SIGKILL: no cleanup of any kind runs
        killed.set()
        outcomes = await asyncio.gather(*tasks)
        await client.aclose()
        told_saved = {
            u.number for u, outcome in zip(uploads, outcomes, strict=True) if outcome == 303
        }

        temp_dir = Path(server.env["DATA_DIR"]) / "uploads" / "tmp"
        left_by_kill = len(list(temp_dir.glob("*.part")))
        while_down = server.cli("storage-check")
        server.start()  # sweeps the temp files of the interrupted uploads
        rows = await document_rows(server)
        numbers = [number for _doc, _file, number in rows]
        client = await trader(server)
        wrong = await downloads_matching(client, rows, sent)
        cut_off = [upload for upload in uploads if upload.number not in told_saved]
        retried = [await send_slowly(client, at_once(upload)) for upload in cut_off]
        after_retry = [number for _doc, _file, number in await document_rows(server)]
        await client.aclose()
        after = server.cli("storage-check")

    reported_interrupted = _count(r"(\d+) interrupted", while_down.stdout)
    print(
        f"\nkill -9: {UPLOADS} uploads, {len(told_saved)} answered saved before the kill, "
        f"{UPLOADS - len(told_saved)} cut off; {len(rows)} rows after restart, "
        f"{len(wrong)} without a byte-identical file, {len(numbers) - len(set(numbers))} "
        f"duplicates; {left_by_kill} temp files left by the kill "
        f"({reported_interrupted} reported as interrupted); {len(set(numbers) - told_saved)} "
        f"saved with their answer lost; after retrying the {len(cut_off)} cut-off forms: "
        f"{len(after_retry)} rows, {len(after_retry) - len(set(after_retry))} duplicates"
    )
    assert len(told_saved) >= KILL_AFTER_SAVED and len(told_saved) < UPLOADS, outcomes
    assert told_saved <= set(numbers)  # nothing the user was told is saved is lost
    assert wrong == []  # every row's file downloads, byte-identical
    assert len(numbers) == len(set(numbers))
    assert _count(r"(\d+) missing", while_down.stdout) == 0, while_down.stdout
    assert reported_interrupted == left_by_kill
    assert _count(r"(\d+) missing", after.stdout) == 0, after.stdout
    assert _count(r"(\d+) interrupted", after.stdout) == 0, after.stdout
    assert list(temp_dir.glob("*.part")) == []
    assert retried == [303] * len(cut_off)
    assert sorted(after_retry) == sorted(sent)  # every upload exactly once
