"""The e-government catalogue as far as this portal needs it: agencies and DGK's services.

DGK's list follows the clearance-documents manual, in its order, plus the letter-tracking
service of the second manual (reached through the same list). Names are English message
ids; the Azerbaijani catalog holds the manuals' exact wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from web.platform.i18n import DEFAULT_LANGUAGE, LazyText, fold_for_search
from web.platform.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class ServiceInfo:
    """The information card of a service this portal offers."""

    what_it_does: LazyText
    who_may_use: LazyText
    what_you_need: LazyText
    what_you_get: LazyText
    legal_basis: LazyText
    how_long: LazyText


@dataclass(frozen=True)
class Service:
    slug: str
    name: LazyText  # lazy translated string
    start_path: str | None = None  # None: not offered by this portal
    info: ServiceInfo | None = None

    @property
    def is_offered(self) -> bool:
        return self.start_path is not None


@dataclass(frozen=True)
class Agency:
    slug: str
    name: LazyText
    services: tuple[Service, ...]


CLEARANCE_DOCUMENTS = Service(
    slug="clearance-documents",
    name=_l("Copies of documents required for customs clearance"),
    start_path="/documents",
    info=ServiceInfo(
        what_it_does=_l(
            "Keeps copies of the documents that customs clearance of your goods needed "
            "(invoices, contracts, transport documents, certificates), so that customs "
            "officers can see them and you meet the legal duty to keep them."
        ),
        who_may_use=_l(
            "Traders and citizens who clear goods through customs, acting for themselves "
            "or for their company."
        ),
        what_you_need=_l(
            "An active means of sign-in (Asan İmza, or the user name and password issued "
            "by the e-government system) and the documents as PDF, JPEG or PNG files."
        ),
        what_you_get=_l(
            "A stored copy of each document with a reference number, a list you can "
            "search by period, and the obligation form you have acknowledged."
        ),
        legal_basis=_l(
            "The Customs Code of the Republic of Azerbaijan: documents of goods that "
            "passed customs clearance are kept for the period the law sets."
        ),
        how_long=_l("At once: a document is stored as soon as you save it."),
    ),
)

LETTER_TRACKING = Service(
    slug="letter-tracking",
    name=_l(
        "Online tracking, by applicants, of the handling of inquiries and letters that "
        "citizens sent to the State Customs Committee"
    ),
    start_path="/letters",
    info=ServiceInfo(
        what_it_does=_l(
            "Shows at any time which customs body and structural unit holds your letter "
            "or appeal, who is handling it, their phone number and the state of handling. "
            "You can also send a new electronic appeal."
        ),
        who_may_use=_l("Anyone who wrote to the State Customs Committee, on paper or online."),
        what_you_need=_l(
            "An active means of sign-in, the customs body you wrote to, and the letter's "
            "registration number and date (for paper letters the Call Centre gives them)."
        ),
        what_you_get=_l(
            "The structural unit, the executor and their phone, the state of handling, "
            "the due date and the letter's history."
        ),
        legal_basis=_l(
            "The Law of the Republic of Azerbaijan on citizens' appeals: every appeal gets "
            "a registration number and date, and the applicant may learn them and the executor."
        ),
        how_long=_l(
            "Tracking answers at once. An appeal is reviewed within 15 working days "
            "(30 when extra checking is needed)."
        ),
    ),
)


def _not_offered(slug: str, name: LazyText) -> Service:
    return Service(slug=slug, name=name)


DGK = Agency(
    slug="dgk",
    name=_l("State Customs Committee"),
    services=(
        _not_offered(
            "customs-declaration-information",
            _l("Obtaining information about the electronic customs declaration"),
        ),
        _not_offered(
            "border-checkpoint-records",
            _l("Provision of information on goods recorded at customs border checkpoints"),
        ),
        _not_offered(
            "electronic-declaration-clearance",
            _l(
                "Acceptance of the electronic customs declaration for the customs clearance "
                "of goods and vehicles, customs clearance and online monitoring of the "
                "clearance process"
            ),
        ),
        _not_offered(
            "passenger-declaration",
            _l(
                "Acceptance of the electronic Passenger Declaration for goods and vehicles "
                "that individuals carry across the customs border of the Republic of "
                "Azerbaijan"
            ),
        ),
        _not_offered(
            "customs-payments",
            _l("Payment of customs charges due for customs operations or a customs procedure"),
        ),
        _not_offered(
            "payer-identification-number",
            _l("Obtaining the identification number of a payer of customs charges"),
        ),
        _not_offered(
            "goods-description-search",
            _l("Search for descriptions of goods by the name of the goods"),
        ),
        _not_offered(
            "nomenclature-and-charges",
            _l(
                "Provision of information on the goods nomenclature and the customs charges "
                "applied to goods and vehicles"
            ),
        ),
        _not_offered(
            "vehicle-import-duties",
            _l("Calculation of customs duties for importing a vehicle"),
        ),
        CLEARANCE_DOCUMENTS,
        _not_offered(
            "foreign-trade-statistics",
            _l(
                "Provision of statistics on the import and export operations of participants "
                "in foreign economic activity"
            ),
        ),
        LETTER_TRACKING,
    ),
)

AGENCIES: tuple[Agency, ...] = (DGK,)


def find_agency(slug: str) -> Agency | None:
    return next((agency for agency in AGENCIES if agency.slug == slug), None)


def find_service(agency: Agency, slug: str) -> Service | None:
    return next((service for service in agency.services if service.slug == slug), None)


def filter_services(services: tuple[Service, ...], query: str) -> list[Service]:
    """Services whose name contains every word of the query.

    The name is searched in the page's language and in Azerbaijani (the names people
    know from DGK's papers); case and Azerbaijani diacritics are ignored, so `gomruk`
    finds `gömrük`.
    """
    words = fold_for_search(query).split()
    if not words:
        return list(services)

    def matches(service: Service) -> bool:
        names = {str(service.name), service.name.in_language(DEFAULT_LANGUAGE)}
        return any(all(word in fold_for_search(name) for word in words) for name in names)

    return [service for service in services if matches(service)]
