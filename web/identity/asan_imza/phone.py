"""Azerbaijani mobile numbers: accept the spellings people type, store one canonical form.

Canonical form is E.164: ``+994`` followed by the 2-digit operator code and the 7-digit subscriber
number, e.g. ``+994501234567``. Accepted input, after dropping spaces, dashes, dots and
parentheses (in any place):

==========================  =================================
``+994 50 123 45 67``       international with ``+``
``00994501234567``          international with the ``00`` exit code
``994501234567``            international without ``+``
``050-123-45-67``           national trunk prefix ``0``
``(050) 123 45 67``
``50 123 45 67``            bare 9-digit national number
==========================  =================================

Only mobile operator codes are accepted (Azercell 10/50/51, Bakcell 55/99, Naxtel 60,
Azerfon/Nar 70/77); landlines, other countries, letters, non-ASCII digits and a ``+`` anywhere but
in front give ``None``.
"""

from __future__ import annotations

import re

MOBILE_OPERATOR_CODES: frozenset[str] = frozenset({"10", "50", "51", "55", "60", "70", "77", "99"})
"""Two-digit operator codes of Azerbaijani mobile networks (the only numbers with a SIM)."""

COUNTRY_CODE = "994"

_SEPARATORS = re.compile(r"[\s\-.()]+")
_SHAPE = re.compile(r"\+?[0-9]+")


def normalize_az_mobile(raw: str) -> str | None:
    """Return ``+994XXXXXXXXX`` for an Azerbaijani mobile number in any common spelling, else None.

    >>> normalize_az_mobile("(050) 123 45 67")
    '+994501234567'
    >>> normalize_az_mobile("012 123 45 67") is None  # Baku landline
    True
    """
    if not isinstance(raw, str):
        return None
    compact = _SEPARATORS.sub("", raw)
    if len(compact) > 20 or not _SHAPE.fullmatch(compact):
        return None
    plus = compact.startswith("+")
    digits = compact.lstrip("+")
    if plus:
        # With "+" only the international form makes sense.
        national = digits[3:] if digits.startswith(COUNTRY_CODE) and len(digits) == 12 else None
    elif digits.startswith("00" + COUNTRY_CODE) and len(digits) == 14:
        national = digits[5:]
    elif digits.startswith(COUNTRY_CODE) and len(digits) == 12:
        national = digits[3:]
    elif digits.startswith("0") and len(digits) == 10:
        national = digits[1:]
    elif len(digits) == 9:
        national = digits
    else:
        national = None
    if national is None or national[:2] not in MOBILE_OPERATOR_CODES:
        return None
    return f"+{COUNTRY_CODE}{national}"
