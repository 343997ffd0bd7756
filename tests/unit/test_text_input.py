"""The one normaliser of typed text and the one parser of typed whole numbers."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from web.platform.forms import date_from_parts, field
from web.platform.text_input import clean_text, whole_number


def test_nul_and_controls_go_line_breaks_stay_only_where_asked():
    assert clean_text("a\x00b\x07c\x1b[31m\x7f\x9f") == "abc[31m"
    assert clean_text("bir\r\niki\rüç\u2028dörd") == "bir iki üç dörd"
    assert clean_text("bir\r\niki\tüç", multiline=True) == "bir\niki\tüç"


def test_bidi_overrides_and_invisible_marks_are_removed():
    assert clean_text("M-1024\u202e6202/") == "M-10246202/"
    assert clean_text("\u2066Aysel\u2069 \u200fMəmmədova\ufeff") == "Aysel Məmmədova"


def test_text_is_nfc_trimmed_and_cut():
    decomposed = "e\u0301"  # "é" typed as e + combining acute
    assert clean_text(decomposed) == "é"
    assert clean_text("  uzun mətn  ", 4) == "uzun"
    assert clean_text(None) == ""
    assert clean_text("\ud800x") == "x"  # a lone surrogate cannot be stored anywhere


@given(st.text())
def test_whatever_comes_in_what_goes_out_is_storable(text):
    cleaned = clean_text(text, 500, multiline=True)
    assert "\x00" not in cleaned and len(cleaned) <= 500
    cleaned.encode("utf-8")  # no lone surrogates
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in cleaned)


def test_whole_numbers_are_ascii_digits_only():
    assert whole_number("42") == 42
    assert whole_number(" 7 ") == 7
    for bad in ("²", "1²", "١٢", "１２", "-1", "+1", "1.0", "", None, "1 2", "1234567890"):
        assert whole_number(bad) is None, bad
    assert whole_number("1234", max_digits=3) is None


def test_form_fields_use_the_normaliser_and_never_take_a_file_for_text():
    assert field({"name": ["A\x00li", "ignored"]}, "name") == "Ali"
    assert field({"name": object()}, "name") == ""
    assert date_from_parts({"day": "²", "month": "1", "year": "2026"}) is None
