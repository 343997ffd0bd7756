from web.catalog import service as catalog
from web.platform.safety import safe_next_path


def test_dgk_has_twelve_services_two_offered_here():
    assert len(catalog.DGK.services) == 12
    offered = [service.slug for service in catalog.DGK.services if service.is_offered]
    assert offered == ["clearance-documents", "letter-tracking"]
    assert all(service.info for service in catalog.DGK.services if service.is_offered)


def test_filter_matches_every_word_in_any_order():
    found = catalog.filter_services(catalog.DGK.services, "surət sənəd")
    assert [service.slug for service in found] == ["clearance-documents"]
    assert catalog.filter_services(catalog.DGK.services, "   ") == list(catalog.DGK.services)


def test_filter_searches_azerbaijani_names_from_any_language():
    from web.platform import i18n

    token = i18n.set_language("en")
    try:
        found = catalog.filter_services(catalog.DGK.services, "mektub")
    finally:
        i18n.reset_language(token)
    assert [service.slug for service in found] == ["letter-tracking"]


def test_safe_next_path():
    assert safe_next_path("/documents?x=1") == "/documents?x=1"
    for bad in ("https://e.x/", "//e.x", "/\\e.x", "javascript:alert(1)", "", None, "/\x00"):
        assert safe_next_path(bad) == "/"
