"""Domain rules of the documents service, without HTTP or a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from web.documents import service as documents
from web.documents.routes import DETAILS_MESSAGES, PERIOD_MESSAGES
from web.platform import portal_time
from web.platform.forms import check_date, date_from_parts, date_from_text, error_list, form_errors
from web.platform.paging import pagination_params
from web.storage.receiving import content_disposition

TODAY = date(2026, 11, 22)


def test_default_period_is_the_last_30_days_including_today():
    period = documents.default_period(TODAY)
    assert (period.start, period.end) == (date(2026, 10, 24), TODAY)
    assert (period.end - period.start).days + 1 == 30


def test_period_bounds_are_baku_midnights_both_days_inclusive():
    first, after = documents.Period(date(2026, 11, 14), date(2026, 11, 14)).bounds
    assert first.astimezone(UTC) == datetime(2026, 11, 13, 20, 0, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 11, 14, 20, 0, tzinfo=UTC)


def test_today_follows_baku_not_utc():
    assert portal_time.today(datetime(2026, 11, 21, 19, 59, tzinfo=UTC)) == date(2026, 11, 21)
    assert portal_time.today(datetime(2026, 11, 21, 20, 0, tzinfo=UTC)) == date(2026, 11, 22)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-03", date(2026, 11, 3)),
        ("03.11.2026", date(2026, 11, 3)),
        (" 2026-11-03 ", date(2026, 11, 3)),
        ("2026-02-29", None),
        ("31.04.2026", None),
        ("1899-01-01", None),
        ("3000-01-01", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_dates_must_be_real(raw, expected):
    assert date_from_text(raw) == expected


def parts(text: str) -> dict[str, str]:
    day, month, year = [*text.split("."), "", "", ""][:3] if text else ("", "", "")
    return {"day": day, "month": month, "year": year}


def test_period_parsing():
    empty = parts("")
    assert documents.parse_period(empty, empty, TODAY) == (documents.default_period(TODAY), [])
    assert documents.parse_period(empty, empty, TODAY, optional=True) == (None, [])
    period, problems = documents.parse_period(parts("01.11.2026"), parts("01.11.2026"), TODAY)
    assert problems == [] and period == documents.Period(date(2026, 11, 1), date(2026, 11, 1))
    _, problems = documents.parse_period(parts("02.11.2026"), parts("01.11.2026"), TODAY)
    assert [(p.code, p.input) for p in problems] == [("period_reversed", "to")]
    _, problems = documents.parse_period(parts("01.13.2026"), empty, TODAY)
    assert [(p.code, p.input) for p in problems] == [
        ("date_not_real", "from"),
        ("to_missing", "to"),
    ]
    assert problems[0].params["parts"] == ("month",)


def test_the_edge_words_the_period_problems_and_marks_the_date_fields():
    empty = parts("")
    _, problems = documents.parse_period(parts("02.11.2026"), parts("01.11.2026"), TODAY)
    errors = form_errors(problems, PERIOD_MESSAGES)
    assert errors == {"to": "Son gün ilk gündən əvvəl ola bilməz"}
    assert errors["to"].parts == ("day", "month", "year")
    assert error_list(errors) == [{"text": errors["to"], "href": "#to-day"}]
    _, problems = documents.parse_period(parts("3.11."), empty, TODAY)
    errors = form_errors(problems, PERIOD_MESSAGES)
    assert errors["from"].parts == ("year",) and errors["from"] == "Tarixdə il olmalıdır"


def test_a_missing_part_of_a_date_is_named_and_marked_alone():
    _, error = check_date({"day": "3", "month": "11", "year": ""}, missing="Enter it")
    assert error == "Tarixdə il olmalıdır" and error.parts == ("year",)
    _, error = check_date({"day": "", "month": "11", "year": ""}, missing="Enter it")
    assert error.parts == ("day", "year")
    _, error = check_date({"day": "", "month": "", "year": ""}, missing="Enter it")
    assert error == "Enter it" and error.parts == ("day", "month", "year")
    _, error = check_date({"day": "31", "month": "02", "year": "2026"}, missing="Enter it")
    assert error.parts == ("day",)
    _, error = check_date({"day": "3", "month": "11", "year": "26"}, missing="Enter it")
    assert error.parts == ("year",)
    assert error_list({"issued_on": error}) == [{"text": error, "href": "#issued_on-year"}]
    value, error = check_date({"day": "3", "month": "11", "year": "2026"}, missing="Enter it")
    assert value == date(2026, 11, 3) and error is None


def test_legacy_single_field_dates_still_open_the_search():
    assert documents.period_parts({"from": "2026-11-01"}, "from") == parts("01.11.2026")
    assert documents.period_parts(
        {"from-day": "2", "from-month": "11", "from-year": "2026"}, "from"
    ) == {"day": "2", "month": "11", "year": "2026"}


def valid(**changes):
    return {
        "kind": "invoice",
        "number": "A-1",
        "issued_on": {"day": "3", "month": "11", "year": "2026"},
        "declaration_number": " 10200010/031126/0001234 ",
        "note": "",
        **changes,
    }


def test_details_are_checked_and_normalised():
    details, problems = documents.validate_details(valid(), TODAY)
    assert problems == []
    assert details.declaration_number == "10200010/031126/0001234"
    assert details.note is None
    _, problems = documents.validate_details(valid(declaration_number=""), TODAY)
    assert problems == []  # optional


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "passport"}, "kind"),
        ({"number": ""}, "number"),
        ({"number": "x" * 101}, "number"),
        ({"issued_on": {"day": "", "month": "", "year": ""}}, "issued_on"),
        ({"issued_on": {"day": "31", "month": "4", "year": "2026"}}, "issued_on"),
        ({"issued_on": {"day": "23", "month": "11", "year": "2026"}}, "issued_on"),  # tomorrow
        ({"declaration_number": "10200010-031126-0001234"}, "declaration_number"),
        ({"note": "ə" * 501}, "note"),
    ],
)
def test_each_field_has_its_error(changes, field):
    details, problems = documents.validate_details(valid(**changes), TODAY)
    assert details is None and [problem.input for problem in problems] == [field]
    assert set(form_errors(problems, DETAILS_MESSAGES)) == {field}  # every code is worded


def test_bounds_of_the_note_and_number():
    _, problems = documents.validate_details(valid(note="ə" * 500, number="x" * 100), TODAY)
    assert problems == []


def test_pagination_shows_ends_neighbours_and_gaps():
    assert pagination_params(1, 1, str) is None
    params = pagination_params(5, 9, lambda n: f"?page={n}")
    numbers = [item.get("number") for item in params["items"]]
    assert numbers == [1, None, 4, 5, 6, None, 9]
    assert params["previous"]["href"] == "?page=4" and params["next"]["href"] == "?page=6"
    assert next(i for i in params["items"] if i.get("current"))["number"] == 5
    assert "previous" not in pagination_params(1, 3, str)


def test_download_names_follow_rfc_6266():
    header = content_disposition('Hesab "17"; <b>.pdf')
    assert header == (
        'attachment; filename="Hesab _17__ _b_.pdf"; '
        "filename*=UTF-8''Hesab%20%2217%22%3B%20%3Cb%3E.pdf"
    )
    assert content_disposition("möhür.png", inline=True).startswith('inline; filename="m_h_r.png"')


def test_three_field_dates():
    assert date_from_parts({"day": "03", "month": "11", "year": "2026"}) == date(2026, 11, 3)
    assert date_from_parts({"day": "29", "month": "2", "year": "2026"}) is None
    assert date_from_parts({"day": "1", "month": "1", "year": "26"}) is None
    assert date_from_parts({"day": "x", "month": "1", "year": "2026"}) is None
