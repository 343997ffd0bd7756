"""Demo data for development (`make run`, listed in the README). Never runs in production.

Idempotent: running it again creates only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from models.identity import Account, MembershipSource, Person, Role
from models.letters import (
    CustomsBody,
    Executor,
    Letter,
    LetterChannel,
    LetterCounter,
    LetterEvent,
    LetterStatus,
    StructuralUnit,
)
from web.identity import accounts
from web.identity.asan_signin import load_demo_ca
from web.letters.reference_data import ensure_customs_bodies
from web.letters.service import due_date, format_number, normalize_number
from web.platform.portal_time import PORTAL_TIME_ZONE
from web.settings import Settings
from web.simulator.operator import provision_demo_phone
from web.simulator.store import DatabaseSimulatorStore

DEMO_PASSWORD = "Demo-2026-gomruk"  # noqa: S105 - documented demo credential, development only


@dataclass(frozen=True)
class DemoCitizen:
    username: str
    fin: str
    full_name: str
    phone: str
    user_id: str
    pin1: str
    companies: tuple[tuple[str, str], ...] = ()


CITIZENS = (
    DemoCitizen(
        username="vetendas",
        fin="5ABCD12",
        full_name="Aysel Məmmədova",
        phone="+994501234567",
        user_id="123456",
        pin1="12345",
        companies=(("1234567891", "Xəzər Logistika MMC"),),
    ),
    DemoCitizen(
        username="vetendas2",
        fin="7XYZW34",
        full_name="Rəşad Əliyev",
        phone="+994551112233",
        user_id="654321",
        pin1="54321",
    ),
)

STAFF = (
    ("katib", "Günay Quliyeva", Role.REGISTRY_CLERK),
    ("icraci", "Elnur Həsənov", Role.EXECUTOR),
    ("mufettis", "Tural Nəsirov", Role.CUSTOMS_OFFICER),
    ("admin", "Sistem İnzibatçısı", Role.ADMIN),
)


async def _citizen(citizen: DemoCitizen) -> int:
    created = 0
    person = await Person.get_or_none(fin=citizen.fin)
    if person is None:
        person = await Person.create(
            fin=citizen.fin,
            full_name=citizen.full_name,
            phone=citizen.phone,
            asan_user_id=citizen.user_id,
        )
        created += 1
    await accounts.grant_party(
        person, await accounts.get_or_create_personal_party(person), MembershipSource.SEED
    )
    for voen, name in citizen.companies:
        company = await accounts.get_or_create_company_party(voen, name)
        await accounts.grant_party(person, company, MembershipSource.SEED)
    if not await Account.exists(username=citizen.username):
        await accounts.create_account(person, citizen.username, DEMO_PASSWORD)
        created += 1
    return created


async def _staff(username: str, full_name: str, role: Role) -> int:
    if await Account.exists(username=username):
        return 0
    person = await Person.create(full_name=full_name)
    await accounts.create_account(person, username, DEMO_PASSWORD, role=role)
    return 1


BAKI = "Bakı Baş Gömrük İdarəsi"
CLEARANCE_UNIT = "Gömrük rəsmiləşdirilməsi şöbəsi"
UNITS = {
    "Dövlət Gömrük Komitəsinin Aparatı": (
        "Vətəndaşların müraciətləri ilə iş şöbəsi",
        "Hüquq idarəsi",
    ),
    BAKI: (
        CLEARANCE_UNIT,
        "Gömrük ödənişləri şöbəsi",
        "Vətəndaşların müraciətləri ilə iş şöbəsi",
    ),
    "Hava Nəqliyyatı Baş Gömrük İdarəsi": (
        "Sərnişinlərin gömrük nəzarəti şöbəsi",
        "Poçt göndərişləri şöbəsi",
    ),
}
# (name, phone, body, unit, staff user name or None)
EXECUTORS = (
    ("Elnur Həsənov", "+994 12 505 11 24", BAKI, CLEARANCE_UNIT, "icraci"),
    ("Leyla Rzayeva", "+994 12 505 11 31", BAKI, "Vətəndaşların müraciətləri ilə iş şöbəsi", None),
    ("Kamran Əhmədov", "+994 12 505 12 08", BAKI, "Gömrük ödənişləri şöbəsi", None),
    (
        "Nigar Süleymanova",
        "+994 12 404 15 20",
        "Dövlət Gömrük Komitəsinin Aparatı",
        "Vətəndaşların müraciətləri ilə iş şöbəsi",
        None,
    ),
    (
        "Orxan Məmmədli",
        "+994 12 437 40 15",
        "Hava Nəqliyyatı Baş Gömrük İdarəsi",
        "Sərnişinlərin gömrük nəzarəti şöbəsi",
        None,
    ),
)
DEMO_LETTER_SEQUENCE = 1024
DEMO_LETTER_DATE = date(2026, 11, 3)


async def _letters_directory() -> int:
    created = await ensure_customs_bodies()
    for body_name, unit_names in UNITS.items():
        body = await CustomsBody.get_or_none(name=body_name)
        if body is None:
            continue
        for unit_name in unit_names:
            _, made = await StructuralUnit.get_or_create(body=body, name=unit_name)
            created += made
    for full_name, phone, body_name, unit_name, username in EXECUTORS:
        body = await CustomsBody.get_or_none(name=body_name)
        if body is None or await Executor.exists(full_name=full_name, body=body):
            continue
        unit = await StructuralUnit.get_or_none(body=body, name=unit_name)
        account = await Account.get_or_none(username=username) if username else None
        await Executor.create(
            full_name=full_name,
            phone=phone,
            body=body,
            unit=unit,
            person_id=account.person_id if account else None,
        )
        created += 1
    return created


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PORTAL_TIME_ZONE)


async def _demo_letter(settings: Settings) -> int:
    """M-1024/2026 of `vetendas` at Bakı Baş Gömrük İdarəsi, with a three-event history."""
    body = await CustomsBody.get_or_none(name=BAKI)
    applicant = await Person.get_or_none(fin=CITIZENS[0].fin)
    if body is None or applicant is None:
        return 0
    year = DEMO_LETTER_DATE.year
    created = 0
    counter, _ = await LetterCounter.get_or_create(body=body, year=year)
    if counter.last_number < DEMO_LETTER_SEQUENCE:  # new appeals continue after 1024
        counter.last_number = DEMO_LETTER_SEQUENCE
        await counter.save()
    number = format_number(DEMO_LETTER_SEQUENCE, year)
    if await Letter.exists(body=body, number_key=normalize_number(number)):
        return created
    unit = await StructuralUnit.get(body=body, name=CLEARANCE_UNIT)
    executor = await Executor.get(body=body, full_name="Elnur Həsənov")
    clerk = await Account.get_or_none(username="katib").prefetch_related("person")
    icraci = await Account.get_or_none(username="icraci").prefetch_related("person")
    registered = _at(DEMO_LETTER_DATE, 10, 15)
    in_progress = _at(date(2026, 11, 5), 9, 40)
    letter = await Letter.create(
        body=body,
        year=year,
        sequence=DEMO_LETTER_SEQUENCE,
        number=number,
        number_key=normalize_number(number),
        registered_on=DEMO_LETTER_DATE,
        registered_at=registered,
        channel=LetterChannel.ELECTRONIC,
        applicant=applicant,
        applicant_fin=applicant.fin,
        applicant_name=applicant.full_name,
        applicant_phone=applicant.phone,
        applicant_email=applicant.email,
        subject="Avtomobilin idxalı zamanı gömrük rəsmiləşdirilməsi",
        text=(
            "Xaricdən gətirdiyim minik avtomobilinin gömrük rəsmiləşdirilməsi üçün hansı "
            "sənədlərin tələb olunduğunu bildirməyinizi xahiş edirəm."
        ),
        status=LetterStatus.IN_PROGRESS,
        unit=unit,
        executor=executor,
        due_on=due_date(DEMO_LETTER_DATE, settings.letter_due_working_days),
        status_changed_at=in_progress,
    )
    clerk_person = clerk.person if clerk else None
    events = (
        dict(
            at=registered,
            actor=None,
            actor_name=applicant.full_name,
            from_status=None,
            to_status=LetterStatus.REGISTERED,
        ),
        dict(
            at=_at(date(2026, 11, 4), 11, 5),
            actor=clerk_person,
            actor_name=clerk_person.full_name if clerk_person else "",
            from_status=LetterStatus.REGISTERED,
            to_status=LetterStatus.SENT_TO_EXECUTOR,
            to_unit_name=CLEARANCE_UNIT,
            to_executor_name=executor.full_name,
            public_note="Müraciət icra üçün Gömrük rəsmiləşdirilməsi şöbəsinə göndərildi.",
            internal_note="Sənədlər siyahısı ilə birlikdə cavab hazırlansın.",
        ),
        dict(
            at=in_progress,
            actor=icraci.person if icraci else None,
            actor_name=executor.full_name,
            from_status=LetterStatus.SENT_TO_EXECUTOR,
            to_status=LetterStatus.IN_PROGRESS,
            from_unit_name=CLEARANCE_UNIT,
            to_unit_name=CLEARANCE_UNIT,
            from_executor_name=executor.full_name,
            to_executor_name=executor.full_name,
            public_note="Müraciət icraya götürülüb.",
        ),
    )
    for event in events:
        await LetterEvent.create(letter=letter, **event)
    created += 1 + len(events)
    return created


async def seed_demo_data(settings: Settings) -> int:
    """Create what is missing; return how many records were created."""
    if not settings.is_development:
        raise RuntimeError("demo data is for development only (ENV=development)")
    created = 0
    for citizen in CITIZENS:
        created += await _citizen(citizen)
    for username, full_name, role in STAFF:
        created += await _staff(username, full_name, role)
    created += await _letters_directory()
    created += await _demo_letter(settings)
    if settings.asan_gateway == "simulator":
        ca = load_demo_ca(settings)
        store = DatabaseSimulatorStore()
        for citizen in CITIZENS:
            if await store.get_phone(citizen.phone) is None:
                await provision_demo_phone(
                    store,
                    ca,
                    phone=citizen.phone,
                    user_id=citizen.user_id,
                    pin1=citizen.pin1,
                    fin=citizen.fin,
                    full_name=citizen.full_name,
                    companies=citizen.companies,
                )
                created += 1
    return created
