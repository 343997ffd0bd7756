"""Settings read once from the environment (see the README's table).

Every knob lives here, in `Settings`, grouped by concern: one line each, naming its
environment variable and its default. `load_settings` reads them all and refuses unsafe
combinations. `get_settings()` is cached; tests set the environment first and call
`get_settings.cache_clear()`.
"""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

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


def _check_networks(name: str, entries: tuple[str, ...]) -> None:
    """IP addresses and CIDR networks (e.g. `10.0.0.0/8, ::1`)."""
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise SettingsError(f"{name}: {entry!r} is not an IP address or network") from exc


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


def setting(env_name: str, default: Any, parse: Callable[[str], Any] | None = None) -> Any:
    """A setting read from the environment variable `env_name`; `default` (stated here and
    nowhere else) when it is unset or empty. `parse` turns the text into the value; without
    it the default's type decides (whole number, seconds, path, comma-separated list, text)."""
    return field(default=default, metadata={"env": env_name, "parse": parse})


@dataclass(frozen=True)
class Settings:
    """Every setting, grouped by concern. A new setting is one line in its group (plus a check
    in `load_settings` when a value can be unsafe, and a row in the README's table)."""

    # --- the installation -----------------------------------------------------------------
    env: str = setting("ENV", PRODUCTION, str.lower)  # unset is production, never the demo
    data_dir: Path = setting("DATA_DIR", PROJECT_ROOT / "var")  # noqa: RUF009 - a field()
    secret_key: str = setting("SECRET_KEY", "")  # development: made once under DATA_DIR
    database_url: str = setting("DATABASE_URL", "")  # development: SQLite under DATA_DIR
    # A statement running longer is stopped and its request answers 503 (both databases).
    database_query_timeout_seconds: float = setting("DATABASE_QUERY_TIMEOUT_SECONDS", 60.0)
    redis_url: str = setting("REDIS_URL", "")  # several workers share limits and sessions
    log_level: str = setting("LOG_LEVEL", "INFO", str.upper)

    # --- serving (`python -m web serve`) -----------------------------------------------------
    host: str = setting("HOST", "127.0.0.1")
    port: int = setting("PORT", 8000)
    workers: int = setting("WEB_CONCURRENCY", 1)  # worker processes (1 without REDIS_URL)
    shutdown_grace_seconds: int = setting("SHUTDOWN_GRACE_SECONDS", 30)
    trusted_proxies: tuple[str, ...] = setting("TRUSTED_PROXIES", ())
    max_body_bytes: int = setting("MAX_BODY_BYTES", 1024 * 1024)
    body_idle_timeout_seconds: float = setting("BODY_IDLE_TIMEOUT_SECONDS", 60.0)
    rate_limit_per_minute: int = setting("RATE_LIMIT_PER_MINUTE", 600)
    sign_in_rate_limit_per_minute: int = setting("SIGN_IN_RATE_LIMIT_PER_MINUTE", 20)

    # --- sign-in means (docs/sign-in.md) ---------------------------------------------------
    # Asan İmza: "simulator" or "disabled"; unset is the simulator in development only.
    asan_gateway: str = setting("ASAN_GATEWAY", "", str.lower)
    # How long a simulated request waits for the phone.
    asan_simulator_ttl_seconds: int = setting("ASAN_SIMULATOR_TTL_SECONDS", 120)
    session_idle_seconds: int = setting("SESSION_IDLE_SECONDS", 30 * 60)  # signed out after
    # The warning dialog opens this long before the idle sign-out (and says so).
    session_warning_seconds: int = setting("SESSION_WARNING_SECONDS", 2 * 60)
    # Staff sign in with TOTP; unset: required in production (their accounts are the ones
    # worth guessing), not in development.
    staff_totp_required: str = setting("STAFF_TOTP_REQUIRED", "", str.lower)
    # E-Gov identity (OpenID Connect); off while EGOV_ISSUER_URL is empty.
    egov_issuer_url: str = setting("EGOV_ISSUER_URL", "", lambda raw: raw.rstrip("/"))
    egov_client_id: str = setting("EGOV_CLIENT_ID", "")
    egov_client_secret: str = setting("EGOV_CLIENT_SECRET", "")
    egov_scopes: str = setting("EGOV_SCOPES", "openid profile")
    egov_fin_claim: str = setting("EGOV_FIN_CLAIM", "fin")
    egov_name_claim: str = setting("EGOV_NAME_CLAIM", "name")
    # Elektron imza (TLS client certificates through the nginx front, deploy/nginx/).
    e_imza_ca_file: str = setting("E_IMZA_CA_FILE", "")
    e_imza_crl_files: tuple[str, ...] = setting("E_IMZA_CRL_FILES", ())
    e_imza_url: str = setting("E_IMZA_URL", "")

    # --- documents -------------------------------------------------------------------------
    document_retention_years: int = setting("DOCUMENT_RETENTION_YEARS", 5)

    # --- uploads and file storage ------------------------------------------------------------
    upload_max_file_bytes: int = setting("UPLOAD_MAX_FILE_BYTES", 10 * 1000 * 1000)
    upload_max_files: int = setting("UPLOAD_MAX_FILES", 10)
    upload_max_document_bytes: int = setting("UPLOAD_MAX_DOCUMENT_BYTES", 50 * 1000 * 1000)
    party_quota_bytes: int = setting("PARTY_QUOTA_BYTES", 2 * 1000 * 1000 * 1000)
    storage_min_free_bytes: int = setting("STORAGE_MIN_FREE_BYTES", 500 * 1000 * 1000)
    # Object storage (S3 API) instead of the local disk: STORAGE_URL=s3://bucket/prefix
    # (docs/deploy.md); unset: files under DATA_DIR.
    storage_url: str = setting("STORAGE_URL", "", lambda raw: _storage_url(raw))
    s3_endpoint_url: str = setting("S3_ENDPOINT_URL", "", lambda raw: raw.rstrip("/"))
    s3_region: str = setting("S3_REGION", "")
    s3_access_key_id: str = setting("S3_ACCESS_KEY_ID", "")
    s3_secret_access_key: str = setting("S3_SECRET_ACCESS_KEY", "")

    # --- several instances (docs/deploy.md) --------------------------------------------------
    # The Asan İmza demo CA, shared by every instance; unset: DATA_DIR/asan-demo-ca.
    asan_demo_ca_path: str = setting("ASAN_DEMO_CA_DIR", "")
    # Web processes run the outbox worker's jobs: auto = only on SQLite (web/worker.py).
    run_worker_in_web: str = setting("RUN_WORKER_IN_WEB", "auto", lambda raw: _run_worker(raw))

    # --- letters and appeals -----------------------------------------------------------------
    letter_due_working_days: int = setting("LETTER_DUE_WORKING_DAYS", 15)
    letter_extension_max_working_days: int = setting("LETTER_EXTENSION_MAX_WORKING_DAYS", 30)
    letter_lookup_rate_limit_per_minute: int = setting("LETTER_LOOKUP_RATE_LIMIT_PER_MINUTE", 20)
    appeals_per_day: int = setting("APPEALS_PER_DAY", 10)  # per citizen

    # --- e-mail of notices (off while SMTP_HOST is empty) --------------------------------------
    smtp_host: str = setting("SMTP_HOST", "")
    smtp_security: str = setting("SMTP_SECURITY", "starttls", str.lower)  # starttls, tls, none
    smtp_port: int = setting("SMTP_PORT", 0)  # 0: 465 with SMTP_SECURITY=tls, else 587
    smtp_username: str = setting("SMTP_USERNAME", "")
    smtp_password: str = setting("SMTP_PASSWORD", "")
    smtp_from: str = setting("SMTP_FROM", "e-Gömrük <no-reply@e-gomruk.local>")
    mail_domain: str = setting("MAIL_DOMAIN", "")  # of the Message-IDs; unset: SMTP_FROM's
    notification_interval_seconds: int = setting("NOTIFICATION_INTERVAL_SECONDS", 30)

    # --- not from the environment ---------------------------------------------------------
    default_language: str = "az"
    languages: tuple[str, ...] = ("az", "en", "ru")
    # What the operator should hear at start (`serve` logs them): settings that work but
    # are probably not what was meant.
    startup_warnings: tuple[str, ...] = ()

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @property
    def is_development(self) -> bool:
        """Only an explicit ENV=development: demo accounts, the Asan İmza simulator."""
        return self.env == DEVELOPMENT

    @property
    def asan_demo_ca_dir(self) -> Path:
        return (
            Path(self.asan_demo_ca_path)
            if self.asan_demo_ca_path
            else (self.data_dir / "asan-demo-ca")
        )

    @property
    def session_warning_lead_seconds(self) -> int:
        """How long before the idle sign-out the warning opens: SESSION_WARNING_SECONDS, but
        never longer than the idle time itself (the dialog then opens at once)."""
        return max(1, min(self.session_warning_seconds, self.session_idle_seconds))

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


def _parse(item: Field, raw: str) -> Any:
    name, parse = item.metadata["env"], item.metadata["parse"]
    if parse is not None:
        return parse(raw)
    if isinstance(item.default, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(item.default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc
    if isinstance(item.default, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if isinstance(item.default, Path):
        return Path(raw).resolve()
    if isinstance(item.default, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def _storage_url(url: str) -> str:
    """`s3://bucket[/prefix]` (an empty STORAGE_URL is the local disk)."""
    bucket = url.removeprefix("s3://").split("/", 1)[0]
    if not url.startswith("s3://") or not bucket:
        raise SettingsError(f"STORAGE_URL must be empty or s3://bucket/prefix, got {url!r}")
    return url.rstrip("/")


def _run_worker(value: str) -> str:
    if value.lower() not in ("auto", "true", "false"):
        raise SettingsError("RUN_WORKER_IN_WEB must be 'auto', 'true' or 'false'")
    return value.lower()


def _from_environment() -> dict[str, Any]:
    """Each setting that has an environment variable, from it when set, else its default."""
    values: dict[str, Any] = {}
    for item in fields(Settings):
        if "env" in item.metadata:
            raw = _env(item.metadata["env"])
            values[item.name] = _parse(item, raw) if raw else item.default
    return values


def data_dir_from_environment() -> Path:
    """DATA_DIR, without loading the rest (a restore puts the secret key there first)."""
    item = next(item for item in fields(Settings) if item.name == "data_dir")
    raw = _env(item.metadata["env"])
    return (_parse(item, raw) if raw else item.default).resolve()


def load_settings() -> Settings:
    """The settings from the environment, refused (`SettingsError`) when they do not describe a
    safe, working installation; defaults that depend on ENV are filled in here."""
    values = _from_environment()
    env = values["env"]
    if env not in (DEVELOPMENT, PRODUCTION):
        raise SettingsError(f"ENV must be {DEVELOPMENT!r} or {PRODUCTION!r}, got {env!r}")
    values["data_dir"] = data_dir = values["data_dir"].resolve()

    if env == PRODUCTION:
        if len(values["secret_key"]) < _MIN_SECRET_LENGTH:
            raise SettingsError(
                f"SECRET_KEY must be set to at least {_MIN_SECRET_LENGTH} random characters "
                "in production"
            )
    elif not values["secret_key"]:
        values["secret_key"] = _development_secret(data_dir)

    database_url = values["database_url"]
    if not database_url:
        if env == PRODUCTION:
            raise SettingsError("DATABASE_URL must be set in production")
        database_url = f"sqlite://{data_dir / 'egomruk.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    values["database_url"] = database_url

    values["staff_totp_required"] = (
        values["staff_totp_required"] or ("1" if env == PRODUCTION else "0")
    ) in ("1", "true", "yes")
    if not values["asan_gateway"]:
        values["asan_gateway"] = "disabled" if env == PRODUCTION else "simulator"
    if values["asan_gateway"] not in ("simulator", "disabled"):
        raise SettingsError("ASAN_GATEWAY must be 'simulator' or 'disabled'")
    if env == PRODUCTION and values["asan_gateway"] == "simulator":
        raise SettingsError("the Asan İmza simulator is for development only (ASAN_GATEWAY)")

    smtp_security = values["smtp_security"]
    if smtp_security not in ("starttls", "tls", "none"):
        raise SettingsError("SMTP_SECURITY must be 'starttls', 'tls' or 'none'")
    if env == PRODUCTION and values["smtp_host"] and smtp_security == "none":
        raise SettingsError("SMTP_SECURITY=none is for development only")
    if not values["smtp_port"]:
        values["smtp_port"] = 465 if smtp_security == "tls" else 587
    values["mail_domain"] = values["mail_domain"] or _domain_of(values["smtp_from"])
    values["workers"], startup_warnings = _check_deployment(
        env, values["secret_key"], database_url, values["redis_url"], values["workers"]
    )
    values["startup_warnings"] = tuple(startup_warnings)

    _check_networks("TRUSTED_PROXIES", values["trusted_proxies"])
    if not values["database_query_timeout_seconds"] > 0:
        raise SettingsError("DATABASE_QUERY_TIMEOUT_SECONDS must be more than 0 seconds")
    if not values["body_idle_timeout_seconds"] > 0:
        raise SettingsError("BODY_IDLE_TIMEOUT_SECONDS must be more than 0 seconds")
    egov_issuer_url = values["egov_issuer_url"]
    if egov_issuer_url:
        if not (values["egov_client_id"] and values["egov_client_secret"]):
            raise SettingsError(
                "EGOV_CLIENT_ID and EGOV_CLIENT_SECRET are needed with EGOV_ISSUER_URL"
            )
        if env == PRODUCTION and not egov_issuer_url.startswith("https://"):
            raise SettingsError("EGOV_ISSUER_URL must be https:// in production")
    if egov_issuer_url and "openid" not in values["egov_scopes"].split():
        raise SettingsError("EGOV_SCOPES must include openid")
    for path in (values["e_imza_ca_file"], *values["e_imza_crl_files"]):
        if path and not Path(path).is_file():
            raise SettingsError(f"E_IMZA_CA_FILE / E_IMZA_CRL_FILES: {path!r} is not a file")
    return Settings(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
