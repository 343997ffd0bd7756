"""Entry pages of the two services this portal offers (sign-in and content come next)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from web.services import catalog


class ServicePagesController(Controller):
    @get("/documents", name="documents_service")
    async def documents(self) -> Template:
        return Template(
            "service_entry.html.j2", context={"service": catalog.CLEARANCE_DOCUMENTS}
        )

    @get("/letters", name="letters_service")
    async def letters(self) -> Template:
        return Template("service_entry.html.j2", context={"service": catalog.LETTER_TRACKING})
