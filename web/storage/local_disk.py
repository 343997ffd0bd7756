"""The local disk backend: files under `root/ab/cd/<key>`, temp files under
`root/tmp/<key>.part` (the same filesystem, so the move into place is an atomic rename).

* **Bounded memory.** An upload is consumed chunk by chunk; at most one incoming chunk plus
  one write buffer (`WRITE_BYTES`, 1 MiB, allocated once per upload and reused) is held.
  The running size is checked after every chunk; the chunk that crosses `max_bytes` is the
  last one pulled from the caller's stream.
* **Integrity.** SHA-256 is computed while streaming and returned with the file.
* **Durable.** `stage` fsyncs the temp file (writeback of each MiB is started as it is
  written, so that fsync waits for the tail, not for 50 MB); `commit` renames it into place
  and fsyncs every directory it created or changed, so after `commit` returns the file
  survives a power cut.
* **In progress or interrupted.** A temp file is locked (`flock`) by the process receiving
  it until it is committed or discarded. The kernel drops the lock when that process dies,
  so a temp file nobody holds belongs to an interrupted upload and may be removed
  (`remove_temp`); one still held is never touched.
* **Full disk.** ENOSPC / EDQUOT anywhere in `stage` or `commit` raise `StorageFull` after
  removing what was written: nothing partial is left.
* Writes go through `os.write` on a worker thread (no buffering layer between us and the
  kernel), which is also where tests inject a full disk. Incoming chunks (~64–256 KiB from
  the server) are gathered into `WRITE_BYTES` writes: one thread hand-off per MiB, not per
  chunk. The same hand-off hashes the bytes it writes (hashlib releases the GIL), so the
  hash is of exactly what was written and the event loop keeps receiving meanwhile.

The root must not be inside a directory the web server serves (`static/`); use
`settings.upload_dir`. Files and directories are created owner-only (0600/0700).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import aiofiles
import aiofiles.os

from web.platform.static_assets import STATIC_DIR
from web.storage.names import sanitize_filename
from web.storage.protocol import (
    KEY_RE,
    InvalidKey,
    RejectCode,
    StagedFile,
    StorageFull,
    StoredFile,
    TempFile,
    UploadRejected,
    new_key,
    validate_key,
)
from web.storage.sniffing import SNIFF_BYTES, FileType, check_type, claimed_type, undecided

KiB = 1024
DEFAULT_CHUNK_SIZE = 64 * KiB
# Uploads are written in writes of at least this much (one buffer per upload in flight).
WRITE_BYTES = 1024 * KiB
TEMP_RE = re.compile(r"\A[0-9a-f]{32}\.part\Z")
TEMP_DIR_NAME = "tmp"
PROBE_PREFIX = ".ready-probe-"  # not a temp file name: the checks never see it
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# POSIX_FADV_DONTNEED on dirty pages: Linux starts their writeback (elsewhere: a no-op).
_START_WRITEBACK = getattr(os, "POSIX_FADV_DONTNEED", None) if os.name == "posix" else None


def is_full_disk(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in FULL_ERRNOS


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs_durable(path: Path, top: Path) -> None:
    """`mkdir -p path` below `top`, fsyncing the parent of every directory it creates."""
    missing = []
    while path != top and not path.is_dir():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
        fsync_dir(directory.parent)


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _hash_and_write(fd: int, digest: hashlib._Hash, data: bytes | bytearray | memoryview) -> None:
    _write_all(fd, data)
    if _START_WRITEBACK is not None:
        # Linux starts writing these pages out now, while the rest is still arriving, so
        # the final fsync waits for the last MiB, not the whole file (and the upload does
        # not crowd the page cache). Only a hint: durability still comes from the fsync.
        end = os.lseek(fd, 0, os.SEEK_CUR)
        os.posix_fadvise(fd, end - len(data), len(data), _START_WRITEBACK)
    digest.update(data)


def _fsync_and_drop(fd: int, drop: bool) -> None:
    """fsync, then drop the file's pages from the page cache: clean now, they go at once (the
    hints during the writes found them dirty and only started their writeback). A stored
    upload is seldom read back soon, and its pages would push out what is (the database's);
    where the page cache is capped, a writer whose files stayed cached paid the kernel's
    reclaim on every later write (seen here: a 50 MB write 0.02 -> 0.13 s once ~300 MB of
    kept files were cached; none with this drop)."""
    os.fsync(fd)
    if drop and _START_WRITEBACK is not None:
        os.posix_fadvise(fd, 0, 0, _START_WRITEBACK)


def _create_locked(path: Path) -> int | None:
    """Create and lock a temp file; None when a sweep removed it between the two steps (it
    saw a file nobody held), so the caller takes another name."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            return fd
    except FileNotFoundError:
        pass
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None


@contextlib.contextmanager
def _unless_held(path: Path):
    """Yield True with the file's lock taken when no live process holds it, else False."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)


class LocalDiskStorage:
    """Files under `root/ab/cd/<key>`, temp files under `root/tmp/<key>.part`."""

    def __init__(
        self,
        root: Path,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        *,
        min_free_bytes: int = 0,
        keep_staged_cached: bool = False,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        resolved = Path(root).resolve()
        if resolved.is_relative_to(STATIC_DIR) or STATIC_DIR.is_relative_to(resolved):
            raise ValueError(f"storage root {resolved} must be outside the static directory")
        self.root = resolved
        self.temp_dir = resolved / TEMP_DIR_NAME
        self.chunk_size = chunk_size
        self.min_free_bytes = min_free_bytes  # readiness fails below this (health.py)
        # Staged files are read back at once when they are a stage on the way elsewhere
        # (object storage uploads them): then their pages stay in the page cache.
        self.keep_staged_cached = keep_staged_cached
        self._held: dict[str, int] = {}  # key -> locked fd of its temp file, until commit/discard
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

    def _release(self, key: str) -> None:
        fd = self._held.pop(key, None)
        if fd is not None:
            os.close(fd)

    # -- writing

    async def stage(
        self, chunks: AsyncIterable[bytes], *, filename: str, max_bytes: int
    ) -> StagedFile:
        """Stream `chunks` to a locked temp file, checking type and size, computing SHA-256,
        and fsync it.

        Raises `UploadRejected` (`wrong_type`, `type_mismatch`, `too_large`, `empty_file`) or
        `StorageFull`; on any error the temp file is removed. The caller's stream is not read
        past the chunk that exceeds `max_bytes` or past the chunk that shows a wrong type.
        """
        name = sanitize_filename(filename)
        claimed = claimed_type(name)
        digest = hashlib.sha256()
        size = 0
        head = b""
        detected: FileType | None = None
        write_bytes = max(self.chunk_size, WRITE_BYTES)
        # One buffer of fixed size, filled and written again and again: growing a new one per
        # MiB let the allocator hold two at once (a copy on resize), so the peak crept up with
        # the file's size. Not touched while a write of it is in flight (we await that write).
        buffer = bytearray(write_bytes)
        filled = 0
        fd: int | None = None
        key, temp_path = "", Path()
        try:
            while fd is None:
                key = new_key()
                temp_path = self._temp_path_for(key)
                fd = await asyncio.to_thread(_create_locked, temp_path)
            self._held[key] = fd
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
                if detected is None:
                    head += chunk[: SNIFF_BYTES - len(head)]
                    if not undecided(head):
                        detected = check_type(head, claimed, name)
                # Until the type is decided only a few bytes have come: the buffer cannot fill.
                rest = memoryview(chunk)
                while rest:
                    taken = rest[: write_bytes - filled]
                    buffer[filled : filled + len(taken)] = taken
                    filled += len(taken)
                    rest = rest[len(taken) :]
                    if filled == write_bytes:
                        await asyncio.to_thread(_hash_and_write, fd, digest, buffer)
                        filled = 0
            if size == 0:
                raise UploadRejected(RejectCode.EMPTY_FILE, name, f"{name!r} is empty")
            if detected is None:  # the whole file is shorter than a signature
                detected = check_type(head, claimed, name)
            if filled:
                await asyncio.to_thread(_hash_and_write, fd, digest, memoryview(buffer)[:filled])
            await asyncio.to_thread(_fsync_and_drop, fd, not self.keep_staged_cached)
        except BaseException as error:
            # Shielded: a cancelled request still removes what it wrote.
            if fd is not None:
                await asyncio.shield(asyncio.to_thread(self._remove_staged, key, temp_path))
            if is_full_disk(error):
                raise StorageFull(name) from error
            raise
        return StagedFile(
            key=key,
            temp_path=temp_path,
            size=size,
            sha256=digest.hexdigest(),
            content_type=detected.content_type,
            original_name=name,
        )

    def _remove_staged(self, key: str, temp_path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp_path)
        self._release(key)

    async def commit(self, staged: StagedFile) -> StoredFile:
        """Make a staged file durable in its final place: rename it there (atomic), fsync
        the directories. Call it *before* the database row naming the key commits
        (`web/storage/batch.py`). Idempotent. Raises `StorageFull` on ENOSPC/EDQUOT.
        """
        temp_path = self._checked_temp_path(staged)
        final = self.path_for(staged.key)

        def move() -> None:
            try:
                make_dirs_durable(final.parent, self.root)
                os.replace(temp_path, final)
            except FileNotFoundError:
                if not final.is_file():
                    raise
                return  # committed before
            finally:
                self._release(staged.key)
            fsync_dir(final.parent)
            fsync_dir(self.temp_dir)

        try:
            await asyncio.to_thread(move)
        except OSError as error:
            if is_full_disk(error):
                raise StorageFull(staged.original_name) from error
            raise
        return staged.stored()

    async def discard(self, staged: StagedFile) -> None:
        """Remove the temp file; a second call (or a call after `commit`) does nothing."""
        temp_path = self._checked_temp_path(staged)
        await asyncio.to_thread(self._remove_staged, staged.key, temp_path)

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

    async def list_temp(self) -> AsyncIterator[TempFile]:
        """Each temp file this backend made (`<key>.part`), and whether an upload holds it."""
        for name in await asyncio.to_thread(self._files, self.temp_dir):
            if TEMP_RE.match(name):
                entry = await asyncio.to_thread(self._temp_entry, name)
                if entry is not None:
                    yield entry

    def _temp_entry(self, name: str) -> TempFile | None:
        path = self.temp_dir / name
        try:
            stat = path.stat()
        except FileNotFoundError:  # committed or discarded meanwhile
            return None
        with _unless_held(path) as free:
            in_progress = not free
        return TempFile(
            name=name, size=stat.st_size, modified=stat.st_mtime, in_progress=in_progress
        )

    async def remove_temp(self, name: str) -> bool:
        """Remove the temp file of an interrupted upload; one a live upload holds stays.
        Returns whether it was removed."""
        if not TEMP_RE.match(name):
            raise InvalidKey(f"not a temp file name: {name!r}")
        return await asyncio.to_thread(self._remove_if_interrupted, self.temp_dir / name)

    def _remove_if_interrupted(self, path: Path) -> bool:
        with _unless_held(path) as free:
            if not free:
                return False
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                return True
        return False

    async def recover_temp(self, name: str) -> None:
        """Move an interrupted upload's temp file into its final place. Only for a key a row
        names whose final file is missing (rows of the former commit order, which committed
        the row first): the temp file was complete and fsynced before that row committed."""
        if not TEMP_RE.match(name):
            raise InvalidKey(f"not a temp file name: {name!r}")
        final = self.path_for(name.removesuffix(".part"))

        def move() -> None:
            make_dirs_durable(final.parent, self.root)
            os.replace(self.temp_dir / name, final)
            fsync_dir(final.parent)

        await asyncio.to_thread(move)

    # -- health

    async def probe(self) -> None:
        """Write, fsync and remove a small file: raises OSError when storage cannot write."""

        def write() -> None:
            path = self.temp_dir / f"{PROBE_PREFIX}{os.getpid()}-{new_key()[:8]}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                _write_all(fd, b"ok")
                os.fsync(fd)
            finally:
                os.close(fd)
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)

        await asyncio.to_thread(write)

    async def free_bytes(self) -> int:
        return (await asyncio.to_thread(shutil.disk_usage, self.root)).free

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
