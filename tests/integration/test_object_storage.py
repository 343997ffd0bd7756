"""The storage protocol on both backends: the local disk and a real S3-compatible server
(SeaweedFS, started for the session). What the documents and letters suites rely on, plus
what only object storage has: multipart uploads, the bucket listing that storage-check
works on, readiness against the bucket."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from models.documents import DocumentFile
from tests.support.seaweedfs import SeaweedFS
from web.storage.check import check_storage, remove_orphans
from web.storage.health import storage_ready
from web.storage.local_disk import LocalDiskStorage
from web.storage.object_storage import ObjectStorage, s3_store
from web.storage.protocol import InvalidKey, RejectCode, UploadRejected, new_key

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PDF = (FIXTURES / "invoice.pdf").read_bytes()
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def bucket(seaweedfs: SeaweedFS) -> str:
    seaweedfs.create_bucket("portal")  # the suites' bucket (idempotent); tests use prefixes
    return "portal"


def object_storage(seaweedfs: SeaweedFS, bucket: str, staging: Path, **options) -> ObjectStorage:
    settings = seaweedfs.environment(bucket)
    store = s3_store(
        bucket,
        f"run-{new_key()[:8]}",  # a prefix of its own: listings see this test's objects only
        endpoint_url=settings["S3_ENDPOINT_URL"],
        region=settings["S3_REGION"],
        access_key_id=settings["S3_ACCESS_KEY_ID"],
        secret_access_key=settings["S3_SECRET_ACCESS_KEY"],
    )
    return ObjectStorage(store, staging, **options)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path: Path):
    if request.param == "local":
        return LocalDiskStorage(tmp_path / "uploads")
    return object_storage(
        request.getfixturevalue("seaweedfs"), request.getfixturevalue("bucket"), tmp_path / "s"
    )


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in await storage.open(key)])


async def keys(storage) -> set[str]:
    return {key async for key in storage.list_keys()}


async def stored(storage, data: bytes = PDF, name: str = "a.pdf"):
    return await storage.commit(
        await storage.stage(chunks(data), filename=name, max_bytes=len(data))
    )


# --------------------------------------------------------------------------- the protocol


async def test_a_committed_file_reads_back_whole_and_is_listed(storage):
    staged = await storage.stage(chunks(PDF), filename="x/../invoice.pdf", max_bytes=len(PDF))
    assert staged.key not in await keys(storage)  # nothing visible before the commit
    saved = await storage.commit(staged)
    assert saved.original_name == "invoice.pdf" and saved.content_type == "application/pdf"
    assert saved.sha256 == hashlib.sha256(PDF).hexdigest() and saved.size == len(PDF)
    assert await read_all(storage, saved.key) == PDF
    assert saved.key in await keys(storage) and await storage.exists(saved.key)
    assert [temp async for temp in storage.list_temp()] == []  # the temp file is gone


async def test_commit_twice_is_harmless_and_delete_is_idempotent(storage):
    staged = await storage.stage(chunks(PDF), filename="a.pdf", max_bytes=len(PDF))
    await storage.commit(staged)
    await storage.commit(staged)  # a retry after an unclear failure
    assert await read_all(storage, staged.key) == PDF
    await storage.delete(staged.key)
    await storage.delete(staged.key)
    assert not await storage.exists(staged.key)
    with pytest.raises(FileNotFoundError):
        await storage.open(staged.key)


async def test_a_discarded_upload_leaves_nothing(storage):
    staged = await storage.stage(chunks(PDF), filename="a.pdf", max_bytes=len(PDF))
    await storage.discard(staged)
    assert await keys(storage) == set()
    assert [temp async for temp in storage.list_temp()] == []


async def test_rejected_uploads_leave_nothing(storage):
    with pytest.raises(UploadRejected) as too_large:
        await storage.stage(chunks(PDF), filename="a.pdf", max_bytes=len(PDF) - 1)
    assert too_large.value.code == RejectCode.TOO_LARGE
    with pytest.raises(UploadRejected) as wrong:
        await storage.stage(chunks(b"MZ\x90\x00" * 100), filename="a.pdf", max_bytes=10**6)
    assert wrong.value.code in (RejectCode.WRONG_TYPE, RejectCode.TYPE_MISMATCH)
    assert await keys(storage) == set()
    assert [temp async for temp in storage.list_temp()] == []


async def test_keys_are_checked_before_any_request(storage):
    for bad in ("../etc/passwd", "A" * 32, "", "0" * 31):
        with pytest.raises(InvalidKey):
            await storage.open(bad)
        with pytest.raises(InvalidKey):
            await storage.delete(bad)


async def test_storage_check_finds_old_orphans_and_never_removes_a_named_file(storage):
    named = await stored(storage)
    orphan = await stored(storage)
    named_later = await stored(storage)  # an orphan at first, named by a row meanwhile
    later = (await storage.modified_at(orphan.key)) + 7200
    young = await check_storage(storage, {named.key})
    assert young.orphans == []  # within the grace period: its row may be committing
    report = await check_storage(storage, {named.key}, now=later)
    assert report.orphans == sorted([orphan.key, named_later.key])
    removed = await remove_orphans(storage, report, {named.key, named_later.key})
    assert removed == [orphan.key]
    assert await keys(storage) == {named.key, named_later.key}


async def test_a_row_whose_file_is_only_in_the_temp_folder_is_recovered(storage):
    staged = await storage.stage(chunks(PDF), filename="a.pdf", max_bytes=len(PDF))
    # The process died after its row committed (the former order): the temp file is all.
    storage_of_temps = getattr(storage, "staging", storage)
    storage_of_temps._release(staged.key)  # the kernel drops the lock of a dead process
    report = await check_storage(storage, {staged.key})
    assert report.recoverable == [staged.key]
    await storage.recover_temp(f"{staged.key}.part")
    assert await read_all(storage, staged.key) == PDF
    assert [temp async for temp in storage.list_temp()] == []


async def test_readiness_writes_to_the_storage(storage):
    ready, reason = await storage_ready(storage)
    assert ready, reason


# --------------------------------------------------------------------------- S3 only


async def test_a_large_file_goes_up_in_parts_and_streams_back_in_small_chunks(
    seaweedfs, bucket, tmp_path
):
    storage = object_storage(seaweedfs, bucket, tmp_path, part_size=5 * MiB)
    data = b"%PDF-1.7\n" + os.urandom(12 * MiB)
    saved = await stored(storage, data, "big.pdf")
    sizes = []
    digest = hashlib.sha256()
    async for chunk in await storage.open(saved.key):
        sizes.append(len(chunk))
        digest.update(chunk)
    assert digest.hexdigest() == saved.sha256 == hashlib.sha256(data).hexdigest()
    assert max(sizes) <= 1 * MiB  # streamed: never the whole object at once
    # Uploaded in three parts: the ETag of a multipart object ends in "-<parts>".
    from obstore import head_async

    assert (await head_async(storage.store, saved.key))["e_tag"].strip('"').endswith("-3")


async def test_readiness_says_so_when_the_bucket_is_missing(seaweedfs, tmp_path):
    storage = object_storage(seaweedfs, f"missing-{new_key()[:8]}", tmp_path)
    ready, reason = await storage_ready(storage)
    assert not ready
    assert "object storage" in reason


def unreachable_storage(tmp_path: Path) -> ObjectStorage:
    """An object storage whose server is not there (a free port nobody listens on)."""
    from tests.support.server import free_port

    store = s3_store(
        "portal",
        "p",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="k",
        secret_access_key="s",
    )
    return ObjectStorage(store, tmp_path)


async def test_readiness_says_so_when_the_server_is_unreachable(tmp_path):
    ready, reason = await storage_ready(unreachable_storage(tmp_path))
    assert not ready and "object storage" in reason


async def test_a_bucket_that_refuses_the_upload_means_try_later_and_nothing_saved(
    seaweedfs, tmp_path
):
    from web.storage.batch import UploadBatch
    from web.storage.protocol import StorageFull

    storage = object_storage(seaweedfs, f"missing-{new_key()[:8]}", tmp_path)
    async with UploadBatch(storage) as batch:
        await batch.add(chunks(PDF), filename="a.pdf")
        with pytest.raises(StorageFull) as refused:  # the form says: not saved, try later
            await batch.commit_all()
    assert refused.value.code == RejectCode.STORAGE_FULL and refused.value.filename == "a.pdf"
    assert [temp async for temp in storage.list_temp()] == []


async def test_a_download_while_the_bucket_is_unreachable_is_a_503_not_a_crash(tmp_path):
    from litestar.exceptions import ServiceUnavailableException

    from web.storage.receiving import file_response

    with pytest.raises(ServiceUnavailableException):
        await file_response(
            unreachable_storage(tmp_path),
            DocumentFile(
                storage_key=new_key(), original_name="a.pdf", content_type="application/pdf", size=1
            ),
        )
