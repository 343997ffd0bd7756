"""Staff accounts made by an operator (`python -m web staff add|totp`,
web/identity/staff_accounts.py): made with their second factor, usable at once where
`STAFF_TOTP_REQUIRED`, refused without leaving anything behind, and a new second factor ends
the sessions signed in with the old one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import replace

import pyotp
import pytest
from litestar.testing import AsyncTestClient

from models.identity import Account, Person, Role
from models.letters import Executor
from tests.support.web import csrf_token, sign_in
from web.app import create_app
from web.identity import authority
from web.identity.accounts import PasswordRejected
from web.identity.staff_accounts import StaffAccountError, add_staff, replace_totp

pytestmark = pytest.mark.usefixtures("seeded")

PASSWORD = "Uzun-staff-parol-2026"


def _name() -> str:
    return f"staff-{uuid.uuid4().hex[:8]}"


async def _second_factor(client, secret: str) -> None:
    done = await client.post(
        "/login/totp",
        data={"code": pyotp.TOTP(secret).now(), "_csrf_token": await csrf_token(client)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text


async def test_a_made_staff_account_signs_in_with_its_key_where_totp_is_required(settings):
    app = create_app(replace(settings, staff_totp_required=True))
    async with AsyncTestClient(app=app) as client:
        username = _name()
        enrolment = await add_staff(
            username.upper(), "  Günay   Quliyeva ", "registry_clerk", PASSWORD
        )
        assert enrolment.username == username  # user names are kept in lower case
        assert re.fullmatch(r"[A-Z2-7]{32}", enrolment.secret)
        assert enrolment.key_in_groups.replace(" ", "") == enrolment.secret
        assert enrolment.uri.startswith("otpauth://totp/e-G%C3%B6mr%C3%BCk:" + username)
        assert f"secret={enrolment.secret}" in enrolment.uri
        account = await Account.get(username=username).prefetch_related("person")
        assert account.role == Role.REGISTRY_CLERK and account.totp_secret == enrolment.secret
        assert account.person.full_name == "Günay Quliyeva" and account.person.fin is None

        asked = await sign_in(client, username, PASSWORD)
        assert asked.headers["location"] == "/login/totp"
        await _second_factor(client, enrolment.secret)
        assert (await client.get("/registry")).status_code == 200


async def test_an_executor_linked_to_a_new_account_is_theirs(db):
    inactive = await Executor.filter(person_id__isnull=True).first()
    inactive.is_active = False
    await inactive.save(update_fields=["is_active"])
    try:
        with pytest.raises(StaffAccountError, match="no active executor"):
            await add_staff(_name(), "X", Role.EXECUTOR, PASSWORD, executor_id=inactive.id)
    finally:
        inactive.is_active = True
        await inactive.save(update_fields=["is_active"])
    executor = await Executor.filter(person_id__isnull=True, is_active=True).first()
    username = _name()
    await add_staff(username, "Leyla Rzayeva", Role.EXECUTOR, PASSWORD, executor_id=executor.id)
    account = await Account.get(username=username)
    await executor.refresh_from_db()
    assert executor.person_id == account.person_id
    with pytest.raises(StaffAccountError, match="without an account"):
        await add_staff(_name(), "Başqası", Role.EXECUTOR, PASSWORD, executor_id=executor.id)


async def test_an_executor_linked_meanwhile_leaves_the_second_account_unmade(db, monkeypatch):
    """Two operators link one executor at once: the check before the transaction passes for
    both, the link inside it is made only while still free, and the loser makes nothing."""
    executor = await Executor.filter(person_id__isnull=True, is_active=True).first()
    other = await Person.create(full_name="Faster Operator's Person")
    original_exists = Executor.exists

    async def free_then_taken(**filters):
        free = await original_exists(**filters)
        await Executor.filter(id=executor.id).update(person_id=other.id)  # the other operator
        return free

    monkeypatch.setattr(Executor, "exists", free_then_taken)
    persons, username = await Person.all().count(), _name()
    try:
        with pytest.raises(StaffAccountError, match="linked meanwhile"):
            await add_staff(username, "Slower", Role.EXECUTOR, PASSWORD, executor_id=executor.id)
        assert not await Account.exists(username=username)
        assert await Person.all().count() == persons
    finally:
        await Executor.filter(id=executor.id).update(person_id=None)
        await other.delete()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"role": "citizen"}, StaffAccountError),
        ({"username": "katib"}, StaffAccountError),  # taken
        ({"username": "KATIB"}, StaffAccountError),  # taken, in any case
        ({"full_name": "   "}, StaffAccountError),
        ({"password": "short"}, PasswordRejected),
        ({"role": "executor", "executor_id": 999_999}, StaffAccountError),
        ({"executor_id": 1}, StaffAccountError),  # an admin is not an executor
        ({"username": "KATİB"}, StaffAccountError),  # "kati̇b": would pass for katib
        ({"username": "  "}, StaffAccountError),
        ({"username": "ab"}, StaffAccountError),
        ({"username": "a b c"}, StaffAccountError),
    ],
)
async def test_a_refused_account_leaves_nothing_behind(db, change, error):
    persons = await Person.all().count()
    accounts = await Account.all().count()
    arguments = {
        "username": _name(),
        "full_name": "Refused Person",
        "role": "admin",
        "password": PASSWORD,
        "executor_id": None,
        **change,
    }
    with pytest.raises(error):
        await add_staff(**arguments)
    assert (await Person.all().count(), await Account.all().count()) == (persons, accounts)


async def test_a_new_key_ends_the_sessions_signed_in_with_the_old_one(settings, monkeypatch):
    app = create_app(replace(settings, staff_totp_required=True))
    async with AsyncTestClient(app=app) as client:
        username = _name()
        old = await add_staff(username, "Tural Nəsirov", "customs_officer", PASSWORD)
        await sign_in(client, username, PASSWORD)
        await _second_factor(client, old.secret)
        assert (await client.get("/officer/documents")).status_code == 200

        new = await replace_totp(username)
        assert new.secret != old.secret
        ended = await client.get("/officer/documents", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")

        await sign_in(client, username, PASSWORD)
        refused = await client.post(
            "/login/totp",
            data={"code": pyotp.TOTP(old.secret).now(), "_csrf_token": await csrf_token(client)},
        )
        assert refused.status_code == 422  # the old key opens nothing
        await _second_factor(client, new.secret)
        assert (await client.get("/officer/documents")).status_code == 200

        # Made where the sessions cannot be reached (a command next to a server that keeps
        # them in memory): the credential the session carries ends it at its next reload.
        async def unreachable(person_id, **_):
            return None

        monkeypatch.setattr(authority, "end_sessions", unreachable)
        await replace_totp(username)
        real_time = authority.time.time
        monkeypatch.setattr(authority.time, "time", lambda: real_time() + authority.MAX_AGE_SECONDS)
        ended = await client.get("/officer/documents", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")


async def test_a_code_of_the_old_key_checked_as_the_new_one_is_set_opens_nothing(db, monkeypatch):
    """`staff totp` lands between a sign-in's read of the key and its compare-and-set: the
    old key's code is refused (the update also requires the key it was checked against)."""
    from datetime import UTC, datetime

    from web.identity import accounts

    username = _name()
    old = await add_staff(username, "Race Officer", "customs_officer", PASSWORD)
    account = await Account.get(username=username)
    original_refresh = Account.refresh_from_db

    async def refresh_then_replaced(self, *args, **kwargs):
        await original_refresh(self, *args, **kwargs)
        await replace_totp(username)  # the operator's command, just after the read

    monkeypatch.setattr(Account, "refresh_from_db", refresh_then_replaced)
    now = datetime.now(UTC)
    code = pyotp.TOTP(old.secret).at(now)
    assert not await accounts.verify_totp(account, code, now=now)


async def test_a_new_key_lifts_a_lock_left_by_the_old_one(db):
    from datetime import UTC, datetime, timedelta

    username = _name()
    await add_staff(username, "Locked Officer", "customs_officer", PASSWORD)
    await Account.filter(username=username).update(
        failed_attempts=100, locked_until=datetime.now(UTC) + timedelta(minutes=15)
    )
    await replace_totp(username)
    account = await Account.get(username=username)
    assert account.failed_attempts == 0 and account.locked_until is None


async def test_a_citizen_account_gets_no_key_this_way(db):
    with pytest.raises(StaffAccountError, match="no staff account"):
        await replace_totp("vetendas")


def test_the_command_reads_the_password_from_standard_input_and_prints_the_key(tmp_path):
    env = {**os.environ, "ENV": "development", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    env["DATABASE_URL"] = ""  # a database of its own (SQLite in tmp_path)

    def web(*args: str, password: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "web", *args],
            env=env,
            input=None if password is None else password + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert web("migrate").returncode == 0
    made = web("staff", "add", "katib9", "--name", "Günay Quliyeva", "--role", "admin",
               password=PASSWORD)  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = re.search(r"^  ((?:[A-Z2-7]{4} ){7}[A-Z2-7]{4})$", made.stdout, re.MULTILINE)
    assert key, made.stdout
    assert "otpauth://totp/" in made.stdout and "█" in made.stdout  # and the QR code
    assert PASSWORD not in made.stdout + made.stderr

    again = web("staff", "add", "katib9", "--name", "X", "--role", "admin", password=PASSWORD)
    assert again.returncode == 2 and "taken" in again.stderr
    weak = web("staff", "add", "katib8", "--name", "X", "--role", "admin", password="short")
    assert weak.returncode == 2 and "password_too_short" in weak.stderr

    renewed = web("staff", "totp", "katib9")
    assert renewed.returncode == 0, renewed.stderr
    assert key.group(1) not in renewed.stdout
    assert "sessions end within 5 minutes" in renewed.stdout  # no REDIS_URL: in memory
