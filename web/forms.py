"""Form plumbing shared by every page with a form: parsing and error lists.

Errors are kept as `{field_id: message}`; templates feed them to the components'
`error_message` and to the error summary, whose links point at the field ids.
"""

from __future__ import annotations

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
