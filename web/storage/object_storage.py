"""The object storage backend: stored files are objects in an S3-compatible bucket.

`STORAGE_URL=s3://bucket/prefix` with `S3_ENDPOINT_URL`, `S3_REGION`, `S3_ACCESS_KEY_ID` and
`S3_SECRET_ACCESS_KEY` (`web/storage/configured.py`). The client is `obstore` (Rust's
`object_store` crate): streaming both ways, multipart uploads, no botocore import (30 MB
resident instead of 64 MB; docs/deploy.md has the figures that chose it).

How the commit protocol maps onto a bucket
------------------------------------------
* `stage` receives the upload into this instance's own temp folder, exactly as the local disk
  backend does (type and size checked while streaming, SHA-256, fsync, the temp file locked
  by the receiving process). S3 has no rename, and staging locally keeps the checks, the
  limits and the sweep of interrupted uploads in one place (`LocalDiskStorage`).
* `commit` uploads the temp file to `<prefix>/<key>` (multipart above `part_size`, at most
  `max_concurrency` parts in flight: bounded memory) and only then removes the temp file. An
  S3 PUT or CompleteMultipartUpload is atomic: the object is visible complete or not at all,
  and it is durable when the call returns. `files_then_rows` calls `commit` before the row
  commits, so a crash leaves at worst an object no row names (an orphan, found by
  `storage-check` listing the bucket) and never a row without its object.
* A multipart upload cut off by a crash leaves invisible parts: the bucket needs a lifecycle
  rule "abort incomplete multipart uploads after 1 day" (docs/deploy.md).
* Temp files are per instance (they never leave the machine that received them); the sweep at
  start and `storage-check` handle them as on the local disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiofiles
import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from web.storage.local_disk import DEFAULT_CHUNK_SIZE, TEMP_RE, LocalDiskStorage
from web.storage.protocol import (
    KEY_RE,
    InvalidKey,
    StagedFile,
    StorageFull,
    StoredFile,
    TempFile,
    new_key,
    validate_key,
)

MiB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MiB  # S3's minimum part is 5 MiB
DEFAULT_MAX_CONCURRENCY = 2  # parts in flight per upload: memory ≈ part_size × (this + 1)
READ_SIZE = 1024 * 1024  # reads of the staged file while uploading it
PROBE_PREFIX = ".ready-probe-"  # not shaped like a key: list_keys never reports it
# obstore raises its NotFoundError as the builtin FileNotFoundError (0.12); catch both.
MISSING = (FileNotFoundError, NotFoundError)


async def _file_chunks(path: Path, size: int) -> AsyncIterator[bytes]:
    async with aiofiles.open(path, "rb") as source:
        while chunk := await source.read(size):
            yield chunk


class StorageUnavailable(StorageFull):
    """The bucket refused or did not answer: to the user, like a full disk — nothing was
    saved, try again later (the rows roll back; readiness reports it)."""

    def __init__(self, filename: str | None, error: BaseException) -> None:
        super().__init__(filename)
        self.args = (f"object storage did not take the upload: {str(error).splitlines()[0]}",)


def s3_store(
    bucket: str,
    prefix: str,
    *,
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
) -> S3Store:
    """An `S3Store` on `bucket`, every path below `prefix` (path-style requests, so any
    S3-compatible server works)."""
    config: dict[str, Any] = {"virtual_hosted_style_request": False}
    if endpoint_url:
        config["endpoint"] = endpoint_url
    if region:
        config["region"] = region
    if access_key_id:
        config["access_key_id"] = access_key_id
        config["secret_access_key"] = secret_access_key
    client_options = {"allow_http": endpoint_url.startswith("http://"), "timeout": "60s"}
    return S3Store(
        bucket,
        prefix=prefix.strip("/") or None,
        client_options=client_options,
        retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=30)},
        **config,
    )


class ObjectStorage:
    """Stored files as `<prefix>/<key>` objects; uploads staged in a local temp folder."""

    def __init__(
        self,
        store: S3Store,
        staging_root: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        part_size: int = DEFAULT_PART_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        min_free_bytes: int = 0,
        description: str = "",
    ) -> None:
        self.store = store
        self.chunk_size = chunk_size
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self.min_free_bytes = min_free_bytes  # of the staging disk (readiness, health.py)
        self.description = description or "object storage"
        # Staging only: nothing is ever committed under this root.
        # The staged file is read back for the upload right away: its pages stay cached.
        self.staging = LocalDiskStorage(
            staging_root, chunk_size=chunk_size, keep_staged_cached=True
        )

    def __str__(self) -> str:
        return self.description

    # -- writing

    async def stage(
        self, chunks: AsyncIterable[bytes], *, filename: str, max_bytes: int
    ) -> StagedFile:
        """As `LocalDiskStorage.stage`: checked, hashed, fsynced in the local temp folder."""
        return await self.staging.stage(chunks, filename=filename, max_bytes=max_bytes)

    async def commit(self, staged: StagedFile) -> StoredFile:
        """Upload the staged file as the object `<key>`, then remove the temp file. Call it
        *before* the row naming the key commits. Idempotent: a second call finds the temp
        file gone and the object there."""
        temp_path = self.staging._checked_temp_path(staged)
        if temp_path.is_file():
            await self._upload(staged.key, temp_path, filename=staged.original_name)
        elif not await self.exists(staged.key):
            raise FileNotFoundError(f"neither a temp file nor an object for {staged.key}")
        await self.staging.discard(staged)
        return staged.stored()

    async def _upload(self, key: str, source: Path, *, filename: str | None = None) -> None:
        size = source.stat().st_size
        try:
            await obstore.put_async(
                self.store,
                validate_key(key),
                # An async iterator, not the Path: obstore reads a Path ahead without bound
                # (+51 MB resident for 150 MB) but pulls an iterator part by part (+20 MB).
                _file_chunks(source, READ_SIZE),
                use_multipart=size > self.part_size,
                chunk_size=self.part_size,
                max_concurrency=self.max_concurrency,
            )
        except Exception as error:  # obstore retried already (3 times, 30 s at most)
            raise StorageUnavailable(filename, error) from error

    async def discard(self, staged: StagedFile) -> None:
        await self.staging.discard(staged)

    # -- reading

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Start the GET now (so a missing object raises `FileNotFoundError` before any byte
        of the response is sent); return an iterator of at most ~`chunk_size` chunks."""
        validate_key(key)
        try:
            result = await obstore.get_async(self.store, key)
        except MISSING as error:
            raise FileNotFoundError(f"no stored object for key {key}") from error
        except Exception as error:  # unreachable, refused: the download answers 503
            raise OSError(f"object storage: {str(error).splitlines()[0]}") from error
        return self._read(result)

    async def _read(self, result: Any) -> AsyncIterator[bytes]:
        async for chunk in result.stream(min_chunk_size=self.chunk_size):
            yield bytes(chunk)

    async def delete(self, key: str) -> None:
        """Remove an object; deleting a missing key does nothing (S3 DELETE is idempotent)."""
        with contextlib.suppress(*MISSING):
            await obstore.delete_async(self.store, validate_key(key))

    async def exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self.store, validate_key(key))
        except MISSING:
            return False
        return True

    async def modified_at(self, key: str) -> float:
        try:
            meta = await obstore.head_async(self.store, validate_key(key))
        except MISSING as error:
            raise FileNotFoundError(f"no stored object for key {key}") from error
        return meta["last_modified"].timestamp()

    # -- listing

    async def list_keys(self) -> AsyncIterator[str]:
        """Every key in the bucket below the prefix; other objects are ignored."""
        async for page in obstore.list(self.store, chunk_size=1000):
            for meta in page:
                name = meta["path"]
                if KEY_RE.match(name):
                    yield name

    def list_temp(self) -> AsyncIterator[TempFile]:
        return self.staging.list_temp()

    async def remove_temp(self, name: str) -> bool:
        return await self.staging.remove_temp(name)

    async def recover_temp(self, name: str) -> None:
        """Upload an interrupted upload's temp file as its object (a row names it), then
        remove the temp file."""
        if not TEMP_RE.match(name):
            raise InvalidKey(f"not a temp file name: {name!r}")
        await self._upload(name.removesuffix(".part"), self.staging.temp_dir / name)
        await self.staging.remove_temp(name)

    # -- health

    async def probe(self) -> None:
        """Write, read back and remove a small object; raises OSError when the bucket cannot
        be written (or the staging disk, which every upload goes through)."""
        await self.staging.probe()
        path = f"{PROBE_PREFIX}{os.getpid()}-{new_key()[:8]}"
        try:
            await obstore.put_async(self.store, path, b"ok")
            result = await obstore.get_async(self.store, path)
            if bytes(await result.bytes_async()) != b"ok":
                raise OSError("the probe object read back different bytes")
        except OSError:
            raise
        except Exception as error:  # obstore's errors: unreachable, denied, no bucket
            raise OSError(f"object storage: {error}".splitlines()[0]) from error
        finally:
            with contextlib.suppress(Exception):
                await obstore.delete_async(self.store, path)

    async def free_bytes(self) -> int:
        """Free space of the staging disk: the bucket has no such limit, uploads pass there."""
        return await self.staging.free_bytes()
