"""Asan İmza (issue 11, point 12): a revoked certificate signs nobody in, with a clear
message; used transaction ids and simulator transactions do not stay in storage for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from models.asan import SimulatedTransaction, UsedAsanTransaction
from tests.support.web import csrf_token
from web.identity import asan_signin
from web.identity.asan_imza.db_store import DatabaseReplayGuard
from web.simulator.operator import provision_demo_phone

pytestmark = pytest.mark.usefixtures("seeded")

PHONE = "+994709998877"
USER_ID = "778899"
PIN1 = "2468"


async def test_a_revoked_certificate_signs_nobody_in(client, settings):
    service = client.app.state.asan
    ca = asan_signin.load_demo_ca(settings)
    sim = await provision_demo_phone(
        service.simulator_store,
        ca,
        phone=PHONE,
        user_id=USER_ID,
        pin1=PIN1,
        fin="9REV0KD",
        full_name="Ləğv Edilmiş",
        replace_existing=True,
    )
    personal = x509.load_pem_x509_certificate(sim.certificates[0].certificate_pem)
    ca.revoke(
        asan_signin.demo_ca_directory(settings), personal.serial_number, now=datetime.now(UTC)
    )

    started = await client.post(
        "/login/asan",
        data={"phone": PHONE, "user_id": USER_ID, "_csrf_token": await csrf_token(client)},
        follow_redirects=False,
    )
    assert started.headers["location"] == "/login/asan/wait"
    pending = await service.simulator.pending_for(PHONE)
    await service.simulator.confirm_with_pin(pending.id, PHONE, PIN1)
    answer = await client.get("/login/asan/wait", follow_redirects=False)
    assert answer.status_code == 200
    assert "Asan İmza sertifikatınız ləğv edilib" in answer.text
    assert (await client.get("/letters", follow_redirects=False)).status_code == 303


async def test_used_ids_and_finished_simulator_transactions_expire(client):
    service = client.app.state.asan
    now = datetime.now(UTC)
    long_ago = now - asan_signin.USED_ID_RETENTION - timedelta(minutes=1)
    await UsedAsanTransaction.create(transaction_id="old-used-id", used_at=long_ago)
    await UsedAsanTransaction.create(transaction_id="fresh-used-id", used_at=now)
    for tx_id, expired_at in (
        ("old-sim-tx", now - asan_signin.SIMULATOR_KEEP - timedelta(minutes=1)),
        ("fresh-sim-tx", now - timedelta(minutes=5)),
    ):
        await SimulatedTransaction.create(
            id=tx_id,
            phone=PHONE,
            user_id=USER_ID,
            challenge_hash="00" * 32,
            language="az",
            created_at=expired_at - timedelta(minutes=2),
            expires_at=expired_at,
            status="signed",
            version=1,
        )
    assert isinstance(service.replay_guard, DatabaseReplayGuard)

    await asan_signin.purge_expired(service, now=now)

    assert not await UsedAsanTransaction.exists(transaction_id="old-used-id")
    assert await UsedAsanTransaction.exists(transaction_id="fresh-used-id")
    assert not await SimulatedTransaction.exists(id="old-sim-tx")
    assert await SimulatedTransaction.exists(id="fresh-sim-tx")
    # A fresh id is still refused a second time (the replay guard keeps what it must).
    assert not await service.replay_guard.consume("fresh-used-id")
