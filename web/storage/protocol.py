"""The storage backend protocol: what every place uploaded files live must do.

Keys are server-made (`new_key()`: 32 lowercase hex digits) and checked (`validate_key`)
before they touch a path, so no traversal is possible. The commit protocol every upload
follows is in `web/storage/batch.py`: a file is durable in its final place *before* the
database row naming it commits, so a crash can leave a file no row names (an orphan, which
`storage-check` finds) but never a row without its file.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

KEY_RE = re.compile(r"\A[0-9a-f]{32}\Z")


def new_key() -> str:
    return secrets.token_hex(16)


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


# --------------------------------------------------------------------------- errors


class StorageError(Exception):
    """Base class of the storage errors."""


class InvalidKey(StorageError, ValueError):
    """A key that is not a storage key we make (checked before any path is built)."""


class RejectCode(StrEnum):
    """Machine-readable reasons; the web layer maps them to localized messages."""

    TOO_LARGE = "too_large"
    BATCH_TOO_LARGE = "batch_too_large"
    TOO_MANY_FILES = "too_many_files"
    WRONG_TYPE = "wrong_type"
    TYPE_MISMATCH = "type_mismatch"
    EMPTY_FILE = "empty_file"
    QUOTA_EXCEEDED = "quota_exceeded"
    STORAGE_FULL = "storage_full"
    DATABASE_FULL = "database_full"


class UploadRejected(StorageError):
    """An upload refused for a reason the user can fix (or, `storage_full`, wait out).

    `code` is a `RejectCode` (a `str`), `filename` the sanitized name of the offending file
    (None when the reason is not about one file), `params` the numbers a message may show
    (e.g. `limit_bytes`).
    """

    def __init__(
        self, code: RejectCode, filename: str | None, message: str, **params: int | str
    ) -> None:
        super().__init__(message)
        self.code = code
        self.filename = filename
        self.params = params


class StorageFull(UploadRejected):
    """The disk (or the filesystem quota) has no room: ENOSPC or EDQUOT.

    Nothing of the file is left behind. The user can do nothing about it but try later;
    readiness reports it (`web/storage/health.py`)."""

    def __init__(self, filename: str | None = None) -> None:
        super().__init__(RejectCode.STORAGE_FULL, filename, "no space left to store the upload")


class DatabaseFull(UploadRejected):
    """The database had no room for the rows (SQLITE_FULL, PostgreSQL 53100): nothing was
    saved, no file of the upload is left, and the user can only try again later."""

    def __init__(self) -> None:
        super().__init__(RejectCode.DATABASE_FULL, None, "no space left in the database")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class StagedFile:
    """A fully received, checked, fsynced file waiting in a temp place for `commit` or
    `discard`."""

    key: str
    temp_path: Path
    size: int
    sha256: str  # lowercase hex
    content_type: str
    original_name: str  # sanitized

    def stored(self) -> StoredFile:
        """What `commit` answers: the same file, now in its place."""
        return StoredFile(
            key=self.key,
            size=self.size,
            sha256=self.sha256,
            content_type=self.content_type,
            original_name=self.original_name,
        )


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str
    content_type: str
    original_name: str


@dataclass(frozen=True)
class TempFile:
    """A temp file of an upload: still being received (`in_progress`: a live process holds
    it) or left by an upload that was interrupted (a crash, a kill)."""

    name: str  # "<key>.part"
    size: int
    modified: float
    in_progress: bool

    @property
    def key(self) -> str:
        return self.name.removesuffix(".part")


# --------------------------------------------------------------------------- the protocol


@runtime_checkable
class StorageBackend(Protocol):
    """Where uploaded files live. `LocalDiskStorage` now; object storage can follow.

    `stage` receives a file into a temp place (fsynced); `commit` makes it durable in its
    final place; `discard` removes a temp file. `open` is a coroutine (it checks the key and
    that the file exists before any response starts) returning an async iterator of chunks;
    `list_keys` and `list_temp` are async generators.
    """

    async def stage(
        self, chunks: AsyncIterable[bytes], *, filename: str, max_bytes: int
    ) -> StagedFile: ...

    async def commit(self, staged: StagedFile) -> StoredFile: ...

    async def discard(self, staged: StagedFile) -> None: ...

    async def open(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    def list_keys(self) -> AsyncIterator[str]: ...

    # Used by the consistency check (web/storage/check.py).
    async def modified_at(self, key: str) -> float: ...

    def list_temp(self) -> AsyncIterator[TempFile]: ...

    async def remove_temp(self, name: str) -> bool: ...

    async def recover_temp(self, name: str) -> None: ...

    # Used by readiness (web/storage/health.py).
    async def probe(self) -> None: ...

    async def free_bytes(self) -> int: ...
