"""The components' private helpers (components/README.md), in Python: Jinja globals that
every component calls, several times per element. As Jinja macros each call cost a macro
invocation and a filter chain per attribute; these return the same markup.

  attributes(attrs)   extra HTML attributes from a dict, each ` key="value"` (escaped);
                      `True` renders a bare attribute; `False`, `None` and undefined leave it
                      out. Keys that are not plain attribute names, and `on*` event handlers
                      (blocked by the CSP anyway), are dropped.
  content(obj)        `obj.html` as trusted markup when given, else `obj.text` escaped
                      (missing: nothing; `None`: "None", as `{{ None }}` prints).
  heading_level(v, d) a heading level 1-6 for `<h{n}>` (`v` as `|int` reads it), else `d`.
  space_join(*items)  the truthy items, escaped, joined by spaces: a class list or an
                      `aria-describedby` (`[a, b if c]|select|join(" ")|escape`, without
                      the filter chain's generator and async wrappers).
  any_with(items, k)  whether any item has a truthy `k` (`items|selectattr(k)|first is
                      defined`).

Values are read as a template reads `obj.name`: a plain dict's key, else the attribute,
else the item (`jinja2.Environment.getattr`); undefined objects raise as they did in Jinja.
"""

from __future__ import annotations

from typing import Any

from jinja2.filters import do_int
from jinja2.runtime import Undefined
from markupsafe import Markup, escape, soft_str

# Characters that end an attribute name in HTML (or could break out of the tag).
_BAD_KEY_CHARS = frozenset(" \t\n\r\f=\"'<>/`")
_MISSING = object()
_EMPTY = Markup("")


def _get(obj: Any, name: str) -> Any:
    """`obj.name` as a template reads it; _MISSING when undefined."""
    if type(obj) is dict:
        return obj.get(name, _MISSING)
    try:
        value = getattr(obj, name)
    except AttributeError:
        try:
            value = obj[name]
        except (AttributeError, TypeError, LookupError):
            return _MISSING
    return _MISSING if isinstance(value, Undefined) else value


def attributes(attrs: Any) -> Markup:
    if not attrs:
        return _EMPTY
    parts = []
    for key, value in attrs.items():
        key = soft_str(key)
        if (
            not key
            or key[:2].lower() == "on"
            or not _BAD_KEY_CHARS.isdisjoint(key)
            or value is False
            or value is None
            or isinstance(value, Undefined)
        ):
            continue
        if value is True:
            parts.append(f" {escape(key)}")
        else:
            parts.append(f' {escape(key)}="{escape(value)}"')
    return Markup("".join(parts))  # noqa: S704 - every key and value escaped above


def content(obj: Any) -> Markup:
    if isinstance(obj, Undefined):
        obj._fail_with_undefined_error()  # as `obj.html` did in the macro
    html = _get(obj, "html")
    if html is not _MISSING and html:
        return Markup(html)  # noqa: S704 - `html` params are trusted markup (README)
    text = _get(obj, "text")
    return _EMPTY if text is _MISSING else escape(text)


def heading_level(value: Any, default: Any) -> Any:
    level = do_int(value, 0) if value else 0
    return level if 1 <= level <= 6 else default


_SPACE = Markup(" ")


def space_join(*items: Any) -> Markup:
    return _SPACE.join([item for item in items if item])


def any_with(items: Any, name: str) -> bool:
    for item in items:
        try:
            value = item[name]  # as `selectattr` reads it: the item, then the attribute
        except (AttributeError, TypeError, LookupError):
            value = getattr(item, name, None)
        if value:
            return True
    return False


HELPERS = {
    "attributes": attributes,
    "content": content,
    "heading_level": heading_level,
    "space_join": space_join,
    "any_with": any_with,
}
