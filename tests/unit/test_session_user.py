"""The signed-in user made from the session's copy: the same person, role, parties and
party acted for as before, the parties made only when asked for."""

from __future__ import annotations

import time

import pytest
from tortoise import Tortoise

from models.identity import Role
from web.identity import authority, guards

AUTH = {
    "person_id": 1,
    "role": "citizen",
    "method": "password",
    "party_id": 2,
    "identity": {
        "v": "token",
        "at": time.time(),
        "person": {
            "id": 1,
            "fin": "5ABCD12",
            "full_name": "Elnur Həsənov",
            "phone": None,
            "email": "e@example.az",
        },
        "parties": [
            [1, "personal", "5ABCD12", "Elnur Həsənov"],
            [2, "company", "1234567891", "Xəzər Logistika MMC"],
        ],
    },
}


@pytest.fixture(autouse=True)
async def models():
    await Tortoise.init(db_url="sqlite://:memory:", modules={"models": ["models.identity"]})
    yield
    await Tortoise.close_connections()


def test_the_same_user_as_built_eagerly(monkeypatch) -> None:
    built = []
    real = authority.parties_of
    monkeypatch.setattr(authority, "parties_of", lambda cached: built.append(1) or real(cached))
    user = guards._user(AUTH)
    assert built == []  # not yet asked for
    assert (user.person.id, user.person.full_name) == (1, "Elnur Həsənov")
    assert (user.role, user.method, user.is_staff) == (Role.CITIZEN, "password", False)
    assert [(p.id, str(p.kind), p.identifier, p.name) for p in user.parties] == [
        (1, "personal", "5ABCD12", "Elnur Həsənov"),
        (2, "company", "1234567891", "Xəzər Logistika MMC"),
    ]
    assert user.party is user.parties[1]
    assert built == [1]  # once
    assert guards._user({**AUTH, "party_id": None}).party is None
    assert guards._user({**AUTH, "party_id": 99}).party is None  # not one of theirs
