"""The pages' stylesheet (static/css/app.css) is the bundle of the base sheet and every
component's own sheet, generated at start-up (and by `python -m web bundle-css`),
never committed."""

from __future__ import annotations

import re
import subprocess

import pytest

from web.platform import css_bundle
from web.platform.css_bundle import BUNDLE, COMPONENT_SHEETS, COMPONENTS_DIR, ROOT

# Classes a component styles under another block name: the drop zone static/js/app.js builds
# around a file upload, and the summary cards a table shows on phones.
OTHER_BLOCKS = {"file_upload": {"drop-zone"}, "table": {"summary-cards"}}


def test_the_bundle_on_disk_is_rewritten_when_its_sources_changed(tmp_path, monkeypatch):
    (tmp_path / "static" / "css").mkdir(parents=True)
    monkeypatch.setattr(css_bundle, "ROOT", tmp_path)
    monkeypatch.setattr(css_bundle, "build", lambda: ".a { color: red; }\n")
    assert css_bundle.write() is True  # missing: written
    assert css_bundle.write() is False  # up to date: left alone
    (tmp_path / BUNDLE).write_text(".a { color: blue; }\n", encoding="utf-8")  # stale
    assert css_bundle.write() is True
    assert (tmp_path / BUNDLE).read_text(encoding="utf-8") == ".a { color: red; }\n"
    assert [p.name for p in (tmp_path / "static" / "css").iterdir()] == ["app.css"]  # no temp


def test_creating_the_app_writes_the_bundle_its_pages_link():
    from web.app import create_app

    create_app()
    assert (ROOT / BUNDLE).read_text(encoding="utf-8") == css_bundle.build()


def test_the_bundle_is_generated_not_committed():
    """A committed copy would stand twice in the tree beside its sources."""
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", BUNDLE], cwd=ROOT, capture_output=True
    )
    ignored = subprocess.run(["git", "check-ignore", "-q", BUNDLE], cwd=ROOT)
    assert tracked.returncode != 0 and ignored.returncode == 0


def test_every_component_sheet_is_bundled_and_exists():
    assert css_bundle.undeclared_sheets() == []
    assert [sheet for sheet in COMPONENT_SHEETS if not (COMPONENTS_DIR / sheet).is_file()] == []
    assert len(set(COMPONENT_SHEETS)) == len(COMPONENT_SHEETS)


def test_an_undeclared_sheet_stops_the_build(monkeypatch):
    monkeypatch.setattr(css_bundle, "COMPONENT_SHEETS", COMPONENT_SHEETS[1:])
    with pytest.raises(ValueError, match=re.escape(COMPONENT_SHEETS[0])):
        css_bundle.build()


def _selectors(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    preludes = re.findall(r"([^{}]+)\{", css)
    return [
        selector.strip()
        for prelude in preludes
        if not prelude.strip().startswith("@")
        for selector in prelude.split(",")
    ]


@pytest.mark.parametrize("sheet", [s for s in COMPONENT_SHEETS if not s.startswith("_")])
def test_a_component_sheet_styles_only_its_component(sheet):
    """Each selector names the component's block (`.date-input .form-group` does), so a rule
    for another component or for the page cannot hide in it."""
    name = sheet.split("/")[0]
    block = name.replace("_", "-")
    blocks = {block} | OTHER_BLOCKS.get(name, set())
    selectors = _selectors((COMPONENTS_DIR / sheet).read_text(encoding="utf-8"))
    assert selectors, f"{sheet} has no rules"
    strays = [
        selector
        for selector in selectors
        if not any(
            cls == b or cls.startswith((f"{b}-", f"{b}_"))
            for cls in re.findall(r"\.([\w-]+)", selector)
            for b in blocks
        )
    ]
    assert strays == []


def test_comments_go_and_strings_stay():
    css = '.a { content: "/* kept */"; } /* gone */\n\n  /* gone\n too */\n.b { color: red; }  \n'
    assert css_bundle.strip_comments(css) == '.a { content: "/* kept */"; }\n.b { color: red; }'


def test_the_bundle_is_smaller_than_its_sources():
    """The served sheet has every rule of its sources and none of their comments."""
    sources = [ROOT / css_bundle.BASE_SHEET, *(COMPONENTS_DIR / s for s in COMPONENT_SHEETS)]
    bundle = (ROOT / BUNDLE).read_text(encoding="utf-8")
    assert len(bundle) < sum(len(path.read_text(encoding="utf-8")) for path in sources)
    assert _selectors(bundle) == [
        selector for path in sources for selector in _selectors(path.read_text(encoding="utf-8"))
    ]


def test_a_legends_size_modifier_comes_after_the_rule_it_overrides():
    """Same specificity, so the later rule wins: declared first, --l and --m never applied."""
    bundle = css_bundle.build()
    base = bundle.index(".fieldset__legend {")
    assert bundle.index(".fieldset__legend--l {") > base
    assert bundle.index(".fieldset__legend--m {") > base
