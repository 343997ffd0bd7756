"""The portal's clock and calendar, in one place.

DGK works in Asia/Baku: “today”, the days of a search period, registration dates and due
dates are Baku calendar days, and the ORM stores datetimes in that zone too (`web/db.py`).
Dates are shown as Azerbaijani documents write them: 03.11.2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from tortoise import timezone

TIME_ZONE_NAME = "Asia/Baku"
PORTAL_TIME_ZONE = ZoneInfo(TIME_ZONE_NAME)
DATE_FORMAT = "%d.%m.%Y"


def utcnow() -> datetime:
    return datetime.now(UTC)


def today(now: datetime | None = None) -> date:
    """The calendar day in Baku at `now` (default: this moment)."""
    return (now or utcnow()).astimezone(PORTAL_TIME_ZONE).date()


def start_of_day(day: date) -> datetime:
    """Midnight in Baku at the start of `day`."""
    return datetime.combine(day, time.min, tzinfo=PORTAL_TIME_ZONE)


def db_datetime(value: datetime) -> datetime:
    """An aware datetime in the ORM's time zone: SQLite keeps datetimes as ISO text, so a
    filter compares correctly only with the offset Tortoise itself writes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a datetime for the database must be timezone-aware")
    return timezone.localtime(value)


def format_date(value: date | datetime | None) -> str:
    """dd.mm.yyyy (the Baku day for a datetime)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PORTAL_TIME_ZONE).date()
    return value.strftime(DATE_FORMAT)


def format_datetime(value: datetime | None) -> str:
    """dd.mm.yyyy HH:MM in Baku time."""
    return value.astimezone(PORTAL_TIME_ZONE).strftime(DATE_FORMAT + " %H:%M") if value else ""


def format_time(value: datetime | None) -> str:
    """HH:MM:SS in Baku time (for deadlines within minutes)."""
    return value.astimezone(PORTAL_TIME_ZONE).strftime("%H:%M:%S") if value else ""


def machine_datetime(value: datetime | None) -> str:
    """For `<time datetime>`: whole seconds with the offset (HTML allows at most three
    fraction digits, Python's isoformat() writes six)."""
    return value.isoformat(timespec="seconds") if value else ""
