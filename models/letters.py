"""Letters and appeals sent to DGK: customs bodies, their units and executors, the letters,
their history, per-body yearly number counters, attachments and the notifications outbox.

An executor is a staff directory entry (name, phone, body, unit). It may be linked to the
`Person` of a staff account (the demo executor `icraci` is), so an executor who signs in
sees the letters assigned to them; the link is optional because many executors never sign
in to this portal.

A letter's applicant is a `Person` when one is known: the signed-in person for electronic
appeals, or, for paper letters, the person whose FIN the clerk typed (linked at
registration, or later when that person first signs in). The FIN, name, phone and e-mail
typed by the clerk are kept too, as written on the paper letter.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.base import StoredFile, TimestampedModel


class LetterChannel(StrEnum):
    ELECTRONIC = "electronic"
    PAPER = "paper"


class LetterStatus(StrEnum):
    REGISTERED = "registered"
    SENT_TO_EXECUTOR = "sent_to_executor"
    IN_PROGRESS = "in_progress"
    FORWARDED_ELSEWHERE = "forwarded_elsewhere"
    EXTENDED = "extended"
    ANSWERED = "answered"
    DISMISSED = "dismissed"


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    NO_ADDRESS = "no_address"


class CustomsBody(TimestampedModel):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    position = fields.IntField(default=0)
    is_active = fields.BooleanField(default=True)

    units: fields.ReverseRelation[StructuralUnit]

    class Meta:
        table = "customs_body"
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.name


class StructuralUnit(TimestampedModel):
    id = fields.IntField(primary_key=True)
    body: fields.ForeignKeyRelation[CustomsBody] = fields.ForeignKeyField(
        "models.CustomsBody", related_name="units", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=200)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "structural_unit"
        unique_together = (("body", "name"),)
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class Executor(TimestampedModel):
    id = fields.IntField(primary_key=True)
    full_name = fields.CharField(max_length=200)
    phone = fields.CharField(max_length=32)
    body: fields.ForeignKeyRelation[CustomsBody] = fields.ForeignKeyField(
        "models.CustomsBody", related_name="executors", on_delete=fields.RESTRICT
    )
    unit: fields.ForeignKeyNullableRelation[StructuralUnit] = fields.ForeignKeyField(
        "models.StructuralUnit", related_name="executors", null=True, on_delete=fields.SET_NULL
    )
    person: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Person", related_name="executor_entries", null=True, on_delete=fields.SET_NULL
    )
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "executor"
        indexes = (("body_id",), ("unit_id",), ("person_id",))
        ordering = ("full_name", "id")

    def __str__(self) -> str:
        return self.full_name


class LetterCounter(Model):
    """The last number issued for one body in one year (numbers are gap-free)."""

    id = fields.IntField(primary_key=True)
    body: fields.ForeignKeyRelation[CustomsBody] = fields.ForeignKeyField(
        "models.CustomsBody", related_name="counters", on_delete=fields.RESTRICT
    )
    year = fields.IntField()
    last_number = fields.IntField(default=0)

    class Meta:
        table = "letter_counter"
        unique_together = (("body", "year"),)


class Letter(TimestampedModel):
    id = fields.IntField(primary_key=True)
    body: fields.ForeignKeyRelation[CustomsBody] = fields.ForeignKeyField(
        "models.CustomsBody", related_name="letters", on_delete=fields.RESTRICT
    )
    year = fields.IntField()
    sequence = fields.IntField()
    number = fields.CharField(max_length=40)
    # The number as lookups compare it: trimmed and case-folded.
    number_key = fields.CharField(max_length=40, db_index=True)
    registered_on = fields.DateField()
    registered_at = fields.DatetimeField()
    channel = fields.CharEnumField(LetterChannel, max_length=16)
    applicant: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Person", related_name="letters", null=True, on_delete=fields.SET_NULL
    )
    applicant_fin = fields.CharField(max_length=7, null=True, db_index=True)
    applicant_name = fields.CharField(max_length=200)
    applicant_phone = fields.CharField(max_length=32, null=True)
    applicant_email = fields.CharField(max_length=254, null=True)
    subject = fields.CharField(max_length=300)
    text = fields.TextField(default="")
    status = fields.CharEnumField(LetterStatus, max_length=32, default=LetterStatus.REGISTERED)
    unit: fields.ForeignKeyNullableRelation[StructuralUnit] = fields.ForeignKeyField(
        "models.StructuralUnit", related_name="letters", null=True, on_delete=fields.SET_NULL
    )
    executor: fields.ForeignKeyNullableRelation[Executor] = fields.ForeignKeyField(
        "models.Executor", related_name="letters", null=True, on_delete=fields.SET_NULL
    )
    due_on = fields.DateField()
    extended = fields.BooleanField(default=False)
    status_changed_at = fields.DatetimeField()
    # Made when “Yeni müraciət” was rendered: the same form sent twice registers once.
    idempotency_key = fields.CharField(max_length=64, null=True)

    events: fields.ReverseRelation[LetterEvent]

    class Meta:
        table = "letter"
        indexes = (("unit_id",), ("executor_id",))
        unique_together = (
            ("body", "year", "sequence"),
            ("body", "number_key"),
            ("applicant", "idempotency_key"),
        )
        ordering = ("-registered_at", "-id")


class LetterEvent(Model):
    id = fields.IntField(primary_key=True)
    letter: fields.ForeignKeyRelation[Letter] = fields.ForeignKeyField(
        "models.Letter", related_name="events", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()
    actor: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Person", related_name="letter_events", null=True, on_delete=fields.SET_NULL
    )
    actor_name = fields.CharField(max_length=200, default="")
    from_status = fields.CharEnumField(LetterStatus, max_length=32, null=True)
    to_status = fields.CharEnumField(LetterStatus, max_length=32)
    from_unit_name = fields.CharField(max_length=200, default="")
    to_unit_name = fields.CharField(max_length=200, default="")
    from_executor_name = fields.CharField(max_length=200, default="")
    to_executor_name = fields.CharField(max_length=200, default="")
    public_note = fields.TextField(default="")
    # Seen by staff only, never rendered on a citizen's page.
    internal_note = fields.TextField(default="")

    class Meta:
        table = "letter_event"
        indexes = (("letter_id", "at"), ("actor_id",))
        ordering = ("-at", "-id")


class LetterAttachment(StoredFile):
    letter: fields.ForeignKeyRelation[Letter] = fields.ForeignKeyField(
        "models.Letter", related_name="attachments", on_delete=fields.CASCADE
    )

    class Meta:
        table = "letter_attachment"
        indexes = (("letter_id",),)


class Notification(Model):
    """The outbox: every notice is stored first, shown on the Bildirişlər page, and sent by
    e-mail when SMTP is configured and an address is known."""

    id = fields.IntField(primary_key=True)
    recipient: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Person", related_name="notifications", null=True, on_delete=fields.SET_NULL
    )
    letter: fields.ForeignKeyNullableRelation[Letter] = fields.ForeignKeyField(
        "models.Letter", related_name="notifications", null=True, on_delete=fields.SET_NULL
    )
    # What happened (see web.letters.notifications.KINDS) and its details, so the
    # Bildirişlər page shows it in the reader's language.
    kind = fields.CharField(max_length=32)
    params = fields.JSONField(default=dict)
    email_to = fields.CharField(max_length=254, null=True)
    # The e-mail as sent (Azerbaijani, the official language).
    subject = fields.CharField(max_length=300)
    body = fields.TextField()
    created_at = fields.DatetimeField()
    email_status = fields.CharEnumField(EmailStatus, max_length=16, default=EmailStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (("recipient_id",), ("letter_id",))
        ordering = ("-created_at", "-id")
