"""Entry page of the documents service, behind sign-in (letters: web/controllers/letters.py)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from web.auth import citizen_acting_for_party
from web.services import catalog


class ServicePagesController(Controller):
    @get("/documents", name="documents_service", guards=[citizen_acting_for_party])
    async def documents(self) -> Template:
        return Template("service_entry.html.j2", context={"service": catalog.CLEARANCE_DOCUMENTS})
