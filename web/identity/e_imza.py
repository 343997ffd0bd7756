"""Elektron imza: sign-in with the certificate on a signature card or token (TLS client auth).

The browser presents the card's certificate in the TLS handshake, the way it does through the
operating system. The TLS front (nginx, ``deploy/nginx/``) asks for a client certificate on the
Elektron imza server only, checks it against the national CA bundle and hands the request to
the portal with two headers: the certificate (``$ssl_client_escaped_cert``) and nginx's verdict
(``$ssl_client_verify``). The portal believes those headers only from ``TRUSTED_PROXIES`` peers,
and verifies again itself, in this order (the first failure is the message the person sees):

1. a certificate was presented at all;
2. validity dates (expired / not yet valid);
3. the chain up to a CA of ``E_IMZA_CA_FILE`` (cryptography's X.509 path validation, with
   extended key usage clientAuth, as for any TLS client);
4. key usage digitalSignature, not a CA;
5. revocation through the shared `RevocationChecker` (CRLs from ``E_IMZA_CRL_FILE``);
   no answer counts as a refusal;
6. the subject names a FIN (and, on a company certificate, a VÖEN): the same subject encoding
   as Asan İmza (`asan_imza.pki.parse_identity_name`);
7. nginx's own verdict was ``SUCCESS`` too (the portal's checks come first for their messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote

import structlog
from cryptography import x509
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from litestar.connection import ASGIConnection

from web.identity.asan_imza.errors import MalformedResponse
from web.identity.asan_imza.pki import IdentitySubject, parse_identity_name
from web.identity.asan_imza.revocation import (
    CrlRevocationChecker,
    RevocationChecker,
    RevocationStatus,
    load_crls,
)
from web.platform.middleware import peer_is_trusted_proxy
from web.settings import Settings

log = structlog.get_logger(__name__)

CERT_HEADER = "x-ssl-client-cert"
VERIFY_HEADER = "x-ssl-client-verify"
MAX_CERT_HEADER_LENGTH = 16 * 1024


class Refusal(StrEnum):
    """Why a certificate signed nobody in (each has its own message)."""

    NO_CERTIFICATE = "no_certificate"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNTRUSTED = "untrusted"
    WRONG_USAGE = "wrong_usage"
    REVOKED = "revoked"
    REVOCATION_UNKNOWN = "revocation_unknown"
    MALFORMED = "malformed"


class CertificateRefused(Exception):
    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(f"{refusal}: {detail}" if detail else str(refusal))
        self.refusal = refusal


@dataclass(frozen=True)
class FrontHeaders:
    """What the TLS front said about the client's certificate."""

    certificate: str  # URL-escaped PEM, or "" when none was presented
    verify: str  # SUCCESS, NONE or FAILED:<reason>


@dataclass
class EImzaService:
    trust_anchors: list[x509.Certificate]
    revocation: RevocationChecker
    url: str  # where the TLS front serves /login/e-imza ("" when there is none)
    trusted_proxies: tuple[str, ...]


def build_e_imza_service(settings: Settings) -> EImzaService | None:
    if not settings.e_imza_ca_file:
        return None
    anchors = x509.load_pem_x509_certificates(Path(settings.e_imza_ca_file).read_bytes())
    crl_files = [Path(p) for p in settings.e_imza_crl_files]
    return EImzaService(
        trust_anchors=anchors,
        revocation=CrlRevocationChecker(load_crls(crl_files)),
        url=settings.e_imza_url,
        trusted_proxies=settings.trusted_proxies,
    )


def front_headers(connection: ASGIConnection, service: EImzaService | None) -> FrontHeaders | None:
    """The TLS front's headers, or None when this request did not come through it."""
    verify = connection.headers.get(VERIFY_HEADER)
    if verify is None or service is None:
        return None
    if not peer_is_trusted_proxy(connection, service.trusted_proxies):
        log.warning(
            "e_imza_header_from_untrusted_peer", peer=getattr(connection.client, "host", None)
        )
        return None
    return FrontHeaders(certificate=connection.headers.get(CERT_HEADER, ""), verify=verify)


def _client_verifier(anchors: list[x509.Certificate], now: datetime):
    # Personal certificates name a person in the subject and need no subjectAltName.
    end_entity = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    return (
        PolicyBuilder()
        .store(Store(anchors))
        .time(now)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=end_entity)
        .build_client_verifier()
    )


def _load(front: FrontHeaders) -> x509.Certificate:
    if not front.certificate or front.verify == "NONE":
        raise CertificateRefused(Refusal.NO_CERTIFICATE)
    if len(front.certificate) > MAX_CERT_HEADER_LENGTH:
        raise CertificateRefused(Refusal.MALFORMED, "certificate header too long")
    try:
        return x509.load_pem_x509_certificate(unquote(front.certificate).encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise CertificateRefused(Refusal.MALFORMED, "not a PEM certificate") from exc


def _check_usage(certificate: x509.Certificate) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound as exc:
        raise CertificateRefused(Refusal.WRONG_USAGE, "KeyUsage or BasicConstraints") from exc
    if constraints.ca or not usage.digital_signature:
        raise CertificateRefused(Refusal.WRONG_USAGE, "not a digitalSignature end-entity")


async def verify_front_certificate(
    front: FrontHeaders, service: EImzaService, *, now: datetime
) -> IdentitySubject:
    """Whom the certificate the front passed on identifies; raises `CertificateRefused`."""
    certificate = _load(front)
    if now < certificate.not_valid_before_utc:
        raise CertificateRefused(Refusal.NOT_YET_VALID)
    if now > certificate.not_valid_after_utc:
        raise CertificateRefused(Refusal.EXPIRED)
    try:
        chain = _client_verifier(service.trust_anchors, now).verify(certificate, []).chain
    except VerificationError as exc:
        raise CertificateRefused(Refusal.UNTRUSTED, str(exc)) from exc
    _check_usage(certificate)
    status = await service.revocation.status(certificate, chain[1], now=now)
    if status is RevocationStatus.REVOKED:
        raise CertificateRefused(Refusal.REVOKED)
    if status is not RevocationStatus.GOOD:
        raise CertificateRefused(Refusal.REVOCATION_UNKNOWN)
    try:
        subject = parse_identity_name(certificate.subject)
    except MalformedResponse as exc:
        raise CertificateRefused(Refusal.MALFORMED, str(exc)) from exc
    if front.verify != "SUCCESS":  # the front refused what we would accept: still no
        raise CertificateRefused(Refusal.UNTRUSTED, f"front: {front.verify}")
    return subject
