"""The revocation seam (issue 11, point 12): a CRL from the demo CA refuses a revoked
certificate; a CRL that is stale or from another CA says nothing, and nothing is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from web.identity.asan_imza import (
    CertificateRevoked,
    CrlRevocationChecker,
    RevocationChecker,
    RevocationStatus,
    RevocationUnknown,
    SignedCertificate,
    challenge_hash,
    check_sign_in_revocation,
    new_challenge,
    verify_signed_response,
)
from web.identity.asan_imza.pki import DemoCA, issue_identity_certificate

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def ca() -> DemoCA:
    return DemoCA.generate(now=NOW - timedelta(days=1))


def _signed(ca: DemoCA, fin: str = "5ABC12D"):
    key, cert = issue_identity_certificate(
        ca,
        fin=fin,
        full_name="Əli Vəliyev",
        valid_from=NOW - timedelta(days=1),
        valid_to=NOW + timedelta(days=30),
    )
    digest = challenge_hash(new_challenge())
    signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    return cert, digest, signature


async def _verify(ca: DemoCA, cert, digest, signature, checker, now=NOW):
    chain = [cert.public_bytes(serialization.Encoding.PEM)]
    identity = verify_signed_response(
        challenge_hash=digest,
        signature=signature,
        certificate_chain_pem=chain,
        trusted_ca_pem=ca.certificate_pem,
        now=now,
    )
    await check_sign_in_revocation(
        signatures=[SignedCertificate(certificate_chain_pem=chain, signature=signature)],
        trusted_ca_pem=ca.certificate_pem,
        revocation=checker,
        now=now,
    )
    return identity


async def test_a_revoked_certificate_is_refused_and_others_pass(ca):
    revoked, digest, signature = _signed(ca)
    good, good_digest, good_signature = _signed(ca, fin="7XYZW34")
    crl = ca.issue_crl([revoked.serial_number], now=NOW)
    checker = CrlRevocationChecker(lambda: [crl])
    assert isinstance(checker, RevocationChecker)  # the generic seam
    assert await checker.status(revoked, ca.certificate, now=NOW) is RevocationStatus.REVOKED
    assert await checker.status(good, ca.certificate, now=NOW) is RevocationStatus.GOOD
    with pytest.raises(CertificateRevoked):
        await _verify(ca, revoked, digest, signature, checker)
    assert (await _verify(ca, good, good_digest, good_signature, checker)).fin == "7XYZW34"
    assert await CrlRevocationChecker([crl]).status(revoked, ca.certificate, now=NOW) == "revoked"


async def test_no_current_crl_from_the_issuer_fails_closed(ca):
    cert, digest, signature = _signed(ca)
    other_ca = DemoCA.generate(now=NOW - timedelta(days=1))
    stale = ca.issue_crl([], now=NOW - timedelta(days=30), validity=timedelta(days=7))
    foreign = other_ca.issue_crl([], now=NOW)
    for crls in ([], [stale], [foreign]):
        checker = CrlRevocationChecker(lambda crls=crls: crls)
        assert await checker.status(cert, ca.certificate, now=NOW) is RevocationStatus.UNKNOWN
        with pytest.raises(RevocationUnknown):
            await _verify(ca, cert, digest, signature, checker)


def test_the_demo_ca_publishes_revocations_in_its_directory(ca, tmp_path):
    cert, _, _ = _signed(ca)
    first = ca.current_crl(tmp_path, now=NOW)
    assert list(first) == []
    assert ca.current_crl(tmp_path, now=NOW).next_update_utc == first.next_update_utc  # kept
    ca.revoke(tmp_path, cert.serial_number, now=NOW)
    later = NOW + timedelta(days=6, hours=12)  # close to nextUpdate: re-issued, entries kept
    renewed = ca.current_crl(tmp_path, now=later)
    assert renewed.next_update_utc > first.next_update_utc
    assert renewed.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    assert renewed.is_signature_valid(ca.certificate.public_key())
