"""The storage backend the settings ask for: the local disk (the embedded default) or an
S3-compatible bucket (`STORAGE_URL=s3://bucket/prefix`, `web/storage/object_storage.py`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from web.settings import Settings
from web.storage.local_disk import LocalDiskStorage
from web.storage.protocol import StorageBackend


def storage_from_settings(settings: Settings) -> StorageBackend:
    if not settings.storage_url:
        return LocalDiskStorage(settings.upload_dir, min_free_bytes=settings.storage_min_free_bytes)
    from web.storage.object_storage import ObjectStorage, s3_store

    url = urlsplit(settings.storage_url)
    store = s3_store(
        url.netloc,
        url.path,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )
    # Uploads are received into this instance's temp folder, then uploaded as objects.
    return ObjectStorage(
        store,
        settings.upload_dir,
        min_free_bytes=settings.storage_min_free_bytes,
        description=settings.storage_url,
    )


def describe(storage: StorageBackend) -> str:
    """Where the files are, for the command line (never shows credentials)."""
    root = getattr(storage, "root", None)
    return str(root) if root is not None else str(storage)
