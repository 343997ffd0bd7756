"""Demo data for development (`make run`, listed in the README). Never runs in production.

Idempotent: running it again creates only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.identity import Account, MembershipSource, Person, Role
from web.services import accounts
from web.services.asan_imza.db_store import DatabaseSimulatorStore
from web.services.asan_imza.simulator import provision_demo_phone
from web.services.asan_signin import load_demo_ca
from web.settings import Settings

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


async def seed_demo_data(settings: Settings) -> int:
    """Create what is missing; return how many records were created."""
    if settings.is_production:
        raise RuntimeError("demo data is for development only")
    created = 0
    for citizen in CITIZENS:
        created += await _citizen(citizen)
    for username, full_name, role in STAFF:
        created += await _staff(username, full_name, role)
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
