"""The portal's Jinja environment renders as plain Jinja does, with less work per page."""

from __future__ import annotations

from jinja2 import Environment, Undefined

from web.platform.templating import build_environment


def test_attribute_lookup_on_dicts_gives_jinjas_result():
    portal, plain = build_environment(), Environment(autoescape=True)
    params = {"rows": [1], "classes": None, "items": "a key named like a method"}
    for attribute in ("rows", "classes", "missing", "items", "get", "keys", "__class__"):
        ours, theirs = portal.getattr(params, attribute), plain.getattr(params, attribute)
        if isinstance(theirs, Undefined):
            assert isinstance(ours, Undefined), attribute
            assert ours._undefined_name == theirs._undefined_name == attribute
        else:
            assert ours == theirs, attribute
    assert portal.getattr("text", "upper")() == "TEXT"  # not a dict: Jinja's own path


def test_imports_in_templates_compare_globals_without_python_loops():
    """Every `{% from … import %}` takes the template's globals' keys from the caller's
    (jinja2 `_get_default_module`); they are a dict's keys view, compared in C."""
    environment = build_environment()
    template = environment.from_string("{{ 1 }}")
    assert type(template.globals.keys()) is type({}.keys())
    assert set(template.globals.keys()) == set(environment.globals)
