"""Is a certificate revoked? The seam shared by Asan İmza and Elektron imza sign-ins.

`RevocationChecker.status(certificate, issuer, now=…)` answers GOOD, REVOKED or UNKNOWN; an
OCSP client (RFC 6960; `cryptography` builds and parses OCSP requests and responses) or a CRL
fetcher implements it. Callers fail closed: UNKNOWN refuses the sign-in just as REVOKED does,
because "cannot tell" must never mean "good" (`check_path`).

`CrlRevocationChecker` is the one shipped here (RFC 5280 §5): it accepts a CRL only when its
issuer is the certificate's issuer, the issuer's signature verifies and it is current
(thisUpdate ≤ now ≤ nextUpdate). Its CRLs are a fixed list (files, `load_crls`) or a callable
asked on every check (a cache refreshed from the distribution point, or the Asan İmza demo
CA's `pki.DemoCA.current_crl`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography import x509

from .errors import CertificateRevoked, RevocationUnknown

__all__ = [
    "CrlRevocationChecker",
    "RevocationChecker",
    "RevocationStatus",
    "check_path",
    "load_crls",
]

CLOCK_SKEW = timedelta(minutes=5)  # a CRL issued "just now" on a clock slightly ahead


class RevocationStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@runtime_checkable
class RevocationChecker(Protocol):
    async def status(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationStatus:
        """Whether `certificate` (issued by `issuer`) is revoked at `now` (aware)."""
        ...


def load_crls(paths: Iterable[Path]) -> list[x509.CertificateRevocationList]:
    crls = []
    for path in paths:
        data = path.read_bytes()
        if b"-----BEGIN X509 CRL-----" in data:
            crls.append(x509.load_pem_x509_crl(data))
        else:
            crls.append(x509.load_der_x509_crl(data))
    return crls


CrlSource = Iterable[x509.CertificateRevocationList]


class CrlRevocationChecker:
    def __init__(self, crls: CrlSource | Callable[[], CrlSource]) -> None:
        self._source = crls if callable(crls) else (lambda fixed=list(crls): fixed)

    async def status(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationStatus:
        for crl in self._source():
            if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
                continue
            next_update = crl.next_update_utc
            if now < crl.last_update_utc - CLOCK_SKEW or next_update is None or now > next_update:
                continue  # not current: as good as none
            revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            return RevocationStatus.GOOD if revoked is None else RevocationStatus.REVOKED
        return RevocationStatus.UNKNOWN


async def check_path(
    path: Sequence[x509.Certificate], checker: RevocationChecker, now: datetime
) -> None:
    """Every certificate below the trust anchor (end-entity first, the anchor last) must be
    GOOD; raises CertificateRevoked or RevocationUnknown."""
    for certificate, issuer in itertools.pairwise(path):
        status = await checker.status(certificate, issuer, now=now)
        name = certificate.subject.rfc4514_string()
        if status is RevocationStatus.REVOKED:
            raise CertificateRevoked(f"{name!r} is revoked")
        if status is not RevocationStatus.GOOD:
            raise RevocationUnknown(f"the revocation status of {name!r} is unknown")
