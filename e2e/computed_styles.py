"""Proof that a stylesheet change changes nothing on screen: computed styles before and after.

    python -m e2e.computed_styles snapshot DIR [VARIANT...]   # on the old tree, then the new
    python -m e2e.computed_styles compare OLD_DIR NEW_DIR

`snapshot` starts the portal (`python -m web serve`, fresh SQLite and demo data), opens a
set of pages (signed out and in, a form with errors) and every component example (rendered
with the stylesheets the layout links), at 1280 px, at 360 px on a phone, with forced
colours and as printed. For every element (and its ::before/::after) it writes
getComputedStyle, and for the focused element after each of the first Tab presses too.
`compare` lists every property that differs; it exits 1 when any does.
Used for the move of component CSS into components/<name>/<name>.css (issue 9).
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

from markupsafe import escape
from playwright.sync_api import Page, sync_playwright

from e2e.conftest import CHROMIUM_ARGS, DESKTOP, MOBILE, SYSTEM_CHROMIUM
from e2e.support import sign_in
from tests.support.server import ServerProcess, server_environment
from tests.unit.test_components import all_examples, render

COMPANY = "Xəzər Logistika MMC"
# (user or None, path, form to submit empty on the page or None)
PAGES = [
    (None, "/", None),
    (None, "/services", None),
    (None, "/agencies/dgk", None),
    (None, "/agencies/dgk/services/clearance-documents", None),
    (None, "/agencies/dgk/services/letter-tracking", None),
    (None, "/login", None),
    (None, "/login/password", "main form"),
    (None, "/letters", None),
    (None, "/no-such-page", None),
    ("vetendas", "/documents/obligation", None),
    ("vetendas", "/documents", None),
    ("vetendas", "/documents/new", None),
    ("vetendas", "/documents/new", "main form"),
    ("vetendas", "/letters/mine", None),
    ("vetendas", "/letters/new", "main form"),
    ("katib", "/registry", None),
    ("katib", "/registry/new", "main form"),
    ("admin", "/registry/bodies", None),
    ("admin", "/admin/audit", None),
    ("mufettis", "/officer/documents", None),
]
VARIANTS = {
    "desktop": {"viewport": DESKTOP},
    "phone-360": {"viewport": MOBILE, "is_mobile": True, "has_touch": True},
    "forced-colors": {"viewport": DESKTOP, "forced_colors": "active"},
    "print": {"viewport": DESKTOP, "media": "print"},
}
TAB_PRESSES = 25

_DUMP = """(focusOnly) => {
  const path = (el) => {
    const parts = [];
    for (; el && el !== document.documentElement; el = el.parentElement) {
      let i = 1;
      for (let s = el.previousElementSibling; s; s = s.previousElementSibling) i++;
      parts.unshift(el.tagName.toLowerCase() + ':' + i);
    }
    return parts.join('/') || 'html';
  };
  const styles = (cs) => {
    const out = [];
    for (let i = 0; i < cs.length; i++) out.push(cs[i] + ': ' + cs.getPropertyValue(cs[i]));
    return out;
  };
  const out = {};
  const elements = focusOnly
    ? [document.activeElement]
    : [document.documentElement, ...document.querySelectorAll('body, body *')];
  for (const el of elements) {
    if (!el) continue;
    const key = path(el);
    out[key] = styles(getComputedStyle(el));
    for (const pseudo of ['::before', '::after']) {
      const cs = getComputedStyle(el, pseudo);
      if (cs.content !== 'none' && cs.content !== 'normal') out[key + pseudo] = styles(cs);
    }
  }
  return out;
}"""


def _dump(page: Page, focus: bool) -> dict[str, list[str]]:
    page.wait_for_load_state("networkidle")
    styles = page.evaluate(_DUMP, False)
    if focus:
        page.evaluate("window.scrollTo(0, 0); document.activeElement?.blur()")
        for press in range(1, TAB_PRESSES + 1):
            page.keyboard.press("Tab")
            for key, value in page.evaluate(_DUMP, True).items():
                styles[f"focus#{press} {key}"] = value
    return styles


def _example_document(name: str, example: dict, stylesheets: str) -> str:
    body = render(name, example.get("params") or {}) + (example.get("html_after") or "")
    heading = "" if "<h1" in body else "<h1>Example</h1>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(name)}</title>{stylesheets}</head>"
        f'<body><main id="main-content" tabindex="-1">{heading}{body}</main></body></html>'
    )


def snapshot(out_dir: Path, variants: list[str]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="egomruk-styles-")) / "data"
    data_dir.mkdir()
    server = ServerProcess(server_environment(data_dir, None)).start()
    try:
        with sync_playwright() as playwright:
            options: dict = {"headless": True, "args": CHROMIUM_ARGS}
            if Path(SYSTEM_CHROMIUM).exists():
                options["executable_path"] = SYSTEM_CHROMIUM
            browser = playwright.chromium.launch(**options)
            for variant in variants:
                settings = VARIANTS[variant]
                media = {k: settings[k] for k in ("forced_colors", "media") if k in settings}
                context_options = {k: v for k, v in settings.items() if k not in media}
                result: dict[str, dict[str, list[str]]] = {}
                focus = variant in ("desktop", "forced-colors")
                user = "-"
                context = browser.new_context(base_url=server.url, **context_options)
                for who, path, submit in PAGES:
                    if (who or "-") != user:
                        context.close()
                        context = browser.new_context(base_url=server.url, **context_options)
                        user = who or "-"
                    page = context.new_page()
                    if who:  # on screen: print hides the buttons
                        sign_in(page, who, path, party=COMPANY if who == "vetendas" else None)
                        page.wait_for_url(f"**{path}*")  # the sign-in's own redirect, done
                    page.emulate_media(**media)
                    page.goto(path)
                    if submit:
                        # A script click: print hides buttons.
                        page.locator(f"{submit} button[type=submit]").last.evaluate(
                            "b => b.click()"
                        )
                        page.wait_for_load_state("networkidle")
                    key = f"{who or '-'} {path}{' (submitted)' if submit else ''}"
                    result[key] = _dump(page, focus)
                    acknowledge = page.locator("main form button", has_text="Tanış oldum")
                    if path == "/documents/obligation" and acknowledge.count():
                        # So that /documents/new shows its form (a script click: print
                        # hides buttons).
                        acknowledge.evaluate("b => b.click()")
                        page.wait_for_load_state("networkidle")
                    page.close()
                context.close()
                context = browser.new_context(base_url=server.url, **context_options)
                page = context.new_page()
                page.emulate_media(**media)
                page.goto("/")
                links = page.evaluate(
                    "[...document.querySelectorAll('link[rel=stylesheet]')]"
                    ".map(l => l.outerHTML).join('')"
                )
                for case in all_examples():
                    name, example = case.values
                    # set_content keeps the server's origin: the links load its stylesheets.
                    page.set_content(_example_document(name, example, links))
                    result[f"example {name}: {example['name']}"] = _dump(page, focus)
                context.close()
                with gzip.open(out_dir / f"{variant}.json.gz", "wt", encoding="utf-8") as file:
                    json.dump(result, file, sort_keys=True)
                elements = sum(len(styles) for styles in result.values())
                print(f"{variant}: {len(result)} pages, {elements} elements")
            browser.close()
    finally:
        server.stop()


def _by_name(styles: list[str]) -> dict[str, str]:
    return dict(style.split(": ", 1) for style in styles)


def compare(old_dir: Path, new_dir: Path, limit: int = 60) -> int:
    differences = 0
    for variant in VARIANTS:
        with gzip.open(old_dir / f"{variant}.json.gz", "rt", encoding="utf-8") as file:
            old = json.load(file)
        with gzip.open(new_dir / f"{variant}.json.gz", "rt", encoding="utf-8") as file:
            new = json.load(file)
        compared = 0
        for page in sorted(old.keys() | new.keys()):
            a, b = old.get(page, {}), new.get(page, {})
            for element in sorted(a.keys() | b.keys()):
                compared += 1
                before, after = a.get(element), b.get(element)
                if before == after:
                    continue
                if before is None or after is None:
                    differences += 1
                    if differences <= limit:
                        print(f"{variant} | {page} | {element}: only in one snapshot")
                    continue
                # By name: the browser lists custom properties in no fixed order.
                old_styles, new_styles = _by_name(before), _by_name(after)
                for name in sorted(old_styles.keys() | new_styles.keys()):
                    old_value, new_value = old_styles.get(name), new_styles.get(name)
                    if old_value != new_value:
                        differences += 1
                        if differences <= limit:
                            print(
                                f"{variant} | {page} | {element} {name}: {old_value} → {new_value}"
                            )
        print(f"{variant}: {len(old)} pages, {compared} elements compared")
    print(f"{differences} difference(s)")
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "snapshot":
        snapshot(Path(sys.argv[2]), sys.argv[3:] or list(VARIANTS))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        raise SystemExit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        raise SystemExit(__doc__)
