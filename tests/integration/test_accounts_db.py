"""Accounts on the database (SQLite and PostgreSQL): sign-in, lock-out, TOTP, parties."""

from __future__ import annotations

import asyncio
import secrets
import string
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest
from argon2 import PasswordHasher
from tortoise.exceptions import IntegrityError

from models.identity import (
    Account,
    MembershipSource,
    Party,
    PartyKind,
    PartyMembership,
    Person,
    Role,
)
from web.identity import accounts
from web.identity import accounts as accounts_module
from web.identity.accounts import (
    LOCK_DURATION,
    MAX_FAILED_ATTEMPTS,
    TOO_COMMON,
    AuthOutcome,
    AuthResult,
    PasswordRejected,
    authenticate,
    create_account,
    get_or_create_company_party,
    get_or_create_personal_party,
    grant_party,
    parties_of,
    record_asan_identity,
    set_password,
    verify_totp,
)

PASSWORD = "Xəzər-dənizi 2024!"
WRONG = "Xəzər-dənizi 2025!"
BAKU = ZoneInfo("Asia/Baku")


@pytest.fixture(autouse=True)
async def _identity_tables(db) -> None:
    """Every test here talks to the migrated test database."""


@pytest.fixture(autouse=True)
def _ten_failures_lock(monkeypatch) -> None:
    """The lock logic is the same at any ceiling; production's 100 (NIST's maximum) would only
    make these tests 10 times slower (argon2 per attempt)."""
    monkeypatch.setattr(accounts_module, "MAX_FAILED_ATTEMPTS", 10)
    monkeypatch.setitem(globals(), "MAX_FAILED_ATTEMPTS", 10)


# The database lives for the whole session: every test takes its own names and numbers.
def new_fin() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(7))


def new_voen() -> str:
    return "".join(secrets.choice(string.digits) for _ in range(10))


def new_username() -> str:
    return f"user-{secrets.token_hex(6)}"


def new_now() -> datetime:
    return datetime.now(BAKU).replace(microsecond=0)


async def new_account(*, totp_secret: str | None = None, role: Role = Role.CITIZEN) -> Account:
    person = await Person.create(fin=new_fin(), full_name="Məmmədova Leyla Arif qızı")
    return await create_account(
        person, new_username(), PASSWORD, role=role, totp_secret=totp_secret
    )


async def fresh(account: Account) -> Account:
    return await Account.get(id=account.id)


def wrong_code(totp: pyotp.TOTP, now: datetime) -> str:
    valid = {totp.at(now + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


# --- Sign-in --------------------------------------------------------------------------------


async def test_right_password_is_ok_in_any_case_of_the_user_name() -> None:
    account = await new_account()
    result = await authenticate(f"  {account.username.upper()} ", PASSWORD, now=new_now())
    assert result.outcome is AuthOutcome.OK
    assert result.is_ok
    assert result.account is not None and result.account.id == account.id
    assert result.locked_until is None


async def test_user_names_are_stored_lower_case_and_unique_in_any_case() -> None:
    person = await Person.create(full_name="Staff Member")
    name = new_username()
    account = await create_account(person, name.upper(), PASSWORD, role=Role.ADMIN)
    assert (await fresh(account)).username == name
    assert (await fresh(account)).role is Role.ADMIN
    with pytest.raises(IntegrityError):
        await create_account(person, name.title(), PASSWORD)


async def test_wrong_password_is_invalid_and_counted() -> None:
    account = await new_account()
    now = new_now()
    result = await authenticate(account.username, WRONG, now=now)
    assert result == AuthResult.invalid()
    assert result.account is None
    stored = await fresh(account)
    assert stored.failed_attempts == 1
    assert stored.last_failed_at == now
    assert stored.locked_until is None


async def test_unknown_user_gives_the_same_outcome_and_still_runs_argon2(monkeypatch) -> None:
    account = await new_account()
    wrong_password = await authenticate(account.username, WRONG, now=new_now())

    checked: list[str] = []
    real = accounts._verify_off_loop

    async def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return await real(password_hash, password)

    monkeypatch.setattr(accounts, "_verify_off_loop", counting)
    unknown = await authenticate(new_username(), PASSWORD, now=new_now())
    assert unknown == wrong_password == AuthResult.invalid()
    assert type(unknown) is type(wrong_password)
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")


async def test_inactive_account_is_invalid_even_with_the_right_password() -> None:
    account = await new_account()
    account.is_active = False
    await account.save()
    assert await authenticate(account.username, PASSWORD, now=new_now()) == AuthResult.invalid()


async def test_ten_failures_lock_for_fifteen_minutes() -> None:
    account = await new_account()
    now = new_now()
    for attempt in range(1, MAX_FAILED_ATTEMPTS):
        result = await authenticate(account.username, WRONG, now=now + timedelta(seconds=attempt))
        assert result.outcome is AuthOutcome.INVALID, attempt

    tenth = now + timedelta(seconds=MAX_FAILED_ATTEMPTS)
    result = await authenticate(account.username, WRONG, now=tenth)
    assert result.outcome is AuthOutcome.LOCKED
    assert result.account is None
    until = tenth + LOCK_DURATION
    assert result.locked_until == until
    stored = await fresh(account)
    assert stored.failed_attempts == MAX_FAILED_ATTEMPTS
    assert stored.locked_until == until

    # Even the right password is refused while locked, and failures do not extend the lock.
    assert await authenticate(account.username, PASSWORD, now=tenth + timedelta(minutes=1)) == (
        AuthResult.locked(until)
    )
    later = tenth + timedelta(minutes=14, seconds=59)
    assert await authenticate(account.username, WRONG, now=later) == AuthResult.locked(until)
    stored = await fresh(account)
    assert stored.locked_until == until
    assert stored.failed_attempts == MAX_FAILED_ATTEMPTS

    # Fifteen minutes on, the right password works again and the counter is reset.
    result = await authenticate(account.username, PASSWORD, now=until)
    assert result.outcome is AuthOutcome.OK
    stored = await fresh(account)
    assert stored.failed_attempts == 0
    assert stored.locked_until is None


async def test_after_a_lock_runs_out_counting_starts_afresh() -> None:
    account = await new_account()
    now = new_now()
    for _ in range(MAX_FAILED_ATTEMPTS):
        result = await authenticate(account.username, WRONG, now=now)
    assert result.outcome is AuthOutcome.LOCKED

    after = now + LOCK_DURATION + timedelta(seconds=1)
    # Given in UTC this time: the comparison is by instant, not by spelling.
    result = await authenticate(account.username, WRONG, now=after.astimezone(UTC))
    assert result == AuthResult.invalid()
    stored = await fresh(account)
    assert stored.failed_attempts == 1
    assert stored.locked_until is None


async def test_success_resets_the_counter() -> None:
    account = await new_account()
    now = new_now()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        await authenticate(account.username, WRONG, now=now)
    assert (await fresh(account)).failed_attempts == MAX_FAILED_ATTEMPTS - 1

    assert (await authenticate(account.username, PASSWORD, now=now)).is_ok
    assert (await fresh(account)).failed_attempts == 0
    # Only consecutive failures count: nine more do not lock.
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        assert (await authenticate(account.username, WRONG, now=now)) == AuthResult.invalid()


async def test_an_unknown_user_name_is_never_reported_locked() -> None:
    username = new_username()
    now = new_now()
    for attempt in range(MAX_FAILED_ATTEMPTS + 3):
        result = await authenticate(username, WRONG, now=now + timedelta(seconds=attempt))
        assert result == AuthResult.invalid()


async def test_concurrent_wrong_passwords_lock_exactly_at_ten() -> None:
    account = await new_account()
    now = new_now()
    results = await asyncio.gather(
        *(authenticate(account.username, WRONG, now=now) for _ in range(MAX_FAILED_ATTEMPTS))
    )
    outcomes = [result.outcome for result in results]
    assert outcomes.count(AuthOutcome.LOCKED) == 1
    assert outcomes.count(AuthOutcome.INVALID) == MAX_FAILED_ATTEMPTS - 1
    stored = await fresh(account)
    assert stored.failed_attempts == MAX_FAILED_ATTEMPTS
    assert stored.locked_until == now + LOCK_DURATION
    assert (await authenticate(account.username, PASSWORD, now=now)).outcome is (AuthOutcome.LOCKED)


async def test_nine_concurrent_failures_do_not_lock_and_more_never_overcount() -> None:
    account = await new_account()
    now = new_now()
    nine = await asyncio.gather(
        *(authenticate(account.username, WRONG, now=now) for _ in range(MAX_FAILED_ATTEMPTS - 1))
    )
    assert {result.outcome for result in nine} == {AuthOutcome.INVALID}
    assert (await fresh(account)).failed_attempts == MAX_FAILED_ATTEMPTS - 1

    burst = await asyncio.gather(
        *(authenticate(account.username, WRONG, now=now) for _ in range(6))
    )
    assert AuthOutcome.LOCKED in {result.outcome for result in burst}
    stored = await fresh(account)
    assert stored.failed_attempts == MAX_FAILED_ATTEMPTS
    assert stored.locked_until == now + LOCK_DURATION


async def test_an_outdated_hash_is_replaced_on_sign_in() -> None:
    account = await new_account()
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    await Account.filter(id=account.id).update(password_hash=weak)
    assert (await authenticate(account.username, PASSWORD, now=new_now())).is_ok
    rehashed = (await fresh(account)).password_hash
    assert rehashed != weak
    assert not accounts.password_needs_rehash(rehashed)
    assert (await authenticate(account.username, PASSWORD, now=new_now())).is_ok


async def test_set_password_validates_and_takes_effect() -> None:
    account = await new_account()
    with pytest.raises(PasswordRejected) as rejected:
        await set_password(account, "Password1")
    assert [problem.code for problem in rejected.value.problems] == [TOO_COMMON]
    with pytest.raises(PasswordRejected):
        await set_password(account, account.username.upper())

    await set_password(account, "new: Şəki halvası 7")
    now = new_now()
    assert (await authenticate(account.username, "new: Şəki halvası 7", now=now)).is_ok
    assert await authenticate(account.username, PASSWORD, now=now) == AuthResult.invalid()


# --- TOTP -----------------------------------------------------------------------------------


async def test_totp_is_required_then_verified_and_a_code_is_not_reusable() -> None:
    secret = pyotp.random_base32()
    account = await new_account(totp_secret=secret, role=Role.CUSTOMS_OFFICER)
    totp = pyotp.TOTP(secret)
    now = new_now()

    result = await authenticate(account.username, PASSWORD, now=now)
    assert result.outcome is AuthOutcome.TOTP_REQUIRED
    assert result.account is not None and result.account.id == account.id
    signed_in = result.account

    code = totp.at(now)
    assert not await verify_totp(signed_in, wrong_code(totp, now), now=now)
    assert (await fresh(account)).failed_attempts == 1

    assert await verify_totp(signed_in, code, now=now)
    stored = await fresh(account)
    assert stored.totp_last_used_step == int(now.timestamp()) // 30
    assert stored.failed_attempts == 0

    # The same code again, even within its validity window: refused.
    assert not await verify_totp(signed_in, code, now=now)
    assert not await verify_totp(signed_in, code, now=now + timedelta(seconds=30))
    # The previous step's code is within the window but older than the used one.
    assert not await verify_totp(signed_in, totp.at(now - timedelta(seconds=30)), now=now)
    # The next step's code is fine, once.
    later = now + timedelta(seconds=30)
    assert await verify_totp(signed_in, totp.at(later), now=later)
    assert not await verify_totp(signed_in, totp.at(later), now=later)


async def test_totp_window_is_one_step_either_side() -> None:
    secret = pyotp.random_base32()
    account = await new_account(totp_secret=secret)
    totp = pyotp.TOTP(secret)
    now = new_now()
    assert not await verify_totp(account, totp.at(now - timedelta(seconds=90)), now=now)
    assert not await verify_totp(account, "12 34", now=now)
    assert not await verify_totp(account, "", now=now)
    assert await verify_totp(account, totp.at(now - timedelta(seconds=30)), now=now)
    spaced = totp.at(now + timedelta(seconds=30))
    assert await verify_totp(account, f"{spaced[:3]} {spaced[3:]}", now=now)


async def test_totp_is_refused_for_an_account_without_a_secret_or_when_locked() -> None:
    account = await new_account()
    assert not await verify_totp(account, "123456", now=new_now())

    secret = pyotp.random_base32()
    account = await new_account(totp_secret=secret)
    now = new_now()
    for _ in range(MAX_FAILED_ATTEMPTS):
        await authenticate(account.username, WRONG, now=now)
    assert not await verify_totp(account, pyotp.TOTP(secret).at(now), now=now)


async def test_wrong_codes_count_towards_the_lock() -> None:
    secret = pyotp.random_base32()
    account = await new_account(totp_secret=secret)
    now = new_now()
    wrong = wrong_code(pyotp.TOTP(secret), now)
    for _ in range(MAX_FAILED_ATTEMPTS):
        # Re-entering the known password does not reset the count of wrong codes.
        assert (await authenticate(account.username, PASSWORD, now=now)).outcome is (
            AuthOutcome.TOTP_REQUIRED
        )
        assert not await verify_totp(account, wrong, now=now)
    stored = await fresh(account)
    assert stored.is_locked(now)
    assert (await authenticate(account.username, PASSWORD, now=now)).outcome is AuthOutcome.LOCKED


# --- Parties --------------------------------------------------------------------------------


async def test_record_asan_identity_creates_the_person_and_their_parties() -> None:
    fin, voen = new_fin(), new_voen()
    person = await record_asan_identity(
        fin.lower(), "Əliyev Əli Vəli oğlu", "050 123 45 67", "123456", [(voen, "Xəzər MMC")]
    )
    assert person.fin == fin
    assert person.phone == "+994501234567"
    assert person.asan_user_id == "123456"

    parties = await parties_of(person)
    assert [(p.kind, p.identifier, p.name) for p in parties] == [
        (PartyKind.PERSONAL, fin, "Əliyev Əli Vəli oğlu"),
        (PartyKind.COMPANY, voen, "Xəzər MMC"),
    ]
    memberships = await PartyMembership.filter(person_id=person.id)
    assert {m.source for m in memberships} == {MembershipSource.ASAN_CERTIFICATE}
    assert all(m.granted_at is not None for m in memberships)


async def test_a_later_sign_in_replaces_certificate_grants_but_keeps_seeded_ones() -> None:
    fin, dropped_voen, kept_voen, seeded_voen = new_fin(), new_voen(), new_voen(), new_voen()
    person = await record_asan_identity(
        fin, "Old Name", None, "111", [(dropped_voen, "Dropped MMC"), (kept_voen, "Kept MMC")]
    )
    seeded = await get_or_create_company_party(seeded_voen, "Seeded ASC")
    await grant_party(person, seeded, MembershipSource.SEED)

    again = await record_asan_identity(
        fin, "New Name", "+994551234567", "222", [(kept_voen, "Kept MMC (renamed)")]
    )
    assert again.id == person.id
    assert await Person.filter(fin=fin).count() == 1
    stored = await Person.get(id=person.id)
    assert (stored.full_name, stored.phone, stored.asan_user_id) == (
        "New Name",
        "+994551234567",
        "222",
    )

    parties = await parties_of(person)
    assert [p.identifier for p in parties] == [fin, kept_voen, seeded_voen]
    assert parties[0].name == "New Name"
    assert parties[1].name == "Kept MMC (renamed)"
    sources = {m.party_id: m.source for m in await PartyMembership.filter(person_id=person.id)}
    assert sources[parties[2].id] is MembershipSource.SEED
    # The dropped company still exists (others may act for it); only the grant is gone.
    assert await Party.filter(kind=PartyKind.COMPANY, identifier=dropped_voen).exists()


async def test_a_seeded_grant_survives_even_when_the_certificate_shows_it_and_then_not() -> None:
    fin, voen = new_fin(), new_voen()
    person = await record_asan_identity(fin, "Name", None, None, [])
    company = await get_or_create_company_party(voen, "Both MMC")
    await grant_party(person, company, MembershipSource.ADMIN)
    await record_asan_identity(fin, "Name", None, None, [(voen, "Both MMC")])
    await record_asan_identity(fin, "Name", None, None, [])
    membership = await PartyMembership.get(person_id=person.id, party_id=company.id)
    assert membership.source is MembershipSource.ADMIN


async def test_parties_of_lists_personal_first_then_companies_by_name() -> None:
    person = await Person.create(fin=new_fin(), full_name="Zeynalov Zaur")
    for name in ["Zəfər MMC", "alfa LLC", "Bakı Ticarət ASC"]:
        await grant_party(
            person, await get_or_create_company_party(new_voen(), name), MembershipSource.SEED
        )
    await grant_party(person, await get_or_create_personal_party(person), MembershipSource.SEED)
    names = [party.name for party in await parties_of(person)]
    assert names == ["Zeynalov Zaur", "alfa LLC", "Bakı Ticarət ASC", "Zəfər MMC"]


async def test_grant_party_is_idempotent_and_deliberate_grants_win() -> None:
    person = await Person.create(fin=new_fin(), full_name="Person")
    party = await get_or_create_company_party(new_voen(), "Company")
    first = await grant_party(person, party, MembershipSource.ASAN_CERTIFICATE)
    second = await grant_party(person, party, MembershipSource.ASAN_CERTIFICATE)
    assert first.id == second.id
    assert (await grant_party(person, party, "admin")).source is MembershipSource.ADMIN
    assert (await grant_party(person, party, MembershipSource.ASAN_CERTIFICATE)).source is (
        MembershipSource.ADMIN
    )
    assert await PartyMembership.filter(person_id=person.id).count() == 1


async def test_company_and_personal_parties_are_found_again_and_renamed() -> None:
    voen = new_voen()
    company = await get_or_create_company_party(f" {voen} ", "Old LLC")
    renamed = await get_or_create_company_party(voen, "New LLC")
    assert renamed.id == company.id
    assert (await Party.get(id=company.id)).name == "New LLC"

    person = await Person.create(fin=new_fin(), full_name="Person")
    assert (await get_or_create_personal_party(person)).id == (
        await get_or_create_personal_party(person)
    ).id
    with pytest.raises(ValueError):
        await get_or_create_personal_party(await Person.create(full_name="Staff, no FIN"))
    with pytest.raises(ValueError):
        await get_or_create_company_party("12345", "Short VÖEN")


async def test_fin_is_optional_but_unique_when_set() -> None:
    await Person.create(full_name="Staff One")
    await Person.create(full_name="Staff Two")
    fin = new_fin()
    await Person.create(fin=fin, full_name="Citizen")
    with pytest.raises(IntegrityError):
        await Person.create(fin=fin, full_name="Someone Else")
