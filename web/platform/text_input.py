"""The one place where typed text and numbers from forms and query strings are made safe.

Every form field reaches the portal through `clean_text` (via `web.platform.forms.field`,
`ReceivedForm.get` for multipart forms): whatever a browser, a script or a fuzzer sends, what
comes out is text the database can store and the pages can show as typed:

- Unicode NFC, so "ə" typed on two keyboards is one spelling (lookups and uniqueness agree);
- no NUL or other control characters (PostgreSQL refuses NUL in text; the others are never
  typed): line breaks and tabs survive only in multi-line fields, elsewhere they become spaces;
- no bidirectional overrides, embeddings or isolates (U+202A–U+202E, U+2066–U+2069, and the
  invisible marks U+200E, U+200F, U+061C): they make "M-1024" display as something else in a
  number or a name ("Trojan Source" spoofing), and no Azerbaijani, Russian or English text
  needs them;
- no lone surrogates (they cannot be encoded at all);
- trimmed, and cut to the field's length (callers that must tell the user "too long" ask for
  one character more than allowed and compare).

Nothing here rejects input: it normalises it. Callers validate the meaning (a FIN, a date).
`whole_number` is the one parser of digits typed in forms and query strings: `str.isdigit()`
accepts "²" and `int()` then fails, so only ASCII decimal digits count.
"""

from __future__ import annotations

import re
import unicodedata

# Bidi formatting characters: embeddings/overrides (202A–202E), isolates (2066–2069), and the
# implicit marks (LRM, RLM, ALM). Also the byte-order mark / zero-width no-break space.
_BIDI_AND_BOM = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\ufeff"
# C0 and C1 controls and DEL, except tab, line feed and carriage return (handled below).
_CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_CONTROLS += "".join(chr(c) for c in range(0x7F, 0xA0))
_DROP = str.maketrans(dict.fromkeys(_BIDI_AND_BOM + _CONTROLS))
_SURROGATES = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_SINGLE_LINE_SPACE = re.compile(r"[\t\n]")


def clean_text(value: object, max_length: int = 1000, *, multiline: bool = False) -> str:
    """Normalised, trimmed text of at most `max_length` characters (see the module doc)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # \x85 (NEL) is a C1 control but also a line break: turn breaks into \n first.
    text = _LINE_BREAKS.sub("\n", text)
    text = _SURROGATES.sub("", text).translate(_DROP)
    text = unicodedata.normalize("NFC", text)
    if not multiline:
        text = _SINGLE_LINE_SPACE.sub(" ", text)
    return text.strip()[:max_length]


MAX_WHOLE_NUMBER_DIGITS = 9  # fits every id column and every count a form asks for


def whole_number(value: object, max_digits: int = MAX_WHOLE_NUMBER_DIGITS) -> int | None:
    """A non-negative whole number typed as ASCII digits (surrounding spaces allowed), else None.

    "²", "٣" (Arabic-Indic) and "１" (full-width) are digits to `str.isdigit()` but not to this
    portal; over-long numbers are None too, so no id or page can overflow a database integer.
    """
    if value is None:
        return None
    text = (value if isinstance(value, str) else str(value)).strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdecimal()):
        return None
    return int(text)
