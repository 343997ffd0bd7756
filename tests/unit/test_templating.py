"""The portal's Jinja environment renders as plain Jinja does, with less work per page."""

from __future__ import annotations

import pytest
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


def test_template_globals_are_a_plain_dict_kept_in_step_with_the_environment():
    """Every render copies its template's globals and every context lists them (Jinja's
    `new_context`, `Context.__init__`), every `{% import %}` compares their keys: as a plain
    dict that is done in C. What Jinja's ChainMap gave must still hold: the environment's
    later changes reach every template, and a template's own globals stay over them."""
    environment = build_environment()
    template = environment.from_string("{{ 1 }}")
    assert type(template.globals).__mro__[1] is dict
    assert template.globals == dict(environment.globals)
    own = environment.from_string("{{ x }} {{ attributes }}", globals={"x": 1, "attributes": 2})
    assert own.globals.keys() == set(environment.globals) | {"x"}
    assert {"x", "nothing"} - own.globals.keys() == {"nothing"}

    environment.globals["late"] = "late"  # as Litestar's and the app's own are added
    environment.globals.update(attributes="env's", more=3)
    assert template.globals["late"] == own.globals["late"] == "late"
    assert template.globals["attributes"] == "env's" and own.globals["attributes"] == 2
    del environment.globals["more"]
    assert "more" not in template.globals and "more" not in own.globals
    own.globals["x"] = 10  # a template's own, set after loading (Jinja allows it)
    environment.globals.update(x=0)
    assert own.render() == "10 2" and template.globals["x"] == 0
    loaded = environment.get_template("layout.html.j2", globals={"page_extra": 5})
    environment.globals.setdefault("later", 1)
    assert loaded.globals["page_extra"] == 5 and loaded.globals["later"] == 1


def test_a_missing_key_gives_jinjas_undefined_and_message():
    from jinja2 import UndefinedError

    portal, plain = build_environment(), Environment(autoescape=True)
    for params in ({}, {"other": 1}):
        ours, theirs = portal.getattr(params, "classes"), plain.getattr(params, "classes")
        assert type(ours) is type(theirs) and not ours and str(ours) == ""
        assert ours._undefined_message == theirs._undefined_message
        with pytest.raises(UndefinedError, match="'dict object' has no attribute 'classes'"):
            ours.anything()
    assert portal.getattr({}, "classes") is portal.getattr({"x": 1}, "classes")  # made once


def test_calls_in_templates_give_what_jinja_gives():
    """Macros and plain functions are called straight away (`_PortalContext.call`); what
    asks for the context, the environment or the eval context still gets it."""
    from jinja2 import pass_context, pass_environment, pass_eval_context

    environment = build_environment()
    environment.globals.update(
        plain=lambda x, y=0: x + y,
        with_context=pass_context(lambda c, x: c["name"] + x),
        with_environment=pass_environment(lambda e, x: (e is environment) and x),
        with_eval_context=pass_eval_context(lambda e, x: e.autoescape and x),
    )

    class Callable:
        @pass_context
        def __call__(self, context, x):
            return context["name"] * x

    def stop():
        raise StopIteration

    environment.globals["stop"] = stop
    source = (
        "{% macro m(a, b=2) %}{{ a }}{{ b }}{{ caller() if caller }}{% endmacro %}"
        "{{ m(1) }} {% call m(3, b=4) %}c{% endcall %} {{ plain(1, y=2) }} "
        "{{ with_context('!') }} {{ with_environment('e') }} {{ with_eval_context('v') }} "
        "{{ obj(2) }} {% for i in [1] %}{{ plain(i) }}{{ with_context(i|string) }}"
        "{% set name = 'loop' %}{{ with_context('?') }}{{ d.get('k', 0) }}{% endfor %} "
        "{{ d.get('k') }} {{ 'ab'.upper() }} [{{ stop() }}] {{ stop() is undefined }}"
    )
    rendered = environment.from_string(source).render(name="n", obj=Callable(), d={"k": "v"})
    assert rendered == "12 34c 3 n! e v nn 1n1loop?v v AB [] True"
    plain = Environment(autoescape=True)
    plain.globals.update({k: environment.globals[k] for k in ("plain", "with_context", "stop")})
    plain.globals.update(
        with_environment=pass_environment(lambda e, x: (e is plain) and x),
        with_eval_context=environment.globals["with_eval_context"],
    )
    assert plain.from_string(source).render(name="n", obj=Callable(), d={"k": "v"}) == rendered


def test_gettext_gives_the_text_of_jinjas_newstyle_callables():
    """`_`, `gettext` and `ngettext` are the portal's own one-call versions
    (`i18n.template_gettext`): the same text as jinja2.ext's newstyle callables, in every
    language, with `%%`, escaped variables and without autoescaping."""
    from web.platform import i18n

    portal = build_environment()
    plain = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    plain.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.raw_gettext, ngettext=i18n.raw_ngettext, newstyle=True
    )
    source = (
        '{{ _("Track a letter") }}|{{ gettext("Letter %(number)s", number="<M-1/2026>") }}|'
        '{{ _("100%% of <b>") }}|{{ _("Unit: %(unit)s. Executor: %(executor)s.", unit="a&b",'
        ' executor="—") }}|{{ ngettext("%(num)d service", "%(num)d services", 3) }}|'
        '{{ ngettext("%(num)s letter", "%(num)s letters", 1, num="<1>") }}|'
        '{% autoescape false %}{{ _("Letter %(number)s", number="<x>") }}{% endautoescape %}|'
        # the named-%s-only fast way and the texts it leaves to Markup's `%`
        '{{ _("Letter %(number)s", number=5) }}|{{ _("Letter %(number)s", number="<i>"|safe) }}|'
        '{{ _("%(n)d items & %(w)s", n=3, w="<w>") }}|{{ _("%%(x)s or %(y)s", y="<y>") }}|'
        '{{ _("%(a)r and %(b)s", a="<a>", b="<b>") }}|{{ _("%(p)s%%", p="<p>", q=1) }}'
    )
    for language in i18n.LANGUAGES:
        token = i18n.set_language(language)
        try:
            for _ in range(2):  # the second time from the kept texts
                ours = portal.from_string(source).render()
                assert ours == plain.from_string(source).render(), language
        finally:
            i18n.reset_language(token)
    assert "&lt;M-1/2026&gt;" in ours and "100% of <b>" in ours and "<x>" in ours


def test_template_globals_forget_and_copy_as_a_chainmap_did():
    environment = build_environment()
    template = environment.from_string("{{ attributes }}", globals={"attributes": "own"})
    assert template.globals.pop("attributes") == "own"
    assert template.globals["attributes"] is environment.globals["attributes"]  # shows again
    assert template.globals.pop("attributes", "none left") == "none left"
    template.globals.setdefault("late", 1)
    environment.globals["other"] = 2  # a later environment change keeps the template's own
    assert template.globals["late"] == 1 and template.globals["other"] == 2
    del template.globals["late"]
    assert "late" not in template.globals
    snapshot = template.globals.copy()
    assert type(snapshot) is dict and snapshot == template.globals
    environment.globals["after"] = 3
    assert "after" in template.globals and "after" not in snapshot
