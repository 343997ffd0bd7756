"""The found letter's section, written in Python (web/letters/tracking_result.py), is byte for
byte what its template wrote (kept in reference/tracking_result.html.j2): for letters with
and without unit, executor, files, notes, moves, overdue or extended, any status, hostile
text, in az, en and ru."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.letters import LetterStatus
from web.letters.service import AttachedFile, PublicEvent, TrackedLetter
from web.letters.status import status_label
from web.letters.tracking_result import tracking_result
from web.platform import i18n
from web.platform.templating import build_environment

REFERENCE = (Path(__file__).parent / "reference" / "tracking_result.html.j2").read_text()
ENVIRONMENT = build_environment()
OLD = ENVIRONMENT.from_string(REFERENCE)
NEW = ENVIRONMENT.from_string("{{ tracking_result(letter, overdue) }}\n")

# Names, numbers and notes as people type them, markup and quotes included.
TEXT = st.text(
    alphabet=st.sampled_from(list("aəğıöşüçAƏ <>&\"'/-—1%()")) | st.characters(), max_size=30
)
OPTIONAL = st.none() | TEXT
WHEN = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@st.composite
def events(draw) -> PublicEvent:
    unit = draw(st.sampled_from(["", "Şöbə A", "Şöbə <B>"]))
    return PublicEvent(
        id=draw(st.integers(1, 10**6)),
        at=draw(WHEN),
        to_status=draw(st.sampled_from(list(LetterStatus))),
        from_unit_name=draw(st.sampled_from(["", "Şöbə A", unit])),
        to_unit_name=unit,
        from_executor_name=draw(st.sampled_from(["", "Elnur", "Aynur"])),
        to_executor_name=draw(st.sampled_from(["", "Elnur", "<i>Aynur</i>"])),
        public_note=draw(st.sampled_from(["", "Qeyd & <qeyd>"]) | TEXT),
    )


@st.composite
def letters(draw) -> TrackedLetter:
    registered = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
    files = draw(
        st.lists(
            st.builds(
                AttachedFile,
                id=st.integers(1, 10**6),
                original_name=TEXT,
                size=st.integers(0, 10**8),
            ),
            max_size=3,
        )
    )
    return TrackedLetter(
        id=draw(st.integers(1, 10**9)),
        number=draw(TEXT),
        registered_on=registered,
        body_name=draw(TEXT),
        unit_name=draw(OPTIONAL),
        executor_name=draw(OPTIONAL),
        executor_phone=draw(st.sampled_from(["+994 12 505 11 24", "<+994>"])),
        status=draw(st.sampled_from(list(LetterStatus))),
        due_on=registered + timedelta(days=draw(st.integers(0, 60))),
        extended=draw(st.booleans()),
        status_changed_at=draw(WHEN),
        attachments=tuple(files),
        history=tuple(draw(st.lists(events(), max_size=4))),
    )


def _both(letter: TrackedLetter, overdue: bool, language: str) -> tuple[str, str]:
    token = i18n.set_language(language)
    try:
        old = OLD.render(
            letter=letter,
            attachments=letter.attachments,
            history=letter.history,
            overdue=overdue,
            status_label=status_label,
        )
        new = NEW.render(letter=letter, overdue=overdue, tracking_result=tracking_result)
    finally:
        i18n.reset_language(token)
    return old, new


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(letter=letters(), overdue=st.booleans(), language=st.sampled_from(sorted(i18n.LANGUAGES)))
def test_the_same_bytes_as_the_template(letter, overdue, language):
    old, new = _both(letter, overdue, language)
    assert new == old


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_a_full_letter_shows_everything_escaped(language):
    """Not only equal: the section does show the letter (equal to an empty one would pass)."""
    letter = TrackedLetter(
        id=7,
        number="M-1/2026 <x>",
        registered_on=date(2026, 11, 3),
        body_name="Bakı & Co",
        unit_name="Şöbə",
        executor_name="Elnur Həsənov",
        executor_phone="+994 12 505 11 24",
        status=LetterStatus.IN_PROGRESS,
        due_on=date(2026, 11, 26),
        extended=True,
        status_changed_at=datetime(2026, 11, 5, 5, 40, tzinfo=UTC),
        attachments=(AttachedFile(3, "scan <1>.pdf", 2048),),
        history=(
            PublicEvent(
                1,
                datetime(2026, 11, 4, 7, 5, tzinfo=UTC),
                LetterStatus.SENT_TO_EXECUTOR,
                "",
                "Şöbə",
                "",
                "Elnur",
                "Qeyd <b>",
            ),
        ),
    )
    old, new = _both(letter, True, language)
    assert new == old
    for shown in (
        "M-1/2026 &lt;x&gt;",
        "Bakı &amp; Co",
        'href="tel:+994125051124"',
        "03.11.2026",
        "26.11.2026",
        "05.11.2026 09:40",
        'href="/letters/7/files/3" download>scan &lt;1&gt;.pdf</a>',
        '<p lang="az">Qeyd &lt;b&gt;</p>',
        'datetime="2026-11-04T07:05:00+00:00">04.11.2026 11:05</time>',
        "tag--red",
        "tag--blue",
    ):
        assert shown in new, shown
