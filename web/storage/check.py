"""Storage against the database: which stored files rows point to, orphans, missing files.

`python -m web storage-check [--remove-orphans]` runs `check`. Every table that keeps a
storage key is listed in `KEY_COLUMNS`; a new kind of upload adds its model here, or its
files would be reported (and, on request, removed) as orphans.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.models import Model

from models.documents import DocumentFile
from models.letters import LetterAttachment
from web.storage.backend import StorageBackend, StorageReport, check_storage, remove_orphans

KEY_COLUMNS: list[tuple[type[Model], str]] = [
    (DocumentFile, "storage_key"),  # copies of clearance documents
    (LetterAttachment, "storage_key"),  # attachments of electronic appeals
]


async def known_storage_keys() -> set[str]:
    keys: set[str] = set()
    for model, column in KEY_COLUMNS:
        keys.update(await model.all().values_list(column, flat=True))
    return keys


@dataclass(frozen=True)
class CheckResult:
    report: StorageReport
    removed: list[str] = field(default_factory=list)


async def check(backend: StorageBackend, *, remove: bool = False) -> CheckResult:
    report = await check_storage(backend, await known_storage_keys())
    removed = await remove_orphans(backend, report) if remove and report.orphans else []
    return CheckResult(report=report, removed=removed)
