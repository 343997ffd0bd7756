"""The way in: home → Bütün xidmətlər → Qurumlar → Dövlət Gömrük Komitəsi → a service."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from web.catalog import service as catalog
from web.platform.rendering import render
from web.platform.text_input import clean_text

MAX_QUERY_LENGTH = 100


class CatalogController(Controller):
    @get("/", name="home")
    async def home(self) -> Template:
        return Template(
            "home.html.j2",
            context={"live_services": [catalog.CLEARANCE_DOCUMENTS, catalog.LETTER_TRACKING]},
        )

    @get("/services", name="all_services")
    async def all_services(self) -> Template:
        return Template("services.html.j2", context={"agencies": catalog.AGENCIES})

    @get("/agencies/{agency_slug:str}", name="agency")
    async def agency(
        self, request: Request, agency_slug: FromPath[str], q: FromQuery[str] = ""
    ) -> Template:
        agency = catalog.find_agency(agency_slug)
        if agency is None:
            raise NotFoundException()
        query = clean_text(q, MAX_QUERY_LENGTH)
        return render(
            request,
            "agency.html.j2",
            {
                "agency": agency,
                "query": query,
                "services": catalog.filter_services(agency.services, query),
            },
            fragment="service_results",
        )

    @get("/agencies/{agency_slug:str}/services/{service_slug:str}", name="service_card")
    async def service_card(
        self, agency_slug: FromPath[str], service_slug: FromPath[str]
    ) -> Template:
        agency = catalog.find_agency(agency_slug)
        service = catalog.find_service(agency, service_slug) if agency else None
        if service is None or not service.is_offered:
            raise NotFoundException()
        return Template("service_card.html.j2", context={"agency": agency, "service": service})
