"""Letter tracking end to end through HTTP, plus the numbering and outbox services."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from models.identity import Person
from models.letters import (
    CustomsBody,
    EmailStatus,
    Executor,
    Letter,
    LetterAttachment,
    LetterChannel,
    LetterEvent,
    LetterStatus,
    Notification,
    StructuralUnit,
)
from tests.integration.letters_support import csrf, lookup_params, sign_in
from web.letters import notifications, service

pytestmark = pytest.mark.usefixtures("seeded")

DEMO_NUMBER = "M-1024/2026"
DEMO_DATE = "03.11.2026"
BAKI = "Bakı Baş Gömrük İdarəsi"
HTMX = {"hx-request": "true"}


async def _body_id(name: str = BAKI) -> int:
    return (await CustomsBody.get(name=name)).id


async def _fresh_body() -> CustomsBody:
    return await CustomsBody.create(name=f"Test gömrük idarəsi {uuid.uuid4().hex[:8]}")


@pytest.fixture
async def second_client(client):
    """A second browser on the same running app (one app holds the ORM at a time)."""
    transport = httpx.ASGITransport(app=client.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as other:
        yield other


# --- tracking and privacy --------------------------------------------------------------


async def test_the_demo_citizen_tracks_the_demo_letter(client):
    await sign_in(client, "vetendas")
    page = await client.get("/letters")
    assert page.status_code == 200
    for label in ("Gömrük orqanı", "Məktubun nömrəsi", "Qeydiyyat tarixi"):
        assert label in page.text
    assert "Məktubun hansı gömrük orqanında olduğunu göstər" in page.text
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", page.text)
    assert options[:3] == [
        "Dövlət Gömrük Komitəsinin Aparatı",
        BAKI,
        "Hava Nəqliyyatı Baş Gömrük İdarəsi",
    ]

    result = await client.get(
        "/letters/track", params=lookup_params(await _body_id(), "  m-1024/2026 ", DEMO_DATE)
    )
    assert result.status_code == 200
    text = result.text
    for expected in (
        "Gömrük rəsmiləşdirilməsi şöbəsi",
        "Elnur Həsənov",
        'href="tel:+994125051124"',
        "+994 12 505 11 24",
        "İcradadır",
        "Struktur bölmə",
        "İcraçı",
        "İcra vəziyyəti",
    ):
        assert expected in text, expected
    # The history, newest first, without the internal note.
    history = text[text.index('class="timeline"') :]
    assert history.index("İcradadır") < history.index("İcraçıya göndərilib")
    assert history.index("İcraçıya göndərilib") < history.index("Qeydiyyata alınıb")
    assert "Sənədlər siyahısı" not in text


@pytest.mark.usefixtures("client")  # the app, and with it the database
async def test_one_statement_gives_the_letter_its_files_and_its_history_in_order():
    """`track_letter` / `tracked_letter` read the letter, its attachments and its public
    history in one statement (`service.lookup_sql`): files by id, history newest first (ties
    by id), values of the page's types, and nothing of the person's other letter."""
    person = await Person.get(fin="5ABCD12")
    body = await _fresh_body()
    at = datetime(2026, 11, 3, 6, 15, tzinfo=UTC)  # 10:15 in Baku
    letters = []
    for sequence in (1, 2):
        letters.append(
            await Letter.create(
                body=body,
                year=2026,
                sequence=sequence,
                number=f"M-{sequence}/2026",
                number_key=f"m-{sequence}/2026",
                registered_on=datetime(2026, 11, 3).date(),
                registered_at=at,
                channel=LetterChannel.ELECTRONIC,
                applicant=person,
                applicant_name="Vətəndaş",
                subject="Mövzu",
                status=LetterStatus.IN_PROGRESS,
                due_on=datetime(2026, 11, 28).date(),
                extended=True,
                status_changed_at=at + timedelta(days=1),
            )
        )
    letter, other = letters
    try:
        await _check_the_one_statement(person, body, at, letter, other)
    finally:
        # Leave nothing behind: attachment rows without files would show in later tests'
        # storage reports, and hand-numbered letters would take the body's next numbers.
        ids = (letter.id, other.id)
        await LetterAttachment.filter(letter_id__in=ids).delete()
        await LetterEvent.filter(letter_id__in=ids).delete()
        await Letter.filter(id__in=ids).delete()


async def _check_the_one_statement(person, body, at, letter, other) -> None:
    for target in (other, letter, letter):
        for name in ("b.pdf", "a.pdf"):
            await LetterAttachment.create(
                letter=target,
                original_name=f"{target.number} {name}",
                size=10,
                content_type="application/pdf",
                sha256="0" * 64,
                storage_key=uuid.uuid4().hex,
            )
    events = []
    for when, status in ((at, "registered"), (at + timedelta(hours=2), "sent_to_executor")):
        for target in (letter, other):
            events.append(
                await LetterEvent.create(
                    letter=target, at=when, to_status=status, public_note=target.number
                )
            )
    # Two events at the same moment: the later id first, as the model orders them.
    events.append(
        await LetterEvent.create(
            letter=letter, at=at + timedelta(hours=2), to_status="in_progress", public_note="x"
        )
    )
    for found in (
        await service.track_letter(person, body.id, " M-1/2026 ", letter.registered_on),
        await service.tracked_letter(person, letter.id),
    ):
        assert found is not None
        assert (found.id, found.number, found.status) == (letter.id, "M-1/2026", "in_progress")
        assert isinstance(found.status, LetterStatus) and found.extended is True
        assert found.registered_on == letter.registered_on and found.due_on == letter.due_on
        assert found.status_changed_at == at + timedelta(days=1)
        assert found.status_changed_at.utcoffset() == timedelta(hours=4)  # Baku, as the ORM
        assert (found.unit_name, found.executor_name, found.body_name) == (None, None, body.name)
        files = await LetterAttachment.filter(letter=letter).order_by("id")
        assert [file.id for file in found.attachments] == [file.id for file in files]
        assert {file.original_name for file in found.attachments} == {
            "M-1/2026 a.pdf",
            "M-1/2026 b.pdf",
        }
        assert [event.to_status for event in found.history] == [
            "in_progress",
            "sent_to_executor",
            "registered",
        ]
        assert {event.public_note for event in found.history} == {"M-1/2026", "x"}
        assert isinstance(found.history[0].to_status, LetterStatus)
        assert found.history[-1].at == at and found.history[-1].at.utcoffset() == timedelta(hours=4)
    assert await service.track_letter(person, body.id, "M-3/2026", letter.registered_on) is None
    stranger = await Person.get(fin="7XYZW34")
    assert await service.tracked_letter(stranger, letter.id) is None
    assert await service.track_letter(stranger, body.id, "M-1/2026", letter.registered_on) is None


BAKU_TZ = timezone(timedelta(hours=4))
PLUS_FIVE = timezone(timedelta(hours=5))


def _assert_same(found, expected, where: str) -> None:
    """Equal, of the same type (the same enum member, a tuple, a date not a datetime), and
    a datetime in the same time zone as the ORM gives."""
    assert type(found) is type(expected), (where, found, expected)
    if dataclasses.is_dataclass(expected):
        for field in dataclasses.fields(expected):
            name = field.name
            _assert_same(getattr(found, name), getattr(expected, name), f"{where}.{name}")
    elif isinstance(expected, tuple):
        assert len(found) == len(expected), (where, found, expected)
        for index, (one, other) in enumerate(zip(found, expected, strict=True)):
            _assert_same(one, other, f"{where}[{index}]")
    else:
        assert found == expected, (where, found, expected)
        if isinstance(expected, LetterStatus):
            assert found is expected, where
        if isinstance(expected, datetime):
            assert found.tzinfo == expected.tzinfo, (where, found.tzinfo, expected.tzinfo)
            assert found.utcoffset() == expected.utcoffset(), where


async def _as_the_orm_reads(letter_id: int) -> service.TrackedLetter:
    """What the tracking page shows of a letter, read by the ORM's own queries."""
    letter = await Letter.filter(id=letter_id).select_related("body", "unit", "executor").get()
    files = await LetterAttachment.filter(letter_id=letter_id).order_by("id")
    events = await LetterEvent.filter(letter_id=letter_id)
    events.sort(key=lambda event: (event.at, event.id), reverse=True)  # the model's order
    return service.TrackedLetter(
        id=letter.id,
        number=letter.number,
        registered_on=letter.registered_on,
        body_name=letter.body.name,
        unit_name=letter.unit.name if letter.unit else None,
        executor_name=letter.executor.full_name if letter.executor else None,
        executor_phone=letter.executor.phone if letter.executor else None,
        status=letter.status,
        due_on=letter.due_on,
        extended=letter.extended,
        status_changed_at=letter.status_changed_at,
        attachments=tuple(
            service.AttachedFile(file.id, file.original_name, file.size) for file in files
        ),
        history=tuple(
            service.PublicEvent(
                event.id,
                event.at,
                event.to_status,
                event.from_unit_name,
                event.to_unit_name,
                event.from_executor_name,
                event.to_executor_name,
                event.public_note,
            )
            for event in events
        ),
    )


@pytest.mark.usefixtures("client")  # the app, and with it the database
async def test_the_lookup_reads_what_the_orm_reads():
    """The lookup's rows, converted by `service._looked_up` (by position, its own
    converters), give the same values as the ORM reading the same letter: field by field,
    of the same types (enum members, dates, bools, aware datetimes in the ORM's time zone),
    files by id and history newest first. Letters with and without unit, executor, files,
    history and notes; several statuses; times a moment either side of midnight in Baku,
    written in UTC, in Baku's offset and in another."""
    person = await Person.get(fin="5ABCD12")
    stranger = await Person.get(fin="7XYZW34")
    body = await _fresh_body()
    unit = await StructuralUnit.create(body=body, name="Şöbə “Ə”")
    executor = await Executor.create(
        body=body, unit=unit, full_name="Günel Əliyeva", phone="+994 12 505 11 25"
    )
    before_midnight = datetime(2026, 11, 3, 19, 59, 59, 999999, tzinfo=UTC)  # 23:59:59.999999
    midnight = datetime(2026, 11, 4, 0, 0, tzinfo=BAKU_TZ)
    kinds = [
        # (status, extended, unit, executor, files, events, status_changed_at)
        (LetterStatus.ANSWERED, False, unit, executor, 3, 4, midnight),
        (LetterStatus.REGISTERED, True, None, None, 0, 0, before_midnight),
        (LetterStatus.DISMISSED, False, unit, None, 0, 2, midnight.astimezone(PLUS_FIVE)),
        (LetterStatus.EXTENDED, True, None, executor, 1, 0, before_midnight + timedelta(1)),
        (LetterStatus.FORWARDED_ELSEWHERE, False, None, None, 2, 1, midnight),
    ]
    letters = []
    try:
        for sequence, (status, extended, to_unit, to_executor, files, events, changed) in enumerate(
            kinds, start=1
        ):
            letter = await Letter.create(
                body=body,
                year=2026,
                sequence=sequence,
                number=f"M-{sequence}/2026",
                number_key=f"m-{sequence}/2026",
                registered_on=date(2026, 11, 4 - sequence % 2),
                registered_at=midnight - timedelta(microseconds=sequence % 2),
                channel=LetterChannel.ELECTRONIC,
                applicant=person,
                applicant_name="Vətəndaş",
                subject="Mövzu",
                status=status,
                unit=to_unit,
                executor=to_executor,
                due_on=date(2026, 12, 31 - sequence),
                extended=extended,
                status_changed_at=changed,
            )
            letters.append(letter)
            for number in range(files):
                await LetterAttachment.create(
                    letter=letter,
                    original_name=f"{number} sənəd 'ə'.pdf",
                    size=1000 + number,
                    content_type="application/pdf",
                    sha256="0" * 64,
                    storage_key=uuid.uuid4().hex,
                )
            moments = [midnight, before_midnight, midnight.astimezone(PLUS_FIVE), before_midnight]
            for number in range(events):
                await LetterEvent.create(
                    letter=letter,
                    at=moments[number],  # ties: the later id first
                    to_status=list(LetterStatus)[number],
                    from_unit_name="" if number % 2 else unit.name,
                    to_unit_name=unit.name,
                    from_executor_name="",
                    to_executor_name=executor.full_name if number else "",
                    public_note=f"Qeyd {number}: ə ğ ı" if number % 2 else "",
                    internal_note="daxili",
                )
        for letter in letters:
            expected = await _as_the_orm_reads(letter.id)
            for found in (
                await service.track_letter(
                    person, body.id, f" {letter.number.lower()} ", letter.registered_on
                ),
                await service.tracked_letter(person, letter.id),
            ):
                _assert_same(found, expected, letter.number)
            assert await service.tracked_letter(stranger, letter.id) is None
            assert (
                await service.track_letter(stranger, body.id, letter.number, letter.registered_on)
                is None
            )
        shapes = [
            (len(found.attachments), len(found.history))
            for found in [await _as_the_orm_reads(letter.id) for letter in letters]
        ]
        assert shapes == [(files, events) for *_, files, events, _changed in kinds]
    finally:
        ids = [letter.id for letter in letters]
        await LetterAttachment.filter(letter_id__in=ids).delete()
        await LetterEvent.filter(letter_id__in=ids).delete()
        await Letter.filter(id__in=ids).delete()
        await executor.delete()
        await unit.delete()


async def test_not_found_is_the_same_answer_for_every_mismatch(client, second_client):
    baki = await _body_id()
    other_body = await _body_id("Hava Nəqliyyatı Baş Gömrük İdarəsi")
    await sign_in(client, "vetendas")
    await sign_in(second_client, "vetendas2")
    cases = [
        (client, lookup_params(other_body, DEMO_NUMBER, DEMO_DATE)),  # wrong body
        (client, lookup_params(baki, DEMO_NUMBER, "04.11.2026")),  # wrong date
        (client, lookup_params(baki, "M-9999/2026", DEMO_DATE)),  # wrong number
        (second_client, lookup_params(baki, DEMO_NUMBER, DEMO_DATE)),  # someone else's
    ]
    fragments = []
    for who, params in cases:
        response = await who.get("/letters/track", params=params, headers=HTMX)
        assert response.status_code == 200
        fragments.append(response.content)
        page = await who.get("/letters/track", params=params)
        assert page.status_code == 200
        assert "Bu məlumatlarla məktub tapılmadı" in page.text
        assert "Elnur" not in page.text
    assert len(set(fragments)) == 1, "every mismatch must give byte-identical answers"
    assert b"1567" in fragments[0]  # the call centre's number is in the advice


async def test_another_persons_letter_id_is_a_plain_404(client):
    letter = await Letter.get(number=DEMO_NUMBER)
    await sign_in(client, "vetendas2")
    for path in (f"/letters/{letter.id}", f"/letters/{letter.id}/accepted", "/letters/999999"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "Elnur" not in response.text


async def test_invalid_lookup_is_422_with_errors_linked_to_fields(client):
    await sign_in(client, "vetendas")
    response = await client.get(
        "/letters/track",
        params={"body": "", "number": "", "registered-day": "31", "registered-month": "02"},
        headers=HTMX,
    )
    assert response.status_code == 422
    # The missing year is named and linked (not the whole date).
    for anchor in ('href="#body"', 'href="#number"', 'href="#registered-year"'):
        assert anchor in response.text
    assert "Tarixdə il olmalıdır" in response.text
    assert 'id="tracking"' in response.text  # the fragment, swapped in place


async def test_lookups_are_rate_limited_with_a_clear_page(make_app):
    async with AsyncTestClient(app=make_app(letter_lookup_rate_limit_per_minute=3)) as client:
        await sign_in(client, "vetendas")
        params = lookup_params(await _body_id(), DEMO_NUMBER, DEMO_DATE)
        for _ in range(3):
            assert (await client.get("/letters/track", params=params)).status_code == 200
        refused = await client.get("/letters/track", params=params)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "60"
        assert (
            "<h1 " in refused.text
            and "Həddindən çox sorğu" in refused.text
            and "1567" in refused.text
        )


async def test_the_registry_is_404_for_citizens_and_other_staff(client, second_client):
    response = await client.get("/registry", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    await sign_in(client, "vetendas")
    letter = await Letter.get(number=DEMO_NUMBER)
    for path in (
        "/registry",
        "/registry/new",
        f"/registry/letters/{letter.id}",
        "/registry/bodies",
    ):
        assert (await client.get(path)).status_code == 404, path
    forward = await client.post(
        f"/registry/letters/{letter.id}/forward",
        data={"unit": "1", "executor": "1", "_csrf_token": await csrf(client)},
    )
    assert forward.status_code == 404
    await sign_in(second_client, "mufettis")
    assert (await second_client.get("/registry")).status_code == 404


async def test_bodies_are_for_administrators(client, second_client):
    await sign_in(client, "katib")
    assert (await client.get("/registry")).status_code == 200
    assert (await client.get("/registry/bodies")).status_code == 404
    await sign_in(second_client, "admin")
    name = f"Naxçıvan gömrük postu {uuid.uuid4().hex[:6]}"
    added = await second_client.post(
        "/registry/bodies",
        data={"name": name, "_csrf_token": await csrf(second_client)},
        follow_redirects=False,
    )
    assert added.status_code == 303
    body = await CustomsBody.get(name=name)
    await second_client.post(
        f"/registry/bodies/{body.id}/units",
        data={"unit_name": "Poçt şöbəsi", "_csrf_token": await csrf(second_client)},
    )
    assert await StructuralUnit.exists(body=body, name="Poçt şöbəsi")
    await second_client.post(
        f"/registry/bodies/{body.id}",
        data={"name": name + " (köhnə)", "active": "0", "_csrf_token": await csrf(second_client)},
    )
    body = await CustomsBody.get(id=body.id)
    assert body.name.endswith("(köhnə)") and not body.is_active
    citizen_form = await second_client.get("/letters/new")
    assert body.name not in citizen_form.text  # inactive bodies are not offered


async def test_bodies_and_units_refused_names_keep_the_form_with_the_message(second_client):
    """Each administrator form words the service's refusal at its own field (422, in
    Azerbaijani by default), keeps what was typed, and writes nothing."""
    await sign_in(second_client, "admin")
    taken = (await CustomsBody.all().order_by("id").first()).name
    twice = await second_client.post(
        "/registry/bodies", data={"name": taken, "_csrf_token": await csrf(second_client)}
    )
    assert twice.status_code == 422
    assert "Bu adda gömrük orqanı artıq var" in twice.text
    assert 'href="#name"' in twice.text
    assert await CustomsBody.filter(name=taken).count() == 1
    empty = await second_client.post(
        "/registry/bodies", data={"name": "", "_csrf_token": await csrf(second_client)}
    )
    assert empty.status_code == 422 and "Gömrük orqanının adını daxil edin" in empty.text

    body = await CustomsBody.filter(name__not=taken).order_by("id").first()
    renamed = await second_client.post(
        f"/registry/bodies/{body.id}",
        data={"name": taken, "active": "1", "_csrf_token": await csrf(second_client)},
    )
    assert renamed.status_code == 422
    assert "Bu adda gömrük orqanı artıq var" in renamed.text
    assert (await CustomsBody.get(id=body.id)).name == body.name
    unit_name = f"Şöbə {uuid.uuid4().hex[:6]}"
    for _ in range(2):
        added = await second_client.post(
            f"/registry/bodies/{body.id}/units",
            data={"unit_name": unit_name, "_csrf_token": await csrf(second_client)},
        )
    assert added.status_code == 422
    assert "Bu orqanda bu adda bölmə artıq var" in added.text
    assert 'href="#unit_name"' in added.text
    assert await StructuralUnit.filter(body=body, name=unit_name).count() == 1
    unit = await StructuralUnit.get(body=body, name=unit_name)
    blank = await second_client.post(
        f"/registry/units/{unit.id}",
        data={"name": "", "_csrf_token": await csrf(second_client)},
    )
    assert blank.status_code == 422
    assert f'href="#unit-{unit.id}-name"' in blank.text
    assert "Struktur bölmənin adını daxil edin" in blank.text


# --- appeals, the registry and the citizen's history -----------------------------------


NO_FILE = [("files", ("", b"", "application/octet-stream"))]  # what a browser sends
PDF = (Path(__file__).resolve().parents[1] / "fixtures" / "invoice.pdf").read_bytes()


async def _post_appeal(client, files=None, **fields: str):
    return await client.post(
        "/letters/new",
        data={"_csrf_token": await csrf(client), **fields},
        files=files or NO_FILE,
        follow_redirects=False,
    )


async def _appeal(client, body_id: int, subject: str, text: str = "Mətn", files=None) -> Letter:
    response = await _post_appeal(client, files, body=str(body_id), subject=subject, text=text)
    assert response.status_code == 303, response.text
    letter_id = int(re.search(r"/letters/(\d+)/accepted", response.headers["location"]).group(1))
    return await Letter.get(id=letter_id)


async def test_appeal_forward_and_history_with_internal_notes_hidden(client, second_client):
    baki = await _body_id()
    await sign_in(client, "vetendas")
    letter = await _appeal(client, baki, "<script>alert(1)</script> rüsum")
    assert re.fullmatch(r"M-\d+/\d{4}", letter.number)
    assert letter.sequence > 1024  # continues after the demo letter
    confirmation = await client.get(f"/letters/{letter.id}/accepted")
    assert "Qeydiyyat nömrəsi" in confirmation.text and "Qeydiyyat tarixi" in confirmation.text
    assert letter.number in confirmation.text
    assert "<script>alert(1)</script>" not in confirmation.text
    assert "&lt;script&gt;" in confirmation.text
    mine = await client.get("/letters/mine")
    assert letter.number in mine.text and "<script>alert" not in mine.text
    notices = await client.get("/letters/notifications")
    assert f"Müraciətiniz qəbul edildi: {letter.number}" in notices.text

    await sign_in(second_client, "katib")
    unit = await StructuralUnit.get(body_id=baki, name="Gömrük ödənişləri şöbəsi")
    executor = await Executor.get(body_id=baki, full_name="Kamran Əhmədov")
    staff_page = await second_client.get(f"/registry/letters/{letter.id}")
    assert "&lt;script&gt;" in staff_page.text and "<script>alert" not in staff_page.text
    forwarded = await second_client.post(
        f"/registry/letters/{letter.id}/forward",
        data={
            "unit": str(unit.id),
            "executor": str(executor.id),
            "forward-public": "Ödənişlər şöbəsinə göndərildi.",
            "forward-internal": "GİZLİ-DAXİLİ-QEYD",
            "_csrf_token": await csrf(second_client),
        },
        follow_redirects=False,
    )
    assert forwarded.status_code == 303
    staff_page = await second_client.get(forwarded.headers["location"])
    assert "GİZLİ-DAXİLİ-QEYD" in staff_page.text  # staff see internal notes

    result = await client.get(f"/letters/{letter.id}")
    assert "Gömrük ödənişləri şöbəsi" in result.text
    assert "Kamran Əhmədov" in result.text and "tel:+994125051208" in result.text
    assert "İcraçıya göndərilib" in result.text
    assert "Ödənişlər şöbəsinə göndərildi." in result.text
    assert "GİZLİ-DAXİLİ-QEYD" not in result.text
    notices = await client.get("/letters/notifications")
    assert "İcraçıya göndərilib" in notices.text

    # A status change with a note, then a second extension is refused.
    changed = await second_client.post(
        f"/registry/letters/{letter.id}/status",
        data={"status": "in_progress", "_csrf_token": await csrf(second_client)},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    extended = await second_client.post(
        f"/registry/letters/{letter.id}/extend",
        data={"days": "10", "_csrf_token": await csrf(second_client)},
        follow_redirects=False,
    )
    assert extended.status_code == 303
    again = await second_client.post(
        f"/registry/letters/{letter.id}/extend",
        data={"days": "5", "_csrf_token": await csrf(second_client)},
    )
    assert again.status_code == 422
    refreshed = await Letter.get(id=letter.id)
    assert refreshed.extended and refreshed.status == "extended"

    # The second demo citizen cannot see it.
    second_client.cookies.clear()
    await sign_in(second_client, "vetendas2")
    assert (await second_client.get(f"/letters/{letter.id}")).status_code == 404


async def test_appeal_form_keeps_values_and_reports_errors(client):
    await sign_in(client, "vetendas")
    response = await _post_appeal(client, body="", subject="Mövzu <b>", text="x" * 5001)
    assert response.status_code == 422
    assert 'href="#body"' in response.text and 'href="#text"' in response.text
    assert 'value="Mövzu &lt;b&gt;"' in response.text


async def test_appeal_with_attachments_only_its_applicant_and_staff_download(client, second_client):
    await sign_in(client, "vetendas")
    refused = await _post_appeal(
        client,
        [("files", ("page.pdf", b"<html>not a pdf</html>", "application/pdf"))],
        body=str(await _body_id()),
        subject="Əlavə ilə",
        text="Mətn",
    )
    assert refused.status_code == 422
    assert 'href="#files"' in refused.text and "page.pdf" in refused.text
    assert 'value="Əlavə ilə"' in refused.text
    letter = await _appeal(
        client,
        await _body_id(),
        "Əlavə ilə",
        files=[("files", ("qaimə <1>.pdf", PDF, "application/pdf"))],
    )
    result = await client.get(f"/letters/{letter.id}")
    link = re.search(r'href="(/letters/\d+/files/\d+)"', result.text).group(1)
    assert "qaimə &lt;1&gt;.pdf" in result.text
    download = await client.get(link)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-security-policy"] == "sandbox"
    await sign_in(second_client, "vetendas2")
    assert (await second_client.get(link)).status_code == 404
    second_client.cookies.clear()
    await sign_in(second_client, "katib")
    staff_link = link.replace("/letters/", "/registry/letters/", 1)
    assert (await second_client.get(staff_link)).content == PDF


async def test_paper_letter_is_numbered_and_found_by_fin(client):
    await sign_in(client, "katib")
    baki = await _body_id()
    response = await client.post(
        "/registry/new",
        data={
            "fin": "7xyzw34",
            "name": "Rəşad Əliyev",
            "phone": "+994 55 111 22 33",
            "email": "resad@example.az",
            "channel": "paper",
            "body": str(baki),
            "subject": "Kağız məktub",
            "_csrf_token": await csrf(client),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    letter_id = int(re.search(r"/registry/letters/(\d+)", response.headers["location"]).group(1))
    letter = await Letter.get(id=letter_id)
    person = await Person.get(fin="7XYZW34")
    assert letter.applicant_id == person.id and letter.channel == LetterChannel.PAPER
    notice = await Notification.get(letter_id=letter.id)
    assert notice.email_to == "resad@example.az" and notice.email_status == EmailStatus.PENDING
    found = await client.get("/registry/search", params={"fin": "7XYZW34"})
    assert letter.number in found.text
    bad = await client.get("/registry/search", params={"fin": "12"})
    assert bad.status_code == 422
    listing = await client.get("/registry", params={"body": str(baki), "status": "registered"})
    assert letter.number in listing.text
    past_the_end = await client.get("/registry", params={"body": str(baki), "page": "999"})
    assert "/registry/letters/" in past_the_end.text  # the last page, not an empty one
    broken_email = await client.post(
        "/registry/new",
        data={
            "name": "Rəşad Əliyev",
            "email": "resad@example.az\r\nBcc: x@example.az",
            "channel": "paper",
            "body": str(baki),
            "subject": "Kağız məktub",
            "_csrf_token": await csrf(client),
        },
    )
    assert broken_email.status_code == 422 and 'href="#email"' in broken_email.text


# --- numbering under load ------------------------------------------------------------


async def test_concurrent_appeals_get_distinct_consecutive_numbers(db):
    body = await _fresh_body()
    person = await Person.get(fin="5ABCD12")
    applicant = service.Applicant(person=person, fin=person.fin, name=person.full_name)

    async def submit(index: int) -> Letter:
        return await service.register_letter(
            body=body,
            applicant=applicant,
            channel=LetterChannel.ELECTRONIC,
            subject=f"Müraciət {index}",
            text="Mətn",
            due_working_days=15,
        )

    letters = await asyncio.gather(*(submit(index) for index in range(100)))
    sequences = sorted(letter.sequence for letter in letters)
    assert sequences == list(range(1, 101))
    assert len({letter.number for letter in letters}) == 100
    assert await Letter.filter(body=body).count() == 100


# --- the outbox ----------------------------------------------------------------------


async def test_outbox_retries_with_backoff_and_never_loses_a_notice(db):
    body = await _fresh_body()
    address = f"{uuid.uuid4().hex[:8]}@example.az"
    letter = await service.register_letter(
        body=body,
        applicant=service.Applicant(person=None, fin=None, name="Kağız", email=address),
        channel=LetterChannel.PAPER,
        subject="Sınaq",
        text="",
        due_working_days=15,
    )
    notice = await Notification.get(letter_id=letter.id)
    clock = [datetime.now(UTC) + timedelta(seconds=1)]
    sent: list[tuple[str, str]] = []
    failures = [ConnectionRefusedError("smtp down"), TimeoutError("slow")]

    async def flaky(to: str, subject: str, body_text: str, message_id: str) -> None:
        if to != address:  # other tests' notices are delivered at once
            return
        if failures:
            raise failures.pop(0)
        sent.append((to, subject))

    def now() -> datetime:
        return clock[0]

    async def run() -> None:
        # Other tests' notices may be due too: only ours is counted.
        await notifications.deliver_pending(flaky, now=now, batch_size=1000)

    await run()
    row = await Notification.get(id=notice.id)
    assert row.email_status == EmailStatus.PENDING and row.attempts == 1
    assert "smtp down" in row.last_error
    await run()  # not due yet: nothing happens
    assert (await Notification.get(id=notice.id)).attempts == 1
    clock[0] += timedelta(minutes=1, seconds=1)
    await run()
    row = await Notification.get(id=notice.id)
    assert row.attempts == 2 and "TimeoutError" in row.last_error
    clock[0] += timedelta(minutes=2, seconds=1)
    await run()
    row = await Notification.get(id=notice.id)
    assert row.email_status == EmailStatus.SENT and row.sent_at is not None
    assert (address, row.subject) in sent
    assert row.subject.startswith("Müraciətiniz qəbul edildi")


async def test_smtp_sender_delivers_through_a_real_smtp_conversation(settings):
    from dataclasses import replace

    from tests.support.smtp import TinySmtpServer

    async with TinySmtpServer(fail_next=1) as server:
        smtp = replace(settings, smtp_host="127.0.0.1", smtp_port=server.port, smtp_security="none")
        send = notifications.smtp_sender(smtp)
        with pytest.raises(Exception, match="451"):
            await send("vetendas@example.az", "Müraciətiniz qəbul edildi", "Mətn", "<a@b>")
        await send("vetendas@example.az", "Müraciətiniz qəbul edildi: M-1/2026", "Mətn", "<c@d>")
    assert len(server.messages) == 1
    assert b"vetendas@example.az" in server.messages[0]
    assert b"Subject:" in server.messages[0]


async def test_the_app_runs_the_outbox_when_smtp_is_configured(make_app):
    from tests.support.smtp import TinySmtpServer

    async with TinySmtpServer() as server:
        app = make_app(
            run_worker_in_web="true",  # on PostgreSQL `auto` leaves it to `python -m web worker`
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_security="none",
            notification_interval_seconds=1,
        )
        async with AsyncTestClient(app=app) as client:
            await sign_in(client, "katib")
            address = f"{uuid.uuid4().hex[:8]}@example.az"
            await client.post(
                "/registry/new",
                data={
                    "name": "Kağız Müraciətçi",
                    "email": address,
                    "channel": "paper",
                    "body": str(await _body_id()),
                    "subject": "SMTP sınağı",
                    "_csrf_token": await csrf(client),
                },
            )
            for _ in range(100):  # the loop runs every second; wait at most ~10 s
                if any(address.encode() in message for message in server.messages):
                    break
                await asyncio.sleep(0.1)
            row = await Notification.get(email_to=address)
            assert row.email_status == EmailStatus.SENT


# --- staff acting on the same letter at once ---------------------------------------------


async def _paper_letter(body: CustomsBody, fin: str) -> Letter:
    return await service.register_letter(
        body=body,
        applicant=service.Applicant(person=None, fin=fin, name="Kağız Müraciətçi"),
        channel=LetterChannel.PAPER,
        subject="Kağız məktub",
        text="",
        due_working_days=15,
    )


async def test_two_staff_changes_on_what_they_both_saw_do_not_both_land(db):
    body = await _fresh_body()
    clerk = await Person.get(accounts__username="katib")
    letter = await _paper_letter(body, "9QWE123")
    seen_by_a = await service.staff_letter(letter.id)
    seen_by_b = await service.staff_letter(letter.id)
    await service.change_status(seen_by_a, service.StaffAction(clerk), status=LetterStatus.ANSWERED)
    with pytest.raises(service.LetterError):
        await service.change_status(
            seen_by_b, service.StaffAction(clerk), status=LetterStatus.IN_PROGRESS
        )
    stored = await Letter.get(id=letter.id)
    assert stored.status == LetterStatus.ANSWERED
    assert await LetterEvent.filter(letter_id=letter.id).count() == 2  # registered, answered

    # Extending twice from the same view: only once.
    other = await _paper_letter(body, "9QWE124")
    first, second = await service.staff_letter(other.id), await service.staff_letter(other.id)
    due = first.due_on
    await service.extend(first, service.StaffAction(clerk), working_days=5, max_working_days=30)
    with pytest.raises(service.LetterError):
        await service.extend(
            second, service.StaffAction(clerk), working_days=30, max_working_days=30
        )
    stored = await Letter.get(id=other.id)
    assert stored.extended and stored.due_on > due
    assert (stored.due_on - due).days < 30


async def test_notices_of_a_paper_letter_follow_it_to_the_account_made_later(db):
    body = await _fresh_body()
    fin = "8ZXC987"
    letter = await _paper_letter(body, fin)
    assert await Notification.filter(letter_id=letter.id, recipient_id=None).count() == 1
    person = await Person.create(fin=fin, full_name="Kağız Müraciətçi")
    await service.claim_paper_letters(person)
    assert (await Letter.get(id=letter.id)).applicant_id == person.id
    assert await Notification.filter(letter_id=letter.id, recipient_id=person.id).count() == 1


async def test_appeal_attachments_count_towards_the_upload_quota(make_app):
    async with AsyncTestClient(app=make_app(party_quota_bytes=1)) as client:
        await sign_in(client, "vetendas2")
        refused = await _post_appeal(
            client,
            [("files", ("qaimə.pdf", PDF, "application/pdf"))],
            body=str(await _body_id()),
            subject="Kvota",
            text="Mətn",
        )
        assert refused.status_code == 422
        assert 'href="#files"' in refused.text and "Yaddaşınız doludur" in refused.text
        assert not await Letter.filter(subject="Kvota").exists()
