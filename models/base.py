"""Shared model pieces."""

from typing import Any

from tortoise import fields
from tortoise.models import Model


class TimestampedModel(Model):
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class StoredFile(Model):
    """A file the storage keeps (`web/storage/`): its key, the name it was sent with (shown and
    offered on download, never used as a path), its sniffed type, size and digest. Documents'
    files and letters' attachments are both this, with their owner's foreign key."""

    id = fields.IntField(primary_key=True)
    storage_key = fields.CharField(max_length=64, unique=True)
    original_name = fields.CharField(max_length=300)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True

    @staticmethod
    def values_of(staged: Any) -> dict[str, Any]:
        """The columns of a file the storage has staged (`web.storage.protocol.StagedFile`)."""
        return {
            "storage_key": staged.key,
            "original_name": staged.original_name,
            "content_type": staged.content_type,
            "size": staged.size,
            "sha256": staged.sha256,
        }
