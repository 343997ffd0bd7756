"""The notifications outbox.

Every notice is first stored as a `Notification` row, in the same transaction as the
change it reports, so none is lost. The Bildirişlər page shows the rows; when SMTP is
configured (`SMTP_HOST`), `deliver_pending` e-mails the pending ones (in the outbox worker,
`python -m web worker`, `web/worker.py`). A failed send is
retried with exponential backoff (1, 2, 4 … minutes, at most 6 hours apart) for ever: the
row keeps its attempts, next attempt and last error, and never leaves the outbox. A row is
claimed before sending (`claim`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, compare-and-set on
SQLite), so several workers never send the same notice twice at the same time.

Delivery is at least once (a crash after the server accepted a message sends it again), so
every notice carries a stable `Message-ID` (`message_id`): mail systems drop the copy.
After an outage the backlog does not wait out its backoff: while notices wait, the loop
tries the one waiting longest each round, and once a message goes through every waiting
notice is due again (`_end_backoff`), so all go out within one interval of the server's
return.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

import structlog
from tortoise.queryset import QuerySet
from tortoise.timezone import localtime
from tortoise.transactions import in_transaction

from models.letters import EmailStatus, Letter, LetterStatus, Notification
from web.letters.status import status_label, status_label_in
from web.platform.i18n import lazy_gettext as _l
from web.platform.portal_time import utcnow
from web.settings import Settings

log = structlog.get_logger("egomruk.notifications")

ACCEPTED = "letter_accepted"
CHANGED = "letter_changed"

SUBJECTS = {
    ACCEPTED: _l("Your appeal was accepted: %(number)s"),
    CHANGED: _l("Your letter %(number)s: %(status)s"),
}
BODIES = {
    ACCEPTED: _l(
        "Your appeal to %(body)s was registered on %(date)s with the number %(number)s. "
        "Use this number and date to follow it on e-Gömrük."
    ),
    CHANGED: _l("The state of your letter %(number)s of %(date)s to %(body)s is now: %(status)s."),
}
EMAIL_LANGUAGE = "az"
CLAIM_SECONDS = 300
MAX_BACKOFF = timedelta(hours=6)
BATCH_SIZE = 50


def _params(letter: Letter) -> dict[str, str]:
    return {
        "number": letter.number,
        "date": letter.registered_on.strftime("%d.%m.%Y"),
        "body": letter.body.name,
        "status": LetterStatus(letter.status).value,
    }


def render(kind: str, params: dict[str, Any], language: str | None = None) -> tuple[str, str]:
    """Subject and text of a notice, in `language` (default: the request's)."""
    values = dict(params)
    if "status" in values:
        values["status"] = (
            status_label_in(values["status"], language)
            if language
            else status_label(values["status"])
        )
    subject, body = SUBJECTS[kind], BODIES[kind]
    if language:
        return subject.in_language(language) % values, body.in_language(language) % values
    return str(subject) % values, str(body) % values


async def notify_letter(letter: Letter, kind: str, now: datetime, connection=None) -> Notification:
    """Store the applicant's notice about `letter` (inside the caller's transaction)."""
    await letter.fetch_related("body", using_db=connection)
    params = _params(letter)
    subject, body = render(kind, params, EMAIL_LANGUAGE)
    email = letter.applicant_email or None
    return await Notification.create(
        recipient_id=letter.applicant_id,
        letter_id=letter.id,
        kind=kind,
        params=params,
        email_to=email,
        subject=subject[:300],
        body=body,
        created_at=localtime(now),
        email_status=EmailStatus.PENDING if email else EmailStatus.NO_ADDRESS,
        next_attempt_at=localtime(now) if email else None,
        using_db=connection,
    )


async def notifications_for(person_id: int, limit: int = 100) -> list[Notification]:
    return (
        await Notification.filter(recipient_id=person_id)
        .order_by("-created_at", "-id")
        .limit(limit)
    )


# --- e-mail delivery --------------------------------------------------------------------


class Sender(Protocol):
    async def __call__(self, to: str, subject: str, body: str, message_id: str) -> None: ...


def message_id(notice: Notification, domain: str) -> str:
    """The notice's own Message-ID, the same at every attempt. The creation time keeps
    it unique if the ids of a rebuilt database start again from 1."""
    created = localtime(notice.created_at).strftime("%Y%m%d%H%M%S")
    return f"<notice-{notice.id}.{created}@{domain}>"


def smtp_sender(settings: Settings) -> Sender:
    import aiosmtplib

    async def send(to: str, subject: str, body: str, message_id: str) -> None:
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message.set_content(body)
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=30,
        )

    return send


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4 … minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


async def deliver_pending(
    send: Sender,
    now: Callable[[], datetime] = utcnow,
    batch_size: int = BATCH_SIZE,
    *,
    domain: str = "e-gomruk.local",
    probe_when_idle: bool = False,
) -> tuple[int, int]:
    """Send the notices that are due; returns (sent, failed) for this pass.

    `probe_when_idle` (the delivery loop): when nothing is due but notices wait out a
    backoff, try the one waiting longest, to notice a mail server that came back.
    """
    moment = localtime(now())
    rows = await claim_due(moment, batch_size)
    if not rows and probe_when_idle:
        rows = await claim(_waiting().order_by("next_attempt_at", "id"), moment, 1)
    sent, failed = await _send_each(rows, send, now, domain)
    if sent and await _end_backoff(moment, keep=failed):
        more_sent, more_failed = await _send_each(
            await claim_due(moment, batch_size), send, now, domain
        )
        sent, failed = sent + more_sent, failed + more_failed
    return len(sent), len(failed)


async def claim_due(moment: datetime, batch_size: int) -> list[Notification]:
    """Claim up to `batch_size` notices that are due, oldest first."""
    due = Notification.filter(email_status=EmailStatus.PENDING, next_attempt_at__lte=moment)
    return await claim(due.order_by("next_attempt_at", "id"), moment, batch_size)


async def claim(candidates: QuerySet, moment: datetime, limit: int) -> list[Notification]:
    """Claim up to `limit` of the `candidates` (pending notices, in order) for this worker:
    `next_attempt_at` moves `CLAIM_SECONDS` ahead (a crash mid-send retries after that),
    `attempts` counts one and the last error is cleared. The rows returned carry the
    attempts count from *before* the claim.

    PostgreSQL: one transaction `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers
    take disjoint rows without waiting on each other. SQLite (one writer anyway): each row is
    claimed by a compare-and-set UPDATE on `attempts`; a row another worker took is skipped.
    """
    claimed_until = moment + timedelta(seconds=CLAIM_SECONDS)
    changes = {"next_attempt_at": claimed_until, "last_error": ""}
    if Notification._meta.db.capabilities.dialect == "postgres":
        async with in_transaction() as connection:
            rows = (
                await candidates.limit(limit)
                .select_for_update(skip_locked=True)
                .using_db(connection)
            )
            for row in rows:
                await (
                    Notification.filter(id=row.id)
                    .using_db(connection)
                    .update(attempts=row.attempts + 1, **changes)
                )
        return list(rows)
    claimed = []
    for row in await candidates.limit(limit):
        if await Notification.filter(
            id=row.id, email_status=EmailStatus.PENDING, attempts=row.attempts
        ).update(attempts=row.attempts + 1, **changes):
            claimed.append(row)
    return claimed


def _waiting():
    """Notices waiting out a backoff after a failure (a claimed one has no last error)."""
    return Notification.filter(email_status=EmailStatus.PENDING).exclude(last_error="")


async def _end_backoff(moment: datetime, keep: list[int]) -> int:
    """A message just went through: the mail server is back, every waiting notice is due,
    except those that failed in this same pass (they failed for reasons of their own)."""
    waiting = _waiting().filter(next_attempt_at__gt=moment).exclude(id__in=keep)
    return await waiting.update(next_attempt_at=moment)


async def _send_each(
    rows: list[Notification], send: Sender, now: Callable[[], datetime], domain: str
) -> tuple[list[int], list[int]]:
    """Send each claimed row; the ids (sent, failed)."""
    sent: list[int] = []
    failed: list[int] = []
    for row in rows:
        try:
            await send(row.email_to, row.subject, row.body, message_id(row, domain))
        except Exception as exc:  # any failure: keep the notice and try again later
            failed.append(row.id)
            await Notification.filter(id=row.id).update(
                next_attempt_at=localtime(now()) + backoff(row.attempts + 1),
                last_error=f"{type(exc).__name__}: {exc}"[:1000],
            )
            log.warning("notification_failed", id=row.id, attempts=row.attempts + 1)
        else:
            sent.append(row.id)
            await Notification.filter(id=row.id).update(
                email_status=EmailStatus.SENT, sent_at=localtime(now()), last_error=""
            )
    return sent, failed


async def delivery_loop(
    send: Sender,
    interval_seconds: float,
    stop: asyncio.Event | None = None,
    domain: str = "e-gomruk.local",
) -> None:
    """Run `deliver_pending` every `interval_seconds` until cancelled (app lifespan)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await deliver_pending(send, domain=domain, probe_when_idle=True)
        except Exception:  # the database may be briefly away: try again next round
            log.exception("notification_delivery_error")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
