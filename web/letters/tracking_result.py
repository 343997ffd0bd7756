"""The found letter on the tracking page ("Where your letter is"), written by one function.

It is the portal's busiest answer: issue 12 asks that a lookup cost little more than a
health check. As template code it was 35 calls through Jinja's context, 27 dicts and 60
escapes (about 180 µs of a ~650 µs request); here it is one pass of f-strings. The markup is
the same as the page's other branches and the staff pages use: the components are called as
they are everywhere (`back_link`, `summary_list` and `tag` through their Python markup, the
letters' own `due` and `phone_link` macros), only this page's own structure (section,
headings, history) is written here. tests/unit/test_tracking_result.py renders it beside
the template it replaced (kept there as the reference) for letters with and without unit,
executor, files, notes, overdue or extended, in the three languages, and requires the same
bytes.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from models.letters import LetterStatus
from web.letters.service import PublicEvent, TrackedLetter
from web.letters.status import status_label
from web.platform import i18n, portal_time
from web.platform.component_helpers import (
    back_link_markup,
    escaped,
    summary_list_markup,
    tag_markup,
)
from web.platform.i18n import markup_gettext as _


@cache
def _components(environment: Environment) -> SimpleNamespace:
    """The letters' own macros (the staff pages' too), from where every page imports them."""

    def macro(template: str, name: str) -> Any:
        return getattr(environment.get_template(template).module, name)

    return SimpleNamespace(
        due=macro("letters/_macros.html.j2", "due"),
        phone_link=macro("letters/_macros.html.j2", "phone_link"),
    )


_BACK = {
    "href": "/letters?again=1",
    "attributes": {
        "hx-get": "/letters?again=1",
        "hx-target": "#tracking",
        "hx-swap": "outerHTML",
        "hx-push-url": "/letters",
    },
}


def _rows(letter: TrackedLetter, overdue: bool, parts: SimpleNamespace) -> list[dict]:
    unassigned = {"text": _("Not yet assigned")}
    assigned = letter.executor_name is not None
    colour = "green" if letter.status == LetterStatus.ANSWERED else "blue"
    rows = [
        (_("Letter number"), {"text": letter.number}),
        (_("Registration date"), {"text": portal_time.format_date(letter.registered_on)}),
        (_("Customs body"), {"text": letter.body_name}),
        (
            _("Structural unit"),
            {"text": letter.unit_name} if letter.unit_name is not None else unassigned,
        ),
        (_("Executor"), {"text": letter.executor_name} if assigned else unassigned),
        (
            _("Phone"),
            {"html": parts.phone_link(letter.executor_phone)} if assigned else unassigned,
        ),
        (
            _("State of handling"),
            {"html": tag_markup({"text": status_label(letter.status), "colour": colour})},
        ),
        (_("Due date"), {"html": parts.due(letter, overdue)}),
        (_("Last change"), {"text": portal_time.format_datetime(letter.status_changed_at)}),
    ]
    return [{"key": {"text": key}, "value": value} for key, value in rows]


def _attachments(letter: TrackedLetter) -> str:
    if not letter.attachments:
        return ""
    base = escaped(f"/letters/{letter.id}/files")
    items = "".join(
        f'  <li><a href="{base}/{escaped(file.id)}" download>{escaped(file.original_name)}</a>'
        f' <span class="secondary-text">({escaped(i18n.format_size(file.size))})</span></li>\n'
        for file in letter.attachments
    )
    heading = _("Attached files")
    return f'<h2>{heading}</h2>\n<ul class="list">\n{items}</ul>\n'


def _event(event: PublicEvent) -> str:
    moved = event.to_unit_name and (
        event.to_unit_name != event.from_unit_name
        or event.to_executor_name != event.from_executor_name
    )
    unit = ""
    if moved:
        text = _(
            "Unit: %(unit)s. Executor: %(executor)s.",
            unit=event.to_unit_name,
            executor=event.to_executor_name or "—",
        )
        unit = f"      <p>{text}</p>\n"
    # Staff write their notes in Azerbaijani, whatever the reader's language.
    note = f'<p lang="az">{escaped(event.public_note)}</p>' if event.public_note else ""
    machine = escaped(portal_time.machine_datetime(event.at))
    status = escaped(status_label(event.to_status))
    return (
        '    <li class="timeline__item">\n'
        f'      <p class="timeline__when"><time datetime="{machine}">'
        f"{escaped(portal_time.format_datetime(event.at))}</time></p>\n"
        f'      <p class="timeline__what"><strong>{status}</strong></p>\n'
        f"{unit}{note}    </li>\n"
    )


@pass_context
def tracking_result(context: Context, letter: TrackedLetter, overdue: bool) -> Markup:
    """The `<section>` that shows a found letter: where it is, its files, its history."""
    parts = _components(context.environment)
    announce = _("Letter found: %(number)s", number=letter.number)
    history = "".join(map(_event, letter.history))
    # Translated outside the f-string: Babel's extractor cannot see inside one (Python 3.11).
    where, history_heading = _("Where your letter is"), _("History")
    # “Geri” first, as GOV.UK puts a back link: found without scrolling a long result.
    return Markup(  # noqa: S704 - every value escaped here or by the components
        f'<section aria-labelledby="result-heading" data-announce="{announce}">'
        f"{back_link_markup(_BACK)}\n"
        f'  <h1 id="result-heading" tabindex="-1" data-focus-after-swap="always">'
        f"{where}</h1>\n"
        f"  {summary_list_markup({'rows': _rows(letter, overdue, parts)})}\n"
        f"{_attachments(letter)}"
        f"  <h2>{history_heading}</h2>\n"
        '  <ol class="timeline" reversed>\n'
        f"{history}"
        "  </ol>\n"
        "</section>"
    )
