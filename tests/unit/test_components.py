"""Render every example in every component's YAML and check the markup.

Components live in `components/<name>/` (macro.html.j2 with the markup, <name>.yaml).
Folders starting with "_" hold private helpers and are not components.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from markupsafe import Markup

from web.platform.templating import build_environment

COMPONENTS_DIR = Path(__file__).resolve().parents[2] / "components"
COMPONENT_NAMES = sorted(
    p.name for p in COMPONENTS_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
)
VOID_ELEMENTS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}

_ENV = build_environment()


@pytest.fixture(autouse=True)
def _english():
    """Assertions below read the English message ids; the en catalog shows them as is."""
    from web.platform import i18n

    token = i18n.set_language("en")
    yield
    i18n.reset_language(token)


def render(name: str, params: dict[str, Any]) -> str:
    template = _ENV.from_string(
        f'{{% from "{name}/macro.html.j2" import {name} %}}{{{{ {name}(params) }}}}'
    )
    return template.render(params=params)


def load_spec(name: str) -> dict[str, Any]:
    with (COMPONENTS_DIR / name / f"{name}.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def all_examples() -> list[Any]:
    cases = []
    for name in COMPONENT_NAMES:
        yaml_path = COMPONENTS_DIR / name / f"{name}.yaml"
        if not yaml_path.exists():
            continue  # reported by test_component_has_files
        for example in load_spec(name).get("examples") or []:
            cases.append(pytest.param(name, example, id=f"{name}-{example['name']}"))
    return cases


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag = tag
        self.attrs = attrs


class MarkupChecker(HTMLParser):
    """Collects elements and checks that non-void tags open and close in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [key for key, _ in attrs]
        if len(names) != len(set(names)):
            self.problems.append(f"duplicate attribute on <{tag}>: {names}")
        self.elements.append(Element(tag, dict(attrs)))
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs)))  # e.g. <path .../> inside <svg>

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unexpected </{tag}>, open: {self.stack}")
            return
        self.stack.pop()

    def close(self) -> None:
        super().close()
        if self.stack:
            self.problems.append(f"unclosed tags: {self.stack}")


def parse(html: str) -> MarkupChecker:
    checker = MarkupChecker()
    checker.feed(html)
    checker.close()
    return checker


def ids_in(checker: MarkupChecker) -> list[str]:
    return [el.attrs["id"] or "" for el in checker.elements if "id" in el.attrs]


def find(checker: MarkupChecker, tag: str) -> list[Element]:
    return [el for el in checker.elements if el.tag == tag]


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("name", COMPONENT_NAMES)
def test_component_has_files(name: str) -> None:
    folder = COMPONENTS_DIR / name
    for filename in ("macro.html.j2", f"{name}.yaml"):
        assert (folder / filename).is_file(), f"{name}/{filename} is missing"
    macro = (folder / "macro.html.j2").read_text(encoding="utf-8")
    assert f"{{% macro {name}(params) %}}" in macro
    # The markup is in the macro: an include per call would copy the whole context and
    # render another template root every time (issue 12).
    assert "{% include" not in macro and "{%- include" not in macro
    assert not (folder / "template.html.j2").exists(), "the markup belongs in macro.html.j2"


def test_private_helpers_are_python_globals() -> None:
    """`attributes`, `content`, `heading_level`, `space_join` and `any_with` are Python
    (component_helpers.py), not macros a component imports; no component includes a
    template."""
    for path in COMPONENTS_DIR.rglob("*.html.j2"):
        source = path.read_text(encoding="utf-8")
        assert "_macros/helpers.html.j2" not in source, path
        assert "include " not in source, path
    for helper in ("attributes", "content", "heading_level", "space_join", "any_with"):
        assert callable(_ENV.globals[helper])


@pytest.mark.parametrize("name", COMPONENT_NAMES)
def test_yaml_documents_params_and_examples(name: str) -> None:
    spec = load_spec(name)
    params = spec.get("params")
    assert params, f"{name}.yaml documents no params"
    for param in params:
        assert {"name", "type", "required", "description"} <= param.keys(), param
    examples = spec.get("examples") or []
    shown = [example for example in examples if not example.get("hidden")]
    assert 2 <= len(shown) <= 5, f"{name}.yaml should have 2-5 (not hidden) examples"
    names = [example["name"] for example in examples]
    assert len(names) == len(set(names)), "example names must be unique"


def test_hidden_examples_are_rendered_too() -> None:
    """Hidden (test-only) examples are left out of the 2-5 count, not out of the tests:
    `all_examples` (these unit tests and e2e/test_components_axe.py) includes them."""
    hidden = {
        f"{name}-{example['name']}"
        for name in COMPONENT_NAMES
        if (COMPONENTS_DIR / name / f"{name}.yaml").exists()
        for example in load_spec(name).get("examples") or []
        if example.get("hidden")
    }
    assert hidden, "no hidden example to check (tag.yaml has one)"
    assert hidden <= {case.id for case in all_examples()}


def undocumented_keys(values: Any, documented: list[dict[str, Any]], path: str) -> list[str]:
    """Keys in example `values` that the `documented` params list does not name; nested
    objects (and lists of objects) are checked against their own documented `params`."""
    if isinstance(values, list):
        return [
            key
            for index, item in enumerate(values)
            for key in undocumented_keys(item, documented, f"{path}[{index}]")
        ]
    if not isinstance(values, dict):
        return []
    by_name = {param["name"]: param for param in documented}
    missing = []
    for key, value in values.items():
        if key not in by_name:
            missing.append(f"{path}.{key}")
        elif by_name[key].get("params"):
            missing += undocumented_keys(value, by_name[key]["params"], f"{path}.{key}")
    return missing


@pytest.mark.parametrize("name", COMPONENT_NAMES)
def test_every_example_key_is_a_documented_param(name: str) -> None:
    spec = load_spec(name)
    for example in spec.get("examples") or []:
        missing = undocumented_keys(example.get("params") or {}, spec["params"], "params")
        assert not missing, f"{name} example {example['name']!r}: undocumented {missing}"


def test_undocumented_nested_key_is_reported() -> None:
    documented = [{"name": "items", "params": [{"name": "text"}]}, {"name": "id"}]
    values = {"id": "x", "items": [{"text": "a"}, {"text": "b", "colour": "red"}], "extra": 1}
    assert undocumented_keys(values, documented, "params") == [
        "params.items[1].colour",
        "params.extra",
    ]


def test_no_inline_script_style_or_handlers_in_templates() -> None:
    for path in COMPONENTS_DIR.rglob("*.j2"):
        source = path.read_text(encoding="utf-8")
        assert "<script" not in source, path
        assert not re.search(r"\sstyle=", source), path
        assert not re.search(r"\son[a-z]+=", source), path


# --------------------------------------------------------------------------- every example


@pytest.mark.parametrize(("name", "example"), all_examples())
def test_example_renders_valid_accessible_markup(name: str, example: dict[str, Any]) -> None:
    params = example.get("params") or {}
    html = render(name, params).strip()
    assert html, "rendered nothing"
    document = html + (example.get("html_after") or "")
    checker = parse(document)
    assert not checker.problems, checker.problems

    ids = ids_in(checker)
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"
    assert all(ids), "empty id attribute"

    for element in checker.elements:
        described_by = element.attrs.get("aria-describedby")
        if described_by is not None:
            missing = [ref for ref in described_by.split() if ref not in ids]
            assert not missing, f"aria-describedby on <{element.tag}> points at {missing}"
        labelled_by = element.attrs.get("aria-labelledby")
        if labelled_by is not None:
            missing = [ref for ref in labelled_by.split() if ref not in ids]
            assert not missing, f"aria-labelledby on <{element.tag}> points at {missing}"
        assert not any(key.startswith("on") for key in element.attrs), element.attrs
        assert "style" not in element.attrs

    for label in find(checker, "label"):
        target = label.attrs.get("for")
        assert target in ids, f"<label for={target!r}> has no control"

    for form_control in ("input", "select", "textarea"):
        for element in find(checker, form_control):
            if element.attrs.get("type") in {"hidden", "submit", "button"}:
                continue
            control_id = element.attrs.get("id")
            assert control_id, f"<{form_control}> without id"
            assert any(lbl.attrs.get("for") == control_id for lbl in find(checker, "label")), (
                f"<{form_control} id={control_id!r}> has no label"
            )

    assert len(find(checker, "legend")) == len(find(checker, "fieldset")), "fieldset without legend"

    for attrs_key in ("attributes", "link_attributes"):
        for key, value in (params.get(attrs_key) or {}).items():
            expected = key if value is True else f'{key}="{Markup.escape(value)}"'
            assert expected in html, f"{attrs_key} {key}={value!r} not rendered"


# --------------------------------------------------------------------------- specific behaviour


def test_error_message_has_visually_hidden_prefix() -> None:
    html = render("error_message", {"id": "x-error", "text": "Enter a name"})
    assert '<p id="x-error" class="error-message">' in html
    assert '<span class="visually-hidden">Error:</span> Enter a name</p>' in html


def test_error_summary_alert_on_child_and_links_to_fields() -> None:
    html = render(
        "error_summary",
        {"error_list": [{"text": "Enter your name", "href": "#full-name"}]},
    )
    checker = parse(html)
    container = checker.elements[0]
    assert container.attrs.get("id") == "error-summary"
    assert container.attrs.get("tabindex") == "-1"
    assert "role" not in container.attrs
    assert [el.attrs.get("role") for el in checker.elements[1:2]] == ["alert"]
    assert '<a href="#full-name">Enter your name</a>' in html
    assert "There is a problem" in html


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("input", {"id": "a", "label": {"text": "<script>x</script>"}, "value": "<script>"}),
        ("hint", {"text": "<script>alert(1)</script>"}),
        ("error_message", {"text": "<script>alert(1)</script>"}),
        ("button", {"text": "<script>alert(1)</script>"}),
        ("tag", {"text": "<script>alert(1)</script>"}),
        ("table", {"caption": "<script>", "rows": [[{"text": "<script>"}]]}),
        (
            "summary_list",
            {"rows": [{"key": {"text": "<script>"}, "value": {"text": "<script>"}}]},
        ),
        ("textarea", {"id": "t", "label": {"text": "T"}, "value": "</textarea><script>"}),
    ],
)
def test_text_params_are_escaped(name: str, params: dict[str, Any]) -> None:
    html = render(name, params)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html or "&lt;/textarea&gt;&lt;script&gt;" in html


def test_attributes_are_escaped_and_unsafe_keys_dropped() -> None:
    html = render(
        "button",
        {
            "text": "Go",
            "attributes": {
                "hx-vals": '{"a": "<b>"}',
                "onclick": "alert(1)",
                'x" onfocus="y': "z",
                "hx-boost": True,
                "data-off": False,
            },
        },
    )
    assert 'hx-vals="{&#34;a&#34;: &#34;&lt;b&gt;&#34;}"' in html
    assert "onclick" not in html
    assert "onfocus" not in html
    assert " hx-boost" in html
    assert "data-off" not in html


def test_input_with_error_is_invalid_and_described() -> None:
    html = render(
        "input",
        {
            "id": "fin",
            "name": "fin",
            "label": {"text": "FIN"},
            "hint": {"text": "7 characters"},
            "error_message": {"text": "Enter your FIN"},
            "described_by": "extra",
        },
    )
    checker = parse(html)
    (field,) = find(checker, "input")
    assert field.attrs["aria-invalid"] == "true"
    assert field.attrs["aria-describedby"] == "extra fin-hint fin-error"
    assert "input--error" in (field.attrs["class"] or "")
    assert "form-group--error" in html


def test_input_without_error_has_no_aria_invalid() -> None:
    html = render("input", {"id": "n", "label": {"text": "Name"}})
    assert "aria-invalid" not in html
    assert "aria-describedby" not in html


def test_fieldset_components_describe_on_the_fieldset() -> None:
    html = render(
        "radios",
        {
            "name": "r",
            "fieldset": {"legend": {"text": "Pick one"}},
            "hint": {"text": "Hint"},
            "error_message": {"text": "Choose"},
            "items": [{"value": "a", "text": "A"}, {"value": "b", "text": "B"}],
            "value": "b",
        },
    )
    checker = parse(html)
    (fieldset,) = find(checker, "fieldset")
    assert fieldset.attrs["aria-describedby"] == "r-hint r-error"
    radios = find(checker, "input")
    assert [r.attrs["id"] for r in radios] == ["r", "r-2"]
    assert all("aria-describedby" not in r.attrs for r in radios)
    assert "checked" in radios[1].attrs and "checked" not in radios[0].attrs


def test_checkboxes_values_check_items() -> None:
    html = render(
        "checkboxes",
        {
            "name": "c",
            "fieldset": {"legend": {"text": "Pick"}},
            "values": ["b", 3],
            "items": [
                {"value": "a", "text": "A"},
                {"value": "b", "text": "B"},
                {"value": 3, "text": "C"},
            ],
        },
    )
    boxes = find(parse(html), "input")
    assert ["checked" in box.attrs for box in boxes] == [False, True, True]


def test_date_input_fields_and_error_highlighting() -> None:
    html = render(
        "date_input",
        {
            "id": "dob",
            "name": "date_of_birth",
            "fieldset": {"legend": {"text": "Date of birth"}},
            "error_message": {"text": "Include a year"},
            "error_fields": ["year"],
            "autocomplete": "bday",
        },
    )
    inputs = {el.attrs["id"]: el.attrs for el in find(parse(html), "input")}
    assert list(inputs) == ["dob-day", "dob-month", "dob-year"]
    assert inputs["dob-year"]["name"] == "date_of_birth-year"
    assert all(attrs["inputmode"] == "numeric" for attrs in inputs.values())
    assert inputs["dob-year"].get("aria-invalid") == "true"
    assert "aria-invalid" not in inputs["dob-day"]
    assert inputs["dob-month"]["autocomplete"] == "bday-month"
    for text in ("Day", "Month", "Year"):
        assert f">{text}</label>" in html


def test_date_input_native() -> None:
    html = render(
        "date_input",
        {"id": "d", "type": "native", "label": {"text": "Date"}, "value": "2025-01-02"},
    )
    (field,) = find(parse(html), "input")
    assert field.attrs["type"] == "date"
    assert field.attrs["value"] == "2025-01-02"


def test_button_link_and_start_variant() -> None:
    html = render("button", {"text": "Start now", "href": "/start", "variant": "start"})
    checker = parse(html)
    link = checker.elements[0]
    assert link.tag == "a"
    assert link.attrs["role"] == "button"
    assert link.attrs["draggable"] == "false"
    (svg,) = find(checker, "svg")
    assert svg.attrs["aria-hidden"] == "true"
    assert svg.attrs["focusable"] == "false"
    default = parse(render("button", {"text": "Continue"})).elements[0]
    assert default.tag == "button"
    assert default.attrs["type"] == "submit"


def test_status_region_is_a_polite_live_region() -> None:
    hidden = parse(render("status_region", {})).elements[0]
    assert hidden.attrs["id"] == "status"
    assert hidden.attrs["role"] == "status"
    assert hidden.attrs["aria-live"] == "polite"
    assert hidden.attrs["aria-atomic"] == "true"
    assert "visually-hidden" in (hidden.attrs["class"] or "")
    shown = parse(render("status_region", {"visible": True, "text": "Saved"})).elements[0]
    assert "visually-hidden" not in (shown.attrs["class"] or "")


def test_pagination_marks_current_page_and_merges_link_attributes() -> None:
    html = render(
        "pagination",
        {
            "link_attributes": {"hx-target": "#results"},
            "items": [
                {"number": 1, "href": "?p=1"},
                {"number": 2, "href": "?p=2", "current": True, "attributes": {"hx-get": "/r"}},
            ],
            "next": {"href": "?p=3"},
        },
    )
    links = find(parse(html), "a")
    assert [link.attrs.get("aria-current") for link in links] == [None, "page", None]
    assert all(link.attrs.get("hx-target") == "#results" for link in links)
    assert links[1].attrs.get("hx-get") == "/r"
    assert '<span class="visually-hidden">Page 2</span>' in html
    assert 'aria-label="Pagination"' in html


def test_table_wrap_is_labelled_by_caption() -> None:
    html = render("table", {"id": "t", "caption": "Fees", "rows": [[{"text": "x"}]]})
    wrap = parse(html).elements[0]
    assert wrap.attrs == {
        "class": "table-wrap",
        "tabindex": "0",
        "role": "region",
        "aria-labelledby": "t-caption",
    }
    plain = render("table", {"caption": "Fees", "responsive": False, "rows": [[{"text": "x"}]]})
    assert "table-wrap" not in plain


def test_heading_level_cannot_inject_markup() -> None:
    html = render("panel", {"title_text": "Done", "heading_level": "2 onclick=x"})
    assert "<h1 " in html
    assert "onclick" not in html


def test_tag_ignores_unknown_colours() -> None:
    html = render("tag", {"text": "Draft", "colour": "x onmouseover"})
    assert html == '<strong class="tag">Draft</strong>'
