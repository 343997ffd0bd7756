"""Backup while uploads run against a real server, restore into an empty place: the
restored portal is consistent (storage-check clean) and every document downloads."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.integration.server_support import (
    SlowUpload,
    document_body,
    document_rows,
    downloads_matching,
    send_slowly,
    server_place,
    trader,
)
from tests.support.database import in_ci

WRITERS = 3


@pytest.fixture(autouse=True)
def _pg_dump_when_postgres():
    if os.environ.get("TEST_DATABASE") == "postgres" and shutil.which("pg_dump") is None:
        reason = "pg_dump is not installed (`make pg-client` installs postgresql-client)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)


async def test_a_backup_taken_under_upload_load_restores_clean_and_complete():
    rng = random.Random(10)
    sent: dict[str, bytes] = {}
    stop = asyncio.Event()
    backup_dir = Path(tempfile.mkdtemp(prefix="egomruk-backup-")) / "backup"
    with server_place() as source:
        source.start()
        client = await trader(source)

        async def keep_uploading(writer: int) -> None:
            for index in range(1000):
                if stop.is_set():
                    return
                number = f"BK-{writer}-{index:03d}"
                sent[number] = document_body(index, rng.randrange(30_000, 300_000))
                await send_slowly(client, SlowUpload(number, sent[number], pause=0.002))

        writers = [asyncio.create_task(keep_uploading(w)) for w in range(WRITERS)]
        while len(await document_rows(source)) < 2 * WRITERS:
            await asyncio.sleep(0.05)
        backed_up = await asyncio.to_thread(source.cli, "backup", str(backup_dir))
        await asyncio.sleep(0.3)  # and the uploads go on after it
        stop.set()
        await asyncio.gather(*writers)
        await client.aclose()
        rows_at_source = len(await document_rows(source))
        secret = (Path(source.env["DATA_DIR"]) / "secret_key").read_bytes()
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    manifest = json.loads((backup_dir / "manifest.json").read_text())

    with server_place() as target:  # another DATA_DIR and an empty database
        restored = target.cli("restore", str(backup_dir))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        checked = target.cli("storage-check")
        assert checked.returncode == 0, checked.stdout
        assert re.search(
            r": 0 orphan\(s\), 0 missing file\(s\), 0 recoverable, 0 interrupted", checked.stdout
        )
        target.start()
        rows = await document_rows(target)
        client = await trader(target)  # the accounts came back, and the secret key too
        wrong = await downloads_matching(client, rows, sent)
        await client.aclose()
        assert (Path(target.env["DATA_DIR"]) / "secret_key").read_bytes() == secret
        assert (Path(target.env["DATA_DIR"]) / "asan-demo-ca" / "ca_cert.pem").is_file()
        refused = target.cli("restore", str(backup_dir))  # not an empty place any more

    print(
        f"\nbackup under load: {len(manifest['keys'])} files in the backup, {len(rows)} rows "
        f"restored, {len(wrong)} downloads wrong; the source had {rows_at_source} rows at the end"
    )
    assert len(rows) == len(manifest["keys"]) > 0
    assert rows_at_source > len(rows)  # uploads committed after the dump: not in this backup
    assert wrong == []
    assert refused.returncode == 1 and "not empty" in refused.stdout


def test_an_asan_demo_ca_outside_data_dir_is_backed_up_and_restored_there(tmp_path):
    """ASAN_DEMO_CA_DIR may be outside DATA_DIR (instances share it): the backup holds it
    all the same, says so, and the restore puts it back where ASAN_DEMO_CA_DIR says."""
    shared = tmp_path / "shared-asan-ca"
    (shared / "issued").mkdir(parents=True)
    ca = {"ca_cert.pem": os.urandom(300), "ca_key.pem": os.urandom(200), "issued/1.pem": b"x"}
    for name, content in ca.items():
        (shared / name).write_bytes(content)
    backup_dir = tmp_path / "backup"
    with server_place(ASAN_DEMO_CA_DIR=str(shared)) as source:
        assert source.cli("migrate").returncode == 0
        backed_up = source.cli("backup", str(backup_dir))
        assert not (Path(source.env["DATA_DIR"]) / "asan-demo-ca").exists()
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    assert f"ASAN_DEMO_CA_DIR={shared}" in backed_up.stdout  # said, not silently left out
    entries = json.loads((backup_dir / "manifest.json").read_text())["entries"]
    assert {f"data/asan-demo-ca/{name}" for name in ca} <= set(entries)

    elsewhere = tmp_path / "restored-asan-ca"
    with server_place(ASAN_DEMO_CA_DIR=str(elsewhere)) as target:
        restored = target.cli("restore", str(backup_dir))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert not (Path(target.env["DATA_DIR"]) / "asan-demo-ca").exists()
    assert {name: (elsewhere / name).read_bytes() for name in ca} == ca
    with server_place() as target:  # without ASAN_DEMO_CA_DIR: under DATA_DIR, as before
        restored = target.cli("restore", str(backup_dir))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        in_data = Path(target.env["DATA_DIR"]) / "asan-demo-ca"
        assert {name: (in_data / name).read_bytes() for name in ca} == ca
