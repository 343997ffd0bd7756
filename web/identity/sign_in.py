"""What every means of sign-in does once it knows who is there (password + TOTP, Asan İmza,
and any means added later: they call `complete_sign_in` and nothing else).

The routes then begin a fresh session with `SignedIn.auth` and send the person on, or to
the party choice first when they act for several parties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.identity import Person, Role
from web.identity import accounts, authority
from web.letters.service import claim_paper_letters


@dataclass(frozen=True)
class SignedIn:
    auth: dict[str, Any]
    """What the session keeps about who signed in (see `web/identity/sessions.py`)."""
    must_choose_party: bool


async def complete_sign_in(
    *,
    person_id: int,
    role: Role,
    method: str,
    version: authority.Version,
    account_id: int | None = None,
) -> SignedIn:
    """Link the citizen's paper letters, find their parties, choose the only one.

    `version` is the person's authority version, read before this (`authority.snapshot`);
    `account_id` (a password sign-in) lets a later change of that account reach the session.
    """
    person = await Person.get(id=person_id)
    if role == Role.CITIZEN:
        await claim_paper_letters(person)
    parties = await accounts.parties_of(person)
    auth = {
        "person_id": person_id,
        "role": str(role),
        "method": method,
        "party_id": parties[0].id if len(parties) == 1 else None,
        "identity": authority.snapshot(person, parties, version),
    }
    if account_id is not None:
        auth["account_id"] = account_id
    return SignedIn(auth=auth, must_choose_party=len(parties) > 1 and role == Role.CITIZEN)
