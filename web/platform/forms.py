"""Form plumbing shared by every page with a form: parsing, domain problems, error lists.

Services know no forms: they report what is wrong as `Problem`s (a code and the input it is
about) or raise `Rejected`. The edge (a routes module) words them with its own table of
`{code: message}` through `form_errors`, the same way for every form. Errors are then kept as
`{field_id: message}`; templates feed them to the components' `error_message` and to the
error summary, whose links point at the field ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from web.platform.health import RETRY_AFTER_SECONDS
from web.platform.i18n import lazy_gettext as _l
from web.platform.text_input import clean_text, whole_number

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def field(data: Any, name: str, max_length: int = 1000, *, multiline: bool = False) -> str:
    """A form or query value, normalised by `clean_text` (NFC, no control or bidi characters,
    trimmed); over-long input is cut rather than trusted. `multiline` keeps line breaks."""
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    if not isinstance(value, str):  # a file sent where text was expected
        value = ""
    return clean_text(value, max_length, multiline=multiline)


@dataclass(frozen=True)
class Problem:
    """One rule broken by the input or the object's state, in the domain's words: `code`
    names the rule, `input` the value it is about, `params` fill the edge's message."""

    code: str
    input: str
    params: Mapping[str, object] = dataclass_field(default_factory=dict)


class Rejected(Exception):
    """A service refuses an action; `problems` say why (the edge words them)."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__(", ".join(problem.code for problem in problems))
        self.problems = problems


def form_errors(
    problems: Iterable[Problem],
    messages: Mapping[str, Any],
    field_ids: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`{field_id: message}` from a service's problems: `messages` maps each code to its
    (lazy) translatable text, `field_ids` an input to its field id when they differ. The
    first problem of an input wins. A problem with `parts` (from `read_date`) becomes a
    `DateError` marking those fields."""
    errors: dict[str, str] = {}
    for problem in problems:
        field_id = (field_ids or {}).get(problem.input, problem.input)
        text = str(messages[problem.code])
        text = text % dict(problem.params) if problem.params else text
        if "parts" in problem.params:  # a three-field date's problem marks these fields
            text = DateError(text, problem.params["parts"])
        errors.setdefault(field_id, text)
    return errors


def error_list(errors: dict[str, str], date_fields: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The error summary's links. A three-field `date_input` is reached through its first field
    in error (a `DateError` knows which), else its day field."""

    def anchor(field_id: str, message: str) -> str:
        if isinstance(message, DateError):
            return f"#{field_id}-{message.parts[0]}"
        return f"#{field_id}-day" if field_id in date_fields else f"#{field_id}"

    return [
        {"text": message, "href": anchor(field_id, message)} for field_id, message in errors.items()
    ]


def invalid_form(
    template_name: str,
    errors: dict[str, str],
    /,
    *,
    date_fields: tuple[str, ...] = (),
    retry_later: bool = False,
    **context: Any,
) -> Template:
    """The form again, status 422, with the typed values (in `context`) and the errors
    both at the fields and in the summary. `retry_later`: nothing was wrong with the form
    but the server could not save it now (503 with Retry-After, like the outage page)."""
    return Template(
        template_name,
        context={**context, "errors": errors, "error_list": error_list(errors, date_fields)},
        status_code=503 if retry_later else 422,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)} if retry_later else None,
    )


def date_parts(data: Any, name: str) -> dict[str, str]:
    """The day, month and year typed into a `date_input` named `name`."""
    return {part: field(data, f"{name}-{part}", 4) for part in ("day", "month", "year")}


EARLIEST_YEAR, LATEST_YEAR = 1900, 2999  # outside these a typed year is a typo
DATE_PARTS = ("day", "month", "year")


class DateError(str):
    """A three-field date's error message that knows which of its fields to mark (GOV.UK:
    a missing year marks the year only). `date_input` and `error_list` read `.parts`."""

    parts: tuple[str, ...]

    def __new__(cls, message: str, parts: tuple[str, ...] = DATE_PARTS) -> DateError:
        error = super().__new__(cls, message)
        error.parts = parts
        return error


# The words for `read_date`'s problems; a form adds the code it passes as `missing`.
DATE_MESSAGES = {
    "date_missing_day": _l("The date must include a day"),
    "date_missing_month": _l("The date must include a month"),
    "date_missing_year": _l("The date must include a year"),
    "date_missing_day_month": _l("The date must include a day and a month"),
    "date_missing_day_year": _l("The date must include a day and a year"),
    "date_missing_month_year": _l("The date must include a month and a year"),
    "date_not_real": _l("Enter a real date, like 03 11 2026"),
}


def read_date(
    parts: dict[str, str], input: str, *, missing: str
) -> tuple[date | None, Problem | None]:
    """A `date_input`'s date, or its problem (`parts` names the fields to mark): `missing`
    when nothing was typed, `date_missing_<parts>` when some part is missing, `date_not_real`
    when a part is not a real day, month or year."""
    typed = {part: (parts.get(part) or "").strip() for part in DATE_PARTS}
    empty = tuple(part for part in DATE_PARTS if not typed[part])
    if len(empty) == len(DATE_PARTS):
        return None, Problem(missing, input, {"parts": DATE_PARTS})
    if empty:
        return None, Problem("date_missing_" + "_".join(empty), input, {"parts": empty})
    value = date_from_parts(typed)
    if value is not None:
        return value, None
    numbers = {part: whole_number(typed[part], 4) for part in DATE_PARTS}
    wrong = tuple(part for part in DATE_PARTS if numbers[part] is None)
    if not wrong:
        month, year = numbers["month"], numbers["year"]
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:  # type: ignore[operator]
            wrong = ("year",)
        elif not 1 <= month <= 12:  # type: ignore[operator]
            wrong = ("month",)
        else:
            wrong = ("day",)
    return None, Problem("date_not_real", input, {"parts": wrong})


def check_date(parts: dict[str, str], *, missing: str) -> tuple[date | None, DateError | None]:
    """`read_date` worded at once, for a form checked in its routes: `missing` is the
    message when nothing was typed."""
    value, problem = read_date(parts, "date", missing="date_missing")
    if problem is None:
        return value, None
    error = form_errors([problem], {**DATE_MESSAGES, "date_missing": missing})["date"]
    return None, error  # type: ignore[return-value]


def parts_of(value: date) -> dict[str, str]:
    """A date as `date_input` shows it: 03 / 11 / 2026."""
    return {"day": f"{value.day:02}", "month": f"{value.month:02}", "year": str(value.year)}


def date_from_parts(parts: dict[str, str]) -> date | None:
    """A real calendar date from `date_parts` (the three-field `date_input`), or None."""
    try:
        day, month, year = (whole_number(parts[key], 4) for key in ("day", "month", "year"))
        if day is None or month is None or year is None:
            return None
        if year < EARLIEST_YEAR or year > LATEST_YEAR:
            return None
        return date(year, month, day)
    except (KeyError, ValueError):
        return None


def date_from_text(raw: str) -> date | None:
    """A real calendar date typed into one field: YYYY-MM-DD (what `<input type=date>` sends)
    or DD.MM.YYYY (how dates are written in Azerbaijan, for browsers without a date picker)."""
    raw = raw.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            value = datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        return value if EARLIEST_YEAR <= value.year <= LATEST_YEAR else None
    return None
