"""Asan İmza core: code derivation, PKI, verification, simulator, phone numbers."""

from __future__ import annotations

import hashlib
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID

from tests.support.asan_doubles import MemoryReplayGuard, MemorySimulatorStore
from tests.support.clock import Clock
from web.identity.asan_imza import (
    AsanGateway,
    BadSignature,
    CertificateExpired,
    CertificateNotYetValid,
    DemoCAError,
    IdentityMismatch,
    MalformedResponse,
    ReplayGuard,
    SignedCertificate,
    SimBlocked,
    StaleRecord,
    TransactionExpired,
    TransactionNotFound,
    TransactionNotPending,
    TransactionStatus,
    UntrustedCertificate,
    WrongKeyUsage,
    WrongPin,
    challenge_hash,
    new_challenge,
    normalize_az_mobile,
    verification_code,
    verify_sign_in,
    verify_signed_response,
)
from web.identity.asan_imza.pki import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    DemoCA,
    IdentitySubject,
    build_identity_name,
    decrypt_private_key,
    encrypt_private_key,
    issue_identity_certificate,
    parse_identity_name,
)
from web.simulator.operator import (
    AsanSimulator,
    SimulatorStore,
    provision_demo_phone,
)

SECRET = "test-secret-" + "x" * 40
PHONE = "+994501234567"
USER_ID = "123456"
PIN1 = "1234"
FIN = "5ABC12D"
FULL_NAME = "Əliyev Əli Vəli oğlu"
VOEN = "1234567891"
COMPANY = "Xəzər Logistika MMC"
T0 = datetime.now(UTC).replace(microsecond=0)  # the module CA is made with the real clock


@pytest.fixture(scope="module")
def ca() -> DemoCA:
    # Made at T0 (not at first use): on a loaded machine the first test may start minutes
    # after this module was imported, which would put T0 before the CA's notBefore.
    return DemoCA.generate(now=T0)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def store() -> MemorySimulatorStore:
    return MemorySimulatorStore()


@pytest.fixture
def sim(store: MemorySimulatorStore, clock: Clock) -> AsanSimulator:
    return AsanSimulator(store, now=clock)


@pytest.fixture
async def phone(store: MemorySimulatorStore, ca: DemoCA, clock: Clock):
    return await provision_demo_phone(
        store,
        ca,
        phone="050 123 45 67",
        user_id=USER_ID,
        pin1=PIN1,
        fin=FIN,
        full_name=FULL_NAME,
        companies=[(VOEN, COMPANY)],
        now=clock.now,
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def sign(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    return key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def issue(ca: DemoCA, **overrides):
    params = {
        "fin": FIN,
        "full_name": FULL_NAME,
        "valid_from": T0 - timedelta(days=1),
        "valid_to": T0 + timedelta(days=365),
    }
    params.update(overrides)
    return issue_identity_certificate(ca, **params)


def verify(ca: DemoCA, digest: bytes, signature: bytes, chain: list[bytes], now: datetime = T0):
    return verify_signed_response(
        challenge_hash=digest,
        signature=signature,
        certificate_chain_pem=chain,
        trusted_ca_pem=ca.certificate_pem,
        now=now,
    )


async def start(sim: AsanSimulator, *, phone: str = PHONE, user_id: str = USER_ID):
    digest = challenge_hash(new_challenge())
    started = await sim.start(phone=phone, user_id=user_id, challenge_hash=digest, language="az")
    return digest, started


# --- challenge and verification code -------------------------------------------------------


def test_challenge_is_random_and_hash_is_sha256() -> None:
    first, second = new_challenge(), new_challenge()
    assert len(first) == 32 and first != second
    assert challenge_hash(first) == hashlib.sha256(first).digest()
    with pytest.raises(ValueError):
        challenge_hash(b"short")


def test_verification_code_formula_and_padding() -> None:
    assert verification_code(bytes(30) + b"\x00\x07") == "0007"
    assert verification_code(bytes(30) + b"\xff\xff") == "5535"  # 65535 % 10000
    assert verification_code(bytes(30) + b"\x27\x10") == "0000"  # 10000 % 10000
    for _ in range(50):
        digest = challenge_hash(new_challenge())
        code = verification_code(digest)
        assert len(code) == 4 and code.isdigit()
        assert code == verification_code(digest)  # deterministic
        assert int(code) == int.from_bytes(digest[-2:], "big") % 10000


def test_verification_code_differs_for_different_challenges() -> None:
    codes = {verification_code(challenge_hash(bytes([i]) * 32)) for i in range(20)}
    assert len(codes) > 15
    a, b = challenge_hash(b"a" * 32), challenge_hash(b"b" * 32)
    assert verification_code(a) != verification_code(b)


def test_verification_code_rejects_wrong_length() -> None:
    with pytest.raises(ValueError):
        verification_code(b"\x01\x02")


# --- happy path ----------------------------------------------------------------------------


async def test_happy_path_personal_and_company(
    sim: AsanSimulator, phone, ca: DemoCA, clock: Clock
) -> None:
    assert isinstance(sim, AsanGateway)
    digest, started = await start(sim, phone="+994 50 123 45 67")
    assert started.expires_at == T0 + timedelta(seconds=120)
    assert (await sim.status(started.transaction_id)).status is TransactionStatus.PENDING

    pending = await sim.pending_for("0501234567")
    assert pending is not None and pending.id == started.transaction_id
    assert pending.verification_code == verification_code(digest)  # same on both screens

    clock.advance(seconds=30)
    await sim.confirm_with_pin(started.transaction_id, PHONE, PIN1)
    result = await sim.status(started.transaction_id)
    assert result.status is TransactionStatus.SIGNED and result.reason is None
    assert result.signatures is not None and len(result.signatures) == 2
    assert await sim.pending_for(PHONE) is None

    personal = verify(
        ca, digest, result.signatures[0].signature, result.signatures[0].certificate_chain_pem
    )
    assert (personal.fin, personal.full_name) == (FIN, FULL_NAME)
    assert personal.voen is None and personal.company_name is None and not personal.is_company
    company = verify(
        ca, digest, result.signatures[1].signature, result.signatures[1].certificate_chain_pem
    )
    assert (company.fin, company.voen, company.company_name) == (FIN, VOEN, COMPANY)
    assert company.is_company

    cert = x509.load_pem_x509_certificate(result.signatures[0].certificate_chain_pem[0])
    assert personal.certificate_serial == format(cert.serial_number, "x")
    assert personal.certificate_fingerprint_sha256 == cert.fingerprint(hashes.SHA256()).hex()
    assert personal.not_after == cert.not_valid_after_utc

    sign_in = verify_sign_in(
        challenge_hash=digest,
        signatures=result.signatures,
        trusted_ca_pem=ca.certificate_pem,
        now=clock.now,
    )
    assert sign_in.person == personal and sign_in.companies == [company]


async def test_chain_without_root_copy_also_verifies(sim: AsanSimulator, phone, ca) -> None:
    digest, started = await start(sim)
    await sim.confirm_with_pin(started.transaction_id, PHONE, PIN1)
    item = (await sim.status(started.transaction_id)).signatures[0]
    identity = verify(ca, digest, item.signature, item.certificate_chain_pem[:1])
    assert identity.fin == FIN


# --- verification failures -----------------------------------------------------------------


def test_certificate_from_another_ca_is_untrusted(ca: DemoCA) -> None:
    other = DemoCA.generate(now=T0)  # same subject name, different key
    key, cert = issue(other)
    digest = challenge_hash(new_challenge())
    signature = sign(key, digest)
    with pytest.raises(UntrustedCertificate, match="untrusted root"):
        verify(ca, digest, signature, [pem(cert), other.certificate_pem])
    with pytest.raises(UntrustedCertificate):  # issuer name matches, signature does not
        verify(ca, digest, signature, [pem(cert)])


def test_self_signed_end_entity_is_untrusted(ca: DemoCA) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = build_identity_name(fin=FIN, full_name=FULL_NAME)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - timedelta(days=1))
        .not_valid_after(T0 + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    digest = challenge_hash(new_challenge())
    with pytest.raises(UntrustedCertificate):
        verify(ca, digest, sign(key, digest), [pem(cert)])


def test_expired_certificate(ca: DemoCA) -> None:
    key, cert = issue(ca, valid_from=T0 - timedelta(days=400), valid_to=T0 - timedelta(days=1))
    digest = challenge_hash(new_challenge())
    with pytest.raises(CertificateExpired):
        verify(ca, digest, sign(key, digest), [pem(cert), ca.certificate_pem])


def test_not_yet_valid_certificate(ca: DemoCA) -> None:
    key, cert = issue(ca, valid_from=T0 + timedelta(hours=1), valid_to=T0 + timedelta(days=9))
    digest = challenge_hash(new_challenge())
    with pytest.raises(CertificateNotYetValid):
        verify(ca, digest, sign(key, digest), [pem(cert)])


def test_ca_outside_its_validity(ca: DemoCA) -> None:
    key, cert = issue(ca)
    digest = challenge_hash(new_challenge())
    with pytest.raises(CertificateExpired):
        verify(ca, digest, sign(key, digest), [pem(cert)], now=T0 + timedelta(days=366 * 11))
    with pytest.raises(CertificateNotYetValid):
        verify(ca, digest, sign(key, digest), [pem(cert)], now=T0 - timedelta(days=366))


def test_tampered_challenge_is_bad_signature(ca: DemoCA) -> None:
    key, cert = issue(ca)
    digest = challenge_hash(new_challenge())
    signature = sign(key, digest)
    assert verify(ca, digest, signature, [pem(cert)]).fin == FIN
    with pytest.raises(BadSignature):
        verify(ca, challenge_hash(new_challenge()), signature, [pem(cert)])
    with pytest.raises(BadSignature):
        verify(ca, digest, b"\x30\x00garbage", [pem(cert)])


def test_signature_by_another_key_is_bad_signature(ca: DemoCA) -> None:
    _, cert = issue(ca)
    digest = challenge_hash(new_challenge())
    with pytest.raises(BadSignature):
        verify(ca, digest, sign(ec.generate_private_key(ec.SECP256R1()), digest), [pem(cert)])


def test_certificate_without_digital_signature_is_wrong_key_usage(ca: DemoCA) -> None:
    key, cert = issue(ca, key_usage_digital_signature=False)
    digest = challenge_hash(new_challenge())
    with pytest.raises(WrongKeyUsage):
        verify(ca, digest, sign(key, digest), [pem(cert)])


def test_ca_certificate_cannot_sign_in(ca: DemoCA) -> None:
    digest = challenge_hash(new_challenge())
    with pytest.raises(WrongKeyUsage):
        verify(ca, digest, sign(ca.private_key, digest), [ca.certificate_pem])


def test_malformed_responses(ca: DemoCA) -> None:
    digest = challenge_hash(new_challenge())
    with pytest.raises(MalformedResponse):
        verify(ca, digest, b"sig", [])
    with pytest.raises(MalformedResponse):
        verify(ca, digest, b"sig", [b"not a certificate"])
    with pytest.raises(ValueError):
        verify(ca, digest, b"sig", [ca.certificate_pem], now=datetime(2026, 3, 1))  # naive


def test_verify_sign_in_rejects_mixed_identities(ca: DemoCA) -> None:
    digest = challenge_hash(new_challenge())
    key_a, cert_a = issue(ca)
    key_b, cert_b = issue(ca, fin="7XYZ987", voen=VOEN, company_name=COMPANY)
    items = [
        SignedCertificate([pem(cert_a)], sign(key_a, digest)),
        SignedCertificate([pem(cert_b)], sign(key_b, digest)),
    ]
    with pytest.raises(IdentityMismatch):
        verify_sign_in(
            challenge_hash=digest, signatures=items, trusted_ca_pem=ca.certificate_pem, now=T0
        )
    with pytest.raises(IdentityMismatch):  # company certificate only
        verify_sign_in(
            challenge_hash=digest, signatures=items[1:], trusted_ca_pem=ca.certificate_pem, now=T0
        )


# --- PIN handling --------------------------------------------------------------------------


async def test_wrong_pin_counts_down_and_blocks(sim: AsanSimulator, phone) -> None:
    _, started = await start(sim)
    tx_id = started.transaction_id
    for attempts_left in (2, 1):
        with pytest.raises(WrongPin) as caught:
            await sim.confirm_with_pin(tx_id, PHONE, "0000")
        assert caught.value.attempts_left == attempts_left
        assert (await sim.status(tx_id)).status is TransactionStatus.PENDING
    with pytest.raises(WrongPin) as caught:
        await sim.confirm_with_pin(tx_id, PHONE, "9999")
    assert caught.value.attempts_left == 0
    assert (await sim.get_phone(PHONE)).blocked
    blocked = await sim.status(tx_id)
    assert (blocked.status, blocked.reason) == (TransactionStatus.BLOCKED, "sim_blocked")

    with pytest.raises(SimBlocked):  # same transaction, right PIN
        await sim.confirm_with_pin(tx_id, PHONE, PIN1)
    _, again = await start(sim)
    assert (await sim.pending_for(PHONE)).id == again.transaction_id
    with pytest.raises(SimBlocked):  # new transaction, right PIN
        await sim.confirm_with_pin(again.transaction_id, PHONE, PIN1)
    assert (await sim.status(again.transaction_id)).status is TransactionStatus.BLOCKED


async def test_right_pin_resets_the_counter(sim: AsanSimulator, phone) -> None:
    _, started = await start(sim)
    for _ in range(2):
        with pytest.raises(WrongPin):
            await sim.confirm_with_pin(started.transaction_id, PHONE, "")
    await sim.confirm_with_pin(started.transaction_id, PHONE, PIN1)
    assert (await sim.get_phone(PHONE)).failed_pin_attempts == 0
    _, second = await start(sim)
    with pytest.raises(WrongPin) as caught:
        await sim.confirm_with_pin(second.transaction_id, PHONE, "1111")
    assert caught.value.attempts_left == 2


def test_private_key_encryption_under_pin() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    stored = encrypt_private_key(key, PIN1)
    assert b"ENCRYPTED PRIVATE KEY" in stored
    assert decrypt_private_key(stored, PIN1).private_numbers() == key.private_numbers()
    for wrong in ("4321", ""):
        with pytest.raises(WrongPin):
            decrypt_private_key(stored, wrong)


# --- refusal, expiry, replay ----------------------------------------------------------------


async def test_refuse(sim: AsanSimulator, phone) -> None:
    _, started = await start(sim)
    await sim.refuse(started.transaction_id, "994501234567")
    result = await sim.status(started.transaction_id)
    assert (result.status, result.reason, result.signatures) == (
        TransactionStatus.REFUSED,
        "user_refused",
        None,
    )
    with pytest.raises(TransactionNotPending):
        await sim.confirm_with_pin(started.transaction_id, PHONE, PIN1)


async def test_expiry_after_ttl(sim: AsanSimulator, phone, clock: Clock) -> None:
    _, started = await start(sim)
    clock.advance(seconds=119)
    assert (await sim.pending_for(PHONE)) is not None
    clock.advance(seconds=1)
    assert await sim.pending_for(PHONE) is None
    result = await sim.status(started.transaction_id)
    assert (result.status, result.reason) == (TransactionStatus.EXPIRED, "timeout")
    with pytest.raises(TransactionExpired):
        await sim.confirm_with_pin(started.transaction_id, PHONE, PIN1)
    with pytest.raises(TransactionExpired):
        await sim.refuse(started.transaction_id, PHONE)


async def test_configurable_ttl(store: MemorySimulatorStore, phone, clock: Clock) -> None:
    short = AsanSimulator(store, now=clock, ttl=timedelta(seconds=10))
    _, started = await start(short)
    assert started.expires_at == T0 + timedelta(seconds=10)
    clock.advance(seconds=11)
    assert (await short.status(started.transaction_id)).status is TransactionStatus.EXPIRED


async def test_replay_is_refused(sim: AsanSimulator, phone) -> None:
    guard = MemoryReplayGuard()
    assert isinstance(guard, ReplayGuard)
    _, started = await start(sim)
    await sim.confirm_with_pin(started.transaction_id, PHONE, PIN1)
    assert await guard.consume(started.transaction_id) is True
    assert await guard.consume(started.transaction_id) is False
    with pytest.raises(TransactionNotPending):
        await sim.confirm_with_pin(started.transaction_id, PHONE, PIN1)
    with pytest.raises(TransactionNotPending):
        await sim.refuse(started.transaction_id, PHONE)


async def test_replay_guard_retention() -> None:
    clock = Clock(T0)
    guard = MemoryReplayGuard(retention=timedelta(hours=1), now=clock)
    assert await guard.consume("a")
    clock.advance(minutes=30)
    assert not await guard.consume("a")
    clock.advance(hours=2)
    assert await guard.consume("a")  # forgotten after the retention period


# --- anti-enumeration and ownership --------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "user_id"), [("+994557654321", USER_ID), (PHONE, "654321")], ids=["unknown", "uid"]
)
async def test_unknown_phone_or_user_id_just_expires(
    sim: AsanSimulator, phone, clock: Clock, number: str, user_id: str
) -> None:
    _, started = await start(sim, phone=number, user_id=user_id)
    assert (await sim.status(started.transaction_id)).status is TransactionStatus.PENDING
    assert await sim.pending_for(number) is None
    with pytest.raises(TransactionNotFound):
        await sim.confirm_with_pin(started.transaction_id, number, PIN1)
    clock.advance(seconds=121)
    assert (await sim.status(started.transaction_id)).status is TransactionStatus.EXPIRED


async def test_another_phone_cannot_answer(sim: AsanSimulator, phone, store, ca, clock) -> None:
    await provision_demo_phone(
        store, ca, phone="0701112233", user_id="1", pin1="5555", fin="1AAAAAA",
        full_name="Other Person", now=clock.now,
    )  # fmt: skip
    _, started = await start(sim)
    with pytest.raises(TransactionNotFound):
        await sim.confirm_with_pin(started.transaction_id, "+994701112233", "5555")
    with pytest.raises(TransactionNotFound):
        await sim.status("no-such-id")


async def test_start_rejects_malformed_input(sim: AsanSimulator) -> None:
    with pytest.raises(ValueError):
        await sim.start(phone="12345", user_id=USER_ID, challenge_hash=bytes(32), language="az")
    with pytest.raises(ValueError):
        await sim.start(phone=PHONE, user_id=USER_ID, challenge_hash=b"x", language="az")


# --- store and provisioning ----------------------------------------------------------------


async def test_store_is_compare_and_set(store: MemorySimulatorStore, phone) -> None:
    assert isinstance(store, SimulatorStore)
    current = await store.get_phone(PHONE)
    updated = await store.put_phone(replace(current, failed_pin_attempts=1))
    assert updated.version == current.version + 1
    with pytest.raises(StaleRecord):
        await store.put_phone(replace(current, failed_pin_attempts=2))  # stale version
    with pytest.raises(StaleRecord):
        await store.put_phone(replace(current, version=0))  # insert over an existing one


class RacingStore(MemorySimulatorStore):
    """Lets another "worker" record a wrong PIN just before our first phone write."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    async def put_phone(self, record):
        if not self.raced and record.failed_pin_attempts:
            self.raced = True
            current = await self.get_phone(record.phone)
            await super().put_phone(replace(current, failed_pin_attempts=1))
        return await super().put_phone(record)


async def test_lost_race_is_retried_and_counter_stays_exact(ca: DemoCA, clock: Clock) -> None:
    store = RacingStore()
    await provision_demo_phone(
        store, ca, phone=PHONE, user_id=USER_ID, pin1=PIN1, fin=FIN, full_name=FULL_NAME,
        now=clock.now,
    )  # fmt: skip
    racing = AsanSimulator(store, now=clock)
    _, started = await start(racing)
    with pytest.raises(WrongPin) as caught:
        await racing.confirm_with_pin(started.transaction_id, PHONE, "0000")
    assert store.raced and caught.value.attempts_left == 1
    assert (await store.get_phone(PHONE)).failed_pin_attempts == 2


async def test_provisioning_is_idempotent(store, ca, phone, clock) -> None:
    again = await provision_demo_phone(
        store, ca, phone=PHONE, user_id=USER_ID, pin1="9999", fin=FIN, full_name=FULL_NAME,
        now=clock.now,
    )  # fmt: skip
    assert again == phone and len(again.certificates) == 2
    fresh = await provision_demo_phone(
        store, ca, phone=PHONE, user_id=USER_ID, pin1="9999", fin=FIN, full_name=FULL_NAME,
        now=clock.now, replace_existing=True,
    )  # fmt: skip
    assert len(fresh.certificates) == 1 and fresh.version == phone.version + 1
    with pytest.raises(ValueError):
        await provision_demo_phone(
            store, ca, phone="0121234567", user_id=USER_ID, pin1=PIN1, fin=FIN,
            full_name=FULL_NAME,
        )  # fmt: skip


# --- PKI -----------------------------------------------------------------------------------


def test_ca_persisted_and_reloaded(tmp_path: Path) -> None:
    directory = tmp_path / "ca"
    created = DemoCA.load_or_create(directory, SECRET)
    reloaded = DemoCA.load_or_create(directory, SECRET)
    assert reloaded.certificate == created.certificate
    assert reloaded.certificate_pem == (directory / CA_CERT_FILE).read_bytes()
    assert reloaded.private_key.private_numbers() == created.private_key.private_numbers()
    assert stat.S_IMODE((directory / CA_KEY_FILE).stat().st_mode) == 0o600
    key_pem = (directory / CA_KEY_FILE).read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in key_pem and SECRET.encode() not in key_pem
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(DemoCAError):
        DemoCA.load_or_create(directory, "another-secret")
    (directory / CA_CERT_FILE).unlink()
    with pytest.raises(DemoCAError):  # never silently replaces a key
        DemoCA.load_or_create(directory, SECRET)


def test_ca_certificate_profile(ca: DemoCA) -> None:
    cert = ca.certificate
    assert cert.issuer == cert.subject
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=3650) <= lifetime <= timedelta(days=3653)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)


def test_identity_certificate_profile(ca: DemoCA) -> None:
    _, cert = issue(ca, voen=VOEN, company_name=COMPANY)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.content_commitment
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == FIN
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == (
        "VOEN-" + VOEN
    )
    cert.verify_directly_issued_by(ca.certificate)


def test_subject_round_trip_and_strict_parsing() -> None:
    personal = IdentitySubject(fin=FIN, full_name=FULL_NAME)
    company = IdentitySubject(fin=FIN, full_name=FULL_NAME, voen=VOEN, company_name=COMPANY)
    for subject in (personal, company):
        name = build_identity_name(
            fin=subject.fin,
            full_name=subject.full_name,
            voen=subject.voen,
            company_name=subject.company_name,
        )
        assert parse_identity_name(name) == subject
    with pytest.raises(ValueError):
        build_identity_name(fin="123", full_name=FULL_NAME)
    with pytest.raises(ValueError):
        build_identity_name(fin=FIN, full_name=FULL_NAME, voen=VOEN)
    only_o = x509.Name(
        [
            *build_identity_name(fin=FIN, full_name=FULL_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, COMPANY),
        ]
    )
    with pytest.raises(MalformedResponse):
        parse_identity_name(only_o)
    with pytest.raises(MalformedResponse):
        parse_identity_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FULL_NAME)]))


# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+994 50 123 45 67", "+994501234567"),
        ("+994501234567", "+994501234567"),
        ("994501234567", "+994501234567"),
        ("00994501234567", "+994501234567"),
        ("0501234567", "+994501234567"),
        ("050-123-45-67", "+994501234567"),
        ("(050) 123 45 67", "+994501234567"),
        ("50 123 45 67", "+994501234567"),
        ("+994 (55) 123-45-67", "+994551234567"),
        (" 010 123 45 67 ", "+994101234567"),
        ("051.123.45.67", "+994511234567"),
        ("0601234567", "+994601234567"),
        ("0701234567", "+994701234567"),
        ("0771234567", "+994771234567"),
        ("0991234567", "+994991234567"),
    ],
)
def test_phone_accepted(raw: str, expected: str) -> None:
    assert normalize_az_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "0121234567",  # Baku landline
        "+994121234567",
        "0201234567",  # not a mobile operator code
        "+7 901 123 45 67",  # another country
        "+0501234567",  # "+" with a national number
        "050123456",  # too short
        "05012345678",  # too long
        "99450123456",
        "050 123 45 6x",
        "٠٥٠١٢٣٤٥٦٧",  # non-ASCII digits
        "50+1234567",
        "0050 123 45 67",
    ],
)
def test_phone_rejected(raw: str) -> None:
    assert normalize_az_mobile(raw) is None
