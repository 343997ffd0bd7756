"""Storage against the database: orphans, missing files, temp files of interrupted uploads.

`python -m web storage-check [--remove-orphans]` runs `check`; the app runs `sweep_temp` at
start. Every table that keeps a storage key is listed in `KEY_COLUMNS`; a new kind of upload
adds its model here, or its files would be reported (and, on request, removed) as orphans.

What is reported
----------------
* *orphans*: stored files no row names, last written more than `min_age` ago (a file is
  made durable just before its row commits, so a younger one may belong to a row that is
  committing right now). Left by a crash between the two steps.
* *missing*: rows whose file is nowhere. The commit order makes this impossible; it means
  the files were lost outside the portal (a restore of the wrong copy, a disk fault).
* *recoverable*: rows whose file is still in the temp folder (left by the former commit
  order, which committed the row first). Moved into place, never deleted.
* *interrupted*: temp files of uploads that were cut off (no live process holds them);
  uploads still being received are only counted (`in_progress`).

Nothing a row names is ever removed: the keys are read again just before removing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import structlog
from tortoise.models import Model

from models.documents import DocumentFile
from models.letters import LetterAttachment
from web.storage.protocol import InvalidKey, StorageBackend, validate_key

log = structlog.get_logger("egomruk.storage")

KEY_COLUMNS: list[tuple[type[Model], str]] = [
    (DocumentFile, "storage_key"),  # copies of clearance documents
    (LetterAttachment, "storage_key"),  # attachments of electronic appeals
]
ORPHAN_GRACE_SECONDS = 600.0
TEMP_PREFIX = "tmp/"  # how temp files appear in the lists of removed entries


@dataclass(frozen=True)
class StorageReport:
    orphans: list[str] = field(default_factory=list)  # keys
    missing: list[str] = field(default_factory=list)  # keys
    recoverable: list[str] = field(default_factory=list)  # keys, file still in the temp folder
    interrupted: list[str] = field(default_factory=list)  # temp file names ("<key>.part")
    interrupted_bytes: int = 0
    in_progress: int = 0  # temp files of uploads being received now

    @property
    def ok(self) -> bool:
        return not (self.orphans or self.missing or self.recoverable or self.interrupted)


async def check_storage(
    backend: StorageBackend,
    known_keys: set[str],
    *,
    min_age: float = ORPHAN_GRACE_SECONDS,
    now: float | None = None,
) -> StorageReport:
    """Compare stored files and temp files with the keys the database knows."""
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
    recoverable: list[str] = []
    interrupted: list[str] = []
    interrupted_bytes = in_progress = 0
    async for temp in backend.list_temp():
        if temp.key in known_keys and temp.key not in stored:
            recoverable.append(temp.key)
        elif temp.in_progress:
            in_progress += 1
        elif temp.key not in known_keys:
            interrupted.append(temp.name)
            interrupted_bytes += temp.size
    return StorageReport(
        orphans=sorted(orphans),
        missing=sorted(known_keys - stored - set(recoverable)),
        recoverable=sorted(recoverable),
        interrupted=sorted(interrupted),
        interrupted_bytes=interrupted_bytes,
        in_progress=in_progress,
    )


async def remove_orphans(
    backend: StorageBackend, report: StorageReport, still_known: set[str] | frozenset = frozenset()
) -> list[str]:
    """Delete the report's orphans and interrupted temp files, except any key in
    `still_known` (the keys read again just now). Returns what was removed (temp files as
    `"tmp/<name>"`). Missing files are only reported; recoverable ones are never removed."""
    removed = []
    for key in report.orphans:
        if validate_key(key) in still_known:
            continue
        await backend.delete(key)
        removed.append(key)
    for name in report.interrupted:
        if not name.endswith(".part"):
            raise InvalidKey(f"not a temp file name: {name!r}")
        if validate_key(name.removesuffix(".part")) in still_known:
            continue
        if await backend.remove_temp(name):
            removed.append(TEMP_PREFIX + name)
    return removed


async def known_storage_keys() -> set[str]:
    keys: set[str] = set()
    for model, column in KEY_COLUMNS:
        keys.update(await model.all().values_list(column, flat=True))
    return keys


@dataclass(frozen=True)
class CheckResult:
    report: StorageReport
    removed: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)


async def _recover(backend: StorageBackend, report: StorageReport) -> list[str]:
    for key in report.recoverable:
        await backend.recover_temp(f"{key}.part")
        log.warning("storage_file_recovered", key=key)
    return list(report.recoverable)


async def check(backend: StorageBackend, *, remove: bool = False) -> CheckResult:
    """`storage-check`: report; with `remove`, also move recoverable files into place and
    remove orphans and interrupted temp files."""
    report = await check_storage(backend, await known_storage_keys())
    if not remove:
        return CheckResult(report=report)
    recovered = await _recover(backend, report)
    removed = await remove_orphans(backend, report, await known_storage_keys())
    return CheckResult(report=report, removed=removed, recovered=recovered)


async def _named_by_a_row(key: str) -> bool:
    for model, column in KEY_COLUMNS:
        if await model.filter(**{column: key}).exists():
            return True
    return False


async def sweep_temp(backend: StorageBackend) -> CheckResult:
    """At start: remove the temp files of interrupted uploads (of any process: uploads of
    live workers hold theirs and are kept), and move into place a file a row names that is
    still in the temp folder. Looks at the temp folder only, so it costs nothing when the
    last stop was clean."""
    removed: list[str] = []
    recovered: list[str] = []
    interrupted_bytes = 0
    async for temp in backend.list_temp():
        if temp.in_progress:
            continue
        if await _named_by_a_row(temp.key):
            if not await backend.exists(temp.key):
                await backend.recover_temp(temp.name)
                log.warning("storage_file_recovered", key=temp.key)
                recovered.append(temp.key)
        elif await backend.remove_temp(temp.name):
            removed.append(TEMP_PREFIX + temp.name)
            interrupted_bytes += temp.size
    if removed or recovered:
        log.warning(
            "storage_swept_at_start",
            interrupted_removed=len(removed),
            interrupted_bytes=interrupted_bytes,
            recovered=len(recovered),
        )
    return CheckResult(report=StorageReport(), removed=removed, recovered=recovered)
