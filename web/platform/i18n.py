"""Translations: gettext catalogs managed with Babel, one locale per request.

Message ids are English; `web/locales/{az,en,ru}/LC_MESSAGES/messages.po` hold every
user-facing string. The catalogs are compiled in memory at start-up, so a fresh clone
needs no build step. The active locale lives in a context variable that the i18n
middleware sets for each request; templates and Python share it.
"""

from __future__ import annotations

import re
import unicodedata
from contextvars import ContextVar
from datetime import timedelta
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

from babel import Locale
from babel.dates import format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from babel.units import format_unit
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LANGUAGES: dict[str, str] = {"az": "Azərbaycanca", "en": "English", "ru": "Русский"}
DEFAULT_LANGUAGE = "az"
LANGUAGE_COOKIE = "lang"

_current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> Translations:
    po_path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def get_language() -> str:
    return _current_language.get()


def set_language(language: str):
    """Set the request's language; returns a token for `reset_language`."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return _current_language.set(language)


def reset_language(token) -> None:
    _current_language.reset(token)


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def get_locale() -> Locale:
    # One Locale per language, built once: Locale.parse on every call cost a signed-in page
    # two parses for its session-time texts.
    return _locale(get_language())


def raw_gettext(message: str) -> str:
    """Translate without formatting (Jinja's newstyle gettext formats by itself)."""
    return translations(get_language()).gettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(get_language()).ngettext(singular, plural, n)


# What templates call as `_()`, `gettext()` and `ngettext()`: the same result as Jinja's
# newstyle callables (`jinja2.ext`: translated, escaped when autoescaping, always formatted
# with `%`), in one call instead of three. Jinja's `_` resolves `gettext` and calls it, which
# calls the raw function, each through `Context.call` (16 texts on a letter lookup, 14% of its
# rendering); and `pass_eval_context` rather than `pass_context` does not copy the context
# when called inside a loop or a block that sets variables. A text without variables is the
# same every time for a language: kept, formatted (the catalogs never change while running).
@pass_eval_context
def template_gettext(eval_ctx: EvalContext, message: str, /, **variables: object) -> str:
    if variables:
        language = _current_language.get()
        if eval_ctx.autoescape and _only_named_strings(language, message):
            # Markup's `%` wraps the mapping and each value in a helper whose str() is
            # str(escape(value)); with only `%(name)s` and `%%` in the text, escaping the
            # values first and formatting the plain str gives the same text, ~4x faster.
            text = str.__mod__(
                _template_text(language, message, True),
                {name: escape(value) for name, value in variables.items()},
            )
            return Markup(text)  # noqa: S704 - the catalog's text, every value escaped
        return _template_text(language, message, eval_ctx.autoescape) % variables
    return _formatted_text(_current_language.get(), message, eval_ctx.autoescape)


# What Python code that writes markup calls for a text: `template_gettext` as an
# autoescaping template calls it (translated, the variables escaped, a `Markup`).
_AUTOESCAPING = SimpleNamespace(autoescape=True)


def markup_gettext(message: str, /, **variables: object) -> str:
    return template_gettext(_AUTOESCAPING, message, **variables)


@lru_cache(maxsize=4096)
def _template_text(language: str, message: str, autoescape: bool) -> str:
    text = translations(language).gettext(message)
    return Markup(text) if autoescape else text  # noqa: S704 - the catalog's, as jinja2.ext


_NAMED_STRING_OR_PERCENT = re.compile(r"%\([^()%]*\)s|%%")


@lru_cache(maxsize=4096)
def _only_named_strings(language: str, message: str) -> bool:
    """The translated text's placeholders are all `%(name)s` (or `%%`)."""
    text = translations(language).gettext(message)
    return "%" not in _NAMED_STRING_OR_PERCENT.sub("", text)


@lru_cache(maxsize=4096)
def _formatted_text(language: str, message: str, autoescape: bool) -> str:
    return _template_text(language, message, autoescape) % {}


@pass_eval_context
def template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, n: int, /, **variables: object
) -> str:
    variables.setdefault("num", n)
    text = translations(_current_language.get()).ngettext(singular, plural, n)
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - the catalog's text, as jinja2.ext treats it
    return text % variables


def gettext(message: str, **variables: object) -> str:
    text = raw_gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    return raw_ngettext(singular, plural, n) % {"num": n, **variables}


class LazyText:
    """A message translated each time it is shown, for strings defined at import time.

    Unlike a plain lazy proxy it keeps its message id, so it can also be shown (or
    searched) in a language other than the request's.
    """

    __slots__ = ("msgid",)

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid

    def __str__(self) -> str:
        return raw_gettext(self.msgid)

    def __repr__(self) -> str:
        return f"LazyText({self.msgid!r})"

    def in_language(self, language: str) -> str:
        return translations(language).gettext(self.msgid)


def lazy_gettext(message: str) -> LazyText:
    return LazyText(message)


_ = gettext


def pick_language(cookie_value: str | None) -> str:
    return cookie_value if cookie_value in LANGUAGES else DEFAULT_LANGUAGE


def fold_for_search(text: str) -> str:
    """Lower-case and strip Azerbaijani diacritics so `gomruk` finds `Gömrük`.

    ə and ı have no decomposition in Unicode, so they are mapped by hand.
    """
    lowered = text.casefold().replace("ə", "e").replace("ı", "i")
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def format_duration(seconds: int) -> str:
    """“2 minutes” / “2 dəqiqə” / “2 минуты”: a short span in the user's language."""
    return _duration(seconds, get_language())


def format_size(size: int) -> str:
    """A file size in the user's language, in decimal units (10 MB = 10 000 000 bytes, as
    the upload limits are set)."""
    return _size(size, get_language())


# Babel's formatting parses its patterns on every call; the same few spans (the session
# warnings on every signed-in page) and file sizes come back again and again.
@lru_cache(maxsize=1024)
def _duration(seconds: int, language: str) -> str:
    return format_timedelta(timedelta(seconds=seconds), locale=_locale(language), threshold=2)


@lru_cache(maxsize=1024)
def _size(size: int, language: str) -> str:
    locale = _locale(language)
    for unit, factor in (("digital-megabyte", 1000**2), ("digital-kilobyte", 1000)):
        if size >= factor:
            return format_unit(size / factor, unit, length="short", locale=locale, format="#,##0.#")
    return format_unit(size, "digital-byte", length="short", locale=locale)
