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

from web.platform.i18n import markup_gettext as _


def escaped(value: Any) -> str:
    """`str(escape(value))`: for a plain `str` (nearly every value) five replaces in C, without
    the `Markup` object markupsafe's `escape` builds for each (a lookup escapes ~50 values);
    anything else (markup, numbers, objects with `__html__`) goes through `escape`."""
    if type(value) is str:
        return (
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    return str(escape(value))


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


# Attribute names as written out ("" for one left out), kept per name: templates use a few
# dozen names; the checks and the escape were most of an attribute's cost.
_attribute_names: dict[str, str] = {}


def _attribute_name(key: Any) -> str:
    text = soft_str(key)
    if not text or text[:2].lower() == "on" or not _BAD_KEY_CHARS.isdisjoint(text):
        name = ""
    else:
        name = str(escape(text))
    if type(key) is str and len(_attribute_names) < 1024:
        _attribute_names[key] = name
    return name


def attributes(attrs: Any) -> Markup:
    if not attrs:
        return _EMPTY
    parts = []
    for key, value in attrs.items():
        if value is False or value is None or isinstance(value, Undefined):
            continue
        name = _attribute_names.get(key) if type(key) is str else None
        if name is None:
            name = _attribute_name(key)
        if not name:
            continue
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escaped(value)}"')
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


def _text(obj: Any, name: str) -> Any:
    """`{{ obj.name }}` as autoescaped markup ("" when undefined)."""
    value = _get(obj, name)
    return "" if value is _MISSING else escaped(value)


def _extra_class(obj: Any) -> Any:
    """`{% if obj.classes %} {{ obj.classes }}{% endif %}`."""
    classes = _get(obj, "classes")
    return f" {escaped(classes)}" if classes is not _MISSING and classes else ""


def _attrs(obj: Any) -> Any:
    value = _get(obj, "attributes")
    return None if value is _MISSING else value


def _action_link(action: Any) -> str:
    hidden = _get(action, "visually_hidden_text")
    tail = (
        f'<span class="visually-hidden"> {escaped(hidden)}</span>'
        if hidden is not _MISSING and hidden
        else ""
    )
    return (
        f'<a class="summary-list__action" href="{_text(action, "href")}"'
        f"{attributes(_attrs(action))}"
        f">{content(action)}{tail}</a>"
    )


_PLAIN_CELL = frozenset({"text", "html"})


def _cell(cell: dict) -> str:
    """`content(cell)` of a plain dict, as text for an f-string."""
    html = cell.get("html")
    if html:
        # `Markup(html)`'s text: trusted markup (README), its `__html__` when it has one.
        return html.__html__() if hasattr(html, "__html__") else str(html)
    text = cell.get("text", _MISSING)
    return "" if text is _MISSING else escaped(text)


def summary_rows(rows: Any) -> Markup:
    """The summary list's rows, as its macro's row loop wrote them (one Python call instead
    of ~15 template lookups and conditions per row)."""
    any_actions = any_with(rows, "actions")
    no_actions_class = " summary-list__row--no-actions" if any_actions else ""
    parts = []
    for row in rows:
        if not row:
            continue
        # Most rows are {"key": {text|html}, "value": {text|html}}: written straight away.
        if type(row) is dict and len(row) == 2 and "key" in row and "value" in row:
            key, value = row["key"], row["value"]
            if (
                type(key) is dict
                and type(value) is dict
                and key.keys() <= _PLAIN_CELL
                and value.keys() <= _PLAIN_CELL
            ):
                parts.append(
                    f'<div class="summary-list__row{no_actions_class}">\n'
                    f'<dt class="summary-list__key">{_cell(key)}</dt>\n'
                    f'<dd class="summary-list__value">{_cell(value)}</dd>\n</div>\n'
                )
                continue
        row_actions = _get(row, "actions")
        actions = (
            row_actions.get("items") if row_actions is not _MISSING and row_actions else None
        ) or []
        key = _get(row, "key")
        value = _get(row, "value")
        key_obj = key if key is not _MISSING else Undefined(obj=row, name="key")
        value_obj = value if value is not _MISSING else Undefined(obj=row, name="value")
        no_actions = " summary-list__row--no-actions" if any_actions and not actions else ""
        parts.append(
            f'<div class="summary-list__row{no_actions}{_extra_class(row)}">\n'
            f'<dt class="summary-list__key{_extra_class(key_obj)}">{content(key_obj)}</dt>\n'
            f'<dd class="summary-list__value{_extra_class(value_obj)}">{content(value_obj)}</dd>\n'
        )
        if actions:
            parts.append(f'<dd class="summary-list__actions{_extra_class(row_actions)}">\n')
            if len(actions) == 1:
                parts.append(f"{_action_link(actions[0])}\n")
            else:
                parts.append('<ul class="summary-list__actions-list">\n')
                for action in actions:
                    parts.append(
                        f'<li class="summary-list__actions-list-item">{_action_link(action)}</li>\n'
                    )
                parts.append("</ul>\n")
            parts.append("</dd>\n")
        parts.append("</div>\n")
    return Markup("".join(parts))  # noqa: S704 - every value escaped above or trusted `html`


def _params(params: Any) -> Any:
    if isinstance(params, Undefined):
        params._fail_with_undefined_error()  # as `params.x` did in the macro
    return params


def summary_list_markup(params: Any) -> Markup:
    """The summary list component (components/summary_list: its macro calls this)."""
    params = _params(params)
    rows = _get(params, "rows")
    body = summary_rows(rows if rows is not _MISSING and rows else [])
    return Markup(  # noqa: S704 - every value escaped by the helpers
        f'<dl class="summary-list{_extra_class(params)}"{attributes(_attrs(params))}>\n{body}</dl>'
    )


# A list, as the macro tested `params.colour in colours` (equality, any value).
_TAG_COLOURS = ["grey", "green", "turquoise", "blue", "light-blue", "purple", "pink", "red"]
_TAG_COLOURS += ["orange", "yellow"]


def tag_markup(params: Any) -> Markup:
    """The tag component (components/tag: its macro calls this)."""
    params = _params(params)
    tag_id = _get(params, "id")
    id_attribute = f' id="{escaped(tag_id)}"' if tag_id is not _MISSING and tag_id else ""
    colour = _get(params, "colour")
    colour_class = (
        f" tag--{escaped(colour)}" if colour is not _MISSING and colour in _TAG_COLOURS else ""
    )
    return Markup(  # noqa: S704 - every value escaped here or by the helpers
        f'<strong{id_attribute} class="tag{colour_class}{_extra_class(params)}"'
        f"{attributes(_attrs(params))}>{content(params)}</strong>"
    )


def back_link_markup(params: Any) -> Markup:
    """The back link component (components/back_link: its macro calls this)."""
    params = _params(params)
    href = _get(params, "href")
    href = escaped(href) if href is not _MISSING and href else "#"
    text, html = _get(params, "text"), _get(params, "html")
    given = (text is not _MISSING and text) or (html is not _MISSING and html)
    label = content(params) if given else _("Back")
    return Markup(  # noqa: S704 - every value escaped here or by the helpers
        f'<a href="{href}" class="back-link{_extra_class(params)}"'
        f"{attributes(_attrs(params))}>{label}</a>"
    )


HELPERS = {
    "attributes": attributes,
    "content": content,
    "heading_level": heading_level,
    "space_join": space_join,
    "any_with": any_with,
    "summary_rows": summary_rows,
    "summary_list_markup": summary_list_markup,
    "tag_markup": tag_markup,
    "back_link_markup": back_link_markup,
}
