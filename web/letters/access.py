"""Who may file appeals, and which letters a member of staff may see and act on (least
privilege).

* Appeals (“Yeni müraciət”) are filed by citizens acting for themselves or their company,
  never by staff accounts (the registry registers paper letters instead).

* Registry clerks and administrators keep the whole registry: every letter, registering
  paper letters, the call centre's search by FIN.
* Executors see and act only on the letters assigned to them (the letter's executor entry is
  linked to their person): the list, a letter, its attachments, forwarding, status and
  extension. Another letter is the same 404 as a missing one. They register no paper letters
  and get no search by FIN (it would show letters of any applicant).

The registry routes ask here; nothing in this module knows about HTTP.
"""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models.identity import Person, Role
from models.letters import Letter

WHOLE_REGISTRY_ROLES = frozenset({Role.REGISTRY_CLERK, Role.ADMIN})


def may_file_appeals(role: Role) -> bool:
    return role is Role.CITIZEN


def sees_whole_registry(role: Role) -> bool:
    return role in WHOLE_REGISTRY_ROLES


def visible_letters(person: Person, role: Role) -> QuerySet[Letter]:
    """The letters this member of staff may see: all of them, or those assigned to them."""
    if sees_whole_registry(role):
        return Letter.all()
    if role is Role.EXECUTOR:
        return Letter.filter(executor__person_id=person.id)
    return Letter.filter(id__in=[])  # other roles see no letters at all
