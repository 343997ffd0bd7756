"""The one Jinja2 environment: page templates, components and translations."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from web import i18n

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
COMPONENTS_DIR = WEB_DIR.parent / "components"
BAKU = ZoneInfo("Asia/Baku")


def local_date(value: date | datetime | None) -> str:
    """dd.mm.yyyy, as Azerbaijani documents write dates (Baku time for datetimes)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(BAKU).date()
    return value.strftime("%d.%m.%Y")


def local_datetime(value: datetime | None) -> str:
    """dd.mm.yyyy HH:MM in Baku time."""
    return value.astimezone(BAKU).strftime("%d.%m.%Y %H:%M") if value else ""


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(TEMPLATES_DIR), str(COMPONENTS_DIR)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.raw_gettext, ngettext=i18n.raw_ngettext, newstyle=True
    )
    env.globals["get_language"] = i18n.get_language
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    env.filters["localdate"] = local_date
    env.filters["localdatetime"] = local_datetime
    env.filters["filesize"] = i18n.format_size
    env.filters["day"] = i18n.format_date
    env.filters["moment"] = i18n.format_datetime
    return env
