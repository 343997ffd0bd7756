"""Is a certificate revoked? The seam shared by Asan İmza and Elektron imza sign-ins.

`RevocationChecker` is the interface; an OCSP client or a CRL fetcher implements it.
`CrlRevocationChecker` is the one shipped here: it reads CRLs (PEM or DER files), accepts a CRL
only when its issuer's signature verifies and it is current (``thisUpdate`` ≤ now ≤
``nextUpdate``), and answers ``UNKNOWN`` when it has no usable CRL for the issuer: callers
refuse the sign-in then (fail closed), because "cannot tell" must never mean "good".

(Defined minimally here for Elektron imza; the sessions/revocation work may grow it.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from cryptography import x509


class RevocationStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class RevocationChecker(Protocol):
    async def status(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationStatus:
        """Whether `certificate` (issued by `issuer`) is revoked at `now`."""
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


class CrlRevocationChecker:
    def __init__(self, crls: Iterable[x509.CertificateRevocationList]) -> None:
        self._crls = list(crls)

    async def status(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationStatus:
        for crl in self._crls:
            if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
                continue
            next_update = crl.next_update_utc
            if now < crl.last_update_utc or next_update is None or now > next_update:
                continue  # not current: as good as none
            revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            return RevocationStatus.GOOD if revoked is None else RevocationStatus.REVOKED
        return RevocationStatus.UNKNOWN
