"""The components' helpers in Python (web/platform/component_helpers.py) give exactly what
the Jinja macros they replaced gave (kept below as the reference), hostile input included."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import UndefinedError
from markupsafe import Markup, escape

from web.platform import i18n
from web.platform.component_helpers import (
    any_with,
    attributes,
    back_link_markup,
    content,
    escaped,
    heading_level,
    space_join,
    summary_list_markup,
    summary_rows,
    tag_markup,
)
from web.platform.templating import build_environment

# The macros of components/_macros/helpers.html.j2 before they moved to Python (issue 12).
REFERENCE = """
{%- set _bad_key_chars = [" ", "\\t", "\\n", "\\r", "\\f", "=", "\\"", "'", "<", ">", "/", "`"] -%}
{%- macro attributes(attrs) -%}
{%- if attrs -%}
{%- for key, value in attrs.items() -%}
{%- set key = key|string -%}
{%- if key and (key[:2])|lower != "on" and not (key|list|select("in", _bad_key_chars)|first) -%}
{%- if value is sameas true %} {{ key }}
{%- elif value is sameas false or value is none or value is undefined -%}
{%- else %} {{ key }}="{{ value }}"
{%- endif -%}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- endmacro -%}
{%- macro content(obj) -%}
{%- if obj.html -%}{{ obj.html|safe }}{%- else -%}{{ obj.text }}{%- endif -%}
{%- endmacro -%}
{%- macro heading_level(value, default) -%}
{%- set level = (value|int(0)) if value else 0 -%}
{{- level if 1 <= level <= 6 else default -}}
{%- endmacro -%}
"""

_ENV = build_environment()
_REFERENCE = _ENV.from_string(REFERENCE).module


class _Obj:
    html = None
    text = "an <object>"


HOSTILE_ATTRIBUTES: list[Any] = [
    None,
    {},
    {"hx-get": "/x?a=1&b=<2>", "hx-target": "#y"},
    {"hx-vals": '{"a": "<b>"}', "data-x": "'single' \"double\" `tick`"},
    {"onclick": "alert(1)", "ONLOAD": "x", "On": "y", "o": "short", "x": "ok"},
    {'x" onfocus="y': "z", "a b": "c", "a=b": "c", "a/b": "c", "a<b": "c", "a`b": "c"},
    {"a\tb": 1, "a\nb": 1, "a\rb": 1, "a\fb": 1, "a'b": 1, "": "empty key"},
    {"a&b": "amp key", "ümlaut": "ok", "data-ə": "<ə>"},
    {"hx-boost": True, "disabled": False, "data-none": None, "data-zero": 0, "data-one": 1},
    {"data-empty": "", "data-float": 1.5, "data-list": ["a", "<b>"], "data-dict": {"k": "<v>"}},
    {"data-markup": Markup("<b>trusted</b>"), "data-amp": "&amp;"},
    {1: "int key", 2.5: "float key", None: "none key"},
    {True: "bool key"},
    {Markup("data-m&"): "markup key"},
]


@pytest.mark.parametrize("attrs", HOSTILE_ATTRIBUTES)
def test_attributes_match_the_macro(attrs: Any) -> None:
    for _ in range(2):  # the second time with the names kept
        got = attributes(attrs)
        assert isinstance(got, Markup)
        assert got == _REFERENCE.attributes(attrs)


def test_attributes_skip_undefined_values() -> None:
    undefined = _ENV.undefined(name="nothing")
    attrs = {"data-u": undefined, "data-v": "v"}
    assert attributes(attrs) == _REFERENCE.attributes(attrs) == ' data-v="v"'


def test_attributes_drop_what_could_break_out_of_the_tag() -> None:
    html = attributes(HOSTILE_ATTRIBUTES[5] | HOSTILE_ATTRIBUTES[4] | HOSTILE_ATTRIBUTES[3])
    assert "onfocus" not in html
    assert "onclick" not in html.lower()
    assert "onload" not in html.lower()
    assert "<" not in html
    assert html.count('"') == 2 * html.count("=")


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"text": "<script>alert(1)</script>"},
        {"html": "<b>trusted</b>", "text": "ignored"},
        {"html": "", "text": "empty html falls back"},
        {"html": None, "text": None},
        {"text": None},
        {"text": 0},
        {"text": Markup("<i>already safe</i>")},
        {"html": 5},
        None,
        "a string",
        ["a list"],
        _Obj(),
    ],
)
def test_content_matches_the_macro(obj: Any) -> None:
    got = content(obj)
    assert isinstance(got, Markup)
    assert got == _REFERENCE.content(obj)


def test_content_of_undefined_fails_like_the_macro() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        _REFERENCE.content(_ENV.undefined(name="title"))
    with pytest.raises(UndefinedError):
        content(_ENV.undefined(name="title"))


@pytest.mark.parametrize(
    "value",
    [None, "", 0, 1, 2, 6, 7, -1, "3", " 4 ", "2.0", 2.9, "2 onclick=x", "<h1>", True, False],
)
@pytest.mark.parametrize("default", [1, 2])
def test_heading_level_matches_the_macro(value: Any, default: int) -> None:
    assert str(heading_level(value, default)) == str(_REFERENCE.heading_level(value, default))


@pytest.mark.parametrize(
    "items",
    [
        (),
        ("button",),
        ("button", None, "", 0, False, "button--start"),
        ("a<b", Markup("<i>safe</i>"), "c&d", 5),
        (Markup("m&"), 'x"y'),
        ("extra", None, "id-error"),
    ],
)
def test_space_join_matches_the_filter_chain(items: tuple) -> None:
    chain = _ENV.from_string('{{ (items|select|join(" "))|escape }}')
    undefined = _ENV.undefined(name="skipped")
    for value in (items, (*items, undefined)):
        got = space_join(*value)
        assert isinstance(got, Markup)
        assert got == chain.render(items=value)
        assert _ENV.from_string("{{ x }}").render(x=got) == chain.render(items=value)


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [None],
        [{"key": 1}],
        [{"actions": None}, {"actions": {}}],
        [{"actions": {}}, {"actions": {"items": [1]}}],
        [None, "text", 5, {"actions": 1}],
        [_Obj()],
    ],
)
def test_any_with_matches_selectattr(rows: list) -> None:
    chain = _ENV.from_string('{{ rows|selectattr("actions")|first is defined }}')
    assert str(any_with(rows, "actions")) == chain.render(rows=rows)


# The summary list's row loop before it moved to Python (issue 12), on the Python helpers.
_ROWS_REFERENCE = """
{%- macro _action_link(action) -%}
<a class="summary-list__action" href="{{ action.href }}"{{ attributes(action.attributes) }}>{{ content(action) }}{% if action.visually_hidden_text %}<span class="visually-hidden"> {{ action.visually_hidden_text }}</span>{% endif %}</a>
{%- endmacro -%}
{%- set any_actions = any_with(rows, "actions") -%}
{% for row in rows if row %}
{% set actions = (row.actions.get("items") if row.actions else none) or [] %}
<div class="summary-list__row{% if any_actions and not actions %} summary-list__row--no-actions{% endif %}{% if row.classes %} {{ row.classes }}{% endif %}">
<dt class="summary-list__key{% if row.key.classes %} {{ row.key.classes }}{% endif %}">{{ content(row.key) }}</dt>
<dd class="summary-list__value{% if row.value.classes %} {{ row.value.classes }}{% endif %}">{{ content(row.value) }}</dd>
{% if actions %}
<dd class="summary-list__actions{% if row.actions.classes %} {{ row.actions.classes }}{% endif %}">
{% if actions|length == 1 %}
{{ _action_link(actions[0]) }}
{% else %}
<ul class="summary-list__actions-list">
{% for action in actions %}
<li class="summary-list__actions-list-item">{{ _action_link(action) }}</li>
{% endfor %}
</ul>
{% endif %}
</dd>
{% endif %}
</div>
{% endfor %}
"""  # noqa: E501

_EVIL = '<b x="1">&\'"'


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [None, {}],
        [{"key": {"text": "K"}, "value": {"text": _EVIL}}],
        # Plain rows (written without the general path), with every kind of cell.
        [
            {"key": {"text": "K"}, "value": {"html": "", "text": _EVIL}},
            {"key": {"html": None, "text": None}, "value": {}},
            {"key": {"html": Markup("<b>m</b>")}, "value": {"html": 5, "text": "x"}},
            {"key": {"text": 0}, "value": {"text": Markup("<i>safe</i>")}},
            {"value": {"text": "order"}, "key": {"text": "reversed keys"}},
        ],
        [
            {"key": {"text": "K"}, "value": {"text": "plain row among rows with actions"}},
            {"key": {"text": "A"}, "value": {"text": "1"}, "actions": {"items": [{"href": "/a"}]}},
        ],
        [
            {
                "key": {"html": "<b>K</b>", "classes": _EVIL},
                "value": {"html": Markup("<i>v</i>"), "classes": "c"},
                "classes": 7,
            }
        ],
        [
            {"key": {"text": "A"}, "value": {"text": "1"}},
            {
                "key": {"text": "B"},
                "value": {"text": 2},
                "actions": {
                    "classes": _EVIL,
                    "items": [{"href": _EVIL, "text": "Change", "visually_hidden_text": _EVIL}],
                },
            },
            {
                "key": {"text": "C"},
                "value": {"text": ""},
                "actions": {
                    "items": [
                        {
                            "href": "/a",
                            "html": "<em>Edit</em>",
                            "attributes": {"data-x": _EVIL, "onclick": "x"},
                        },
                        {"text": "Remove"},
                    ]
                },
            },
            {"key": {"text": "D"}, "value": {"text": "4"}, "actions": {"items": []}},
        ],
    ],
)
def test_summary_rows_match_the_macro_loop(rows: list) -> None:
    reference = _ENV.from_string(_ROWS_REFERENCE)
    got = summary_rows(rows)
    assert isinstance(got, Markup)
    assert str(got) == reference.render(rows=rows)


# The tag, back link and summary list macros before their markup moved to Python (issue 12).
_COMPONENT_REFERENCE = _ENV.from_string(
    """
{% macro tag(params) %}
{%- set colours = ["grey", "green", "turquoise", "blue", "light-blue", "purple", "pink", "red", "orange", "yellow"] -%}
<strong{% if params.id %} id="{{ params.id }}"{% endif %} class="tag{% if params.colour in colours %} tag--{{ params.colour }}{% endif %}{% if params.classes %} {{ params.classes }}{% endif %}"{{ attributes(params.attributes) }}>{{ content(params) }}</strong>
{%- endmacro %}
{% macro back_link(params) %}
<a href="{{ params.href or '#' }}" class="back-link{% if params.classes %} {{ params.classes }}{% endif %}"{{ attributes(params.attributes) }}>{% if params.text or params.html %}{{ content(params) }}{% else %}{{ _("Back") }}{% endif %}</a>
{%- endmacro %}
{% macro summary_list(params) %}
{%- set rows = params.rows or [] -%}
<dl class="summary-list{% if params.classes %} {{ params.classes }}{% endif %}"{{ attributes(params.attributes) }}>
{{ summary_rows(rows) }}</dl>
{%- endmacro %}
"""  # noqa: E501
).module

_COMPONENT_PARAMS: list[Any] = [
    {},
    {"text": _EVIL},
    {"html": "<b>trusted</b>", "text": "ignored", "classes": _EVIL, "id": _EVIL},
    {"text": "x", "colour": "red"},
    {"text": "x", "colour": "not-a-colour", "attributes": {"data-x": _EVIL, "onclick": "x"}},
    {"text": "x", "colour": Markup("blue"), "id": 0, "classes": ""},
    {"text": "x", "colour": ["red"], "id": "", "classes": None},
    {"href": _EVIL, "text": ""},
    {"href": "", "html": "", "text": None},
    {"href": "/back", "attributes": {"hx-get": "/back?a=1&b=2", "hx-target": "#t"}},
    {"rows": None, "classes": "summary-list--no-border"},
    {"rows": [{"key": {"text": "K"}, "value": {"text": _EVIL}}], "attributes": {"id": _EVIL}},
    _Obj(),
]


@pytest.mark.parametrize("language", ["az", "en", "ru"])
@pytest.mark.parametrize("params", _COMPONENT_PARAMS)
def test_tag_back_link_and_summary_list_match_their_macros(params: Any, language: str) -> None:
    token = i18n.set_language(language)
    try:
        for helper, reference in (
            (tag_markup, _COMPONENT_REFERENCE.tag),
            (back_link_markup, _COMPONENT_REFERENCE.back_link),
            (summary_list_markup, _COMPONENT_REFERENCE.summary_list),
        ):
            got = helper(params)
            assert isinstance(got, Markup)
            assert got == reference(params), helper.__name__
    finally:
        i18n.reset_language(token)


def test_the_back_links_default_text_is_translated() -> None:
    token = i18n.set_language("en")
    try:
        assert back_link_markup({"href": "/x"}) == '<a href="/x" class="back-link">Back</a>'
    finally:
        i18n.reset_language(token)


def test_the_components_fail_on_undefined_params_like_their_macros() -> None:
    undefined = _ENV.undefined(name="params")
    for helper in (tag_markup, back_link_markup, summary_list_markup):
        with pytest.raises(UndefinedError):
            helper(undefined)


@settings(max_examples=500)
@given(st.text() | st.sampled_from(["", "&amp;", "<'\">&", "a&b<c>d'e\"f", "ə & ü"]))
def test_escaped_is_markupsafes_escape_as_text(text: str) -> None:
    assert escaped(text) == str(escape(text))
    assert type(escaped(text)) is str


@pytest.mark.parametrize(
    "value", [Markup("<b>safe</b>"), 5, 1.5, None, True, ["<x>"], _Obj(), Markup("&amp;")]
)
def test_escaped_leaves_everything_but_plain_text_to_markupsafe(value: Any) -> None:
    assert escaped(value) == str(escape(value))
