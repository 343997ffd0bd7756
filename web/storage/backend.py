"""File storage for uploaded customs documents (PDF, JPEG, PNG copies).

What this module guarantees
---------------------------
* **Bounded memory.** An upload is consumed chunk by chunk from an async iterable and written
  with aiofiles; at most one incoming chunk plus one `chunk_size` write buffer is held.
* **Limits while streaming.** The running size is checked after every chunk; the chunk that
  crosses `max_bytes` is the last one pulled from the caller's stream, so an oversized body is
  never read to its end (the rest stays in the caller's stream, untouched).
* **Type by content.** The name's extension must be on the allow-list *and* the first bytes
  must carry the matching signature, at offset 0. Decision: a small explicit table
  (`SIGNATURES`) rather than puremagic. For three types it is clearer, reviewable at a glance,
  and stricter: puremagic knows hundreds of formats and ranks candidate matches by confidence
  (`%PDF` also maps to `.fdf`; `\r\n%PDF` counts as a PDF), and raises when it knows nothing;
  we want "starts with exactly these bytes" and nothing else. The type is decided from the
  first bytes (at most `SNIFF_BYTES`, as soon as a signature matched or none can), before
  anything is written, so an HTML page or an `MZ` executable named `.pdf` is refused after its
  first chunk.
* **Integrity.** SHA-256 is computed while streaming and returned with the file.
* **Names.** Storage keys are server-made (`secrets.token_hex(16)`, 32 lowercase hex digits),
  stored as `root/ab/cd/abcd…` (two-level shards). Every key is matched against `KEY_RE`
  before it touches a path, so no traversal is possible. The user's filename is only
  metadata, cleaned by `sanitize_filename` (no path parts, no control/format characters,
  ≤255 UTF-8 bytes with the extension kept, never empty). Markup in a name stays as text:
  escaping it is the template's job, and a `Content-Disposition` header must encode it
  (RFC 6266 / 5987 `filename*=`).
* **Atomic.** `stage` writes `root/tmp/<key>.part` (same filesystem as the final place),
  fsyncs it; `commit` renames it into place (`os.replace`) and fsyncs the directory.
  `discard` removes the temp file and is idempotent.

The root must not be inside a directory the web server serves (`static/`); use e.g.
`settings.data_dir / "uploads"`. Files and directories are created owner-only (0600/0700).

The upload pattern (stage all → validate → DB transaction → commit files)
--------------------------------------------------------------------------
::

    async with UploadBatch(storage) as batch:          # limits: 10 files, 10 MB each, 50 MB
        for upload in form_files:
            await batch.add(iter_chunks(upload), filename=upload.filename)
        check_quota(used_bytes, batch.total_bytes, quota_bytes)
        async with in_transaction():                   # Tortoise
            for staged in batch.staged:
                await Document.create(key=staged.key, sha256=staged.sha256, ...)
        # the transaction has committed here
        await batch.commit_all()

Any exception before `commit_all()` — a rejected file (`UploadRejected`, with a
machine-readable `code` and the offending `filename`), `QuotaExceeded`, a database error —
leaves the `async with` block without a commit, and every staged temp file is discarded: nothing
is left behind. `commit_all()` runs only after the database commit; if a rename fails at that
point the row exists without its file, and `check_storage` reports the key as *missing* (the
temp file is kept for manual recovery and becomes a stale-temp orphan after an hour).

Consistency check
-----------------
`check_storage(backend, known_keys)` compares the stored keys with the keys the database knows:
*orphans* are stored files no row references, plus stale temp files (reported as
`"tmp/<name>"`); *missing* are known keys without a file. Only entries older than `min_age`
(default one hour) count as orphans: a file whose row committed after `known_keys` was read
would otherwise look orphaned and `remove_orphans` would delete a live document.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import time
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import aiofiles
import aiofiles.os
import structlog

from web.platform.static_assets import STATIC_DIR

log = structlog.get_logger("egomruk.storage")

KiB = 1024
MB = 1000 * 1000

DEFAULT_CHUNK_SIZE = 64 * KiB
DEFAULT_MAX_FILE_BYTES = 10 * MB
DEFAULT_MAX_BATCH_BYTES = 50 * MB
DEFAULT_MAX_FILES = 10
STALE_AFTER_SECONDS = 3600.0

KEY_RE = re.compile(r"\A[0-9a-f]{32}\Z")
TEMP_RE = re.compile(r"\A[0-9a-f]{32}\.part\Z")
TEMP_DIR_NAME = "tmp"
TEMP_PREFIX = TEMP_DIR_NAME + "/"  # how stale temp files appear in StorageReport.orphans

# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class FileType:
    content_type: str
    signature: bytes
    extensions: frozenset[str]


PDF = FileType("application/pdf", b"%PDF-", frozenset({".pdf"}))
JPEG = FileType("image/jpeg", b"\xff\xd8\xff", frozenset({".jpg", ".jpeg"}))
PNG = FileType("image/png", b"\x89PNG\r\n\x1a\n", frozenset({".png"}))

# The allow-list. A signature must match at offset 0.
SIGNATURES: tuple[FileType, ...] = (PDF, JPEG, PNG)
SNIFF_BYTES = max(len(t.signature) for t in SIGNATURES)
_BY_EXTENSION = {ext: t for t in SIGNATURES for ext in t.extensions}
ALLOWED_EXTENSIONS = frozenset(_BY_EXTENSION)


def type_for_extension(filename: str) -> FileType | None:
    """The allowed type the name's extension claims (case-insensitive), or None."""
    return _BY_EXTENSION.get(Path(filename).suffix.lower())


def _undecided(head: bytes) -> bool:
    """True while `head` is a strict prefix of some signature: more bytes could still match."""
    return any(len(head) < len(t.signature) and t.signature.startswith(head) for t in SIGNATURES)


def sniff(head: bytes) -> FileType | None:
    """The allowed type whose signature `head` starts with, or None."""
    for file_type in SIGNATURES:
        if head.startswith(file_type.signature):
            return file_type
    return None


# --------------------------------------------------------------------------- errors


class StorageError(Exception):
    """Base class of this module's errors."""


class InvalidKey(StorageError, ValueError):
    """A key that is not a storage key this module makes (checked before any path is built)."""


class RejectCode(StrEnum):
    """Machine-readable reasons; the web layer maps them to localized messages."""

    TOO_LARGE = "too_large"
    BATCH_TOO_LARGE = "batch_too_large"
    TOO_MANY_FILES = "too_many_files"
    WRONG_TYPE = "wrong_type"
    TYPE_MISMATCH = "type_mismatch"
    EMPTY_FILE = "empty_file"
    QUOTA_EXCEEDED = "quota_exceeded"


class UploadRejected(StorageError):
    """An upload refused for a reason the user can fix.

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


class QuotaExceeded(UploadRejected):
    """The account's storage quota would be exceeded (code `quota_exceeded`)."""

    def __init__(self, used_bytes: int, incoming_bytes: int, quota_bytes: int) -> None:
        super().__init__(
            RejectCode.QUOTA_EXCEEDED,
            None,
            f"{used_bytes} + {incoming_bytes} bytes exceeds the quota of {quota_bytes} bytes",
            used_bytes=used_bytes,
            incoming_bytes=incoming_bytes,
            quota_bytes=quota_bytes,
        )
        self.used_bytes = used_bytes
        self.incoming_bytes = incoming_bytes
        self.quota_bytes = quota_bytes


class BatchCommitError(StorageError):
    """`commit_all` could not move some files into place (their DB rows already exist)."""

    def __init__(self, stored: list[StoredFile], failed: dict[str, BaseException]) -> None:
        super().__init__(f"{len(failed)} file(s) could not be committed: {sorted(failed)}")
        self.stored = stored
        self.failed = failed


def check_quota(used_bytes: int, incoming_bytes: int, quota_bytes: int) -> None:
    """Raise `QuotaExceeded` unless `used + incoming <= quota` (reaching it exactly is fine)."""
    if min(used_bytes, incoming_bytes, quota_bytes) < 0:
        raise ValueError("byte counts cannot be negative")
    if used_bytes + incoming_bytes > quota_bytes:
        raise QuotaExceeded(used_bytes, incoming_bytes, quota_bytes)


# --------------------------------------------------------------------------- filenames

MAX_FILENAME_BYTES = 255
FALLBACK_STEM = "document"
_EXTENSION_RE = re.compile(r"\.[A-Za-z0-9]{1,10}\Z")
# Control, format (bidi overrides such as U+202E spoof extensions), surrogates, private use,
# unassigned. Whitespace of any kind becomes a plain space instead.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _truncate_utf8(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def sanitize_filename(name: str | None) -> str:
    """The user's filename made safe to keep as display/download metadata.

    Keeps only the last path component (`/` and Windows `\\` both count), drops control and
    format characters, folds whitespace, trims dots and spaces at the ends, limits the result to
    255 UTF-8 bytes keeping the extension, and never returns an empty string. It is *not*
    HTML-escaped: `<b>.pdf` stays `<b>.pdf` (templates escape).
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in _DROPPED_CATEGORIES:
            kept.append(char)
    text = " ".join("".join(kept).split()).rstrip(" .")
    match = _EXTENSION_RE.search(text)
    extension = match.group() if match else ""
    stem = text[: len(text) - len(extension)].strip(" .")
    budget = MAX_FILENAME_BYTES - len(extension.encode("utf-8"))
    stem = _truncate_utf8(stem, budget).rstrip(" .")
    return (stem or FALLBACK_STEM) + extension


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class StagedFile:
    """A fully received, checked file waiting in a temp place for `commit` or `discard`."""

    key: str
    temp_path: Path
    size: int
    sha256: str  # lowercase hex
    content_type: str
    original_name: str  # sanitized


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str
    content_type: str
    original_name: str


@dataclass(frozen=True)
class StorageReport:
    orphans: list[str] = field(default_factory=list)  # keys, and "tmp/<name>" stale temp files
    missing: list[str] = field(default_factory=list)  # known keys without a stored file

    @property
    def ok(self) -> bool:
        return not self.orphans and not self.missing


# --------------------------------------------------------------------------- backend


@runtime_checkable
class StorageBackend(Protocol):
    """Where uploaded files live. `LocalDiskStorage` now; object storage can follow.

    `open` is a coroutine (it checks the key and that the file exists before any response
    starts) returning an async iterator of chunks; `list_keys` and `list_temp` are async
    generators (`async for key in backend.list_keys()`).
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

    # Used by check_storage / remove_orphans.
    async def modified_at(self, key: str) -> float: ...

    def list_temp(self) -> AsyncIterator[tuple[str, float]]: ...

    async def remove_temp(self, name: str) -> None: ...


def new_key() -> str:
    return secrets.token_hex(16)


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


def _private_file(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _fsync_dir(path: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # platforms that cannot open directories (Windows)
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalDiskStorage:
    """Files under `root/ab/cd/<key>`, temp files under `root/tmp/<key>.part`."""

    def __init__(self, root: Path, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        resolved = Path(root).resolve()
        if resolved.is_relative_to(STATIC_DIR) or STATIC_DIR.is_relative_to(resolved):
            raise ValueError(f"storage root {resolved} must be outside the static directory")
        self.root = resolved
        self.temp_dir = resolved / TEMP_DIR_NAME
        self.chunk_size = chunk_size
        # Created once, at start-up, owner-only.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.temp_dir.mkdir(mode=0o700, exist_ok=True)

    # -- paths (every public method validates before building one)

    def path_for(self, key: str) -> Path:
        """The final path of a key (for a sendfile-style response). Validates the key."""
        validate_key(key)
        return self.root / key[:2] / key[2:4] / key

    def _temp_path_for(self, key: str) -> Path:
        validate_key(key)
        return self.temp_dir / f"{key}.part"

    def _checked_temp_path(self, staged: StagedFile) -> Path:
        # Never trust `temp_path` from the record: it must be the one this key maps to.
        expected = self._temp_path_for(staged.key)
        if Path(staged.temp_path) != expected:
            raise InvalidKey(f"temp path {staged.temp_path} does not belong to {staged.key}")
        return expected

    # -- writing

    async def stage(
        self, chunks: AsyncIterable[bytes], *, filename: str, max_bytes: int
    ) -> StagedFile:
        """Stream `chunks` to a temp file, checking type, size and computing SHA-256.

        Raises `UploadRejected` (`wrong_type`, `type_mismatch`, `too_large`, `empty_file`);
        on any error the temp file is removed. The caller's stream is not read past the
        chunk that exceeds `max_bytes` or past the chunk that shows a wrong type.
        """
        name = sanitize_filename(filename)
        claimed = type_for_extension(name)
        if claimed is None:
            allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
            raise UploadRejected(
                RejectCode.WRONG_TYPE, name, f"{name!r}: extension not one of {allowed}"
            )
        key = new_key()
        temp_path = self._temp_path_for(key)
        digest = hashlib.sha256()
        size = 0
        head = b""
        detected: FileType | None = None
        pending = bytearray()
        created = False
        try:
            async with aiofiles.open(temp_path, "xb", opener=_private_file) as out:
                created = True
                async for chunk in chunks:
                    if not chunk:
                        continue
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadRejected(
                            RejectCode.TOO_LARGE,
                            name,
                            f"{name!r} is larger than {max_bytes} bytes",
                            limit_bytes=max_bytes,
                        )
                    digest.update(chunk)
                    if detected is None:
                        head += chunk[: SNIFF_BYTES - len(head)]
                        if _undecided(head):
                            pending += chunk  # too few bytes to decide; write nothing yet
                            continue
                        detected = self._check_type(head, claimed, name)
                    # Small chunks are gathered into `chunk_size` writes; big ones go as they are.
                    if pending:
                        pending += chunk
                        if len(pending) >= self.chunk_size:
                            await out.write(pending)
                            pending.clear()
                    elif len(chunk) >= self.chunk_size:
                        await out.write(chunk)
                    else:
                        pending += chunk
                if size == 0:
                    raise UploadRejected(RejectCode.EMPTY_FILE, name, f"{name!r} is empty")
                if detected is None:  # the whole file is shorter than a signature
                    detected = self._check_type(head, claimed, name)
                if pending:
                    await out.write(pending)
                    pending.clear()
                await out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
        except BaseException:
            if created:
                with contextlib.suppress(OSError):
                    await aiofiles.os.remove(temp_path)
            raise
        return StagedFile(
            key=key,
            temp_path=temp_path,
            size=size,
            sha256=digest.hexdigest(),
            content_type=detected.content_type,
            original_name=name,
        )

    @staticmethod
    def _check_type(head: bytes, claimed: FileType, name: str) -> FileType:
        detected = sniff(head)
        if detected is None:
            raise UploadRejected(
                RejectCode.WRONG_TYPE, name, f"{name!r} is not a PDF, JPEG or PNG file"
            )
        if detected is not claimed:
            raise UploadRejected(
                RejectCode.TYPE_MISMATCH,
                name,
                f"{name!r} contains {detected.content_type}, not {claimed.content_type}",
                detected=detected.content_type,
                claimed=claimed.content_type,
            )
        return detected

    async def commit(self, staged: StagedFile) -> StoredFile:
        """Rename the temp file into place (atomic) and fsync the directory.

        Idempotent: committing an already committed file returns the same record.
        """
        temp_path = self._checked_temp_path(staged)
        final = self.path_for(staged.key)

        def move() -> None:
            try:
                final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.replace(temp_path, final)
            except FileNotFoundError:
                if not final.is_file():
                    raise
                return  # committed before
            _fsync_dir(final.parent)

        await asyncio.to_thread(move)
        return StoredFile(
            key=staged.key,
            size=staged.size,
            sha256=staged.sha256,
            content_type=staged.content_type,
            original_name=staged.original_name,
        )

    async def discard(self, staged: StagedFile) -> None:
        """Remove the temp file; a second call (or a call after `commit`) does nothing."""
        temp_path = self._checked_temp_path(staged)
        with contextlib.suppress(FileNotFoundError):
            await aiofiles.os.remove(temp_path)

    # -- reading

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Check the key and the file now; return an iterator streaming `chunk_size` chunks.

        Raises `InvalidKey` or `FileNotFoundError` before any byte is sent.
        """
        path = self.path_for(key)
        if not await aiofiles.os.path.isfile(path):
            raise FileNotFoundError(f"no stored file for key {key}")
        return self._read(path)

    async def _read(self, path: Path) -> AsyncIterator[bytes]:
        async with aiofiles.open(path, "rb") as source:
            while chunk := await source.read(self.chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        """Remove a stored file; deleting a missing key does nothing."""
        with contextlib.suppress(FileNotFoundError):
            await aiofiles.os.remove(self.path_for(key))

    async def exists(self, key: str) -> bool:
        return await aiofiles.os.path.isfile(self.path_for(key))

    async def modified_at(self, key: str) -> float:
        return (await aiofiles.os.stat(self.path_for(key))).st_mtime

    # -- listing

    async def list_keys(self) -> AsyncIterator[str]:
        """Every stored key (sorted per shard); anything not shaped like a key is ignored."""
        for first in await asyncio.to_thread(self._subdirs, self.root):
            for second in await asyncio.to_thread(self._subdirs, self.root / first):
                shard = self.root / first / second
                for name in await asyncio.to_thread(self._files, shard):
                    if KEY_RE.match(name) and name[:2] == first and name[2:4] == second:
                        yield name

    async def list_temp(self) -> AsyncIterator[tuple[str, float]]:
        """`(name, mtime)` of each temp file this backend made (`<key>.part`)."""
        for name in await asyncio.to_thread(self._files, self.temp_dir):
            if TEMP_RE.match(name):
                try:
                    stat = await aiofiles.os.stat(self.temp_dir / name)
                except FileNotFoundError:  # committed or discarded meanwhile
                    continue
                yield name, stat.st_mtime

    async def remove_temp(self, name: str) -> None:
        if not TEMP_RE.match(name):
            raise InvalidKey(f"not a temp file name: {name!r}")
        with contextlib.suppress(FileNotFoundError):
            await aiofiles.os.remove(self.temp_dir / name)

    @staticmethod
    def _subdirs(path: Path) -> list[str]:
        try:
            with os.scandir(path) as entries:
                return sorted(
                    e.name
                    for e in entries
                    if len(e.name) == 2
                    and all(c in "0123456789abcdef" for c in e.name)
                    and e.is_dir(follow_symlinks=False)
                )
        except FileNotFoundError:
            return []

    @staticmethod
    def _files(path: Path) -> list[str]:
        try:
            with os.scandir(path) as entries:
                return sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
        except FileNotFoundError:
            return []


# --------------------------------------------------------------------------- helpers


class AsyncReader(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


async def iter_chunks(
    reader: AsyncReader, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> AsyncIterator[bytes]:
    """Chunks from anything with an async `read(n)` (e.g. Litestar's `UploadFile`)."""
    while chunk := await reader.read(chunk_size):
        yield chunk


class UploadBatch:
    """Stage several files under per-batch limits; discard them all unless `commit_all()` ran.

    Use as `async with UploadBatch(backend) as batch:` (see the module docstring for the full
    stage → validate → DB transaction → `commit_all()` pattern). A rejected `add` raises
    `UploadRejected` and leaves the batch usable, so a form can collect every file's error.
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
        """Move every staged file into place. Call only after the DB transaction committed.

        Tries every file; raises `BatchCommitError` listing failures (those rows now point at
        missing files, which `check_storage` reports). A second call returns the same list.
        """
        if self._stored is not None:
            return list(self._stored)
        stored: list[StoredFile] = []
        failed: dict[str, BaseException] = {}
        for staged in self._staged:
            try:
                stored.append(await self.backend.commit(staged))
            except Exception as error:
                log.error("storage_commit_failed", key=staged.key, error=repr(error))
                failed[staged.key] = error
        self._stored = stored
        if failed:
            raise BatchCommitError(stored, failed)
        return list(stored)

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


# --------------------------------------------------------------------------- consistency


async def check_storage(
    backend: StorageBackend,
    known_keys: set[str],
    *,
    min_age: float = STALE_AFTER_SECONDS,
    now: float | None = None,
) -> StorageReport:
    """Compare stored files with the keys the database knows.

    `orphans`: stored keys not in `known_keys` and temp files (`"tmp/<name>"`), in both cases
    only when last modified more than `min_age` seconds ago. `missing`: known keys with no file.
    """
    now = time.time() if now is None else now
    stored: set[str] = set()
    orphans: list[str] = []
    async for key in backend.list_keys():
        stored.add(key)
        if key in known_keys:
            continue
        try:
            modified = await backend.modified_at(key)
        except FileNotFoundError:
            continue
        if now - modified > min_age:
            orphans.append(key)
    async for name, modified in backend.list_temp():
        if now - modified > min_age:
            orphans.append(TEMP_PREFIX + name)
    missing = sorted(known_keys - stored)
    return StorageReport(orphans=sorted(orphans), missing=missing)


async def remove_orphans(backend: StorageBackend, report: StorageReport) -> list[str]:
    """Delete the report's orphans; returns what was removed. Missing files are only reported."""
    removed = []
    for entry in report.orphans:
        if entry.startswith(TEMP_PREFIX):
            await backend.remove_temp(entry.removeprefix(TEMP_PREFIX))
        else:
            await backend.delete(entry)
        removed.append(entry)
    return removed
