"""The user's filename, made safe to keep as metadata (never used as a path: keys are).

Markup in a name stays as text: escaping it is the template's job, and a
`Content-Disposition` header must encode it (RFC 6266 / 5987 `filename*=`,
`web/storage/receiving.py`).
"""

from __future__ import annotations

import re
import unicodedata

MAX_FILENAME_BYTES = 255
FALLBACK_STEM = "document"
_EXTENSION_RE = re.compile(r"\.[A-Za-z0-9]{1,10}\Z")
# Control, format (bidi overrides such as U+202E spoof extensions), surrogates, private use,
# unassigned. Whitespace of any kind becomes a plain space instead.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _truncate_utf8(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def sanitize_filename(name: str | None) -> str:
    """The user's filename made safe to keep as display/download metadata.

    Keeps only the last path component (`/` and Windows `\\` both count), drops control and
    format characters, folds whitespace, trims dots and spaces at the ends, limits the result to
    255 UTF-8 bytes keeping the extension, and never returns an empty string. It is *not*
    HTML-escaped: `<b>.pdf` stays `<b>.pdf` (templates escape).
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in _DROPPED_CATEGORIES:
            kept.append(char)
    text = " ".join("".join(kept).split()).rstrip(" .")
    match = _EXTENSION_RE.search(text)
    extension = match.group() if match else ""
    stem = text[: len(text) - len(extension)].strip(" .")
    budget = MAX_FILENAME_BYTES - len(extension.encode("utf-8"))
    stem = _truncate_utf8(stem, budget).rstrip(" .")
    return (stem or FALLBACK_STEM) + extension
