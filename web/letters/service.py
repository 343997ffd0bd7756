"""Letters and appeals to DGK: registration numbers, due dates, the citizen's lookup, the
staff registry's moves and the history they leave.

Numbering: `M-<n>/<year>`, e.g. `M-1024/2026`. `n` counts from 1 per customs body and per
calendar year (Baku time) of registration, for electronic and paper letters alike. The
counter row (`LetterCounter`) is incremented with `UPDATE … SET last_number = last_number + 1`
inside the same transaction that inserts the letter: PostgreSQL holds the row lock until the
commit and SQLite allows one writer at a time, so numbers are unique, and a failed insert
rolls the increment back, so they are gap-free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from operator import attrgetter
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.router import router
from tortoise.timezone import get_default_timezone, get_use_tz, localtime
from tortoise.transactions import in_transaction

from models.identity import Person, is_fin
from models.letters import (
    CustomsBody,
    Executor,
    Letter,
    LetterAttachment,
    LetterChannel,
    LetterCounter,
    LetterEvent,
    LetterStatus,
    Notification,
    StructuralUnit,
)
from web.letters import notifications
from web.letters.status import FINAL_STATUSES, SETTABLE_STATUSES, is_final
from web.platform.forms import Problem, Rejected
from web.platform.idempotency import AlreadySaved
from web.platform.paging import Page, page_of
from web.platform.portal_time import utcnow
from web.platform.working_days import add_working_days
from web.storage.batch import UploadBatch, files_then_rows
from web.storage.quota import check_quota, lock_owner

NUMBER_PREFIX = "M"
NUMBER_RE = re.compile(r"^M-(\d+)/(\d{4})$")
CALL_CENTRE_PHONE = "1567"
"""DGK's call centre (Çağrı Mərkəzi), quoted in the not-found advice."""

MAX_TEXT_LENGTH = 5000
MAX_SUBJECT_LENGTH = 300
MAX_NAME_LENGTH = 200
REGISTRY_PAGE_SIZE = 50
# One @, a dot in the domain, no spaces or control characters (the mail library refuses
# those, and the notice would be retried for ever).
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class LetterError(Rejected):
    """A staff action that the letter's state (or the chosen values) does not allow."""


class AppealLimitReached(LetterError):
    """The person has sent as many appeals today as one may (APPEALS_PER_DAY)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            Problem("appeals_per_day_reached", "text", {"max": limit, "phone": CALL_CENTRE_PHONE})
        )


def format_number(sequence: int, year: int) -> str:
    return f"{NUMBER_PREFIX}-{sequence}/{year}"


def normalize_number(number: str) -> str:
    """How lookups compare numbers: surrounding spaces and case do not matter."""
    return number.strip().casefold()


def due_date(registered_on: date, working_days: int) -> date:
    return add_working_days(registered_on, working_days)


# --- numbering and registration ---------------------------------------------------------


async def _next_sequence(connection, body_id: int, year: int) -> int:
    """Take the next number for (body, year) inside the caller's transaction."""
    counter = LetterCounter.filter(body_id=body_id, year=year)
    updated = await counter.using_db(connection).update(last_number=F("last_number") + 1)
    if not updated:
        try:
            async with in_transaction() as savepoint:
                await LetterCounter.create(
                    body_id=body_id, year=year, last_number=1, using_db=savepoint
                )
            return 1
        except IntegrityError:  # someone else created it meanwhile: increment theirs
            await counter.using_db(connection).update(last_number=F("last_number") + 1)
    row = await counter.using_db(connection).select_for_update().get()
    return row.last_number


@dataclass(frozen=True)
class Applicant:
    person: Person | None
    fin: str | None
    name: str
    phone: str | None = None
    email: str | None = None

    @classmethod
    def account_holder(cls, person: Person) -> Applicant:
        """A citizen writing from their account: as their account knows them."""
        return cls(person, person.fin, person.full_name, person.phone, person.email)


async def register_letter(
    *,
    body: CustomsBody,
    applicant: Applicant,
    channel: LetterChannel,
    subject: str,
    text: str,
    due_working_days: int,
    actor: Person | None = None,
    now: datetime | None = None,
    attachments: UploadBatch | None = None,
    quota_bytes: int | None = None,
    appeals_per_day: int | None = None,
    idempotency_key: str | None = None,
) -> Letter:
    """Issue the next number and store the letter, its attachments' rows, its first event
    and the acceptance notice, all in one transaction; the attachments are made durable in
    their place just before it commits (`files_then_rows`).

    With attachments and a `quota_bytes`, the applicant's upload quota is checked under the
    same lock as documents' (raises `QuotaExceeded` before anything is written). With
    `appeals_per_day`, a person who already sent that many letters of this channel today
    (Baku time) gets `AppealLimitReached`, counted under the same lock. The same
    `idempotency_key` again returns the letter registered with it, and registers nothing."""
    now = localtime(now or utcnow())
    registered_on = now.date()
    person = applicant.person
    if person is None and applicant.fin:
        person = await Person.get_or_none(fin=applicant.fin)
    staged = attachments.staged if attachments is not None else ()
    if person is None:
        idempotency_key = None  # the key belongs to an applicant with an account
    try:
        async with files_then_rows(attachments) as connection:
            if person is not None and (staged or idempotency_key or appeals_per_day is not None):
                await lock_owner(connection, person)  # concurrent appeals wait, then count
            if saved := await _registered_with(person, idempotency_key, connection):
                raise AlreadySaved(saved)
            if appeals_per_day is not None and person is not None:
                await _check_daily_cap(connection, person, channel, registered_on, appeals_per_day)
            if staged and quota_bytes is not None and person is not None:
                used = await attachment_bytes_of(person, connection)
                check_quota(used, attachments.total_bytes, quota_bytes)  # type: ignore[union-attr]
            sequence = await _next_sequence(connection, body.id, registered_on.year)
            number = format_number(sequence, registered_on.year)
            letter = await Letter.create(
                body=body,
                year=registered_on.year,
                sequence=sequence,
                number=number,
                number_key=normalize_number(number),
                registered_on=registered_on,
                registered_at=now,
                channel=channel,
                applicant=person,
                applicant_fin=applicant.fin or (person.fin if person else None),
                applicant_name=applicant.name,
                applicant_phone=applicant.phone,
                applicant_email=applicant.email or (person.email if person else None),
                subject=subject,
                text=text,
                status=LetterStatus.REGISTERED,
                due_on=due_date(registered_on, due_working_days),
                status_changed_at=now,
                idempotency_key=idempotency_key,
                using_db=connection,
            )
            for file in staged:
                await LetterAttachment.create(
                    letter=letter, **LetterAttachment.values_of(file), using_db=connection
                )
            await LetterEvent.create(
                letter=letter,
                at=now,
                actor=actor,
                actor_name=actor.full_name if actor else applicant.name,
                from_status=None,
                to_status=LetterStatus.REGISTERED,
                using_db=connection,
            )
            await notifications.notify_letter(letter, notifications.ACCEPTED, now, connection)
    except AlreadySaved as already:
        return already.saved  # type: ignore[return-value]
    except IntegrityError:
        if saved := await _registered_with(person, idempotency_key):
            return saved
        raise
    return letter


async def _check_daily_cap(
    connection, person: Person, channel: LetterChannel, day: date, appeals_per_day: int
) -> None:
    sent = (
        await Letter.filter(applicant_id=person.id, channel=channel, registered_on=day)
        .using_db(connection)
        .count()
    )
    if sent >= appeals_per_day:
        raise AppealLimitReached(appeals_per_day)


def _check_text(subject: str, text: str) -> list[Problem]:
    problems = []
    if not subject:
        problems.append(Problem("subject_missing", "subject"))
    elif len(subject) > MAX_SUBJECT_LENGTH:
        problems.append(Problem("subject_too_long", "subject", {"max": MAX_SUBJECT_LENGTH}))
    if not text:
        problems.append(Problem("text_missing", "text"))
    elif len(text) > MAX_TEXT_LENGTH:
        problems.append(Problem("text_too_long", "text", {"max": MAX_TEXT_LENGTH}))
    return problems


async def check_appeal(
    body_id: int | None, subject: str, text: str
) -> tuple[CustomsBody | None, list[Problem]]:
    """A citizen's electronic appeal: the body it is addressed to, and what is wrong."""
    body = await CustomsBody.get_or_none(id=body_id, is_active=True) if body_id else None
    problems = [Problem("body_missing", "body")] if body is None else []
    return body, problems + _check_text(subject, text)


@dataclass(frozen=True)
class PaperLetter:
    """A letter typed in by a registry clerk, checked (`check_paper_letter`)."""

    body: CustomsBody
    applicant: Applicant
    channel: LetterChannel
    subject: str
    text: str


async def check_paper_letter(
    *,
    fin: str,
    name: str,
    phone: str,
    email: str,
    channel: str,
    body_id: int | None,
    subject: str,
    text: str,
) -> tuple[PaperLetter | None, list[Problem]]:
    """What the registry's “register a letter” form says, checked in form order."""
    problems = []
    fin = fin.strip().upper()
    if fin and not is_fin(fin):
        problems.append(Problem("fin_invalid", "fin"))
    if not name:
        problems.append(Problem("name_missing", "name"))
    if email and not EMAIL_RE.fullmatch(email):
        problems.append(Problem("email_invalid", "email"))
    if channel not in LetterChannel._value2member_map_:
        problems.append(Problem("channel_missing", "channel"))
    body = await CustomsBody.get_or_none(id=body_id or 0, is_active=True)
    if body is None:
        problems.append(Problem("body_missing", "body"))
    if not subject:
        problems.append(Problem("subject_missing", "subject"))
    if problems:
        return None, problems
    applicant = Applicant(
        person=None, fin=fin or None, name=name, phone=phone or None, email=email or None
    )
    return PaperLetter(body, applicant, LetterChannel(channel), subject, text), []  # type: ignore[arg-type]


async def _registered_with(
    person: Person | None, idempotency_key: str | None, connection=None
) -> Letter | None:
    if person is None or idempotency_key is None:
        return None
    query = Letter.filter(applicant=person, idempotency_key=idempotency_key)
    return await query.using_db(connection).first()


# --- the citizen's side -----------------------------------------------------------------


async def claim_paper_letters(person: Person) -> None:
    """Paper letters registered under this person's FIN before they had an account: linked
    when they sign in (`web/identity/routes.py`), not on every lookup."""
    if not person.fin:
        return
    unclaimed = Letter.filter(applicant_id=None, applicant_fin=person.fin)
    letter_ids = await unclaimed.values_list("id", flat=True)  # usually none: no write
    if letter_ids:
        async with in_transaction():
            await Letter.filter(id__in=letter_ids, applicant_id=None).update(applicant_id=person.id)
            # The notices written before the account existed follow the letters to it.
            await Notification.filter(letter_id__in=letter_ids, recipient_id=None).update(
                recipient_id=person.id
            )


# The lookup's answer: read-only by convention (nothing writes, hashes or pickles them), not
# `frozen`: a frozen dataclass's `__init__` sets each field through `object.__setattr__`,
# ~0.7 µs an object (~4.5 µs a lookup of the demo letter) where this one costs ~0.15 µs.
@dataclass(slots=True)
class AttachedFile:
    """An attachment as the tracking page lists it (a download link, its size)."""

    id: int
    original_name: str
    size: int


@dataclass(slots=True)
class PublicEvent:
    """A step of a letter's history as the applicant sees it (never the internal note)."""

    id: int
    at: datetime
    to_status: LetterStatus
    from_unit_name: str
    to_unit_name: str
    from_executor_name: str
    to_executor_name: str
    public_note: str


@dataclass(slots=True)
class TrackedLetter:
    """What the citizen's tracking page shows of a letter, and nothing more: read with its
    body, unit, executor, attachments and public history in one statement (`lookup_sql`)."""

    id: int
    number: str
    registered_on: date
    body_name: str
    unit_name: str | None
    executor_name: str | None
    executor_phone: str | None
    status: LetterStatus
    due_on: date
    extended: bool
    status_changed_at: datetime
    attachments: tuple[AttachedFile, ...]
    history: tuple[PublicEvent, ...]
    """Newest first."""


# The lookup's columns (alias: column), only those the page shows. The letter's part has one
# row per attachment (one with NULL file columns when there is none); the history's part
# one row per event.
_LETTER_PART = {
    "id": '"letter"."id"',
    "number": '"letter"."number"',
    "registered_on": '"letter"."registered_on"',
    "status": '"letter"."status"',
    "due_on": '"letter"."due_on"',
    "extended": '"letter"."extended"',
    "status_changed_at": '"letter"."status_changed_at"',
    "body_name": '"body"."name"',
    "unit_name": '"unit"."name"',
    "executor_name": '"executor"."full_name"',
    "executor_phone": '"executor"."phone"',
    "file_id": '"attachment"."id"',
    "file_name": '"attachment"."original_name"',
    "file_size": '"attachment"."size"',
}
_EVENT_PART = {
    "event_id": '"event"."id"',
    "at": '"event"."at"',
    "to_status": '"event"."to_status"',
    "from_unit_name": '"event"."from_unit_name"',
    "to_unit_name": '"event"."to_unit_name"',
    "from_executor_name": '"event"."from_executor_name"',
    "to_executor_name": '"event"."to_executor_name"',
    "public_note": '"event"."public_note"',
}
_LETTER_FIELDS = ("id", "number", "registered_on", "status", "due_on", "extended")
_LETTER_FIELDS += ("status_changed_at", "body_name", "unit_name", "executor_name")
_LETTER_FIELDS += ("executor_phone",)


def lookup_sql(dialect: str, *, by_id: bool) -> str:
    """The lookup's one statement (issue 12: one round trip for what the page shows): the
    letter found by (body, number key, registration date, applicant) — or by (id,
    applicant) — left-joined to its body, unit, executor and attachments, UNION ALL its
    public history, found by the same condition. Each part leaves the other's columns NULL.
    Both parts read by indexes only: the letter's unique key or primary key, then the
    foreign keys' indexes. Parameters: `?1`… on SQLite, `$1`… on PostgreSQL (each used by
    both parts)."""
    if dialect == "sqlite":
        mark = "?"
    elif dialect == "postgres":
        mark = "$"
    else:
        raise ValueError(f"no lookup statement for {dialect}")
    names = ("id",) if by_id else ("body_id", "number_key", "registered_on")
    where = " AND ".join(
        f'"letter"."{name}"={mark}{number}'
        for number, name in enumerate((*names, "applicant_id"), start=1)
    )
    letter_columns = ",".join(
        [*(f'{column} "{alias}"' for alias, column in _LETTER_PART.items())]
        + [f'NULL "{alias}"' for alias in _EVENT_PART]
    )
    event_columns = ",".join(["NULL"] * len(_LETTER_PART) + list(_EVENT_PART.values()))
    # Only this module's constants and numbered placeholders go into the text.
    return (
        f'SELECT {letter_columns} FROM "letter"'  # noqa: S608
        ' LEFT OUTER JOIN "customs_body" "body" ON "body"."id"="letter"."body_id"'
        ' LEFT OUTER JOIN "structural_unit" "unit" ON "unit"."id"="letter"."unit_id"'
        ' LEFT OUTER JOIN "executor" "executor" ON "executor"."id"="letter"."executor_id"'
        ' LEFT OUTER JOIN "letter_attachment" "attachment"'
        ' ON "attachment"."letter_id"="letter"."id"'
        f" WHERE {where}"
        f' UNION ALL SELECT {event_columns} FROM "letter"'
        ' JOIN "letter_event" "event" ON "event"."letter_id"="letter"."id"'
        f" WHERE {where}"
    )


_lookup_statements: dict[tuple[str, bool], str] = {}

# Where each value is in a row of `lookup_sql` (its columns in `_LETTER_PART`, then
# `_EVENT_PART`): rows are read by position, the driver's own row (sqlite3.Row, asyncpg's
# Record), not copied into dicts.
_COLUMNS = (*_LETTER_PART, *_EVENT_PART)
_ID, _NUMBER, _REGISTERED_ON, _STATUS, _DUE_ON, _EXTENDED, _STATUS_CHANGED_AT = (
    _COLUMNS.index(name) for name in _LETTER_FIELDS[:7]
)
_BODY, _UNIT, _EXECUTOR, _PHONE = (_COLUMNS.index(name) for name in _LETTER_FIELDS[7:])
_FILE_ID, _FILE_NAME, _FILE_SIZE = (_COLUMNS.index(name) for name in _LETTER_PART if "file" in name)
# A PublicEvent's fields, in its order, are the event part's columns in theirs.
_EVENT_ID, _AT, _TO_STATUS, _FROM_UNIT, _TO_UNIT, _FROM_EXECUTOR, _TO_EXECUTOR, _NOTE = (
    _COLUMNS.index(name) for name in _EVENT_PART
)


class _ByValue(dict):
    """The ORM's converter of a column as a dict lookup for the values a lookup meets (a
    status's text, SQLite's 0/1, PostgreSQL's bool); any other value goes to the converter
    itself, so the answer (or the error) is the ORM's."""

    def __init__(self, convert: Callable[[Any], Any], values: Iterable[Any]) -> None:
        super().__init__((value, convert(value)) for value in values)
        self.convert = convert

    def __missing__(self, value: Any) -> Any:
        return self.convert(value)


def _field(model: type[Model], name: str) -> Callable[[Any], Any]:
    return model._meta.fields_map[name].to_python_value


# The columns the database returns as something else than the page's type (SQLite's text
# dates, 0/1 booleans; status text), converted as the ORM converts them. A status's text
# finds its member (a StrEnum member is equal to its value); False == 0 and True == 1.
_LETTER_STATUS = _ByValue(_field(Letter, "status"), [*LetterStatus, None])
_EVENT_STATUS = _ByValue(_field(LetterEvent, "to_status"), [*LetterStatus, None])
_EXTENDED_VALUE = _ByValue(_field(Letter, "extended"), (0, 1, None))
_orm_registered_on = _field(Letter, "registered_on")
_orm_due_on = _field(Letter, "due_on")
_orm_status_changed_at = _field(Letter, "status_changed_at")
_orm_at = _field(LetterEvent, "at")


def _date(value: Any, orm: Callable[[Any], Any]) -> Any:
    """`DateField.to_python_value`: PostgreSQL's date as it is; SQLite's ISO text parsed by
    `fromisoformat` (in C; the ORM's `iso8601` parser is Python); anything else, or text
    `fromisoformat` refuses, converted by the ORM."""
    kind = value.__class__
    if kind is date:
        return value
    if kind is str:
        with suppress(ValueError):
            return date.fromisoformat(value)
    return orm(value)


def _aware(value: Any, zone: tzinfo, orm: Callable[[Any], Any]) -> Any:
    """`DatetimeField.to_python_value` with `use_tz` (the app's setting): an aware value
    moved to the ORM's time zone, a naive one taken to be in it. PostgreSQL gives datetimes,
    SQLite ISO text (parsed by `fromisoformat`); anything else goes to the ORM."""
    kind = value.__class__
    if kind is str:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return orm(value)
    elif kind is not datetime:
        return orm(value)
    if value.utcoffset() is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def _orm_aware(value: Any, zone: tzinfo | None, orm: Callable[[Any], Any]) -> Any:
    return orm(value)  # without use_tz (not the app's setting): the ORM's naive datetimes


_event_order = attrgetter("at", "id")
_file_order = attrgetter("id")


async def _looked_up(by_id: bool, params: list[Any]) -> TrackedLetter | None:
    # The connection the ORM would choose (a transaction's own inside one).
    db = router.db_for_read(Letter) or Letter._meta.db
    key = (db.capabilities.dialect, by_id)
    sql = _lookup_statements.get(key)
    if sql is None:
        sql = _lookup_statements[key] = lookup_sql(key[0], by_id=by_id)
    _count, rows = await db.execute_query(sql, params)
    if not rows:
        return None
    if get_use_tz():
        aware, zone = _aware, get_default_timezone()  # the ORM's, read as it reads them
    else:
        aware, zone = _orm_aware, None
    letter = None
    files = []
    events = []
    for row in rows:
        if row[_EVENT_ID] is None:
            if letter is None:
                letter = row
            if row[_FILE_ID] is not None:  # None: the left join's row of a letter without files
                files.append(AttachedFile(row[_FILE_ID], row[_FILE_NAME], row[_FILE_SIZE]))
        else:
            events.append(
                PublicEvent(
                    row[_EVENT_ID],
                    aware(row[_AT], zone, _orm_at),
                    _EVENT_STATUS[row[_TO_STATUS]],
                    row[_FROM_UNIT],
                    row[_TO_UNIT],
                    row[_FROM_EXECUTOR],
                    row[_TO_EXECUTOR],
                    row[_NOTE],
                )
            )
    if letter is None:  # events without their letter: cannot be (the same condition)
        return None
    if len(files) > 1:
        files.sort(key=_file_order)
    if len(events) > 1:
        events.sort(key=_event_order, reverse=True)  # the model's order
    return TrackedLetter(
        id=letter[_ID],
        number=letter[_NUMBER],
        registered_on=_date(letter[_REGISTERED_ON], _orm_registered_on),
        body_name=letter[_BODY],
        unit_name=letter[_UNIT],
        executor_name=letter[_EXECUTOR],
        executor_phone=letter[_PHONE],
        status=_LETTER_STATUS[letter[_STATUS]],
        due_on=_date(letter[_DUE_ON], _orm_due_on),
        extended=_EXTENDED_VALUE[letter[_EXTENDED]],
        status_changed_at=aware(letter[_STATUS_CHANGED_AT], zone, _orm_status_changed_at),
        attachments=tuple(files),
        history=tuple(events),
    )


async def track_letter(
    person: Person, body_id: int | None, number: str, registered_on: date | None
) -> TrackedLetter | None:
    """The letter only when body, number, date and applicant all match; otherwise None,
    whichever part was wrong (one statement either way)."""
    if body_id is None or registered_on is None:
        return None
    number_key = normalize_number(number)[:40]
    return await _looked_up(False, [body_id, number_key, registered_on, person.id])


async def tracked_letter(person: Person, letter_id: int) -> TrackedLetter | None:
    """The person's own letter by its id (the tracking page's address), else None."""
    return await _looked_up(True, [letter_id, person.id])


async def letter_of(person: Person, letter_id: int) -> Letter | None:
    return (
        await Letter.filter(id=letter_id, applicant_id=person.id)
        .select_related("body", "unit", "executor")
        .first()
    )


async def letters_of(person: Person) -> list[Letter]:
    return await Letter.filter(applicant_id=person.id).select_related("body")


async def public_history(letter: Letter) -> list[LetterEvent]:
    """Newest first. Callers show `public_note` only, never `internal_note`."""
    return await LetterEvent.filter(letter_id=letter.id).order_by("-at", "-id")


async def attachment_bytes_of(person: Person, connection: BaseDBAsyncClient | None = None) -> int:
    """Bytes of the attachments of a person's appeals (their upload quota counts these)."""
    sizes = (
        await LetterAttachment.filter(letter__applicant_id=person.id)
        .using_db(connection)
        .values_list("size", flat=True)
    )
    return sum(sizes)


async def attachments_of(letter: Letter) -> list[LetterAttachment]:
    return await LetterAttachment.filter(letter_id=letter.id).order_by("id")


async def attachment_of(letter: Letter | None, attachment_id: int) -> LetterAttachment | None:
    if letter is None:
        return None
    return await LetterAttachment.get_or_none(id=attachment_id, letter_id=letter.id)


async def active_bodies() -> list[CustomsBody]:
    return await CustomsBody.filter(is_active=True).order_by("position", "id")


# --- the staff registry -----------------------------------------------------------------


@dataclass(frozen=True)
class RegistryFilter:
    body_id: int | None = None
    unit_id: int | None = None
    executor_id: int | None = None
    status: LetterStatus | None = None
    overdue: bool = False


async def registry_list(
    filters: RegistryFilter,
    today: date,
    page: int = 1,
    visible: QuerySet[Letter] | None = None,
) -> Page:
    """One page of the registry within `visible` (see `access.visible_letters`), newest
    first."""
    query = visible if visible is not None else Letter.all()
    if filters.body_id:
        query = query.filter(body_id=filters.body_id)
    if filters.unit_id:
        query = query.filter(unit_id=filters.unit_id)
    if filters.executor_id:
        query = query.filter(executor_id=filters.executor_id)
    if filters.status:
        query = query.filter(status=filters.status)
    if filters.overdue:
        query = query.filter(due_on__lt=today).exclude(status__in=list(FINAL_STATUSES))
    return await page_of(
        query,
        page,
        REGISTRY_PAGE_SIZE,
        lambda rows: rows.select_related("body", "unit", "executor").order_by(
            "-registered_at", "-id"
        ),
    )


@dataclass(frozen=True)
class RegistryChoices:
    bodies: list[CustomsBody]
    units: list[StructuralUnit]
    executors: list[Executor]


async def registry_choices() -> RegistryChoices:
    """What the registry's filters offer."""
    return RegistryChoices(
        bodies=await CustomsBody.all().order_by("position", "id"),
        units=await StructuralUnit.filter(is_active=True).select_related("body"),
        executors=await Executor.filter(is_active=True).select_related("body", "unit"),
    )


async def forward_choices(letter: Letter) -> tuple[list[StructuralUnit], list[Executor]]:
    """The active units and executors of the letter's body (where it may be forwarded)."""
    units = await StructuralUnit.filter(body_id=letter.body_id, is_active=True)
    executors = await Executor.filter(body_id=letter.body_id, is_active=True).select_related("unit")
    return units, executors


async def letters_by_fin(fin: str) -> list[Letter]:
    """The call centre's search: every letter of the applicant with this FIN (by the FIN
    typed on paper letters, or by their account). Raises `Rejected` for a malformed FIN."""
    fin = fin.strip().upper()
    if not is_fin(fin):
        raise Rejected(Problem("fin_invalid", "fin"))
    person = await Person.get_or_none(fin=fin)
    condition = Q(applicant_fin=fin)
    if person is not None:
        condition = condition | Q(applicant_id=person.id)
    return (
        await Letter.filter(condition)
        .select_related("body", "unit", "executor")
        .order_by("-registered_at", "-id")
    )


async def staff_letter(letter_id: int, visible: QuerySet[Letter] | None = None) -> Letter | None:
    """The letter when it is within `visible` (see `access.visible_letters`), else None."""
    query = visible if visible is not None else Letter.all()
    return await query.filter(id=letter_id).select_related("body", "unit", "executor").first()


@dataclass(frozen=True)
class StaffAction:
    """Who acts on a letter, and the notes they leave (the public one reaches the applicant,
    the internal one stays with staff)."""

    actor: Person
    public_note: str = ""
    internal_note: str = ""
    now: datetime | None = None


async def _record(
    letter: Letter,
    action: StaffAction,
    *,
    to_status: LetterStatus,
    unit: StructuralUnit | None = None,
    executor: Executor | None = None,
    move: bool = False,
    due_on: date | None = None,
) -> LetterEvent:
    """Change the letter and write the event (who, when, from, to) in one transaction, then
    queue the applicant's notice.

    The change is a compare-and-set on what the member of staff saw (status, unit, executor,
    extension): if someone else changed the letter meanwhile, nothing is written and they are
    asked to look again. Only the changed columns are written, never the whole row (a
    citizen's lookup may link the applicant at the same moment)."""
    now = localtime(action.now or utcnow())
    from_status = LetterStatus(letter.status)
    from_unit = letter.unit.name if letter.unit_id and letter.unit else ""
    from_executor = letter.executor.full_name if letter.executor_id and letter.executor else ""
    changes: dict = {"status": to_status, "status_changed_at": now}
    if move:
        changes.update(
            unit_id=unit.id if unit else None, executor_id=executor.id if executor else None
        )
    if due_on is not None:
        changes.update(due_on=due_on, extended=True)
    async with in_transaction() as connection:
        updated = (
            await Letter.filter(
                id=letter.id,
                status=from_status,
                unit_id=letter.unit_id,
                executor_id=letter.executor_id,
                extended=letter.extended,
            )
            .using_db(connection)
            .update(**changes)
        )
        if not updated:
            raise LetterError(Problem("changed_meanwhile", "letter"))
        if move:
            letter.unit, letter.executor = unit, executor
        for name, value in changes.items():
            if not name.endswith("_id"):
                setattr(letter, name, value)
        event = await LetterEvent.create(
            letter=letter,
            at=now,
            actor=action.actor,
            actor_name=action.actor.full_name,
            from_status=from_status,
            to_status=to_status,
            from_unit_name=from_unit,
            to_unit_name=(unit.name if unit else "") if move else from_unit,
            from_executor_name=from_executor,
            to_executor_name=(executor.full_name if executor else "") if move else from_executor,
            public_note=action.public_note,
            internal_note=action.internal_note,
            using_db=connection,
        )
        await notifications.notify_letter(letter, notifications.CHANGED, now, connection)
    return event


def _check_open(letter: Letter) -> None:
    if is_final(letter):
        raise LetterError(Problem("letter_closed", "letter"))


async def forward(
    letter: Letter, action: StaffAction, *, unit_id: int | None, executor_id: int | None
) -> LetterEvent:
    """Send the letter to a unit and executor of its own body."""
    unit = await StructuralUnit.get_or_none(id=unit_id or 0, body_id=letter.body_id, is_active=True)
    executor = await Executor.get_or_none(
        id=executor_id or 0, body_id=letter.body_id, is_active=True
    )
    problems = [Problem("unit_missing", "unit")] if unit is None else []
    if executor is None:
        problems.append(Problem("executor_missing", "executor"))
    if problems:
        raise LetterError(*problems)
    _check_open(letter)
    return await _record(
        letter,
        action,
        to_status=LetterStatus.SENT_TO_EXECUTOR,
        unit=unit,
        executor=executor,
        move=True,
    )


async def change_status(
    letter: Letter, action: StaffAction, *, status: LetterStatus | str
) -> LetterEvent:
    if status not in {settable.value for settable in SETTABLE_STATUSES}:
        raise LetterError(Problem("status_missing", "status"))
    _check_open(letter)
    if status == letter.status:
        raise LetterError(Problem("status_unchanged", "status"))
    return await _record(letter, action, to_status=LetterStatus(status))


async def extend(
    letter: Letter, action: StaffAction, *, working_days: int | None, max_working_days: int
) -> LetterEvent:
    """Move the due date once, by at most `max_working_days` working days."""
    if working_days is None:
        raise LetterError(Problem("days_missing", "days"))
    _check_open(letter)
    if letter.extended:
        raise LetterError(Problem("already_extended", "days"))
    if not 1 <= working_days <= max_working_days:
        raise LetterError(Problem("days_out_of_range", "days", {"max": max_working_days}))
    return await _record(
        letter,
        action,
        to_status=LetterStatus.EXTENDED,
        due_on=add_working_days(letter.due_on, working_days),
    )


# --- customs bodies and their units (administrators) -------------------------------------


async def bodies_with_units() -> list[CustomsBody]:
    return await CustomsBody.all().order_by("position", "id").prefetch_related("units")


async def body_by_id(body_id: int) -> CustomsBody | None:
    return await CustomsBody.get_or_none(id=body_id)


async def units_of(body: CustomsBody) -> list[StructuralUnit]:
    return await StructuralUnit.filter(body=body).order_by("name", "id")


async def unit_by_id(unit_id: int) -> StructuralUnit | None:
    return await StructuralUnit.get_or_none(id=unit_id).select_related("body")


def _named(name: str, missing: str) -> None:
    if not name:
        raise Rejected(Problem(missing, "name"))


async def _saved(save, taken: str) -> None:
    """Run an insert or update that a unique name may refuse."""
    try:
        await save
    except IntegrityError:
        raise Rejected(Problem(taken, "name")) from None


async def add_body(name: str) -> CustomsBody:
    """A new customs body, listed after the others."""
    _named(name, "body_name_missing")
    last = await CustomsBody.all().order_by("-position").first()
    body = CustomsBody(name=name, position=(last.position if last else 0) + 10)
    await _saved(body.save(), "body_name_taken")
    return body


async def update_body(body: CustomsBody, name: str, *, active: bool) -> None:
    _named(name, "body_name_missing")
    body.name, body.is_active = name, active
    await _saved(body.save(), "body_name_taken")


async def add_unit(body: CustomsBody, name: str) -> StructuralUnit:
    _named(name, "unit_name_missing")
    unit = StructuralUnit(body=body, name=name)
    await _saved(unit.save(), "unit_name_taken")
    return unit


async def update_unit(unit: StructuralUnit, name: str, *, active: bool) -> None:
    _named(name, "unit_name_missing")
    unit.name, unit.is_active = name, active
    await _saved(unit.save(), "unit_name_taken")
