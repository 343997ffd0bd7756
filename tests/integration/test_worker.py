"""The outbox worker: `python -m web worker` processes, one database, every notice e-mailed
exactly once (counted at a real SMTP conversation, tests/support/smtp.py)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tortoise.timezone import localtime

from models.letters import EmailStatus, Notification
from tests.support.server import ROOT
from tests.support.smtp import TinySmtpServer
from web.letters import notifications

NOTICES = 120
WORKERS = 2


async def pending_notices(marker: str, count: int) -> list[str]:
    addresses = [f"{marker}-{index}@example.az" for index in range(count)]
    due = localtime(datetime.now(UTC) - timedelta(seconds=1))
    await Notification.bulk_create(
        [
            Notification(
                kind=notifications.ACCEPTED,
                params={},
                email_to=address,
                subject="Sınaq",
                body="Mətn",
                created_at=due,
                email_status=EmailStatus.PENDING,
                next_attempt_at=due,
            )
            for address in addresses
        ]
    )
    return addresses


async def start_worker(settings, smtp_port: int, data_dir: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "ENV": "development",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": settings.database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "NOTIFICATION_INTERVAL_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", "worker", cwd=ROOT, env=env
    )


async def test_two_workers_send_every_notice_exactly_once(db, settings, tmp_path):
    marker = uuid.uuid4().hex[:10]
    addresses = await pending_notices(marker, NOTICES)
    async with TinySmtpServer() as server:
        workers = [
            await start_worker(settings, server.port, tmp_path / f"worker-{n}")
            for n in range(WORKERS)
        ]
        try:
            for _ in range(600):  # at most ~60 s on a loaded machine
                if (
                    await Notification.filter(
                        email_to__startswith=marker, email_status=EmailStatus.PENDING
                    ).count()
                    == 0
                ):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(2)  # two more rounds: a second send would show now
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(worker.wait(), 30) for worker in workers]
    sent_to = Counter(
        match.decode()
        for message in server.messages
        for match in re.findall(rb"To: (" + marker.encode() + rb"-\d+@example\.az)", message)
    )
    assert sorted(sent_to) == sorted(addresses)
    assert set(sent_to.values()) == {1}  # none twice
    assert codes == [0] * WORKERS  # SIGTERM ends each worker cleanly
    rows = await Notification.filter(email_to__startswith=marker)
    assert {row.email_status for row in rows} == {EmailStatus.SENT}
    assert {row.attempts for row in rows} == {1}


async def test_concurrent_claims_take_disjoint_batches(db):
    """The claim itself, raced in one process: no row is handed to two claimers."""
    marker = uuid.uuid4().hex[:10]
    await pending_notices(marker, 40)
    moment = localtime(datetime.now(UTC))
    batches = await asyncio.gather(*(notifications.claim_due(moment, 1000) for _ in range(4)))
    ours = [[row.id for row in batch if row.email_to.startswith(marker)] for batch in batches]
    claimed = [row_id for batch in ours for row_id in batch]
    assert len(claimed) == len(set(claimed)) == 40
    again = await notifications.claim_due(moment, 1000)  # claimed: not due for 5 minutes
    assert not [row for row in again if row.email_to.startswith(marker)]


@pytest.mark.parametrize(
    ("setting", "database", "expected"),
    [
        ("auto", "sqlite://x.sqlite3", True),
        ("auto", "postgres://db/egomruk", False),
        ("true", "postgres://db/egomruk", True),
        ("false", "sqlite://x.sqlite3", False),
    ],
)
def test_web_processes_run_the_worker_only_on_the_embedded_default(
    settings, setting, database, expected
):
    from dataclasses import replace

    from web.worker import runs_in_web

    assert runs_in_web(replace(settings, run_worker_in_web=setting, database_url=database)) is (
        expected
    )


async def test_the_worker_forgets_simulated_requests_a_day_after_they_expired(db):
    from models.asan import SimulatedTransaction
    from web.worker import forget_expired_simulated_transactions

    now = datetime.now(UTC)
    rows = {}
    for name, expired_ago in (("old", timedelta(days=2)), ("recent", timedelta(hours=1))):
        rows[name] = await SimulatedTransaction.create(
            id=uuid.uuid4().hex,
            phone="+994500000000",
            user_id="x",
            challenge_hash="00",
            language="az",
            created_at=localtime(now - expired_ago - timedelta(minutes=5)),
            expires_at=localtime(now - expired_ago),
        )
    assert await forget_expired_simulated_transactions(now) >= 1
    assert not await SimulatedTransaction.filter(id=rows["old"].id).exists()
    assert await SimulatedTransaction.filter(id=rows["recent"].id).exists()
