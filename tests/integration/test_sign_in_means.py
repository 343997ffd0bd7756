"""PORTALA GİRİŞ lists the four means in the manual's order; Elektron imza without its TLS
front; certificate headers from anyone but a trusted proxy; recording a verified person."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from dataclasses import replace
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from litestar.testing import AsyncTestClient

from models.identity import MembershipSource, PartyMembership, Person
from web.app import create_app
from web.devdata.e_imza_demo import write_demo_certificates
from web.identity import accounts
from web.platform.middleware import content_security_policy

pytestmark = pytest.mark.usefixtures("seeded")

MANUAL_ORDER = [
    "Elektron imza ilə daxil olmaq",
    "E-Gov identity ilə daxil olmaq",
    "Asan imza ilə daxil olmaq",
    "Elektron hökumət sistemi tərəfindən vətəndaşa verilmiş istifadəçi adı və şifrə ilə "
    "daxil olmaq",
]


async def test_the_four_means_in_the_manuals_order_each_with_how_to_obtain_it(client):
    page = await client.get("/login")
    labels = re.findall(r'class="means-list__link" href="[^"]+">([^<]+)</a>', page.text)
    assert labels == MANUAL_ORDER
    assert page.text.count("Necə əldə etməli?") == 4


async def test_without_the_tls_front_elektron_imza_says_so_and_offers_the_others(client):
    page = await client.get("/login/e-imza")
    assert page.status_code == 200
    assert "ön serveri lazımdır" in page.text
    assert 'href="/login/password"' in page.text and 'href="/login/asan"' in page.text
    assert 'href="/login/e-imza"' not in page.text.split("<main", 1)[1]  # not offered again


@pytest.fixture
def e_imza_settings(settings, tmp_path):
    demo = write_demo_certificates(replace(settings, data_dir=tmp_path), tmp_path / "demo")
    return replace(
        settings,
        e_imza_ca_file=str(demo.ca_file),
        e_imza_crl_files=(str(demo.crl_file),),
        e_imza_url="https://portal.test:8443/login/e-imza",
        trusted_proxies=("10.0.0.0/8",),
    ), demo


async def test_with_a_front_the_sign_in_link_leads_to_it(e_imza_settings):
    settings, _ = e_imza_settings
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/login/e-imza", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "https://portal.test:8443/login/e-imza"


def _demo_pem(demo, name: str) -> str:
    _, cert, _ = pkcs12.load_key_and_certificates(demo.files[name].read_bytes(), b"e-imza-demo")
    return quote(cert.public_bytes(serialization.Encoding.PEM).decode())


@asynccontextmanager
async def _from_peer(settings, peer: str):
    """The app with its whole middleware chain, as reached over TCP from `peer`."""
    app = create_app(settings)
    async with AsyncTestClient(app=app):  # lifespan
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
            yield client


@pytest.mark.parametrize(
    ("peer", "signed_in"),
    [("10.1.2.3", True), ("203.0.113.9", False)],  # the trusted proxy; anyone else
)
async def test_certificate_headers_count_only_from_the_trusted_proxy(
    e_imza_settings, peer, signed_in
):
    settings, demo = e_imza_settings
    headers = {
        "X-SSL-Client-Cert": _demo_pem(demo, "vetendas2"),
        "X-SSL-Client-Verify": "SUCCESS",
        # The proxy names the browser: the client address changes, the peer does not.
        "X-Forwarded-For": "198.51.100.7",
    }
    async with _from_peer(settings, peer) as client:
        response = await client.get("/login/e-imza", headers=headers)
        assert (response.status_code == 303) is signed_in, response.text[:300]
        documents = await client.get("/documents")
        assert (documents.status_code == 200) is signed_in


def test_the_policy_lets_the_logout_form_reach_the_identity_provider(settings):
    assert "form-action 'self';" in content_security_policy(settings)
    egov = replace(settings, egov_issuer_url="https://id.egov.test/realm")
    assert "form-action 'self' https://id.egov.test;" in content_security_policy(egov)


async def test_a_verified_person_keeps_the_companies_from_the_registry(db):
    person = await accounts.record_verified_person("5ABCD12", "Aysel Məmmədova")
    names = [p.name for p in await accounts.parties_of(person)]
    assert names == ["Aysel Məmmədova", "Xəzər Logistika MMC"]  # the seed's grant stays


async def test_a_company_certificate_adds_its_company(db):
    person = await accounts.record_verified_person(
        "7XYZW34", "Rəşad Əliyev", company=("9876543210", "Abşeron Ticarət MMC")
    )
    membership = await PartyMembership.get(person_id=person.id, party__identifier="9876543210")
    assert membership.source is MembershipSource.E_IMZA_CERTIFICATE
    # An Asan İmza sign-in that shows no company does not take this one away.
    await accounts.record_asan_identity("7XYZW34", "Rəşad Əliyev", None, None, [])
    assert await PartyMembership.exists(person_id=person.id, party__identifier="9876543210")
    assert (await Person.get(fin="7XYZW34")).full_name == "Rəşad Əliyev"
    await membership.delete()
