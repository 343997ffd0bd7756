"""The one Jinja2 environment: page templates, components and translations."""

from __future__ import annotations

import weakref
from pathlib import Path
from types import BuiltinFunctionType, FunctionType
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.runtime import Context, Macro
from jinja2.utils import _PassArg

from web.platform import i18n, portal_time
from web.platform.component_helpers import HELPERS

WEB_DIR = Path(__file__).resolve().parent.parent
# The layout and error pages; each domain keeps its own pages in `web/<domain>/templates/`.
TEMPLATES_DIR = WEB_DIR / "templates"
DOMAIN_TEMPLATE_DIRS = sorted(WEB_DIR.glob("*/templates"))
COMPONENTS_DIR = WEB_DIR.parent / "components"
TEMPLATE_DIRS = [TEMPLATES_DIR, *DOMAIN_TEMPLATE_DIRS, COMPONENTS_DIR]


class _EnvironmentGlobals(dict):
    """The environment's globals, which keep every template's merged copy (`_Globals`) in
    step when they change (Jinja's ChainMap did that by looking through on every read)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By id: a dict is not hashable. An entry goes with its template.
        self.templates: weakref.WeakValueDictionary[int, _Globals] = weakref.WeakValueDictionary()

    def add(self, template_globals: _Globals) -> None:
        self.templates[id(template_globals)] = template_globals

    def _changed(self) -> None:
        for template_globals in list(self.templates.values()):
            template_globals.merge(self)

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key: str, default: Any = None) -> Any:
        value = super().setdefault(key, default)
        self._changed()
        return value

    def pop(self, *args: Any) -> Any:
        value = super().pop(*args)
        self._changed()
        return value

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._changed()
        return item

    def clear(self) -> None:
        super().clear()
        self._changed()

    def __ior__(self, other: Any) -> _EnvironmentGlobals:
        self.update(other)
        return self


class _Globals(dict):
    """A template's globals: its own over the environment's, as one plain dict. Jinja makes
    them a ChainMap, which every render copies (`dict(globals, **vars)`) and every context
    lists (`set(globals)`) in Python, key by key: 8.5 µs a render where a dict takes 0.5 µs.
    The environment's changes still reach it (`_EnvironmentGlobals`); a template's own
    (`template.globals[...] = …`, `get_template(…, globals=…)`) stay over them."""

    __slots__ = ("__weakref__", "environment_globals", "own")

    def __init__(self, own: dict, environment_globals: dict) -> None:
        super().__init__()
        self.own = dict(own)
        self.environment_globals = environment_globals
        self.merge(environment_globals)

    def merge(self, environment_globals: dict) -> None:
        dict.clear(self)
        dict.update(self, environment_globals)
        dict.update(self, self.own)

    def __setitem__(self, key: str, value: Any) -> None:
        self.own[key] = value
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        own = dict(*args, **kwargs)
        self.own.update(own)
        super().update(own)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __delitem__(self, key: str) -> None:
        """Forget the template's own value: the environment's shows again, as in a ChainMap
        (KeyError when the template has none of its own)."""
        del self.own[key]
        environment_value = self.environment_globals.get(key, _MISSING)
        if environment_value is _MISSING:
            super().__delitem__(key)
        else:
            super().__setitem__(key, environment_value)

    def pop(self, key: str, *default: Any) -> Any:
        if key not in self.own:
            if default:
                return default[0]
            raise KeyError(key)
        value = self.own[key]
        del self[key]
        return value

    def copy(self) -> dict:  # type: ignore[override]
        return dict(self)  # a snapshot (a ChainMap's copy does not follow later changes either)

    __copy__ = copy


# What `getattr` finds on a plain dict: its methods (`params.items`, `row.actions.get`).
_DICT_ATTRIBUTES = frozenset(dir(dict))
_MISSING = object()


class _PortalContext(Context):
    """Jinja's context with a shorter way to call a macro, a function or a builtin method:
    every call in a template (a component, `attributes`, `_()`, `values.get`…; dozens a
    page) goes through `Context.call`, which asks each callable whether it wants the
    context, its `__call__` too. A macro never does, nor does a builtin (`dict.get`: it
    cannot carry Jinja's `pass_*` mark); a plain function carries the mark in its own
    `__dict__`, and one that asks for the eval context (`_()`) or the environment gets it
    here. What asks for the context, and anything else, takes Jinja's way."""

    def call(__self, __obj, *args, **kwargs):
        kind = type(__obj)
        if kind is FunctionType:
            wants = __obj.__dict__.get("jinja_pass_arg")
            if wants is _PassArg.eval_context:
                args = (__self.eval_ctx, *args)
            elif wants is _PassArg.environment:
                args = (__self.environment, *args)
            elif wants is not None:
                return super().call(__obj, *args, **kwargs)
        elif kind is not Macro and kind is not BuiltinFunctionType:
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja's
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class PortalEnvironment(Environment):
    context_class = _PortalContext

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.globals = _EnvironmentGlobals(self.globals)
        self._missing_keys: dict[str, object] = {}

    def make_globals(self, d):
        if not isinstance(self.globals, _EnvironmentGlobals):  # replaced from outside
            self.globals = _EnvironmentGlobals(self.globals)
        template_globals = _Globals(d if d is not None else {}, self.globals)
        self.globals.add(template_globals)
        return template_globals

    def getattr(self, obj, attribute):
        """`params.rows` on a component's dict: Jinja tries the attribute first, and the
        AttributeError it raises and catches (a few hundred a page) cost more than the
        lookup. A plain dict has no attributes but dict's own, so the key is looked up
        straight away, with Jinja's result (a value or undefined) either way. A missing key
        (`params.classes` not given: dozens a page) gets one undefined per name, made once:
        Jinja's names only the dict's type and the key in its message, so it is the same."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            value = obj.get(attribute, _MISSING)
            if value is not _MISSING:
                return value
            missing = self._missing_keys.get(attribute)
            if missing is None:
                missing = self._missing_keys[attribute] = self.undefined(obj={}, name=attribute)
            return missing
        return super().getattr(obj, attribute)


def build_environment() -> Environment:
    env = PortalEnvironment(
        loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.raw_gettext, ngettext=i18n.raw_ngettext, newstyle=True
    )
    # The same texts as the extension's callables, cheaper (`i18n.template_gettext`).
    env.globals.update(
        _=i18n.template_gettext, gettext=i18n.template_gettext, ngettext=i18n.template_ngettext
    )
    env.globals["get_language"] = i18n.get_language
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    # The components' helpers (components/README.md): `attributes`, `content`, `heading_level`.
    env.globals.update(HELPERS)
    env.filters["localdate"] = portal_time.format_date
    env.filters["localdatetime"] = portal_time.format_datetime
    env.filters["localtime"] = portal_time.format_time
    env.filters["machine_datetime"] = portal_time.machine_datetime
    env.filters["duration"] = i18n.format_duration
    env.filters["filesize"] = i18n.format_size
    return env
