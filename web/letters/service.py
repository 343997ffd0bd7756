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
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet
from tortoise.timezone import localtime
from tortoise.transactions import in_transaction

from models.identity import Person
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
from web.platform.i18n import lazy_gettext as _l
from web.platform.idempotency import AlreadySaved
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

STATUS_LABELS = {
    LetterStatus.REGISTERED: _l("Registered"),
    LetterStatus.SENT_TO_EXECUTOR: _l("Sent to the executor"),
    LetterStatus.IN_PROGRESS: _l("Being handled"),
    LetterStatus.FORWARDED_ELSEWHERE: _l("Sent to another body"),
    LetterStatus.EXTENDED: _l("Deadline extended"),
    LetterStatus.ANSWERED: _l("Answered"),
    LetterStatus.DISMISSED: _l("Closed without consideration"),
}
FINAL_STATUSES = frozenset(
    {LetterStatus.ANSWERED, LetterStatus.DISMISSED, LetterStatus.FORWARDED_ELSEWHERE}
)
# What "change status" offers; forwarding and extending have actions of their own.
SETTABLE_STATUSES = (
    LetterStatus.IN_PROGRESS,
    LetterStatus.FORWARDED_ELSEWHERE,
    LetterStatus.ANSWERED,
    LetterStatus.DISMISSED,
)


class LetterError(Exception):
    """A staff action that the letter's state does not allow (message is translatable)."""

    def __init__(self, message, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    @property
    def text(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class AppealLimitReached(LetterError):
    """The person has sent as many appeals today as one may (APPEALS_PER_DAY)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            _l(
                "You have sent %(max)s appeals today, the most one person may send in a day. "
                "What you wrote is kept below: send it tomorrow, or call %(phone)s."
            ),
            max=limit,
            phone=CALL_CENTRE_PHONE,
        )


def status_label(status: LetterStatus | str) -> str:
    return str(STATUS_LABELS[LetterStatus(status)])


def status_label_in(status: LetterStatus | str, language: str) -> str:
    return STATUS_LABELS[LetterStatus(status)].in_language(language)


def format_number(sequence: int, year: int) -> str:
    return f"{NUMBER_PREFIX}-{sequence}/{year}"


def normalize_number(number: str) -> str:
    """How lookups compare numbers: surrounding spaces and case do not matter."""
    return number.strip().casefold()


def due_date(registered_on: date, working_days: int) -> date:
    return add_working_days(registered_on, working_days)


def is_overdue(letter: Letter, today: date) -> bool:
    return letter.status not in FINAL_STATUSES and today > letter.due_on


def is_final(letter: Letter) -> bool:
    return LetterStatus(letter.status) in FINAL_STATUSES


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
                    letter=letter,
                    storage_key=file.key,
                    filename=file.original_name,
                    content_type=file.content_type,
                    size=file.size,
                    sha256=file.sha256,
                    using_db=connection,
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


async def find_for_applicant(
    person: Person, body_id: int | None, number: str, registered_on: date | None
) -> Letter | None:
    """The letter only when body, number, date and applicant all match; otherwise None,
    whichever part was wrong (one query either way)."""
    if body_id is None or registered_on is None:
        return None
    return (
        await Letter.filter(
            body_id=body_id,
            number_key=normalize_number(number)[:40],
            registered_on=registered_on,
            applicant_id=person.id,
        )
        .select_related("body", "unit", "executor")
        .first()
    )


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
    limit: int = 50,
    offset: int = 0,
    visible: QuerySet[Letter] | None = None,
) -> tuple[list[Letter], int]:
    """One page of the registry within `visible` (see `access.visible_letters`)."""
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
    total = await query.count()
    rows = (
        await query.select_related("body", "unit", "executor")
        .order_by("-registered_at", "-id")
        .offset(offset)
        .limit(limit)
    )
    return rows, total


async def letters_by_fin(fin: str) -> list[Letter]:
    fin = fin.strip().upper()
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


async def _record(
    letter: Letter,
    *,
    actor: Person,
    to_status: LetterStatus,
    now: datetime,
    unit: StructuralUnit | None = None,
    executor: Executor | None = None,
    public_note: str = "",
    internal_note: str = "",
    move: bool = False,
    due_on: date | None = None,
) -> LetterEvent:
    """Change the letter and write the event (who, when, from, to) in one transaction, then
    queue the applicant's notice.

    The change is a compare-and-set on what the member of staff saw (status, unit, executor,
    extension): if someone else changed the letter meanwhile, nothing is written and they are
    asked to look again. Only the changed columns are written, never the whole row (a
    citizen's lookup may link the applicant at the same moment)."""
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
            raise LetterError(
                _l("Someone else changed this letter a moment ago. Look at it again and retry.")
            )
        if move:
            letter.unit, letter.executor = unit, executor
        for name, value in changes.items():
            if not name.endswith("_id"):
                setattr(letter, name, value)
        event = await LetterEvent.create(
            letter=letter,
            at=now,
            actor=actor,
            actor_name=actor.full_name,
            from_status=from_status,
            to_status=to_status,
            from_unit_name=from_unit,
            to_unit_name=(unit.name if unit else "") if move else from_unit,
            from_executor_name=from_executor,
            to_executor_name=(executor.full_name if executor else "") if move else from_executor,
            public_note=public_note,
            internal_note=internal_note,
            using_db=connection,
        )
        await notifications.notify_letter(letter, notifications.CHANGED, now, connection)
    return event


def _check_open(letter: Letter) -> None:
    if is_final(letter):
        raise LetterError(_l("This letter is closed: its status can no longer change."))


async def forward(
    letter: Letter,
    *,
    actor: Person,
    unit: StructuralUnit,
    executor: Executor,
    public_note: str = "",
    internal_note: str = "",
    now: datetime | None = None,
) -> LetterEvent:
    _check_open(letter)
    if unit.body_id != letter.body_id or executor.body_id != letter.body_id:
        raise LetterError(_l("Choose a unit and an executor of the letter's customs body."))
    return await _record(
        letter,
        actor=actor,
        to_status=LetterStatus.SENT_TO_EXECUTOR,
        now=localtime(now or utcnow()),
        unit=unit,
        executor=executor,
        public_note=public_note,
        internal_note=internal_note,
        move=True,
    )


async def change_status(
    letter: Letter,
    *,
    actor: Person,
    status: LetterStatus,
    public_note: str = "",
    internal_note: str = "",
    now: datetime | None = None,
) -> LetterEvent:
    _check_open(letter)
    if status not in SETTABLE_STATUSES:
        raise LetterError(_l("Choose a status from the list."))
    if status == letter.status:
        raise LetterError(_l("The letter already has this status."))
    return await _record(
        letter,
        actor=actor,
        to_status=status,
        now=localtime(now or utcnow()),
        public_note=public_note,
        internal_note=internal_note,
    )


async def extend(
    letter: Letter,
    *,
    actor: Person,
    working_days: int,
    max_working_days: int,
    public_note: str = "",
    internal_note: str = "",
    now: datetime | None = None,
) -> LetterEvent:
    """Move the due date once, by at most `max_working_days` working days."""
    _check_open(letter)
    if letter.extended:
        raise LetterError(_l("The deadline of this letter has already been extended once."))
    if not 1 <= working_days <= max_working_days:
        raise LetterError(_l("Extend by 1 to %(max)s working days."), max=max_working_days)
    return await _record(
        letter,
        actor=actor,
        to_status=LetterStatus.EXTENDED,
        now=localtime(now or utcnow()),
        public_note=public_note,
        internal_note=internal_note,
        due_on=add_working_days(letter.due_on, working_days),
    )
