"""Signing in with a user name and password: the throttle, the check and the staff rule,
decided in one place; the route only turns the answer into a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from models.identity import Account, Role
from web.identity import accounts
from web.identity.accounts import AuthOutcome
from web.identity.throttle import SignInThrottle


class Answer(StrEnum):
    SIGNED_IN = "signed_in"
    TOTP_NEXT = "totp_next"  # right password; the second factor comes next
    REFUSED = "refused"  # unknown, wrong or paused: one answer for all three
    THROTTLED = "throttled"  # too many failures: wait `wait_seconds`
    STAFF_NEED_TOTP = "staff_need_totp"


@dataclass(frozen=True)
class Attempt:
    answer: Answer
    account: Account | None = None
    wait_seconds: int = 0


async def attempt(
    throttle: SignInThrottle,
    username: str,
    password: str,
    *,
    address: str,
    staff_totp_required: bool,
    now: datetime,
) -> Attempt:
    moment = now.timestamp()
    wait = await throttle.wait_seconds(username, address, now=moment)
    if wait:
        return Attempt(Answer.THROTTLED, wait_seconds=wait)
    result = await accounts.authenticate(username, password, now=now.astimezone(UTC))
    if result.outcome is AuthOutcome.TOTP_REQUIRED:
        await throttle.succeeded(username, address)
        return Attempt(Answer.TOTP_NEXT, account=result.account)
    if result.outcome is AuthOutcome.OK:
        await throttle.succeeded(username, address)
        if result.account.role != Role.CITIZEN and staff_totp_required:
            # Staff are protected by a second factor, not by lock-outs: without one the
            # password alone does not open a staff account.
            return Attempt(Answer.STAFF_NEED_TOTP)
        return Attempt(Answer.SIGNED_IN, account=result.account)
    await throttle.failed(username, address, now=moment)
    return Attempt(Answer.REFUSED)
