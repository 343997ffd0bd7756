"""Who is signed in lives in the session (issue 12), and a change of their authority reaches
every session at its next request (`web/identity/authority.py`): memberships granted or
taken, a party renamed, a staff role changed, an account disabled, a password changed.

Each test makes a person of its own (the demo accounts are shared by the whole session).
"""

from __future__ import annotations

import secrets

import pytest
from litestar.testing import AsyncTestClient

from models.identity import Account, MembershipSource, Party, PartyMembership, Person, Role
from tests.support.web import csrf_token, sign_in
from web.devdata.demo_data import DEMO_PASSWORD
from web.identity import accounts, authority, sessions

pytestmark = pytest.mark.usefixtures("seeded")


async def _person(*, companies: int = 0, role: Role = Role.CITIZEN) -> tuple[str, Person]:
    """A person of this test's own with an account (user name returned) and their parties."""
    suffix = secrets.token_hex(3).upper()
    person = await Person.create(fin=f"Z{suffix}", full_name=f"Sınaq Şəxs {suffix}")
    if role == Role.CITIZEN:
        personal = await accounts.get_or_create_personal_party(person)
        await accounts.grant_party(person, personal, MembershipSource.ADMIN)
    for number in range(companies):
        company = await _company(f"Sınaq Şirkəti {suffix}-{number}")
        await accounts.grant_party(person, company, MembershipSource.ADMIN)
    username = f"sinaq{suffix.lower()}"
    await accounts.create_account(person, username, DEMO_PASSWORD, role=role)
    return username, person


async def _company(name: str) -> Party:
    return await accounts.get_or_create_company_party(
        "9" + "".join(secrets.choice("0123456789") for _ in range(9)), name
    )


async def _home(client: AsyncTestClient) -> str:
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 200
    return response.text


async def test_a_party_granted_shows_at_the_next_request(client):
    username, person = await _person()
    await sign_in(client, username, expect=303)
    assert "Sınaq Şirkəti" not in (await client.get("/party")).text
    company = await _company(f"Sınaq Şirkəti {person.fin} yeni")
    await accounts.grant_party(person, company, MembershipSource.ADMIN)
    assert company.name in (await client.get("/party")).text  # no new sign-in


async def test_a_party_taken_away_can_no_longer_be_acted_for(client):
    username, person = await _person(companies=2)
    company = (await accounts.parties_of(person))[1]
    await sign_in(client, username, expect=303, party=company.name)
    assert f"{company.name}" in await _home(client)
    choose = {"party": str(company.id), "_csrf_token": await csrf_token(client)}

    assert await accounts.revoke_party(person, company)
    page = await client.get("/documents/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/party"  # choose again
    assert company.name not in (await client.get("/party")).text
    refused = await client.post("/party", data=choose, follow_redirects=False)
    assert refused.status_code == 422
    assert company.name not in await _home(client)


async def test_the_only_party_left_is_acted_for(client):
    username, person = await _person(companies=1)
    personal, company = await accounts.parties_of(person)
    await sign_in(client, username, expect=303, party=company.name)
    await accounts.revoke_party(person, company)
    home = await _home(client)
    assert company.name not in home and personal.name in home


async def test_a_renamed_party_shows_its_new_name(client):
    username, person = await _person(companies=1)
    company = (await accounts.parties_of(person))[1]
    await sign_in(client, username, expect=303, party=company.name)
    renamed = await accounts.get_or_create_company_party(company.identifier, "Yeni Ad MMC")
    assert renamed.id == company.id
    home = await _home(client)
    assert "Yeni Ad MMC" in home and company.name not in home


async def test_a_staff_role_change_applies_at_the_next_request(client):
    username, _ = await _person(role=Role.REGISTRY_CLERK)
    await sign_in(client, username, expect=303)
    assert (await client.get("/registry/new")).status_code == 200
    assert (await client.get("/officer/documents")).status_code == 404
    await accounts.set_role(await Account.get(username=username), Role.CUSTOMS_OFFICER)
    assert (await client.get("/registry/new")).status_code == 404
    assert (await client.get("/officer/documents")).status_code == 200


def _use_session(client: AsyncTestClient, session_id: str) -> None:
    """Send this session's cookie from now on (another device of the same person)."""
    client.cookies.delete("session")
    client.cookies.set("session", session_id, domain="testserver.local")


async def _devices(client: AsyncTestClient, username: str, count: int) -> list[str]:
    """`count` sessions of one person, as from as many devices."""
    session_ids = []
    for _ in range(count):
        client.cookies.clear()
        session_ids.append((await sign_in(client, username, expect=303)).cookies.get("session"))
    return session_ids


async def test_a_disabled_account_is_signed_out_everywhere(client):
    username, _ = await _person()
    devices = await _devices(client, username, 2)
    await accounts.set_active(await Account.get(username=username), False)
    store = client.app.stores.get(sessions.STORE_NAME)
    for session_id in devices:
        _use_session(client, session_id)
        response = await client.get("/letters", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
        assert await store.get(session_id) is None  # the record goes, not only the cookie


async def test_a_password_change_signs_out_every_session(client):
    username, _ = await _person()
    devices = await _devices(client, username, 2)
    for session_id in devices:
        _use_session(client, session_id)
        assert (await client.get("/letters", follow_redirects=False)).status_code == 200
    await accounts.set_password(await Account.get(username=username), "yeni-uzun-parol-77")
    for session_id in devices:
        _use_session(client, session_id)
        assert (await client.get("/letters", follow_redirects=False)).status_code == 303
    # A sign-in afterwards (with the new password) is not caught by it.
    client.cookies.clear()
    await sign_in(client, username, "yeni-uzun-parol-77", expect=303)
    assert (await client.get("/letters", follow_redirects=False)).status_code == 200


async def test_a_removed_person_ends_the_session(client):
    username, person = await _person()
    await sign_in(client, username, expect=303)
    await Account.filter(person_id=person.id).delete()
    await Person.filter(id=person.id).delete()
    await authority.changed(person.id)
    response = await client.get("/letters", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_a_lost_version_reloads_and_never_serves_a_stale_copy(client):
    """Versions are random tokens: a version key that expired or was evicted reads as missing,
    which no copy holds once a change happened, so the copy is reloaded from the database."""
    username, person = await _person()
    await sign_in(client, username, expect=303)
    company = await _company(f"Sınaq Şirkəti {person.fin} itən")
    await accounts.grant_party(person, company, MembershipSource.ADMIN)
    assert company.name in (await client.get("/party")).text
    # Taken away without announcing it, and the version key lost too: still not stale.
    await PartyMembership.filter(person_id=person.id, party_id=company.id).delete()
    store = client.app.stores.get(sessions.STORE_NAME)
    secret = client.app.state.settings.secret_key
    await store.delete(authority.version_keys(authority.tag(secret, person.id))[0])
    assert company.name not in (await client.get("/party")).text


async def test_a_lost_announcement_is_stale_for_five_minutes_at_most(client, monkeypatch):
    """Should the store fail right after a change was committed (no new token), the copy is
    still read again once it is MAX_AGE_SECONDS old."""
    username, person = await _person(companies=1)
    company = (await accounts.parties_of(person))[1]
    await sign_in(client, username, expect=303, party=company.name)
    await PartyMembership.filter(person_id=person.id, party_id=company.id).delete()  # unannounced
    assert company.name in await _home(client)  # the copy, within its age
    real_time = authority.time.time
    monkeypatch.setattr(authority.time, "time", lambda: real_time() + authority.MAX_AGE_SECONDS)
    assert company.name not in await _home(client)


async def test_a_session_from_before_tagged_ids_is_reloaded_and_given_one(client):
    """Sessions stored before ids carried the person's tag: reloaded from the database once
    (their copy cannot be checked) and moved to a tagged id."""
    username, _ = await _person()
    await sign_in(client, username, expect=303)
    store = client.app.stores.get(sessions.STORE_NAME)
    tagged = client.cookies.get("session")
    record = sessions.RotatingSessionBackend.deserialize_data(await store.get(tagged))
    record[sessions.AUTH_KEY].pop("identity")
    old_id = secrets.token_hex(32)
    await store.set(old_id, sessions.RotatingSessionBackend.serialize_data(record), 600)
    await store.delete(tagged)
    _use_session(client, old_id)
    response = await client.get("/letters", follow_redirects=False)
    assert response.status_code == 200
    new_id = response.cookies.get("session")
    assert new_id != old_id and authority.session_tag(new_id) == tagged.split(".")[0]
    assert await store.get(old_id) is None
    assert (await client.get("/letters", follow_redirects=False)).status_code == 200


async def test_a_cookie_naming_a_version_key_is_not_a_session(client):
    username, person = await _person()
    await sign_in(client, username, expect=303)
    secret = client.app.state.settings.secret_key
    await authority.changed(person.id)  # the version key exists
    _use_session(client, authority.version_keys(authority.tag(secret, person.id))[0])
    response = await client.get("/letters", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_an_app_that_stopped_is_no_longer_announced_to(make_app):
    async with AsyncTestClient(app=make_app()) as running:
        store = running.app.stores.get(sessions.STORE_NAME)
        assert any(registered is store for registered, _ in authority._stores)
    assert not any(registered is store for registered, _ in authority._stores)


async def test_a_copy_made_before_any_version_is_not_trusted_once_the_version_is_lost(client):
    """A person with no version yet when they sign in (none changed in the last 13 hours),
    then a change, then its version key lost (evicted): the copy must not pass for current
    because "no version" equals "no version"."""
    username, person = await _person(companies=1)
    company = (await accounts.parties_of(person))[1]
    store = client.app.stores.get(sessions.STORE_NAME)
    version_key = authority.version_keys(
        authority.tag(client.app.state.settings.secret_key, person.id)
    )[0]
    await store.delete(version_key)  # nothing changed for a long while: no version
    await sign_in(client, username, expect=303, party=company.name)
    assert company.name in await _home(client)
    await accounts.revoke_party(person, company)
    await store.delete(version_key)  # the announcement's key evicted before the next request
    assert company.name not in await _home(client)


async def test_a_session_from_before_tagged_ids_ends_at_once_when_signed_out_everywhere(client):
    """Its first request reads the person's version too: a password changed since it
    signed in ends it there, not one request later."""
    username, _ = await _person()
    await sign_in(client, username, expect=303)
    store = client.app.stores.get(sessions.STORE_NAME)
    tagged = client.cookies.get("session")
    record = await store.get(tagged)
    old_id = secrets.token_hex(32)
    await store.set(old_id, record, 600)
    await store.delete(tagged)
    await accounts.set_password(await Account.get(username=username), "yeni-uzun-parol-78")
    _use_session(client, old_id)
    response = await client.get("/letters", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_a_password_change_whose_announcement_was_lost_ends_the_session_within_max_age(
    client, monkeypatch
):
    """The store failed as the change was announced (no `ended` time stored): the reload
    that MAX_AGE_SECONDS brings still sees the password changed, and ends the session."""
    username, _ = await _person()
    await sign_in(client, username, expect=303)

    async def lost(person_id, **_):
        return None

    monkeypatch.setattr(authority, "end_sessions", lost)
    await accounts.set_password(await Account.get(username=username), "yeni-uzun-parol-79")
    real_time = authority.time.time
    monkeypatch.setattr(authority.time, "time", lambda: real_time() + authority.MAX_AGE_SECONDS)
    response = await client.get("/letters", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
