"""Home → Bütün xidmətlər → Qurumlar → Dövlət Gömrük Komitəsi → a service."""

from __future__ import annotations

import re

EXPECTED_AZ_SERVICE_NAMES = [
    "Elektron Gömrük Bəyannaməsi haqqında məlumatların əldə edilməsi",
    "Mallar haqqında gömrük sərhəd buraxılış məntəqələrində qeydə alınan məlumatların verilməsi",
    "Malların və nəqliyyat vasitələrinin gömrük rəsmiləşdirilməsi üzrə elektron gömrük "
    "bəyannaməsinin qəbulu, gömrük rəsmiləşdirilməsi və rəsmiləşdirilmə prosesinin onlayn "
    "monitorinqi",
    "Fiziki şəxslər tərəfindən Azərbaycan Respublikasının gömrük sərhədindən keçirilən malların "
    "və nəqliyyat vasitələrinin bəyan edilməsi üzrə elektron Sərnişin Bəyannaməsinin qəbulu",
    "Gömrük əməliyyatları və ya gömrük proseduru ilə bağlı ödəniləcək gömrük ödənişlərinin "
    "həyata keçirilməsi",
    "Gömrük ödənişlərinin ödəyicisinin eyniləşdirmə nömrəsinin alınması",
    "Malın adına görə malların təsvirin axtarışı",
    "Malların nomenklaturası və mal və nəqliyyat vasitələrinə tətbiq olunan müvafiq gömrük "
    "ödənişləri barədə məlumatların verilməsi",
    "Nəqliyyatın idxalı üçün gömrük rüsumlarının hesablanması",
    "Rəsmiləşdirilmə üçün tələb olunan sənədlərin surətləri",
    "Xarici iqtisadi fəaliyyət iştirakçılarının həyata keçirdikləri idxal-ixrac əməliyyatları "
    "barədə statistik məlumatların verilməsi",
    "Vətəndaşlardan Dövlət Gömrük Komitəsinə daxil olan sorğu və məktubların icrasının müraciət "
    "edənlər tərəfindən onlayn izlənməsi",
]


def _service_names(html: str) -> list[str]:
    names = re.findall(r'class="service-list__name"[^>]*>([^<]+)<', html)
    return [" ".join(name.split()) for name in names]


async def test_home_links_to_all_services(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="az">' in response.text
    assert 'href="/services"' in response.text
    assert 'id="main-content"' in response.text
    assert 'role="status"' in response.text


async def test_all_services_lists_agencies_with_dgk(client):
    response = await client.get("/services")
    assert response.status_code == 200
    assert "Qurumlar" in response.text
    assert 'href="/agencies/dgk"' in response.text
    assert "Dövlət Gömrük Komitəsi" in response.text


async def test_dgk_lists_twelve_services_in_the_manuals_order_with_exact_names(client):
    response = await client.get("/agencies/dgk")
    assert response.status_code == 200
    assert _service_names(response.text) == EXPECTED_AZ_SERVICE_NAMES


async def test_only_the_two_live_services_are_links(client):
    html = (await client.get("/agencies/dgk")).text
    links = re.findall(r'<a class="service-list__name" href="([^"]+)"', html)
    assert links == [
        "/agencies/dgk/services/clearance-documents",
        "/agencies/dgk/services/letter-tracking",
    ]
    assert html.count("service-list__item--elsewhere") == 10


async def test_filter_ignores_case_and_azerbaijani_diacritics(client):
    response = await client.get("/agencies/dgk", params={"q": "SENED"})
    assert _service_names(response.text) == [
        "Rəsmiləşdirilmə üçün tələb olunan sənədlərin surətləri"
    ]
    response = await client.get("/agencies/dgk", params={"q": "gomruk odenis"})
    names = _service_names(response.text)
    assert len(names) == 3
    assert all("gömrük ödəniş" in name.lower() for name in names)


async def test_filter_without_match_says_so(client):
    response = await client.get("/agencies/dgk", params={"q": "zzzz"})
    assert response.status_code == 200
    assert _service_names(response.text) == []
    assert 'href="/agencies/dgk"' in response.text


async def test_htmx_filter_returns_only_the_results_fragment(client):
    response = await client.get(
        "/agencies/dgk", params={"q": "məktub"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    title, _, fragment = response.text.lstrip().partition("\n")
    assert title.startswith("<title>") and title.endswith(" – e-Gömrük</title>")
    assert fragment.lstrip().startswith('<section id="service-results"')
    assert "data-announce=" in response.text
    assert len(_service_names(response.text)) == 1


async def test_history_restore_gets_the_full_page(client):
    response = await client.get(
        "/agencies/dgk",
        params={"q": "sened"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.text


async def test_live_services_have_information_cards(client):
    for slug, start in (("clearance-documents", "/documents"), ("letter-tracking", "/letters")):
        response = await client.get(f"/agencies/dgk/services/{slug}")
        assert response.status_code == 200
        assert f'href="{start}"' in response.text
        assert response.text.count("summary-list__row") >= 5


async def test_services_not_offered_here_have_no_card(client):
    assert (await client.get("/agencies/dgk/services/customs-payments")).status_code == 404
    assert (await client.get("/agencies/dgk/services/nope")).status_code == 404
    assert (await client.get("/agencies/unknown")).status_code == 404


async def test_language_switch_sets_cookie_and_returns_to_the_page(client):
    response = await client.get(
        "/language/en", params={"next": "/agencies/dgk?q=x"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/agencies/dgk?q=x"
    assert "lang=en" in response.headers["set-cookie"]
    client.cookies.set("lang", "en")
    page = await client.get("/agencies/dgk")
    assert '<html lang="en">' in page.text
    assert "State Customs Committee" in page.text
    client.cookies.set("lang", "ru")
    page = await client.get("/agencies/dgk")
    assert '<html lang="ru">' in page.text
    assert "Государственный таможенный комитет" in page.text


async def test_language_switch_refuses_foreign_next(client):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        response = await client.get("/language/ru", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"


async def test_unknown_language_falls_back_to_azerbaijani(client):
    client.cookies.set("lang", "de")
    page = await client.get("/")
    assert '<html lang="az">' in page.text
