"""Every component example, in a real browser: axe-core WCAG 2.2 AA and 320 px reflow.

Examples come from components/<name>/<name>.yaml (see tests/unit/test_components.py).
Each is rendered into a small document with the pages' stylesheet (static/css/app.css)
inlined and loaded with `page.set_content`; one page serves all examples. No server is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from markupsafe import escape
from playwright.sync_api import Browser, Page

from e2e.support import WCAG_22_AA
from tests.unit.test_components import all_examples, render
from web.platform import css_bundle

ROOT = Path(__file__).resolve().parent.parent
NARROW = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}

_axe = Axe()


EXAMPLES = all_examples()


def example_document(name: str, example: dict[str, Any]) -> str:
    css = css_bundle.build()
    body = render(name, example.get("params") or {}) + (example.get("html_after") or "")
    # Examples that render their own <h1> (page-heading labels, panels) get no wrapper h1.
    heading = "" if "<h1" in body else "<h1>Example</h1>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Component example: {escape(name)}</title><style>{css}</style></head>"
        f'<body><main id="main-content" tabindex="-1">{heading}{body}</main></body></html>'
    )


@pytest.fixture(scope="module")
def component_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize(("name", "example"), EXAMPLES)
def test_example_has_no_axe_violations(
    component_page: Page, name: str, example: dict[str, Any]
) -> None:
    component_page.set_viewport_size(DESKTOP)
    component_page.set_content(example_document(name, example))
    results = _axe.run(component_page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize(("name", "example"), EXAMPLES)
def test_example_reflows_at_320px(component_page: Page, name: str, example: dict[str, Any]) -> None:
    component_page.set_viewport_size(NARROW)
    component_page.set_content(example_document(name, example))
    scroll_width = component_page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= NARROW["width"], f"page is {scroll_width}px wide at 320px"
