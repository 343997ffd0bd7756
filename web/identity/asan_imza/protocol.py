"""Portal side of the Asan İmza sign-in: challenge, verification code, response verification.

Everything here is pure and synchronous except the :class:`ReplayGuard` interface. None of it
depends on the simulator: the same code runs against the real operator.

Challenge and verification code
-------------------------------
The portal draws 32 random bytes (:func:`new_challenge`), keeps them server-side and sends the
operator only ``SHA-256(challenge)`` (:func:`challenge_hash`). Portal and phone both show::

    code = ((h[-2] << 8) | h[-1]) % 10000      # h = the 32-byte hash; zero-padded to 4 digits

i.e. the last two bytes of the hash read as a big-endian 16-bit integer, modulo 10 000 — the
Mobile-ID style. The code is never transmitted: the user compares the two screens, which binds
the phone prompt to this browser session. (65 536 is not a multiple of 10 000, so codes
0000–5535 are very slightly more likely; the code is a visual match, not a secret.)

What the signature means
------------------------
The SIM receives only the hash, so it signs it as a *prehashed* SHA-256 digest: the signature is
a standard ECDSA-SHA256 signature of the original challenge, DER-encoded. It is verified with
``ECDSA(Prehashed(SHA256()))`` over the hash.

Verification order (:func:`verify_signed_response`)
----------------------------------------------------
1. Parse: the chain is PEM, end-entity first, ≤ 5 certificates, optionally ending with a copy of
   the trusted CA (:class:`MalformedResponse` otherwise).
2. Chain: each certificate's issuer name equals the next one's subject and its signature
   verifies with the next one's key (``verify_directly_issued_by``); every issuer is a CA
   (BasicConstraints CA=true, keyCertSign, path length respected); the last certificate is
   directly issued by the trusted CA. A chain ending at any other root →
   :class:`UntrustedCertificate`.
3. Validity: every certificate of the path, the trusted CA included, must satisfy
   notBefore ≤ now ≤ notAfter (:class:`CertificateNotYetValid` / :class:`CertificateExpired`).
4. End-entity usage: KeyUsage present with digitalSignature; BasicConstraints absent (RFC 5280:
   not a CA) or CA=false (:class:`WrongKeyUsage`). ExtendedKeyUsage is not checked.
5. Signature over the challenge hash with the end-entity EC key (:class:`BadSignature`).
6. Subject decoded with :func:`.pki.parse_identity_name` (:class:`MalformedResponse`).

Revocation (:func:`check_sign_in_revocation`, async because an OCSP check is a network call):
every certificate of each path below the trusted CA must be GOOD for the given
:class:`.revocation.RevocationChecker`; REVOKED → :class:`CertificateRevoked`, UNKNOWN (no current
CRL, no OCSP answer) → :class:`RevocationUnknown` (fail closed). The portal runs it after
:func:`verify_sign_in` (`web.identity.asan_signin`); the demo CA publishes a CRL.

Replay
------
A transaction id must be accepted once. The web layer calls ``await guard.consume(tx_id)`` after
a successful verification and refuses the sign-in when it returns False.
:class:`MemoryReplayGuard` is per-process; with several workers use a shared implementation
(e.g. an INSERT into a table with a unique key on the id).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .errors import (
    BadSignature,
    CertificateExpired,
    CertificateNotYetValid,
    IdentityMismatch,
    MalformedResponse,
    UntrustedCertificate,
    WrongKeyUsage,
)
from .gateway import SignedCertificate
from .pki import parse_identity_name
from .revocation import RevocationChecker, check_path

__all__ = [
    "CHALLENGE_BYTES",
    "MAX_CHAIN_LENGTH",
    "ReplayGuard",
    "VerifiedIdentity",
    "VerifiedSignIn",
    "challenge_hash",
    "check_sign_in_revocation",
    "new_challenge",
    "verification_code",
    "verify_sign_in",
    "verify_signed_response",
]

CHALLENGE_BYTES = 32
HASH_BYTES = 32
MAX_CHAIN_LENGTH = 5


# --- challenge and code --------------------------------------------------------------------


def new_challenge() -> bytes:
    """32 bytes from the OS CSPRNG; keep them server-side (session), never send them out."""
    return secrets.token_bytes(CHALLENGE_BYTES)


def challenge_hash(challenge: bytes) -> bytes:
    """SHA-256 of the challenge: the only thing sent to the operator."""
    if not isinstance(challenge, bytes | bytearray) or len(challenge) < 16:
        raise ValueError("challenge must be at least 16 random bytes")
    return hashlib.sha256(challenge).digest()


def _check_hash(value: bytes) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_BYTES:
        raise ValueError("challenge hash must be 32 bytes (SHA-256)")
    return bytes(value)


def verification_code(challenge_hash: bytes) -> str:
    """The 4-digit code shown on both screens: ``((h[-2] << 8) | h[-1]) % 10000``, zero-padded."""
    h = _check_hash(challenge_hash)
    return f"{((h[-2] << 8) | h[-1]) % 10000:04d}"


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Who signed, taken from a certificate that passed every check.

    ``certificate_serial`` is lower-case hex (serials can exceed 64 bits);
    ``certificate_fingerprint_sha256`` is lower-case hex of SHA-256 over the DER certificate.
    """

    fin: str
    full_name: str
    voen: str | None
    company_name: str | None
    certificate_serial: str
    certificate_fingerprint_sha256: str
    not_after: datetime

    @property
    def is_company(self) -> bool:
        """True for a company (VÖEN) certificate, False for the personal one."""
        return self.voen is not None


@dataclass(frozen=True, slots=True)
class VerifiedSignIn:
    """All certificates of one SIGNED response, checked to belong to one person."""

    person: VerifiedIdentity
    companies: list[VerifiedIdentity]


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _load_chain(certificate_chain_pem: Sequence[bytes]) -> list[x509.Certificate]:
    if not certificate_chain_pem:
        raise MalformedResponse("empty certificate chain")
    if len(certificate_chain_pem) > MAX_CHAIN_LENGTH:
        raise MalformedResponse("certificate chain too long")
    chain = []
    for position, pem in enumerate(certificate_chain_pem):
        try:
            chain.append(x509.load_pem_x509_certificate(pem))
        except (ValueError, TypeError) as exc:
            raise MalformedResponse(f"certificate #{position} is not a PEM certificate") from exc
    return chain


def _is_ca(cert: x509.Certificate) -> tuple[bool, int | None]:
    """(may issue certificates, pathLenConstraint) from BasicConstraints and KeyUsage."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False, None
    if not constraints.ca:
        return False, None
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True, constraints.path_length
    return usage.key_cert_sign, constraints.path_length


def _check_issued(child: x509.Certificate, issuer: x509.Certificate, *, below: int) -> None:
    """``child`` is directly issued by ``issuer``, which is a CA allowed ``below`` sub-CAs."""
    if child.issuer != issuer.subject:
        raise UntrustedCertificate(
            f"issuer {child.issuer.rfc4514_string()!r} is not {issuer.subject.rfc4514_string()!r}"
        )
    may_issue, path_length = _is_ca(issuer)
    if not may_issue:
        raise UntrustedCertificate(f"{issuer.subject.rfc4514_string()!r} is not a CA")
    if path_length is not None and below > path_length:
        raise UntrustedCertificate("path length constraint exceeded")
    try:
        child.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise UntrustedCertificate(
            f"signature of {child.subject.rfc4514_string()!r} does not verify with its issuer"
        ) from exc


def _build_path(chain: list[x509.Certificate], trusted: x509.Certificate) -> list[x509.Certificate]:
    """End-entity … trusted CA, each link checked; raises UntrustedCertificate."""
    if len(chain) > 1 and chain[-1] == trusted:
        chain = chain[:-1]  # the response may carry the root too; we use our own copy
    if chain[-1] != trusted and chain[-1].issuer == chain[-1].subject:
        raise UntrustedCertificate("the certificate chain ends at an untrusted root")
    path = [*chain, trusted]
    for index in range(len(path) - 1):
        # path[index + 1] issues path[index]; sub-CAs below the issuer: index (leaf excluded)
        _check_issued(path[index], path[index + 1], below=index)
    return path


def _check_validity(path: list[x509.Certificate], now: datetime) -> None:
    for cert in path:
        name = cert.subject.rfc4514_string()
        if now < cert.not_valid_before_utc:
            raise CertificateNotYetValid(
                f"{name!r} is valid from {cert.not_valid_before_utc.isoformat()}"
            )
        if now > cert.not_valid_after_utc:
            raise CertificateExpired(f"{name!r} expired at {cert.not_valid_after_utc.isoformat()}")


def _check_end_entity_usage(cert: x509.Certificate) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and constraints.ca:
        raise WrongKeyUsage("the signing certificate is a CA certificate")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise WrongKeyUsage("the signing certificate has no KeyUsage extension") from exc
    if not usage.digital_signature:
        raise WrongKeyUsage("the signing certificate lacks the digitalSignature key usage")


def _check_signature(cert: x509.Certificate, signature: bytes, digest: bytes) -> None:
    public_key = cert.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise BadSignature("the signing certificate does not hold an EC key")
    try:
        public_key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError) as exc:
        raise BadSignature("the signature does not match the challenge") from exc


def verify_signed_response(
    *,
    challenge_hash: bytes,
    signature: bytes,
    certificate_chain_pem: Sequence[bytes],
    trusted_ca_pem: bytes,
    now: datetime,
) -> VerifiedIdentity:
    """Check one signed certificate from a SIGNED status and say whom it identifies.

    ``challenge_hash`` is the hash the *portal* computed from the challenge in its own session —
    never one echoed back by the operator. Raises a subclass of ``AsanVerificationError``
    (see the module docstring for the order); ``ValueError`` for caller mistakes (naive ``now``,
    hash of the wrong length, unparsable trusted CA).
    """
    digest = _check_hash(challenge_hash)
    now = _aware(now)
    try:
        trusted = x509.load_pem_x509_certificate(trusted_ca_pem)
    except (ValueError, TypeError) as exc:
        raise ValueError("trusted_ca_pem is not a PEM certificate") from exc
    chain = _load_chain(certificate_chain_pem)

    path = _build_path(chain, trusted)
    _check_validity(path, now)
    end_entity = path[0]
    _check_end_entity_usage(end_entity)
    _check_signature(end_entity, signature, digest)
    subject = parse_identity_name(end_entity.subject)

    return VerifiedIdentity(
        fin=subject.fin,
        full_name=subject.full_name,
        voen=subject.voen,
        company_name=subject.company_name,
        certificate_serial=format(end_entity.serial_number, "x"),
        certificate_fingerprint_sha256=end_entity.fingerprint(hashes.SHA256()).hex(),
        not_after=end_entity.not_valid_after_utc,
    )


def verify_sign_in(
    *,
    challenge_hash: bytes,
    signatures: Sequence[SignedCertificate],
    trusted_ca_pem: bytes,
    now: datetime,
) -> VerifiedSignIn:
    """Verify every certificate of a SIGNED status and group them by role.

    All must pass :func:`verify_signed_response`, all must carry the same FIN, and at least one
    must be personal (no VÖEN) — otherwise :class:`IdentityMismatch`. If several personal
    certificates are present (renewal overlap) the one valid longest is the ``person``; company
    certificates are de-duplicated by VÖEN the same way, in first-seen order.
    """
    verified = [
        verify_signed_response(
            challenge_hash=challenge_hash,
            signature=item.signature,
            certificate_chain_pem=item.certificate_chain_pem,
            trusted_ca_pem=trusted_ca_pem,
            now=now,
        )
        for item in signatures
    ]
    if len({identity.fin for identity in verified}) > 1:
        raise IdentityMismatch("the certificates name different people")
    personal = [identity for identity in verified if not identity.is_company]
    if not personal:
        raise IdentityMismatch("no personal certificate in the response")
    companies: dict[str, VerifiedIdentity] = {}
    for identity in verified:
        if identity.voen is None:
            continue
        known = companies.get(identity.voen)
        if known is None or identity.not_after > known.not_after:
            companies[identity.voen] = identity
    return VerifiedSignIn(
        person=max(personal, key=lambda identity: identity.not_after),
        companies=list(companies.values()),
    )


async def check_sign_in_revocation(
    *,
    signatures: Sequence[SignedCertificate],
    trusted_ca_pem: bytes,
    revocation: RevocationChecker,
    now: datetime,
) -> None:
    """After :func:`verify_sign_in`: no certificate of any chain may be revoked (or unknown)."""
    trusted = x509.load_pem_x509_certificate(trusted_ca_pem)
    for item in signatures:
        path = _build_path(_load_chain(item.certificate_chain_pem), trusted)
        await check_path(path, revocation, _aware(now))


# --- replay --------------------------------------------------------------------------------


@runtime_checkable
class ReplayGuard(Protocol):
    """Remembers consumed transaction ids so a SIGNED result signs in only once."""

    async def consume(self, transaction_id: str) -> bool:
        """True the first time an id is consumed, False every time after (atomically)."""
        ...
