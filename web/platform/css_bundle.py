"""The one stylesheet pages link, static/css/app.css: the base sheet, then every component's
own sheet (components/<name>/<name>.css) in the cascade order declared here.

One file keeps the first load at one stylesheet request (and compresses better than two).
It is generated, not committed (a committed copy would stand twice in the tree beside its
sources): `create_app` writes it when it is missing or stale, before any page links it, and
`python -m web bundle-css` writes it for an image build whose tree is read-only at run time.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS_DIR = ROOT / "components"
BASE_SHEET = "static/css/base.css"  # tokens, reset, typography, layout, the domains' page rules
BUNDLE = "static/css/app.css"
# The cascade order. A later rule beats an earlier one of the same specificity, so a sheet
# that overrides another comes after it: file upload after the look it shares with the text
# controls (_macros/field.css), date input and choices after label and hint, button after file
# upload. Private `_macros/` sheets hold what several components share.
COMPONENT_SHEETS = (
    "_macros/field.css",
    "label/label.css",
    "hint/hint.css",
    "error_message/error_message.css",
    "fieldset/fieldset.css",
    "input/input.css",
    "textarea/textarea.css",
    "select/select.css",
    "date_input/date_input.css",
    "file_upload/file_upload.css",
    "_macros/choices.css",
    "radios/radios.css",
    "button/button.css",
    "error_summary/error_summary.css",
    "status_region/status_region.css",
    "notification_banner/notification_banner.css",
    "summary_list/summary_list.css",
    "summary_card/summary_card.css",
    "panel/panel.css",
    "table/table.css",
    "pagination/pagination.css",
    "details/details.css",
    "tag/tag.css",
    "skip_link/skip_link.css",
    "back_link/back_link.css",
)
HEADER = (
    "/* Generated from static/css/base.css and the sheets in components/ by\n"
    "   web/platform/css_bundle.py (at start-up, or `python -m web bundle-css`): edit those. */\n"
)


def undeclared_sheets() -> list[str]:
    """Stylesheets under components/ that COMPONENT_SHEETS does not list (they would be lost)."""
    found = sorted(
        path.relative_to(COMPONENTS_DIR).as_posix() for path in COMPONENTS_DIR.rglob("*.css")
    )
    return [sheet for sheet in found if sheet not in COMPONENT_SHEETS]


# A comment, or a quoted string (kept whole, so a "/*" inside one is not taken for a comment).
_COMMENT_OR_STRING = re.compile(r"/\*.*?\*/|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'", re.S)


def strip_comments(css: str) -> str:
    """The rules without comments, trailing spaces or blank lines: the sources explain, the
    served file only has to be small (each part keeps a comment naming its source)."""
    css = _COMMENT_OR_STRING.sub(lambda m: "" if m.group().startswith("/*") else m.group(), css)
    return "\n".join(line.rstrip() for line in css.splitlines() if line.strip())


def build() -> str:
    """The bundle's text: the base sheet, then each component sheet, each under a comment
    naming its source."""
    missing = undeclared_sheets()
    if missing:
        raise ValueError(f"add {missing} to COMPONENT_SHEETS in web/platform/css_bundle.py")
    sources = [BASE_SHEET, *(f"components/{sheet}" for sheet in COMPONENT_SHEETS)]
    parts = [HEADER]
    for source in sources:
        css = strip_comments((ROOT / source).read_text(encoding="utf-8"))
        parts.append(f"/* {source} */\n{css}\n")
    return "".join(parts)


def write() -> bool:
    """Write the bundle when it differs from its sources; True when it was written. Atomic
    (a temporary file renamed over it), so instances starting together from one tree never
    serve a half-written sheet."""
    path = ROOT / BUNDLE
    text = build()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".app-", suffix=".css")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
