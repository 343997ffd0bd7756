"""Form plumbing shared by every page with a form: parsing and error lists.

Errors are kept as `{field_id: message}`; templates feed them to the components'
`error_message` and to the error summary, whose links point at the field ids.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def field(data: dict[str, Any], name: str, max_length: int = 1000) -> str:
    """A trimmed text value; over-long input is cut rather than trusted."""
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()[:max_length]


def error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    return [{"text": message, "href": f"#{field_id}"} for field_id, message in errors.items()]


def invalid_form(template_name: str, errors: dict[str, str], /, **context: Any) -> Template:
    """The form again, status 422, with the typed values (in `context`) and the errors
    both at the fields and in the summary."""
    return Template(
        template_name,
        context={**context, "errors": errors, "error_list": error_list(errors)},
        status_code=422,
    )


def date_parts(data: Any, name: str) -> dict[str, str]:
    """The day, month and year typed into a `date_input` named `name`."""
    return {part: field(data, f"{name}-{part}", 4) for part in ("day", "month", "year")}


def parse_date(parts: dict[str, str]) -> date | None:
    """A real calendar date from `date_parts`, or None."""
    try:
        day, month, year = (int(parts[key]) for key in ("day", "month", "year"))
        if year < 1900 or year > 2999:
            return None
        return date(year, month, day)
    except (KeyError, ValueError):
        return None
