"""Elektron imza: the portal's own check of the certificate the TLS front passed on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from web.devdata.e_imza_demo import build_crl
from web.identity.asan_imza.pki import DemoCA, issue_identity_certificate
from web.identity.asan_imza.revocation import CrlRevocationChecker, RevocationStatus
from web.identity.e_imza import (
    CertificateRefused,
    EImzaService,
    FrontHeaders,
    Refusal,
    verify_front_certificate,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
VALID = {"valid_from": NOW - timedelta(days=10), "valid_to": NOW + timedelta(days=300)}
PERSON = {"fin": "7XYZW34", "full_name": "Rəşad Əliyev"}


@pytest.fixture(scope="module")
def ca() -> DemoCA:
    return DemoCA.generate(now=NOW - timedelta(days=30), common_name="Test e-imza CA")


def _crl(ca: DemoCA, revoked: list[int], *, next_update: datetime | None = None, signer=None):
    return build_crl(
        ca,
        revoked,
        last_update=NOW - timedelta(days=1),
        next_update=next_update or NOW + timedelta(days=7),
        signer=signer,
    )


def _service(ca: DemoCA, crls) -> EImzaService:
    return EImzaService(
        trust_anchors=[ca.certificate],
        revocation=CrlRevocationChecker(crls),
        url="https://portal.test:8443/login/e-imza",
        trusted_proxies=("127.0.0.1/32",),
    )


def _front(certificate: x509.Certificate | None, verify: str = "SUCCESS") -> FrontHeaders:
    if certificate is None:
        return FrontHeaders(certificate="", verify="NONE")
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return FrontHeaders(certificate=quote(pem), verify=verify)  # as $ssl_client_escaped_cert


async def _verify(ca, certificate, *, crls=None, verify="SUCCESS", now=NOW):
    service = _service(ca, [_crl(ca, [])] if crls is None else crls)
    return await verify_front_certificate(_front(certificate, verify), service, now=now)


async def test_a_personal_certificate_names_the_person(ca):
    _, cert = issue_identity_certificate(ca, **PERSON, **VALID)
    subject = await _verify(ca, cert)
    assert (subject.fin, subject.full_name, subject.voen) == ("7XYZW34", "Rəşad Əliyev", None)


async def test_a_company_certificate_names_the_company_too(ca):
    _, cert = issue_identity_certificate(
        ca, **PERSON, voen="1234567891", company_name="Xəzər Logistika MMC", **VALID
    )
    subject = await _verify(ca, cert)
    assert (subject.voen, subject.company_name) == ("1234567891", "Xəzər Logistika MMC")


async def _refusal(ca, cert, **kwargs) -> Refusal:
    with pytest.raises(CertificateRefused) as caught:
        await _verify(ca, cert, **kwargs)
    return caught.value.refusal


async def test_no_certificate(ca):
    assert await _refusal(ca, None) is Refusal.NO_CERTIFICATE


async def test_expired_and_not_yet_valid(ca):
    _, cert = issue_identity_certificate(ca, **PERSON, **VALID)
    assert await _refusal(ca, cert, now=NOW + timedelta(days=301)) is Refusal.EXPIRED
    assert await _refusal(ca, cert, now=NOW - timedelta(days=11)) is Refusal.NOT_YET_VALID


async def test_another_ca_is_not_trusted_even_under_the_same_name(ca):
    impostor = DemoCA.generate(now=NOW - timedelta(days=30), common_name="Test e-imza CA")
    _, cert = issue_identity_certificate(impostor, **PERSON, **VALID)
    assert await _refusal(ca, cert) is Refusal.UNTRUSTED


async def test_a_certificate_without_digital_signature_usage(ca):
    _, cert = issue_identity_certificate(ca, **PERSON, **VALID, key_usage_digital_signature=False)
    assert await _refusal(ca, cert) is Refusal.WRONG_USAGE


async def test_revoked_and_unknown_revocation(ca):
    _, cert = issue_identity_certificate(ca, **PERSON, **VALID)
    assert await _refusal(ca, cert, crls=[_crl(ca, [cert.serial_number])]) is Refusal.REVOKED
    # No CRL, a stale one, or one signed by someone else: "cannot tell" is never "good".
    assert await _refusal(ca, cert, crls=[]) is Refusal.REVOCATION_UNKNOWN
    stale = _crl(ca, [], next_update=NOW - timedelta(hours=1))
    assert await _refusal(ca, cert, crls=[stale]) is Refusal.REVOCATION_UNKNOWN
    other = DemoCA.generate(now=NOW - timedelta(days=30), common_name="Test e-imza CA")
    forged = _crl(ca, [], signer=other)
    assert await _refusal(ca, cert, crls=[forged]) is Refusal.REVOCATION_UNKNOWN


async def test_the_fronts_own_refusal_is_kept(ca):
    _, cert = issue_identity_certificate(ca, **PERSON, **VALID)
    refusal = await _refusal(ca, cert, verify="FAILED:certificate revoked")
    assert refusal is Refusal.UNTRUSTED


async def test_garbage_in_the_header(ca):
    service = _service(ca, [])
    with pytest.raises(CertificateRefused) as caught:
        await verify_front_certificate(
            FrontHeaders(certificate="not%20a%20certificate", verify="SUCCESS"), service, now=NOW
        )
    assert caught.value.refusal is Refusal.MALFORMED


async def test_crl_checker_answers_good_for_a_listed_issuer(ca):
    _, cert = issue_identity_certificate(ca, **PERSON, **VALID)
    checker = CrlRevocationChecker([_crl(ca, [12345])])
    assert await checker.status(cert, ca.certificate, now=NOW) is RevocationStatus.GOOD
