"""The storage quota of an account (a party's documents, a person's appeal attachments)."""

from __future__ import annotations

from web.storage.protocol import RejectCode, UploadRejected


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


def check_quota(used_bytes: int, incoming_bytes: int, quota_bytes: int) -> None:
    """Raise `QuotaExceeded` unless `used + incoming <= quota` (reaching it exactly is fine)."""
    if min(used_bytes, incoming_bytes, quota_bytes) < 0:
        raise ValueError("byte counts cannot be negative")
    if used_bytes + incoming_bytes > quota_bytes:
        raise QuotaExceeded(used_bytes, incoming_bytes, quota_bytes)
