"""Asan İmza simulator store and replay guard on the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.clock import Clock
from web.identity.asan_imza import (
    ReplayGuard,
    SignedCertificate,
    SimBlocked,
    StaleRecord,
    TransactionNotPending,
    TransactionStatus,
    WrongPin,
    challenge_hash,
    new_challenge,
    verification_code,
    verify_sign_in,
)
from web.identity.asan_imza.db_store import DatabaseReplayGuard
from web.identity.asan_imza.pki import DemoCA
from web.simulator.operator import (
    AsanSimulator,
    SimCertificate,
    SimPhone,
    SimulatorStore,
    Transaction,
    provision_demo_phone,
)
from web.simulator.store import DatabaseSimulatorStore

SECRET = "test-secret-" + "x" * 40
USER_ID = "123456"
PIN1 = "1234"
FIN = "5ABC12D"
FULL_NAME = "Əliyev Əli Vəli oğlu"
VOEN = "1234567891"
COMPANY = "Xəzər Logistika MMC"

# The database lives for the whole session: every test takes its own numbers.
_numbers = itertools.count(secrets.randbelow(5_000_000))


def new_phone() -> str:
    return f"+99450{next(_numbers):07d}"


@pytest.fixture(autouse=True)
async def _asan_tables(db) -> None:
    """Every test here talks to the migrated test database."""


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> DemoCA:
    return DemoCA.load_or_create(tmp_path_factory.mktemp("asan-db") / "ca", SECRET)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def store() -> DatabaseSimulatorStore:
    return DatabaseSimulatorStore()


@pytest.fixture
def sim(store: DatabaseSimulatorStore, clock: Clock) -> AsanSimulator:
    return AsanSimulator(store, now=clock)


async def provision(store, ca: DemoCA, clock: Clock, *, companies=((VOEN, COMPANY),)) -> SimPhone:
    return await provision_demo_phone(
        store, ca, phone=new_phone(), user_id=USER_ID, pin1=PIN1, fin=FIN,
        full_name=FULL_NAME, companies=companies, now=clock.now,
    )  # fmt: skip


async def start(sim: AsanSimulator, phone: str) -> tuple[bytes, str]:
    digest = challenge_hash(new_challenge())
    started = await sim.start(phone=phone, user_id=USER_ID, challenge_hash=digest, language="az")
    return digest, started.transaction_id


def pem(text: str) -> bytes:
    return f"-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----\n".encode()


def sample_phone(phone: str) -> SimPhone:
    return SimPhone(
        phone=phone,
        user_id=USER_ID,
        fin=FIN,
        full_name=FULL_NAME,
        certificates=(
            SimCertificate((pem("leaf-1"), pem("root")), b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            SimCertificate((pem("leaf-2"),), b"key-2"),
        ),
    )


def sample_transaction(phone: str, *, created_at: datetime | None = None) -> Transaction:
    created = created_at or datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    return Transaction(
        id=secrets.token_urlsafe(24),
        phone=phone,
        user_id=USER_ID,
        challenge_hash=challenge_hash(new_challenge()),
        language="en",
        created_at=created,
        expires_at=created + timedelta(seconds=120),
    )


# --- store: round trips and compare-and-set ------------------------------------------------


async def test_phone_round_trip(store: DatabaseSimulatorStore) -> None:
    assert isinstance(store, SimulatorStore)
    phone = new_phone()
    assert await store.get_phone(phone) is None
    record = sample_phone(phone)
    saved = await store.put_phone(record)
    assert saved == replace(record, version=1)
    assert await store.get_phone(phone) == saved

    updated = await store.put_phone(replace(saved, failed_pin_attempts=2, blocked=True))
    assert updated.version == 2
    loaded = await store.get_phone(phone)
    assert loaded == updated and loaded.failed_pin_attempts == 2 and loaded.blocked
    assert loaded.certificates[0].certificate_pem == pem("leaf-1")
    assert await store.get_phone("x" * 500) is None  # longer than the column: just unknown


async def test_transaction_round_trip(store: DatabaseSimulatorStore) -> None:
    phone = new_phone()
    record = sample_transaction(phone)
    saved = await store.put_transaction(record)
    assert saved.version == 1
    loaded = await store.get_transaction(record.id)
    assert loaded == saved
    assert loaded.challenge_hash == record.challenge_hash
    assert loaded.created_at == record.created_at and loaded.created_at.tzinfo is not None
    assert loaded.created_at.microsecond == 123456
    assert loaded.status is TransactionStatus.PENDING and loaded.signatures == ()

    baku = datetime(2025, 3, 1, 16, 0, 0, 123456, tzinfo=UTC).astimezone(ZoneInfo("Asia/Baku"))
    signatures = (
        SignedCertificate([pem("leaf-1"), pem("root")], b"\x30\x45\x00\xff" * 10),
        SignedCertificate([pem("leaf-2")], b"\x00"),
    )
    signed = await store.put_transaction(
        replace(
            saved,
            status=TransactionStatus.SIGNED,
            signatures=signatures,
            expires_at=baku,
            delivered=False,
        )
    )
    loaded = await store.get_transaction(record.id)
    assert loaded == signed and loaded.version == 2
    assert loaded.signatures == signatures and loaded.expires_at == baku
    assert loaded.verification_code == verification_code(record.challenge_hash)
    assert await store.get_transaction("no-such-id") is None
    assert await store.get_transaction("x" * 500) is None

    naive = replace(sample_transaction(phone), created_at=datetime(2025, 3, 1, 12))
    with pytest.raises(ValueError):  # a naive datetime would be read in the wrong zone
        await store.put_transaction(naive)
    assert await store.get_transaction(naive.id) is None


async def test_put_is_compare_and_set(store: DatabaseSimulatorStore) -> None:
    phone = new_phone()
    first = await store.put_phone(sample_phone(phone))
    with pytest.raises(StaleRecord):  # insert over an existing one
        await store.put_phone(sample_phone(phone))
    updated = await store.put_phone(replace(first, failed_pin_attempts=1))
    with pytest.raises(StaleRecord):  # stale version
        await store.put_phone(replace(first, failed_pin_attempts=2))
    with pytest.raises(StaleRecord):  # a version that never existed
        await store.put_phone(replace(updated, version=7))
    with pytest.raises(StaleRecord):  # update of a record that does not exist
        await store.put_phone(replace(sample_phone(new_phone()), version=1))
    assert await store.get_phone(phone) == updated  # the losers changed nothing

    tx = await store.put_transaction(sample_transaction(phone))
    with pytest.raises(StaleRecord):
        await store.put_transaction(replace(tx, version=0))
    refused = await store.put_transaction(replace(tx, status=TransactionStatus.REFUSED))
    with pytest.raises(StaleRecord):
        await store.put_transaction(replace(tx, status=TransactionStatus.SIGNED))
    assert await store.get_transaction(tx.id) == refused


async def test_concurrent_inserts_one_wins(store: DatabaseSimulatorStore) -> None:
    phone = new_phone()
    results = await asyncio.gather(
        *(store.put_phone(sample_phone(phone)) for _ in range(5)), return_exceptions=True
    )
    assert sum(isinstance(r, SimPhone) for r in results) == 1
    assert sum(isinstance(r, StaleRecord) for r in results) == 4


async def test_insert_conflict_keeps_an_open_transaction_usable(
    store: DatabaseSimulatorStore,
) -> None:
    from tortoise.transactions import in_transaction

    phone = new_phone()
    await store.put_phone(sample_phone(phone))
    other = new_phone()
    async with in_transaction():
        with pytest.raises(StaleRecord):
            await store.put_phone(sample_phone(phone))
        await store.put_phone(sample_phone(other))  # PostgreSQL: not "transaction aborted"
    assert (await store.get_phone(other)).version == 1


async def test_list_pending_filters_by_phone_and_status(store: DatabaseSimulatorStore) -> None:
    phone, other = new_phone(), new_phone()
    t0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
    older = await store.put_transaction(sample_transaction(phone, created_at=t0))
    newer = await store.put_transaction(
        sample_transaction(phone, created_at=t0 + timedelta(seconds=5))
    )
    done = await store.put_transaction(sample_transaction(phone))
    await store.put_transaction(replace(done, status=TransactionStatus.EXPIRED, reason="timeout"))
    await store.put_transaction(sample_transaction(other))

    pending = await store.list_pending(phone)
    assert pending == [older, newer]  # expired-by-clock ones are still listed; status decides
    assert len(await store.list_pending(other)) == 1
    assert await store.list_pending(new_phone()) == []


# --- replay guard --------------------------------------------------------------------------


async def test_replay_guard_consumes_once() -> None:
    guard = DatabaseReplayGuard()
    assert isinstance(guard, ReplayGuard)
    tx_id = secrets.token_urlsafe(24)
    assert await guard.consume(tx_id) is True
    assert await guard.consume(tx_id) is False
    assert await DatabaseReplayGuard().consume(tx_id) is False  # another worker
    with pytest.raises(ValueError):
        await guard.consume("")


async def test_replay_guard_concurrent_consumers() -> None:
    tx_id = secrets.token_urlsafe(24)
    results = await asyncio.gather(*(DatabaseReplayGuard().consume(tx_id) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_replay_guard_retention() -> None:
    clock = Clock(datetime.now(UTC))
    guard = DatabaseReplayGuard(retention=timedelta(hours=1), now=clock)
    tx_id = secrets.token_urlsafe(24)
    assert await guard.consume(tx_id)
    clock.advance(minutes=30)
    assert not await guard.consume(tx_id)
    clock.advance(hours=2)
    assert await guard.consume(tx_id)  # forgotten after the retention period
    assert not await DatabaseReplayGuard().consume(tx_id)


# --- the simulator on the database ---------------------------------------------------------


async def test_simulator_flow(sim: AsanSimulator, store, ca: DemoCA, clock: Clock) -> None:
    phone = (await provision(store, ca, clock)).phone
    digest, tx_id = await start(sim, phone)
    assert (await sim.status(tx_id)).status is TransactionStatus.PENDING

    pending = await sim.pending_for(phone)
    assert pending is not None and pending.id == tx_id
    assert pending.verification_code == verification_code(digest)

    clock.advance(seconds=30)
    await sim.confirm_with_pin(tx_id, phone, PIN1)
    result = await sim.status(tx_id)
    assert result.status is TransactionStatus.SIGNED and result.reason is None
    assert result.signatures is not None and len(result.signatures) == 2
    assert await sim.pending_for(phone) is None

    sign_in = verify_sign_in(
        challenge_hash=digest,
        signatures=result.signatures,
        trusted_ca_pem=ca.certificate_pem,
        now=clock.now,
    )
    assert (sign_in.person.fin, sign_in.person.full_name) == (FIN, FULL_NAME)
    assert [(c.voen, c.company_name) for c in sign_in.companies] == [(VOEN, COMPANY)]

    guard = DatabaseReplayGuard()
    assert await guard.consume(tx_id) is True
    assert await guard.consume(tx_id) is False
    with pytest.raises(TransactionNotPending):
        await sim.confirm_with_pin(tx_id, phone, PIN1)


async def test_wrong_pins_block_the_sim(sim: AsanSimulator, store, ca, clock) -> None:
    phone = (await provision(store, ca, clock, companies=())).phone
    _, tx_id = await start(sim, phone)
    for attempts_left in (2, 1, 0):
        with pytest.raises(WrongPin) as caught:
            await sim.confirm_with_pin(tx_id, phone, "0000")
        assert caught.value.attempts_left == attempts_left
    assert (await store.get_phone(phone)).blocked
    blocked = await sim.status(tx_id)
    assert (blocked.status, blocked.reason) == (TransactionStatus.BLOCKED, "sim_blocked")
    _, again = await start(sim, phone)
    with pytest.raises(SimBlocked):
        await sim.confirm_with_pin(again, phone, PIN1)


async def test_expiry_is_written_back(sim: AsanSimulator, store, ca, clock) -> None:
    phone = (await provision(store, ca, clock, companies=())).phone
    _, tx_id = await start(sim, phone)
    clock.advance(seconds=120)
    assert await sim.pending_for(phone) is None
    stored = await store.get_transaction(tx_id)
    assert (stored.status, stored.reason) == (TransactionStatus.EXPIRED, "timeout")
    assert await store.list_pending(phone) == []


async def test_concurrent_wrong_pins_are_both_counted(store, ca, clock) -> None:
    """Two workers read the SIM at the same version; the CAS loser re-reads and counts again."""
    phone = (await provision(store, ca, clock, companies=())).phone
    barrier = asyncio.Barrier(2)
    stale = 0

    class Worker(DatabaseSimulatorStore):
        def __init__(self) -> None:
            self.first_read = True

        async def get_phone(self, phone: str):
            record = await super().get_phone(phone)
            if self.first_read:  # both workers hold the same version before either writes
                self.first_read = False
                await barrier.wait()
            return record

        async def put_phone(self, record):
            nonlocal stale
            try:
                return await super().put_phone(record)
            except StaleRecord:
                stale += 1
                raise

    _, tx_id = await start(AsanSimulator(store, now=clock), phone)
    workers = [AsanSimulator(Worker(), now=clock) for _ in range(2)]
    results = await asyncio.gather(
        *(worker.confirm_with_pin(tx_id, phone, "0000") for worker in workers),
        return_exceptions=True,
    )
    assert all(isinstance(r, WrongPin) for r in results), results
    assert sorted(r.attempts_left for r in results) == [1, 2]
    assert stale >= 1  # the race really happened and was retried
    sim_after = await store.get_phone(phone)
    assert sim_after.failed_pin_attempts == 2 and not sim_after.blocked
    assert (await store.get_transaction(tx_id)).status is TransactionStatus.PENDING
