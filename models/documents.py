"""Copies of the documents customs clearance needs (service “Rəsmiləşdirmə üçün tələb olunan
sənədlərin surətləri”), the party's acknowledgment of the obligation to keep them, and the
audit log of what customs officers opened.

A `ClearanceDocument` belongs to a `Party` (never to the person who typed it in: a company's
documents stay with the company when staff change). Its files are `DocumentFile` rows whose
bytes live in file storage under a server-made key (`web/storage/local_disk.py`).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.base import StoredFile, TimestampedModel


class DocumentKind(StrEnum):
    """“Sənədin növü”. Labels (az/en/ru) live in `web/documents/service.py`."""

    INVOICE = "invoice"
    TRADE_CONTRACT = "trade_contract"
    TRANSPORT = "transport"
    ORIGIN_CERTIFICATE = "origin_certificate"
    PACKING_LIST = "packing_list"
    CONFORMITY = "conformity"
    OTHER = "other"


class ClearanceDocument(TimestampedModel):
    id = fields.IntField(primary_key=True)
    party = fields.ForeignKeyField(
        "models.Party", related_name="clearance_documents", on_delete=fields.RESTRICT
    )
    entered_by = fields.ForeignKeyField(
        "models.Person", related_name="entered_documents", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(DocumentKind, max_length=32)
    number = fields.CharField(max_length=100)
    issued_on = fields.DateField()
    declaration_number = fields.CharField(max_length=40, null=True, db_index=True)
    note = fields.TextField(null=True)
    # “Səhvən daxil edilib”: hidden from the owner's default list, kept for officers.
    mistaken_at = fields.DatetimeField(null=True)
    mistaken_by = fields.ForeignKeyField(
        "models.Person",
        related_name="documents_marked_mistaken",
        null=True,
        on_delete=fields.RESTRICT,
    )
    mistaken_reason = fields.TextField(null=True)
    # Made when “Yeni sənəd” was rendered: the same form sent twice saves once.
    idempotency_key = fields.CharField(max_length=64, null=True)

    files: fields.ReverseRelation[DocumentFile]

    class Meta:
        table = "clearance_document"
        # The list's order, its period and (last, so counting and paging read the index
        # alone) the “mistaken” mark; then every other foreign key (issue 12).
        indexes = (
            ("party_id", "created_at", "id", "mistaken_at"),
            ("entered_by_id",),
            ("mistaken_by_id",),
        )
        unique_together = (("party", "idempotency_key"),)

    @property
    def reference(self) -> str:
        """The entry's reference shown to the user (stable: derived from the id)."""
        return f"RS-{self.id:07d}"


class DocumentDayTally(Model):
    """How many documents a party entered on one Baku calendar day, and how many of those are
    marked “Səhvən daxil edilib”: a period's “Sayı” sums at most one row a day instead of
    counting every document (issue 12).

    Kept by database triggers on `clearance_document` (migration 0008), so every writer —
    the service, bulk seeding, a test's direct update, SQL by hand — moves the tally in the
    same transaction as the document. `day` is the day the period filter puts the document
    in: on SQLite the date the stored text starts with (Tortoise writes Baku time), on
    PostgreSQL `created_at AT TIME ZONE 'Asia/Baku'`. `python -m web tally-check` compares
    (and with `--repair` rebuilds) it from the documents."""

    id = fields.IntField(primary_key=True)
    # A party with documents cannot be deleted; once it has none, its tallies are zeros.
    party = fields.ForeignKeyField(
        "models.Party", related_name="document_day_tallies", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    documents = fields.IntField(default=0)
    mistaken = fields.IntField(default=0)

    class Meta:
        table = "document_day_tally"
        unique_together = (("party", "day"),)


class DocumentFile(StoredFile):
    document = fields.ForeignKeyField(
        "models.ClearanceDocument", related_name="files", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "document_file"
        indexes = (("document_id",),)


class ObligationAcknowledgment(Model):
    """The party read “Öhdəlik forması” and pressed “Tanış oldum” (once per party)."""

    id = fields.IntField(primary_key=True)
    party = fields.OneToOneField(
        "models.Party", related_name="obligation_acknowledgment", on_delete=fields.RESTRICT
    )
    person = fields.ForeignKeyField(
        "models.Person", related_name="obligation_acknowledgments", on_delete=fields.RESTRICT
    )
    retention_years = fields.SmallIntField()
    acknowledged_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "obligation_acknowledgment"
        indexes = (("person_id",),)


class AuditAction(StrEnum):
    SEARCH = "search"
    VIEW = "view"
    DOWNLOAD = "download"


class AuditEntry(Model):
    """One access by a customs officer to a party's documents (who, what, when)."""

    id = fields.IntField(primary_key=True)
    actor = fields.ForeignKeyField(
        "models.Person", related_name="audit_entries", on_delete=fields.RESTRICT
    )
    action = fields.CharEnumField(AuditAction, max_length=16)
    party = fields.ForeignKeyField(
        "models.Party", related_name="audit_entries", null=True, on_delete=fields.RESTRICT
    )
    document = fields.ForeignKeyField(
        "models.ClearanceDocument",
        related_name="audit_entries",
        null=True,
        on_delete=fields.RESTRICT,
    )
    file = fields.ForeignKeyField(
        "models.DocumentFile", related_name="audit_entries", null=True, on_delete=fields.RESTRICT
    )
    detail = fields.CharField(max_length=500, default="")
    at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_entry"
        indexes = (("actor_id",), ("party_id",), ("document_id",), ("file_id",))
