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
    executor = await Executor.filter(person_id__isnull=True).first()
    username = _name()
    await add_staff(username, "Leyla Rzayeva", Role.EXECUTOR, PASSWORD, executor_id=executor.id)
    account = await Account.get(username=username)
    await executor.refresh_from_db()
    assert executor.person_id == account.person_id
    with pytest.raises(StaffAccountError, match="has an account already"):
        await add_staff(_name(), "Başqası", Role.EXECUTOR, PASSWORD, executor_id=executor.id)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"role": "citizen"}, StaffAccountError),
        ({"username": "katib"}, StaffAccountError),  # taken
        ({"username": "KATIB"}, StaffAccountError),  # taken, in any case
        ({"full_name": "   "}, StaffAccountError),
        ({"password": "short"}, PasswordRejected),
        ({"executor_id": 999_999}, StaffAccountError),
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
    assert key.group(1) not in renewed.stdout and "sessions have ended" in renewed.stdout
