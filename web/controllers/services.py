"""Entry pages of the two services this portal offers, behind sign-in."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from web.auth import signed_in
from web.services import catalog


class ServicePagesController(Controller):
    @get("/letters", name="letters_service", guards=[signed_in])
    async def letters(self) -> Template:
        return Template("service_entry.html.j2", context={"service": catalog.LETTER_TRACKING})
