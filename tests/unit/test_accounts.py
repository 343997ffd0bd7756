"""Passwords: the rules for a new one, and argon2id hashing (no database)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from web.identity.accounts import (
    EQUALS_USERNAME,
    TOO_COMMON,
    TOO_LONG,
    TOO_SHORT,
    hash_password,
    is_common_password,
    password_needs_rehash,
    password_problems,
    verify_password,
)
from web.platform.forms import Problem

SHORT, LONG, COMMON, SAME = TOO_SHORT, TOO_LONG, TOO_COMMON, EQUALS_USERNAME


@pytest.mark.parametrize(
    ("password", "username", "problems"),
    [
        ("", "leyla", [SHORT]),
        ("Xq7#vbn", "leyla", [SHORT]),  # 7 characters
        ("Xq7#vbnM", "leyla", []),  # 8 characters
        ("Əli-Xq7#", "leyla", []),  # 8 characters, not 8 bytes
        ("kP9$" * 32, "leyla", []),  # 128 characters
        ("kP9$" * 32 + "z", "leyla", [LONG]),  # 129 characters
        ("password", "leyla", [COMMON]),
        ("PassWord", "leyla", [COMMON]),
        ("QWERTY123", "leyla", [COMMON]),
        ("12345678", "leyla", [COMMON]),
        ("Azerbaijan", "leyla", [COMMON]),
        ("SALAM123", "leyla", [COMMON]),
        ("123456", "leyla", [SHORT, COMMON]),
        ("parol", "leyla", [SHORT, COMMON]),
        ("leyla.mammadova", "leyla.mammadova", [SAME]),
        ("Leyla.Mammadova", "leyla.mammadova", [SAME]),
        ("leyla.mammadova", "Leyla.Mammadova", [SAME]),
        ("Kx9q", "kx9q", [SHORT, SAME]),
        ("leyla.mammadova", "", []),
    ],
)
def test_password_problems(password: str, username: str, problems: list[str]) -> None:
    assert [problem.code for problem in password_problems(password, username=username)] == problems


def test_problems_are_domain_problems_not_words() -> None:
    assert password_problems("abc", username="x") == [
        Problem("password_too_short", "password", {"min": 8})
    ]


@pytest.mark.parametrize(
    "password", ["password", "123456", "qwerty", "12345678", "parol", "salam123", "azerbaijan"]
)
def test_the_well_known_ones_are_on_the_list(password: str) -> None:
    assert is_common_password(password)
    assert is_common_password(password.upper())


def test_the_list_is_lower_case_and_sizeable() -> None:
    from web.identity.accounts import COMMON_PASSWORDS_FILE

    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 1000
    assert all(line == line.strip().lower() and line for line in lines)
    assert len(set(lines)) == len(lines)


def test_hash_and_verify_roundtrip() -> None:
    hashed = hash_password("Xq7#vbnM-long enough")
    assert verify_password(hashed, "Xq7#vbnM-long enough")
    assert not verify_password(hashed, "Xq7#vbnM-long enougH")
    assert not verify_password(hashed, "")


def test_hash_is_argon2id_with_a_fresh_salt() -> None:
    first, second = hash_password("same password"), hash_password("same password")
    assert first.startswith("$argon2id$")
    assert first != second
    assert not password_needs_rehash(first)


def test_a_malformed_hash_verifies_nothing() -> None:
    assert not verify_password("not a hash", "anything")
    assert not verify_password("", "anything")
    assert password_needs_rehash("not a hash")


def test_a_weaker_hash_needs_rehash_but_still_verifies() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("old password")
    assert verify_password(weak, "old password")
    assert password_needs_rehash(weak)


def test_hashes_use_the_chosen_owasp_parameters() -> None:
    # OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in hash_password("any password")


def test_hashes_made_with_the_previous_defaults_verify_and_are_rehashed() -> None:
    previous = PasswordHasher().hash("old password")  # argon2-cffi's 64 MiB, t=3, p=4
    assert "m=65536,t=3,p=4" in previous
    assert verify_password(previous, "old password")
    assert password_needs_rehash(previous)


async def test_concurrent_hashing_is_bounded_by_the_cpu_count(monkeypatch) -> None:
    import asyncio
    import os
    import threading
    import time

    from web.identity import accounts

    running, peak, lock = [0], [0], threading.Lock()

    def slow_verify(password_hash: str, password: str) -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)  # like argon2: a thread busy for a while
        with lock:
            running[0] -= 1
        return True

    monkeypatch.setattr(accounts, "verify_password", slow_verify)
    ticks = []

    async def ticker() -> None:  # the event loop keeps running meanwhile
        for _ in range(5):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    results = await asyncio.gather(
        ticker(), *(accounts._verify_off_loop("hash", "password") for _ in range(20))
    )
    assert all(results[1:])
    assert peak[0] == accounts.HASHING_THREADS == len(os.sched_getaffinity(0))
    assert len(ticks) == 5
