"""Working-day arithmetic for letter due dates.

Saturdays and Sundays are never working days; the other non-working days (public holidays
and the days that replace a holiday falling on a weekend) come from a data file,
`web/platform/data/holidays_az.json`, which is edited each year when the Cabinet of Ministers
publishes its decision. The day a letter is registered is not counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from pathlib import Path

HOLIDAYS_FILE = Path(__file__).resolve().parent / "data" / "holidays_az.json"


@cache
def load_holidays(path: Path = HOLIDAYS_FILE) -> frozenset[date]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(date.fromisoformat(day["date"]) for day in data["days"])


def is_working_day(day: date, holidays: Iterable[date] | None = None) -> bool:
    holidays = load_holidays() if holidays is None else holidays
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, days: int, holidays: Iterable[date] | None = None) -> date:
    """The date `days` working days after `start` (`start` itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    holidays = load_holidays() if holidays is None else frozenset(holidays)
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            remaining -= 1
    return current
