"""Working-day arithmetic, registration numbers and the lookup's number matching."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from web.letters.lookup_limit import allow_lookup
from web.letters.notifications import backoff
from web.letters.service import NUMBER_RE, format_number, normalize_number
from web.platform.working_days import (
    add_working_days,
    is_working_day,
    load_holidays,
)


def test_weekends_are_skipped():
    # Friday 6 Nov 2026 + 1 working day: the weekend and the two holiday days off follow.
    assert add_working_days(date(2026, 11, 6), 1) == date(2026, 11, 11)


def test_demo_letter_is_due_fifteen_working_days_after_registration():
    # 3 Nov 2026: 8 Nov (Sunday, Zəfər günü) moves to Tuesday 10 Nov; 9 Nov is Flag Day.
    assert add_working_days(date(2026, 11, 3), 15) == date(2026, 11, 26)


def test_novruz_and_ramazan_2026_are_not_working_days():
    for day in range(20, 28):
        assert not is_working_day(date(2026, 3, day)), day
    assert not is_working_day(date(2026, 3, 30))  # replaces Novruz falling on Sunday 22 March
    assert add_working_days(date(2026, 3, 19), 1) == date(2026, 3, 31)


def test_across_the_year_end():
    # 31 Dec (solidarity day), 1-2 Jan (New Year), then the weekend of 2-3 Jan 2027 and the
    # day off replacing 2 January (a Saturday).
    assert add_working_days(date(2026, 12, 30), 1) == date(2027, 1, 5)
    assert add_working_days(date(2025, 12, 30), 2) == date(2026, 1, 6)


def test_zero_days_and_counting_back():
    assert add_working_days(date(2026, 11, 3), 0) == date(2026, 11, 3)
    start = date(2026, 1, 10)
    due = add_working_days(start, 30)
    days_after = ((start + timedelta(days=n)) for n in range(1, (due - start).days + 1))
    assert sum(is_working_day(day) for day in days_after) == 30
    with pytest.raises(ValueError):
        add_working_days(start, -1)


def test_holiday_file_covers_2025_to_2027():
    years = {day.year for day in load_holidays()}
    assert {2025, 2026, 2027} <= years
    assert date(2027, 5, 17) in load_holidays()  # Qurban bayramı


def test_an_explicit_holiday_list_is_honoured():
    assert add_working_days(date(2026, 6, 1), 1, holidays={date(2026, 6, 2)}) == date(2026, 6, 3)


def test_number_format():
    assert format_number(1024, 2026) == "M-1024/2026"
    assert format_number(1, 2027) == "M-1/2027"
    assert NUMBER_RE.match(format_number(7, 2026))


def test_numbers_match_ignoring_case_and_surrounding_spaces():
    assert normalize_number("  m-1024/2026 ") == normalize_number("M-1024/2026")
    assert normalize_number("M-1024/2026") != normalize_number("M-1024/2025")


def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(30).total_seconds() == 6 * 3600


async def test_lookup_limit_counts_person_and_address_separately():
    from limits.aio.storage import MemoryStorage

    from web.platform.rate_limits import RateLimits

    limits = RateLimits(MemoryStorage())
    for _ in range(3):
        assert await allow_lookup(limits, person_id=1, address="10.0.0.1", limit=3)
    assert not await allow_lookup(limits, person_id=1, address="10.0.0.2", limit=3)
    # Another person on the first address is refused too: that address used its share.
    assert not await allow_lookup(limits, person_id=2, address="10.0.0.1", limit=3)
    assert await allow_lookup(limits, person_id=2, address="10.0.0.3", limit=3)
    # (Windows sliding over time: tests/integration/test_rate_limits.py.)
