"""Demo PKI standing in for the Asan İmza certification authority (simulator side only).

The real portal never issues certificates: it only trusts the operator's CA. This module exists
so the simulator can hand out certificates that look and verify exactly like real ones.

Subject encoding (the one and only place: :func:`build_identity_name` / :func:`parse_identity_name`)
-----------------------------------------------------------------------------------------------------

=====================================  ==================================  =====================
Attribute (OID)                        Value                               Certificates
=====================================  ==================================  =====================
``CN`` commonName (2.5.4.3)            person's full name                  personal and company
``serialNumber`` (2.5.4.5)             FIN, 7 upper-case letters/digits    personal and company
``C`` countryName (2.5.4.6)            ``AZ``                              personal and company
``O`` organizationName (2.5.4.10)      company name                        company only
``organizationIdentifier`` (2.5.4.97)  ``VOEN-`` + 10-digit VÖEN           company only
=====================================  ==================================  =====================

``organizationIdentifier`` follows the ETSI EN 319 412-1 "semantics identifier" style
(3-letter scheme + ``-`` + value), with ``VOEN`` as the national scheme. A certificate that has
``O`` without ``organizationIdentifier`` (or the reverse), or any attribute twice, is rejected by
the parser: a sign-in must never guess which company a certificate speaks for.

Keys and files
--------------
* Root CA: EC P-256, self-signed, BasicConstraints CA=true pathLen=0 (critical), KeyUsage
  keyCertSign + cRLSign (critical), 10 years. Persisted as ``ca_cert.pem`` (0644) and
  ``ca_key.pem`` (0600, PKCS#8 encrypted with a passphrase derived from the application secret
  by HKDF-SHA256, so the key file alone is useless; rotating the app secret makes the old CA
  unloadable — a loud :class:`~.errors.DemoCAError` rather than a silent new CA). Files are
  written atomically (temporary file + ``fsync`` + ``os.replace``) under an exclusive ``flock``
  so several workers starting together end up with one CA.
* Identity certificates: EC P-256, BasicConstraints CA=false (critical), KeyUsage
  digitalSignature only (critical; nonRepudiation is *not* set: a sign-in is authentication, not
  a legally binding signature), ExtendedKeyUsage clientAuth, SKI/AKI.
* Phone keys are stored encrypted under PIN1 (:func:`encrypt_private_key`). A 4–8 digit PIN is
  brute-forced offline in seconds: the encryption only models the SIM's PIN check, the real
  protection is the attempt counter kept by the simulator. Treat stored key PEMs as secrets.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import DemoCAError, MalformedResponse, WrongPin

__all__ = [
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CRL_FILE",
    "DemoCA",
    "IdentitySubject",
    "build_crl",
    "build_identity_name",
    "decrypt_private_key",
    "encrypt_private_key",
    "issue_identity_certificate",
    "parse_identity_name",
]

CA_KEY_FILE = "ca_key.pem"
CA_CERT_FILE = "ca_cert.pem"
CRL_FILE = "crl.pem"
CRL_VALIDITY = timedelta(days=7)
_CRL_RENEW_BEFORE = timedelta(days=1)
_LOCK_FILE = ".ca.lock"
CA_VALIDITY = timedelta(days=3652)
CA_COMMON_NAME = "e-Gömrük Asan İmza DEMO Root CA"
CA_ORGANIZATION = "e-Gömrük demo PKI (not a real certification authority)"
_BACKDATE = timedelta(minutes=5)  # tolerate small clock differences between workers
_PASSPHRASE_SALT = b"e-gomruk/asan-imza/demo-ca"
_PASSPHRASE_INFO = b"ca_key.pem passphrase v1"

COUNTRY = "AZ"
VOEN_SCHEME = "VOEN-"
_FIN_RE = re.compile(r"[0-9A-Z]{7}")
_VOEN_RE = re.compile(r"[0-9]{10}")


# --- subject encoding ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentitySubject:
    """Who a certificate speaks for, decoded from its subject Name."""

    fin: str
    full_name: str
    voen: str | None = None
    company_name: str | None = None


def _check_fin(fin: str) -> str:
    fin = fin.strip().upper()
    if not _FIN_RE.fullmatch(fin):
        raise ValueError("FIN must be 7 Latin letters or digits")
    return fin


def _check_voen(voen: str) -> str:
    voen = voen.strip()
    if not _VOEN_RE.fullmatch(voen):
        raise ValueError("VÖEN must be 10 digits")
    return voen


def build_identity_name(
    *, fin: str, full_name: str, voen: str | None = None, company_name: str | None = None
) -> x509.Name:
    """Encode an identity as a certificate subject (see the module docstring for the mapping).

    ``voen`` and ``company_name`` come together (company certificate) or not at all (personal).
    """
    full_name = full_name.strip()
    if not full_name:
        raise ValueError("full name is required")
    if (voen is None) != (company_name is None):
        raise ValueError("voen and company_name must be given together")
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, COUNTRY),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, _check_fin(fin)),
        x509.NameAttribute(NameOID.COMMON_NAME, full_name),
    ]
    if voen is not None and company_name is not None:
        company_name = company_name.strip()
        if not company_name:
            raise ValueError("company name is required with a VÖEN")
        attributes += [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, company_name),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, VOEN_SCHEME + _check_voen(voen)),
        ]
    return x509.Name(attributes)


def parse_identity_name(name: x509.Name) -> IdentitySubject:
    """Decode a subject built by :func:`build_identity_name`; strict, raises MalformedResponse."""

    def optional(oid: x509.ObjectIdentifier, label: str) -> str | None:
        values = name.get_attributes_for_oid(oid)
        if len(values) > 1:
            raise MalformedResponse(f"certificate subject has {label} more than once")
        if not values:
            return None
        value = values[0].value
        if not isinstance(value, str) or not value.strip():
            raise MalformedResponse(f"certificate subject has an empty {label}")
        return value.strip()

    def required(oid: x509.ObjectIdentifier, label: str) -> str:
        value = optional(oid, label)
        if value is None:
            raise MalformedResponse(f"certificate subject has no {label}")
        return value

    country = required(NameOID.COUNTRY_NAME, "countryName")
    fin = required(NameOID.SERIAL_NUMBER, "serialNumber (FIN)")
    full_name = required(NameOID.COMMON_NAME, "commonName")
    company_name = optional(NameOID.ORGANIZATION_NAME, "organizationName")
    org_id = optional(NameOID.ORGANIZATION_IDENTIFIER, "organizationIdentifier")
    if country != COUNTRY:
        raise MalformedResponse(f"certificate subject country is {country!r}, not {COUNTRY}")
    if not _FIN_RE.fullmatch(fin):
        raise MalformedResponse("certificate subject serialNumber is not a FIN")
    if (company_name is None) != (org_id is None):
        raise MalformedResponse("a company certificate needs both O and organizationIdentifier")
    voen = None
    if org_id is not None:
        voen = org_id.removeprefix(VOEN_SCHEME)
        if not org_id.startswith(VOEN_SCHEME) or not _VOEN_RE.fullmatch(voen):
            raise MalformedResponse("organizationIdentifier is not VOEN-<10 digits>")
    return IdentitySubject(fin=fin, full_name=full_name, voen=voen, company_name=company_name)


# --- private keys under PIN1 ---------------------------------------------------------------


def encrypt_private_key(key: ec.EllipticCurvePrivateKey, pin1: str) -> bytes:
    """PKCS#8 PEM of ``key`` encrypted with PIN1 (``BestAvailableEncryption``)."""
    if not pin1:
        raise ValueError("PIN1 must not be empty")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(pin1.encode("utf-8")),
    )


def decrypt_private_key(pem: bytes, pin1: str) -> ec.EllipticCurvePrivateKey:
    """Unlock a key stored by :func:`encrypt_private_key`; :class:`WrongPin` if PIN1 is wrong."""
    if not pin1:
        raise WrongPin("PIN1 is empty")
    try:
        key = serialization.load_pem_private_key(pem, password=pin1.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise WrongPin() from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("stored key is not an EC private key")
    return key


# --- the demo CA ---------------------------------------------------------------------------


def _ca_passphrase(secret: str) -> bytes:
    """Passphrase of ``ca_key.pem``: HKDF-SHA256(app secret), base64url, 43 characters."""
    if not secret:
        raise ValueError("the application secret is required to protect the CA key")
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_PASSPHRASE_SALT, info=_PASSPHRASE_INFO
    ).derive(secret.encode("utf-8"))
    return base64.urlsafe_b64encode(derived).rstrip(b"=")


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` so readers see either the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Exclusive advisory lock so concurrent workers don't each create a CA."""
    fd = os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _aware(value: datetime, label: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{label} must be timezone-aware")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class DemoCA:
    """A self-signed root CA with its private key (demo only)."""

    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> bytes:
        """The CA certificate as PEM: what the portal is configured to trust."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def generate(
        cls,
        *,
        now: datetime | None = None,
        common_name: str = CA_COMMON_NAME,
        validity: timedelta = CA_VALIDITY,
    ) -> DemoCA:
        """Create a new root CA (not persisted). ``now`` defaults to the current UTC time.

        notBefore is backdated by five minutes so a worker whose clock lags slightly still
        accepts it; notAfter is ``now + validity`` (10 years by default).
        """
        start = _aware(now, "now") if now is not None else datetime.now(UTC)
        start = start.replace(microsecond=0)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, COUNTRY),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANIZATION),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - _BACKDATE)
            .not_valid_after(start + validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(private_key=key, certificate=cert)

    def save(self, directory: Path, secret: str) -> None:
        """Write ``ca_key.pem`` (0600, encrypted) and ``ca_cert.pem`` (0644) atomically."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_ca_passphrase(secret)),
        )
        _atomic_write(directory / CA_KEY_FILE, key_pem, 0o600)
        _atomic_write(directory / CA_CERT_FILE, self.certificate_pem, 0o644)

    @classmethod
    def load(cls, directory: Path, secret: str) -> DemoCA:
        """Read a CA written by :meth:`save`; :class:`DemoCAError` if it is unusable."""
        try:
            key_pem = (directory / CA_KEY_FILE).read_bytes()
            cert_pem = (directory / CA_CERT_FILE).read_bytes()
        except FileNotFoundError as exc:
            raise DemoCAError(f"demo CA file missing: {exc.filename}") from exc
        try:
            key = serialization.load_pem_private_key(key_pem, password=_ca_passphrase(secret))
        except (ValueError, TypeError) as exc:
            raise DemoCAError(
                f"cannot decrypt {directory / CA_KEY_FILE}: was the application secret changed?"
            ) from exc
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
        except ValueError as exc:
            raise DemoCAError(f"{directory / CA_CERT_FILE} is not a PEM certificate") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or cert.public_key() != key.public_key():
            raise DemoCAError("demo CA key and certificate do not belong together")
        return cls(private_key=key, certificate=cert)

    def issue_crl(
        self, revoked_serials: Iterable[int], *, now: datetime, validity: timedelta = CRL_VALIDITY
    ) -> x509.CertificateRevocationList:
        """A CRL signed by this CA listing `revoked_serials`, current from `now` for `validity`."""
        now = _aware(now, "now").replace(microsecond=0)
        return build_crl(
            self,
            sorted(set(revoked_serials)),
            last_update=now - _BACKDATE,
            next_update=now + validity,
        )

    def current_crl(self, directory: Path, *, now: datetime) -> x509.CertificateRevocationList:
        """The CRL published in `directory` (``crl.pem``), re-issued with the same entries when
        it is missing or about to go stale, as a CA re-publishes its CRL on schedule."""
        path = directory / CRL_FILE
        crl = _read_crl(path)
        if (
            crl is not None
            and crl.next_update_utc
            and crl.next_update_utc - now > _CRL_RENEW_BEFORE
        ):
            return crl
        with _directory_lock(directory):
            crl = _read_crl(path)
            serials = [entry.serial_number for entry in crl] if crl is not None else []
            crl = self.issue_crl(serials, now=now)
            _atomic_write(path, crl.public_bytes(serialization.Encoding.PEM), 0o644)
        return crl

    def revoke(self, directory: Path, serial: int, *, now: datetime) -> None:
        """Add `serial` to the CRL published in `directory` (demo: a lost SIM, say)."""
        with _directory_lock(directory):
            crl = _read_crl(directory / CRL_FILE)
            serials = [entry.serial_number for entry in crl] if crl is not None else []
            crl = self.issue_crl([*serials, serial], now=now)
            _atomic_write(directory / CRL_FILE, crl.public_bytes(serialization.Encoding.PEM), 0o644)

    @classmethod
    def load_or_create(
        cls, directory: Path, secret: str, *, common_name: str = CA_COMMON_NAME
    ) -> DemoCA:
        """Load the CA from ``directory``, creating and persisting a new one on first use.

        Safe with several processes: creation happens under an exclusive file lock. If only one
        of the two files exists the directory is left alone and :class:`DemoCAError` is raised —
        a key is never overwritten silently.
        """
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _directory_lock(directory):
            key_exists = (directory / CA_KEY_FILE).exists()
            cert_exists = (directory / CA_CERT_FILE).exists()
            if key_exists and cert_exists:
                return cls.load(directory, secret)
            if key_exists or cert_exists:
                raise DemoCAError(
                    f"{directory} holds only one of {CA_KEY_FILE}/{CA_CERT_FILE}; "
                    "remove it to create a new demo CA"
                )
            ca = cls.generate(common_name=common_name)
            ca.save(directory, secret)
            return ca


def build_crl(
    ca: DemoCA,
    revoked_serials: list[int],
    *,
    last_update: datetime,
    next_update: datetime,
    signer: DemoCA | None = None,
) -> x509.CertificateRevocationList:
    """The CA's CRL listing `revoked_serials` (`signer` signs instead, to test forgeries)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(last_update)
        .next_update(next_update)
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(last_update)
            .build()
        )
    return builder.sign((signer or ca).private_key, hashes.SHA256())


def _read_crl(path: Path) -> x509.CertificateRevocationList | None:
    try:
        return x509.load_pem_x509_crl(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None


def issue_identity_certificate(
    ca: DemoCA,
    *,
    fin: str,
    full_name: str,
    voen: str | None = None,
    company_name: str | None = None,
    valid_from: datetime,
    valid_to: datetime,
    key_usage_digital_signature: bool = True,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """Issue a personal (no ``voen``) or company certificate with a fresh EC P-256 key.

    ``key_usage_digital_signature=False`` exists for tests: the certificate then carries
    keyAgreement instead (KeyUsage must have at least one bit), which a sign-in must refuse.
    """
    valid_from = _aware(valid_from, "valid_from")
    valid_to = _aware(valid_to, "valid_to")
    if valid_to <= valid_from:
        raise ValueError("valid_to must be after valid_from")
    subject = build_identity_name(
        fin=fin, full_name=full_name, voen=voen, company_name=company_name
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=key_usage_digital_signature,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=not key_usage_digital_signature,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
            critical=False,
        )
        .sign(ca.private_key, hashes.SHA256())
    )
    return key, cert
