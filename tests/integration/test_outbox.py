"""The notifications outbox against the local SMTP server (issue 10, point 9): a stable
Message-ID per notice, and a backlog that goes out within one round of SMTP's return."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest

from models.letters import CustomsBody, EmailStatus, LetterChannel, Notification
from tests.support.smtp import TinySmtpServer
from web.letters import notifications, service

# The demo data first: it seeds the customs bodies only into an empty list.
pytestmark = pytest.mark.usefixtures("seeded")


async def _paper_letter_notice(address: str) -> Notification:
    # Listed last (position), so pages that list the bodies look as without this test.
    name = f"Outbox test body {uuid.uuid4().hex[:8]}"
    body = await CustomsBody.create(name=name, position=100_000)
    letter = await service.register_letter(
        body=body,
        applicant=service.Applicant(person=None, fin=None, name="Kağız", email=address),
        channel=LetterChannel.PAPER,
        subject="Outbox",
        text="",
        due_working_days=15,
    )
    return await Notification.get(letter_id=letter.id)


def _to(server: TinySmtpServer, address: str) -> list:
    parsed = [message_from_bytes(raw) for raw in server.messages]
    return [message for message in parsed if message["To"] == address]


async def test_a_resent_notice_keeps_its_message_id(db, settings):
    address = f"{uuid.uuid4().hex[:8]}@example.az"
    notice = await _paper_letter_notice(address)
    async with TinySmtpServer() as server:
        smtp = replace(settings, smtp_host="127.0.0.1", smtp_port=server.port, smtp_security="none")
        send = notifications.smtp_sender(smtp)
        clock = [datetime.now(UTC) + timedelta(seconds=5)]
        await notifications.deliver_pending(
            send, now=lambda: clock[0], batch_size=1000, domain="gomruk.az"
        )
        # A crash after the server accepted it, before the row said so: once the claim
        # runs out, it goes out again.
        await Notification.filter(id=notice.id).update(email_status=EmailStatus.PENDING)
        clock[0] += timedelta(seconds=notifications.CLAIM_SECONDS + 1)
        await notifications.deliver_pending(
            send, now=lambda: clock[0], batch_size=1000, domain="gomruk.az"
        )
    copies = _to(server, address)
    assert len(copies) == 2
    ids = {message["Message-ID"] for message in copies}
    assert len(ids) == 1
    (message_id,) = ids
    assert message_id.startswith(f"<notice-{notice.id}.") and message_id.endswith("@gomruk.az>")
    other = await _paper_letter_notice(address)
    assert notifications.message_id(other, "gomruk.az") != message_id


async def test_after_a_long_smtp_outage_the_backlog_goes_out_in_one_round(db, settings):
    address = f"{uuid.uuid4().hex[:8]}@example.az"
    first = await _paper_letter_notice(address)
    clock = [datetime.now(UTC) + timedelta(seconds=5)]

    def now() -> datetime:
        return clock[0]

    async with TinySmtpServer() as server:
        smtp = replace(settings, smtp_host="127.0.0.1", smtp_port=server.port, smtp_security="none")
        send = notifications.smtp_sender(smtp)

        async def one_round() -> None:  # what the delivery loop does every interval
            await notifications.deliver_pending(
                send, now=now, batch_size=1000, probe_when_idle=True
            )

        # SMTP refuses for ten hours: the first notice backs off to the 6-hour cap.
        server.fail_next = 10_000
        for _ in range(12):
            await notifications.deliver_pending(send, now=now, batch_size=1000)
            row = await Notification.get(id=first.id)
            clock[0] = max(clock[0], row.next_attempt_at.astimezone(UTC)) + timedelta(seconds=1)
        second = await _paper_letter_notice(address)
        await notifications.deliver_pending(send, now=now, batch_size=1000)
        waiting = await Notification.filter(id__in=[first.id, second.id])
        assert all(row.email_status == EmailStatus.PENDING for row in waiting)
        assert (await Notification.get(id=first.id)).attempts >= 10
        assert all(row.next_attempt_at.astimezone(UTC) > now() for row in waiting)

        # SMTP is back; one interval later, nothing is due yet by the backoff alone.
        server.fail_next = 0
        clock[0] += timedelta(seconds=30)
        await one_round()
        delivered = await Notification.filter(id__in=[first.id, second.id])
        assert [row.email_status for row in delivered] == [EmailStatus.SENT] * 2
    assert len(_to(server, address)) == 2
