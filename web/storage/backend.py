"""Former home of the whole storage layer, kept so older imports still work.

The storage now has one module per job: `protocol` (the backend protocol, keys, records,
errors), `local_disk` (the local disk backend), `sniffing` (type by content), `names` (file
names), `quota`, `batch` (an upload of several files and the commit protocol), `receiving`
(multipart forms in, downloads out), `check` (storage against the database), `health`
(readiness) and `backup` (backup and restore). Import from those.
"""

from web.storage.batch import (
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILES,
    UploadBatch,
    files_then_rows,
    iter_chunks,
)
from web.storage.check import StorageReport, check_storage, remove_orphans
from web.storage.local_disk import DEFAULT_CHUNK_SIZE, LocalDiskStorage
from web.storage.names import MAX_FILENAME_BYTES, sanitize_filename
from web.storage.protocol import (
    KEY_RE,
    InvalidKey,
    RejectCode,
    StagedFile,
    StorageBackend,
    StorageError,
    StorageFull,
    StoredFile,
    UploadRejected,
    new_key,
    validate_key,
)
from web.storage.quota import QuotaExceeded, check_quota
from web.storage.sniffing import SIGNATURES, FileType, sniff, type_for_extension

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_FILE_BYTES",
    "KEY_RE",
    "MAX_FILENAME_BYTES",
    "SIGNATURES",
    "FileType",
    "InvalidKey",
    "LocalDiskStorage",
    "QuotaExceeded",
    "RejectCode",
    "StagedFile",
    "StorageBackend",
    "StorageError",
    "StorageFull",
    "StorageReport",
    "StoredFile",
    "UploadBatch",
    "UploadRejected",
    "check_quota",
    "check_storage",
    "files_then_rows",
    "iter_chunks",
    "new_key",
    "remove_orphans",
    "sanitize_filename",
    "sniff",
    "type_for_extension",
    "validate_key",
]
