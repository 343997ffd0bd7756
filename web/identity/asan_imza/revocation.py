"""Is a certificate revoked? The seam every certificate sign-in uses (Asan İmza here; the
Elektron imza provider reuses it).

`RevocationChecker.status(certificate, issuer, now=…)` answers GOOD, REVOKED or UNKNOWN. The
caller fails closed: UNKNOWN refuses the sign-in just as REVOKED does (`check_path`).

`CrlRevocationChecker` answers from Certificate Revocation Lists (RFC 5280 §5): a CRL counts
only if its issuer is the certificate's issuer, its signature verifies with that issuer's key
and it is current (thisUpdate ≤ now ≤ nextUpdate). The CRLs come from a callable, so the
source can be a file the operator publishes, a cache refreshed from the CRL distribution
point, or the demo CA (`pki.DemoCA.current_crl`). An OCSP checker (RFC 6960; `cryptography`
builds and parses OCSP requests and responses) implements the same protocol.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from cryptography import x509

from .errors import CertificateRevoked, RevocationUnknown

__all__ = [
    "CrlRevocationChecker",
    "RevocationChecker",
    "RevocationStatus",
    "check_path",
]

CLOCK_SKEW = timedelta(minutes=5)


class RevocationStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@runtime_checkable
class RevocationChecker(Protocol):
    def status(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationStatus:
        """The revocation status of `certificate`, issued by `issuer`, at `now` (aware)."""
        ...


class CrlRevocationChecker:
    def __init__(self, crls: Callable[[], Iterable[x509.CertificateRevocationList]]) -> None:
        self._crls = crls

    def status(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationStatus:
        for crl in self._crls():
            if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
                continue
            next_update = crl.next_update_utc
            if next_update is None or now > next_update or now < crl.last_update_utc - CLOCK_SKEW:
                continue  # stale or not yet valid: says nothing about today
            revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            return RevocationStatus.REVOKED if revoked is not None else RevocationStatus.GOOD
        return RevocationStatus.UNKNOWN


def check_path(path: Sequence[x509.Certificate], checker: RevocationChecker, now: datetime) -> None:
    """Every certificate below the trust anchor (end-entity first, the anchor last) must be
    GOOD; raises CertificateRevoked or RevocationUnknown."""
    for certificate, issuer in itertools.pairwise(path):
        status = checker.status(certificate, issuer, now=now)
        name = certificate.subject.rfc4514_string()
        if status is RevocationStatus.REVOKED:
            raise CertificateRevoked(f"{name!r} is revoked")
        if status is not RevocationStatus.GOOD:
            raise RevocationUnknown(f"the revocation status of {name!r} is unknown")
