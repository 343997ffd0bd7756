"""Demo Elektron imza certificates: a demo CA and a PKCS#12 file per demo citizen.

`python -m web e-imza-demo` writes them (development only) under DATA_DIR/e-imza-demo/:
``ca.pem`` (the trust bundle for nginx and E_IMZA_CA_FILE), ``crl.pem`` (E_IMZA_CRL_FILES),
``<user>.p12`` (personal), ``<user>-<VÖEN>.p12`` (company), and ``expired.p12`` /
``revoked.p12`` to see the refusals. Import a ``.p12`` into the browser (README) and it offers
the certificate as a signature card would. The CA key stays encrypted under DATA_DIR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from web.devdata.demo_data import CITIZENS
from web.identity.asan_imza.pki import DemoCA, build_crl, issue_identity_certificate
from web.settings import Settings

E_IMZA_CA_NAME = "e-Gömrük Elektron imza DEMO Root CA"
DEMO_P12_PASSWORD = "e-imza-demo"  # noqa: S105 - documented demo passphrase, development only
CRL_VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class DemoCertificates:
    directory: Path
    ca_file: Path
    crl_file: Path
    files: dict[str, Path]  # label -> .p12


def _write_p12(path: Path, label: str, key, certificate: x509.Certificate, ca: DemoCA) -> None:
    data = pkcs12.serialize_key_and_certificates(
        label.encode(),
        key,
        certificate,
        [ca.certificate],
        serialization.BestAvailableEncryption(DEMO_P12_PASSWORD.encode()),
    )
    path.write_bytes(data)
    path.chmod(0o600)


def write_demo_certificates(settings: Settings, directory: Path | None = None) -> DemoCertificates:
    if not settings.is_development:
        raise RuntimeError("demo certificates are for development only")
    ca = DemoCA.load_or_create(
        settings.data_dir / "e-imza-demo-ca", settings.secret_key, common_name=E_IMZA_CA_NAME
    )
    directory = directory or settings.data_dir / "e-imza-demo"
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    valid = {"valid_from": now - timedelta(days=1), "valid_to": now + timedelta(days=365)}
    files: dict[str, Path] = {}

    def issue(label: str, filename: str, **subject) -> x509.Certificate:
        key, certificate = issue_identity_certificate(ca, **subject)
        files[label] = directory / filename
        _write_p12(files[label], label, key, certificate, ca)
        return certificate

    for citizen in CITIZENS:
        person = {"fin": citizen.fin, "full_name": citizen.full_name}
        issue(citizen.username, f"{citizen.username}.p12", **person, **valid)
        for voen, name in citizen.companies:
            issue(
                f"{citizen.username}-{voen}",
                f"{citizen.username}-{voen}.p12",
                **person,
                voen=voen,
                company_name=name,
                **valid,
            )
    someone = {"fin": CITIZENS[-1].fin, "full_name": CITIZENS[-1].full_name}
    issue(
        "expired",
        "expired.p12",
        **someone,
        valid_from=now - timedelta(days=400),
        valid_to=now - timedelta(days=35),
    )
    revoked = issue("revoked", "revoked.p12", **someone, **valid)
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.certificate_pem)
    crl_file = directory / "crl.pem"
    crl = build_crl(
        ca,
        [revoked.serial_number],
        last_update=now - timedelta(minutes=5),
        next_update=now + CRL_VALIDITY,
    )
    crl_file.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return DemoCertificates(directory=directory, ca_file=ca_file, crl_file=crl_file, files=files)
