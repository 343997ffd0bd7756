"""Settings read once from the environment (see the README's table).

Every knob lives here so there is one place to look. `get_settings()` is cached;
tests set the environment first and call `get_settings.cache_clear()`.
"""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT = "development"
PRODUCTION = "production"
_MIN_SECRET_LENGTH = 32
# An estimate, not a proof: a random 32-character hex key scores about 115 bits, a
# generated token_urlsafe(48) about 350, 32 identical characters 0.
_MIN_SECRET_ENTROPY_BITS = 96


class SettingsError(RuntimeError):
    """The environment does not describe a safe, working installation."""


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_seconds(name: str, default: float) -> float:
    raw = _env(name)
    try:
        value = float(raw) if raw else default
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not value > 0:
        raise SettingsError(f"{name} must be more than 0 seconds")
    return value


def _env_networks(name: str) -> tuple[str, ...]:
    """A comma-separated list of IP addresses and CIDR networks (e.g. `10.0.0.0/8, ::1`)."""
    entries = tuple(item.strip() for item in _env(name).split(",") if item.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise SettingsError(f"{name}: {entry!r} is not an IP address or network") from exc
    return entries


def _development_secret(data_dir: Path) -> str:
    """Generate the development secret once and keep it, so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


@dataclass(frozen=True)
class Settings:
    env: str
    data_dir: Path
    secret_key: str
    database_url: str
    redis_url: str
    max_body_bytes: int
    rate_limit_per_minute: int
    sign_in_rate_limit_per_minute: int
    log_level: str
    asan_gateway: str
    asan_simulator_ttl_seconds: int = 120  # how long a simulated request waits for the phone
    session_idle_seconds: int = 30 * 60  # signed out after this long without a request
    letter_due_working_days: int = 15
    letter_extension_max_working_days: int = 30
    letter_lookup_rate_limit_per_minute: int = 20
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "e-Gömrük <no-reply@e-gomruk.local>"
    smtp_security: str = "starttls"
    mail_domain: str = "e-gomruk.local"
    notification_interval_seconds: int = 30
    document_retention_years: int = 5
    upload_max_file_bytes: int = 10 * 1000 * 1000
    upload_max_files: int = 10
    upload_max_document_bytes: int = 50 * 1000 * 1000
    party_quota_bytes: int = 2 * 1000 * 1000 * 1000
    workers: int = 1
    # What the operator should hear at start (`serve` logs them): settings that work but
    # are probably not what was meant.
    startup_warnings: tuple[str, ...] = ()
    # E-Gov identity (OpenID Connect); off while EGOV_ISSUER_URL is empty (docs/sign-in.md).
    egov_issuer_url: str = ""
    egov_client_id: str = ""
    egov_client_secret: str = ""
    egov_scopes: str = "openid profile"
    egov_fin_claim: str = "fin"
    egov_name_claim: str = "name"
    # Elektron imza (TLS client certificates through the nginx front, deploy/nginx/).
    e_imza_ca_file: str = ""
    e_imza_crl_files: tuple[str, ...] = ()
    e_imza_url: str = ""
    staff_totp_required: bool = False
    trusted_proxies: tuple[str, ...] = ()
    body_idle_timeout_seconds: float = 60.0
    appeals_per_day: int = 10
    default_language: str = "az"
    languages: tuple[str, ...] = field(default=("az", "en", "ru"))
    shutdown_grace_seconds: int = 30
    storage_min_free_bytes: int = 500 * 1000 * 1000

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @property
    def is_development(self) -> bool:
        """Only an explicit ENV=development: demo accounts, the Asan İmza simulator."""
        return self.env == DEVELOPMENT

    @property
    def upload_dir(self) -> Path:
        """Uploaded files: under DATA_DIR, never under a directory the server serves."""
        return self.data_dir / "uploads"

    @property
    def egov_enabled(self) -> bool:
        return bool(self.egov_issuer_url)

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _domain_of(address: str) -> str:
    """The domain of an address like `Name <user@domain>` (for Message-IDs)."""
    return parseaddr(address)[1].rpartition("@")[2] or "e-gomruk.local"


def secret_entropy_bits(secret: str) -> float:
    """Shannon estimate of a secret's entropy: bits per character (from how often each
    character occurs in it) times its length. Repeated or few characters score low."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * len(secret)


def _check_deployment(
    env: str, secret_key: str, database_url: str, redis_url: str, workers: int
) -> tuple[int, list[str]]:
    """Refuse what cannot work (or is unsafe) with several workers and in production.

    Returns the number of workers to run and the warnings for the operator.
    """
    warnings: list[str] = []
    if workers < 1:
        raise SettingsError(f"WEB_CONCURRENCY must be at least 1, got {workers}")
    if env == PRODUCTION:
        if secret_entropy_bits(secret_key) < _MIN_SECRET_ENTROPY_BITS:
            raise SettingsError(
                "SECRET_KEY looks guessable (too few different characters); generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        if workers > 1 and not redis_url:
            raise SettingsError(
                "WEB_CONCURRENCY > 1 needs REDIS_URL: sessions and rate limits would live in "
                "each worker's memory, and signed-in users would be sent to sign in again"
            )
        if workers > 1 and database_url.startswith("sqlite"):
            raise SettingsError(
                "WEB_CONCURRENCY > 1 needs PostgreSQL (DATABASE_URL): SQLite takes one writer"
            )
    elif workers > 1 and not redis_url:
        warnings.append(
            f"WEB_CONCURRENCY={workers} without REDIS_URL: running ONE worker, because "
            "sessions and rate limits would not be shared between workers"
        )
        workers = 1
    if not _env("ENV"):
        warnings.append(
            "ENV is not set: running as production (no demo data, no simulator); set "
            "ENV=production to say so, or ENV=development on a development machine"
        )
    return workers, warnings


def data_dir_from_environment() -> Path:
    """DATA_DIR, without loading the rest (a restore puts the secret key there first)."""
    return Path(_env("DATA_DIR", str(PROJECT_ROOT / "var"))).resolve()


def load_settings() -> Settings:
    # Unset means production: demo accounts and the simulator need ENV=development said out
    # loud, so a server started without it can never come up with them.
    env = _env("ENV", PRODUCTION).lower()
    if env not in (DEVELOPMENT, PRODUCTION):
        raise SettingsError(f"ENV must be {DEVELOPMENT!r} or {PRODUCTION!r}, got {env!r}")
    data_dir = data_dir_from_environment()

    secret_key = _env("SECRET_KEY")
    if env == PRODUCTION:
        if len(secret_key) < _MIN_SECRET_LENGTH:
            raise SettingsError(
                f"SECRET_KEY must be set to at least {_MIN_SECRET_LENGTH} random characters "
                "in production"
            )
    elif not secret_key:
        secret_key = _development_secret(data_dir)

    database_url = _env("DATABASE_URL")
    if not database_url:
        if env == PRODUCTION:
            raise SettingsError("DATABASE_URL must be set in production")
        database_url = f"sqlite://{data_dir / 'egomruk.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")

    asan_gateway = _env("ASAN_GATEWAY", "disabled" if env == PRODUCTION else "simulator").lower()
    if asan_gateway not in ("simulator", "disabled"):
        raise SettingsError("ASAN_GATEWAY must be 'simulator' or 'disabled'")
    if env == PRODUCTION and asan_gateway == "simulator":
        raise SettingsError("the Asan İmza simulator is for development only (ASAN_GATEWAY)")

    smtp_security = _env("SMTP_SECURITY", "starttls").lower()
    if smtp_security not in ("starttls", "tls", "none"):
        raise SettingsError("SMTP_SECURITY must be 'starttls', 'tls' or 'none'")
    smtp_host = _env("SMTP_HOST")
    smtp_from = _env("SMTP_FROM", "e-Gömrük <no-reply@e-gomruk.local>")
    if env == PRODUCTION and smtp_host and smtp_security == "none":
        raise SettingsError("SMTP_SECURITY=none is for development only")

    redis_url = _env("REDIS_URL")
    workers, startup_warnings = _check_deployment(
        env, secret_key, database_url, redis_url, _env_int("WEB_CONCURRENCY", 1)
    )
    egov_issuer_url = _env("EGOV_ISSUER_URL").rstrip("/")
    if egov_issuer_url:
        if not (_env("EGOV_CLIENT_ID") and _env("EGOV_CLIENT_SECRET")):
            raise SettingsError(
                "EGOV_CLIENT_ID and EGOV_CLIENT_SECRET are needed with EGOV_ISSUER_URL"
            )
        if env == PRODUCTION and not egov_issuer_url.startswith("https://"):
            raise SettingsError("EGOV_ISSUER_URL must be https:// in production")
    egov_scopes = _env("EGOV_SCOPES", "openid profile")
    if egov_issuer_url and "openid" not in egov_scopes.split():
        raise SettingsError("EGOV_SCOPES must include openid")
    e_imza_ca_file = _env("E_IMZA_CA_FILE")
    e_imza_crl_files = tuple(p.strip() for p in _env("E_IMZA_CRL_FILES").split(",") if p.strip())
    for path in (e_imza_ca_file, *e_imza_crl_files):
        if path and not Path(path).is_file():
            raise SettingsError(f"E_IMZA_CA_FILE / E_IMZA_CRL_FILES: {path!r} is not a file")

    return Settings(
        env=env,
        data_dir=data_dir,
        secret_key=secret_key,
        database_url=database_url,
        redis_url=redis_url,
        max_body_bytes=_env_int("MAX_BODY_BYTES", 1024 * 1024),
        rate_limit_per_minute=_env_int("RATE_LIMIT_PER_MINUTE", 600),
        sign_in_rate_limit_per_minute=_env_int("SIGN_IN_RATE_LIMIT_PER_MINUTE", 20),
        log_level=_env("LOG_LEVEL", "INFO").upper(),
        asan_gateway=asan_gateway,
        asan_simulator_ttl_seconds=_env_int("ASAN_SIMULATOR_TTL_SECONDS", 120),
        session_idle_seconds=_env_int("SESSION_IDLE_SECONDS", 30 * 60),
        letter_due_working_days=_env_int("LETTER_DUE_WORKING_DAYS", 15),
        letter_extension_max_working_days=_env_int("LETTER_EXTENSION_MAX_WORKING_DAYS", 30),
        letter_lookup_rate_limit_per_minute=_env_int("LETTER_LOOKUP_RATE_LIMIT_PER_MINUTE", 20),
        smtp_host=smtp_host,
        smtp_port=_env_int("SMTP_PORT", 465 if smtp_security == "tls" else 587),
        smtp_username=_env("SMTP_USERNAME"),
        smtp_password=_env("SMTP_PASSWORD"),
        smtp_from=smtp_from,
        mail_domain=_env("MAIL_DOMAIN") or _domain_of(smtp_from),
        smtp_security=smtp_security,
        notification_interval_seconds=_env_int("NOTIFICATION_INTERVAL_SECONDS", 30),
        document_retention_years=_env_int("DOCUMENT_RETENTION_YEARS", 5),
        upload_max_file_bytes=_env_int("UPLOAD_MAX_FILE_BYTES", 10 * 1000 * 1000),
        upload_max_files=_env_int("UPLOAD_MAX_FILES", 10),
        upload_max_document_bytes=_env_int("UPLOAD_MAX_DOCUMENT_BYTES", 50 * 1000 * 1000),
        party_quota_bytes=_env_int("PARTY_QUOTA_BYTES", 2 * 1000 * 1000 * 1000),
        workers=workers,
        startup_warnings=tuple(startup_warnings),
        egov_issuer_url=egov_issuer_url,
        egov_client_id=_env("EGOV_CLIENT_ID"),
        egov_client_secret=_env("EGOV_CLIENT_SECRET"),
        egov_scopes=egov_scopes,
        egov_fin_claim=_env("EGOV_FIN_CLAIM", "fin"),
        egov_name_claim=_env("EGOV_NAME_CLAIM", "name"),
        e_imza_ca_file=e_imza_ca_file,
        e_imza_crl_files=e_imza_crl_files,
        e_imza_url=_env("E_IMZA_URL"),
        # Staff sign in with TOTP in production (their accounts are the ones worth guessing).
        staff_totp_required=_env("STAFF_TOTP_REQUIRED", "1" if env == PRODUCTION else "0")
        in ("1", "true", "yes"),
        trusted_proxies=_env_networks("TRUSTED_PROXIES"),
        body_idle_timeout_seconds=_env_seconds("BODY_IDLE_TIMEOUT_SECONDS", 60.0),
        appeals_per_day=_env_int("APPEALS_PER_DAY", 10),
        shutdown_grace_seconds=_env_int("SHUTDOWN_GRACE_SECONDS", 30),
        storage_min_free_bytes=_env_int("STORAGE_MIN_FREE_BYTES", 500 * 1000 * 1000),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
