"""An upload of several files, and the commit protocol that keeps rows and files in step.

The order (crash-safe)
----------------------
::

    async with UploadBatch(storage) as batch:          # limits: 10 files, 10 MB each, 50 MB
        for upload in form_files:
            await batch.add(iter_chunks(upload), filename=upload.filename)   # temp, fsynced
        async with files_then_rows(batch) as connection:                    # a transaction
            check_quota(used_bytes, batch.total_bytes, quota_bytes)
            for staged in batch.staged:
                await Document.create(key=staged.key, ..., using_db=connection)
        # files_then_rows moved every file into its final place (fsynced) just before the
        # transaction committed

A row naming a file can only commit after the file is durable where the row says, so a
crash at any moment leaves at worst a file that no row names (an orphan, found and removed
by `storage-check`), never a row without its file. Before the move, any error (a rejected
file, `QuotaExceeded`, a database error) rolls the rows back and the batch removes its temp
files. A failed move removes the files already moved and rolls the rows back. A COMMIT the
database refused (a full disk: SQLITE_FULL, PostgreSQL 53100) removes the moved files after
the rollback; only a COMMIT whose answer was lost (connection gone, cancelled) leaves them,
since the rows may have committed (orphans at worst). A full database, at any statement or
at the COMMIT, is raised as `DatabaseFull`, an upload refusal the form shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Protocol, Self

import structlog
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.connection import connections
from tortoise.transactions import in_transaction

from web.platform import db
from web.storage.local_disk import DEFAULT_CHUNK_SIZE
from web.storage.names import sanitize_filename
from web.storage.protocol import (
    DatabaseFull,
    RejectCode,
    StagedFile,
    StorageBackend,
    StoredFile,
    UploadRejected,
)

log = structlog.get_logger("egomruk.storage")

MB = 1000 * 1000
DEFAULT_MAX_FILE_BYTES = 10 * MB
DEFAULT_MAX_BATCH_BYTES = 50 * MB
DEFAULT_MAX_FILES = 10


class AsyncReader(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


async def iter_chunks(
    reader: AsyncReader, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> AsyncIterator[bytes]:
    """Chunks from anything with an async `read(n)` (e.g. Litestar's `UploadFile`)."""
    while chunk := await reader.read(chunk_size):
        yield chunk


class UploadBatch:
    """Stage several files under per-batch limits; they are removed on leaving the `async
    with` block unless `commit_all()` made them durable in their final place.

    A rejected `add` raises `UploadRejected` and leaves the batch usable, so a form can
    collect every file's error.
    """

    def __init__(
        self,
        backend: StorageBackend,
        *,
        max_files: int = DEFAULT_MAX_FILES,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_total_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    ) -> None:
        self.backend = backend
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self._staged: list[StagedFile] = []
        self._stored: list[StoredFile] | None = None

    @property
    def staged(self) -> tuple[StagedFile, ...]:
        return tuple(self._staged)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self._staged)

    @property
    def committed(self) -> bool:
        return self._stored is not None

    async def add(self, chunks: AsyncIterable[bytes], *, filename: str) -> StagedFile:
        """Stage one file. The per-file limit and the batch's remaining budget are enforced
        while streaming (`too_large` / `batch_too_large`), the file count before reading
        (`too_many_files`).
        """
        if self._stored is not None:
            raise RuntimeError("batch already committed")
        name = sanitize_filename(filename)
        if len(self._staged) >= self.max_files:
            raise UploadRejected(
                RejectCode.TOO_MANY_FILES,
                name,
                f"more than {self.max_files} files",
                limit_files=self.max_files,
            )
        remaining = self.max_total_bytes - self.total_bytes
        batch_error = UploadRejected(
            RejectCode.BATCH_TOO_LARGE,
            name,
            f"the files together are larger than {self.max_total_bytes} bytes",
            limit_bytes=self.max_total_bytes,
        )
        if remaining <= 0:
            raise batch_error
        limit = min(self.max_file_bytes, remaining)
        try:
            staged = await self.backend.stage(chunks, filename=filename, max_bytes=limit)
        except UploadRejected as error:
            if error.code == RejectCode.TOO_LARGE and limit < self.max_file_bytes:
                raise batch_error from error
            raise
        self._staged.append(staged)
        return staged

    async def commit_all(self) -> list[StoredFile]:
        """Make every staged file durable in its final place. Call it *before* the rows
        naming them commit (`files_then_rows` does). All or nothing: when one move fails,
        the files already moved are removed and the error is raised (the caller's
        transaction then rolls back). A second call returns the same list.
        """
        if self._stored is not None:
            return list(self._stored)
        stored: list[StoredFile] = []
        try:
            for staged in self._staged:
                stored.append(await self.backend.commit(staged))
        except BaseException as error:
            log.error("storage_commit_failed", error=repr(error))
            await asyncio.shield(self._remove_stored(stored))
            raise
        self._stored = stored
        return list(stored)

    async def uncommit(self) -> None:
        """Remove the files `commit_all` moved into place: the rows naming them did not
        commit (the database refused the COMMIT)."""
        stored, self._stored, self._staged = self._stored or [], [], []
        await self._remove_stored(stored)

    async def _remove_stored(self, stored: list[StoredFile]) -> None:
        for item in stored:
            try:
                await self.backend.delete(item.key)
            except Exception as error:
                log.warning("storage_undo_failed", key=item.key, error=repr(error))

    async def discard_all(self) -> None:
        """Remove every staged temp file (best effort; errors are logged, not raised)."""
        staged, self._staged = self._staged, []
        for item in staged:
            try:
                await self.backend.discard(item)
            except Exception as error:
                log.warning("storage_discard_failed", key=item.key, error=repr(error))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stored is None:
            # Shielded so a cancelled request still cleans up its temp files.
            await asyncio.shield(self.discard_all())


@asynccontextmanager
async def files_then_rows(batch: UploadBatch | None) -> AsyncIterator[BaseDBAsyncClient]:
    """A database transaction for rows that name the batch's files: the files are made
    durable in their final place after the block's last statement and before the COMMIT
    (see the module docstring). `None` (no files) is a plain transaction."""
    moved = False
    # Inside another transaction this block is a savepoint: the outer one commits.
    outermost = not isinstance(connections.get("default"), TransactionalDBClient)
    try:
        async with in_transaction() as connection:
            yield connection
            if batch is not None:
                await batch.commit_all()
                moved = True
                if outermost:
                    # Committed here, inside the block: a refused COMMIT is then rolled
                    # back while the transaction still holds the connection (Tortoise's
                    # next BEGIN on SQLite would otherwise commit what was left pending).
                    await connection.commit()
    except Exception as error:
        if moved and outermost and batch is not None and db.commit_refused(error):
            log.error("database_commit_refused", error=repr(error))
            await asyncio.shield(batch.uncommit())
        if db.is_disk_full(error):
            raise DatabaseFull() from error
        raise
