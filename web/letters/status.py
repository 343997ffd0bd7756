"""A letter's states: their labels, which are final, which staff may set by hand.

Its own module so that the service and the notifications outbox both read it without
importing each other."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from models.letters import Letter, LetterStatus
from web.platform.i18n import lazy_gettext as _l

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


def status_label(status: LetterStatus | str) -> str:
    """In the request's language."""
    return str(STATUS_LABELS[LetterStatus(status)])


def status_label_in(status: LetterStatus | str, language: str) -> str:
    return STATUS_LABELS[LetterStatus(status)].in_language(language)


def is_final(letter: Letter) -> bool:
    return LetterStatus(letter.status) in FINAL_STATUSES


class Due(Protocol):
    """A letter or what a page read of one (`service.TrackedLetter`)."""

    status: LetterStatus
    due_on: date


def is_overdue(letter: Due, today: date) -> bool:
    return letter.status not in FINAL_STATUSES and today > letter.due_on
