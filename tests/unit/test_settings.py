from __future__ import annotations

import pytest

from web.settings import SettingsError, load_settings, secret_entropy_bits

GOOD_SECRET = "pX3v-9Qa_Lm2Zr7TbWk4Yc8HdN1sFe6Jg0Uo5Ri"  # 40 characters, ~210 bits


@pytest.fixture
def production(clean_env):
    clean_env.setenv("ENV", "production")
    clean_env.setenv("SECRET_KEY", GOOD_SECRET)
    clean_env.setenv("DATABASE_URL", "postgres://u@h/db")
    return clean_env


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in (
        "ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "MAX_BODY_BYTES",
        "WEB_CONCURRENCY",
        "STORAGE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    return monkeypatch


def test_development_generates_and_keeps_a_secret(clean_env, tmp_path):
    clean_env.setenv("ENV", "development")
    first = load_settings()
    assert len(first.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_settings().secret_key == first.secret_key


def test_development_defaults_to_sqlite_under_data_dir(clean_env, tmp_path):
    clean_env.setenv("ENV", "development")
    settings = load_settings()
    assert settings.uses_sqlite
    assert settings.database_url == f"sqlite://{tmp_path / 'egomruk.sqlite3'}"


def test_postgresql_scheme_is_accepted(clean_env):
    clean_env.setenv("ENV", "development")
    clean_env.setenv("DATABASE_URL", "postgresql://u@h:5432/db")
    settings = load_settings()
    assert settings.database_url == "postgres://u@h:5432/db"
    assert not settings.uses_sqlite


def test_production_refuses_development_defaults(clean_env):
    clean_env.setenv("ENV", "production")
    clean_env.setenv("DATABASE_URL", "postgres://u@h/db")
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings()
    clean_env.setenv("SECRET_KEY", "short")
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings()
    clean_env.setenv("SECRET_KEY", GOOD_SECRET)
    clean_env.delenv("DATABASE_URL")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings()
    clean_env.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load_settings().is_production


def test_bad_values_are_explained(clean_env):
    clean_env.setenv("ENV", "staging")
    with pytest.raises(SettingsError, match="ENV"):
        load_settings()
    clean_env.setenv("ENV", "development")
    clean_env.setenv("MAX_BODY_BYTES", "lots")
    with pytest.raises(SettingsError, match="MAX_BODY_BYTES"):
        load_settings()


@pytest.mark.parametrize(
    "secret",
    ["x" * 32, "x" * 64, "ab" * 20, "abcd" * 8, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"],
)
def test_production_refuses_a_low_entropy_secret_key(production, secret):
    assert len(secret) >= 32  # long enough: only the entropy check can refuse it
    production.setenv("SECRET_KEY", secret)
    with pytest.raises(SettingsError, match="SECRET_KEY looks guessable"):
        load_settings()


def test_generated_secrets_pass_the_entropy_check(production):
    import secrets

    for secret in (secrets.token_urlsafe(48), secrets.token_hex(16), secrets.token_hex(32)):
        production.setenv("SECRET_KEY", secret)
        assert load_settings().secret_key == secret
    assert secret_entropy_bits("x" * 32) == 0
    assert secret_entropy_bits("") == 0


def test_production_refuses_several_workers_without_redis(production):
    production.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(SettingsError, match="REDIS_URL"):
        load_settings()
    production.setenv("REDIS_URL", "redis://r:6379/0")
    assert load_settings().workers == 4


def test_production_refuses_sqlite_with_several_workers(production, tmp_path):
    production.setenv("DATABASE_URL", f"sqlite://{tmp_path / 'db.sqlite3'}")
    production.setenv("REDIS_URL", "redis://r:6379/0")
    production.setenv("WEB_CONCURRENCY", "2")
    with pytest.raises(SettingsError, match="PostgreSQL"):
        load_settings()
    production.setenv("WEB_CONCURRENCY", "1")
    assert load_settings().workers == 1


def test_development_runs_one_worker_without_redis_and_says_why(clean_env):
    clean_env.setenv("ENV", "development")
    clean_env.setenv("WEB_CONCURRENCY", "3")
    settings = load_settings()
    assert settings.workers == 1
    assert any("ONE worker" in warning for warning in settings.startup_warnings)
    clean_env.setenv("REDIS_URL", "redis://r:6379/0")
    settings = load_settings()
    assert settings.workers == 3
    assert settings.startup_warnings == ()


def test_workers_must_be_positive(clean_env):
    clean_env.setenv("ENV", "development")
    clean_env.setenv("WEB_CONCURRENCY", "0")
    with pytest.raises(SettingsError, match="WEB_CONCURRENCY"):
        load_settings()


def test_unset_env_is_warned_about(clean_env):
    clean_env.setenv("SECRET_KEY", GOOD_SECRET)
    clean_env.setenv("DATABASE_URL", "postgresql://u@h:5432/db")
    assert any("ENV is not set" in w for w in load_settings().startup_warnings)
    clean_env.setenv("ENV", "production")
    assert load_settings().startup_warnings == ()


def test_egov_needs_its_client_and_openid(clean_env):
    clean_env.setenv("ENV", "development")
    clean_env.setenv("EGOV_ISSUER_URL", "https://id.egov.test/")
    with pytest.raises(SettingsError, match="EGOV_CLIENT_ID"):
        load_settings()
    clean_env.setenv("EGOV_CLIENT_ID", "e-gomruk")
    clean_env.setenv("EGOV_CLIENT_SECRET", "secret")
    settings = load_settings()
    assert settings.egov_enabled and settings.egov_issuer_url == "https://id.egov.test"
    clean_env.setenv("EGOV_SCOPES", "profile")
    with pytest.raises(SettingsError, match="openid"):
        load_settings()


def test_egov_must_be_https_in_production(clean_env):
    clean_env.setenv("ENV", "production")
    clean_env.setenv("SECRET_KEY", GOOD_SECRET)
    clean_env.setenv("DATABASE_URL", "postgres://u@h/db")
    clean_env.setenv("EGOV_ISSUER_URL", "http://id.egov.test")
    clean_env.setenv("EGOV_CLIENT_ID", "e-gomruk")
    clean_env.setenv("EGOV_CLIENT_SECRET", "secret")
    with pytest.raises(SettingsError, match="https"):
        load_settings()


def test_e_imza_files_must_exist(clean_env, tmp_path):
    clean_env.setenv("ENV", "development")
    clean_env.setenv("E_IMZA_CA_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(SettingsError, match="E_IMZA"):
        load_settings()


def test_unset_env_is_production_never_development(clean_env):
    """Demo accounts and the simulator need ENV=development said explicitly."""
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings()  # no development defaults either
    clean_env.setenv("SECRET_KEY", GOOD_SECRET)
    clean_env.setenv("DATABASE_URL", "postgres://u@h/db")
    settings = load_settings()
    assert settings.is_production and not settings.is_development
    assert settings.asan_gateway == "disabled"
    clean_env.setenv("ASAN_GATEWAY", "simulator")
    with pytest.raises(SettingsError, match="simulator"):
        load_settings()


def test_storage_is_the_local_disk_unless_an_s3_url_names_a_bucket(clean_env, monkeypatch):
    from web.storage.configured import storage_from_settings
    from web.storage.local_disk import LocalDiskStorage
    from web.storage.object_storage import ObjectStorage

    monkeypatch.setenv("ENV", "development")
    assert isinstance(storage_from_settings(load_settings()), LocalDiskStorage)
    for bad in ("/srv/files", "s3://", "s3:///prefix", "gs://bucket"):
        monkeypatch.setenv("STORAGE_URL", bad)
        with pytest.raises(SettingsError, match="STORAGE_URL"):
            load_settings()
    monkeypatch.setenv("STORAGE_URL", "s3://portal-files/uploads/")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:8333/")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "secret")
    settings = load_settings()
    assert settings.storage_url == "s3://portal-files/uploads"
    assert settings.s3_endpoint_url == "http://127.0.0.1:8333"
    storage = storage_from_settings(settings)
    assert isinstance(storage, ObjectStorage)
    assert "secret" not in str(storage)  # what storage-check prints


def test_instances_can_share_the_asan_demo_ca_outside_their_data_dirs(clean_env, tmp_path):
    from web.identity.asan_signin import load_demo_ca

    clean_env.setenv("ENV", "development")
    clean_env.setenv("SECRET_KEY", "a-shared-secret-key-long-enough-0123456789")
    shared = tmp_path / "shared-ca"
    clean_env.setenv("ASAN_DEMO_CA_DIR", str(shared))
    clean_env.setenv("DATA_DIR", str(tmp_path / "one"))
    first = load_demo_ca(load_settings())
    clean_env.setenv("DATA_DIR", str(tmp_path / "two"))
    second = load_demo_ca(load_settings())
    assert first.certificate_pem == second.certificate_pem
    assert not (tmp_path / "two" / "asan-demo-ca").exists()


def test_serving_settings_are_read_with_the_others(clean_env):
    clean_env.setenv("ENV", "development")
    clean_env.setenv("HOST", "192.0.2.10")
    clean_env.setenv("PORT", "8123")
    clean_env.setenv("WEB_CONCURRENCY", "4")
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")  # several workers share it
    settings = load_settings()
    assert (settings.host, settings.port, settings.workers) == ("192.0.2.10", 8123, 4)
    clean_env.setenv("PORT", "eighty")
    with pytest.raises(SettingsError, match="PORT"):
        load_settings()


def test_every_setting_is_in_the_readme_and_unset_means_its_default(clean_env):
    """One line per setting in `Settings` (variable and default); the README's table names
    each variable; an unset variable gives exactly the default stated there."""
    from dataclasses import fields
    from pathlib import Path

    from web.settings import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    clean_env.setenv("ENV", "development")
    derived = {
        *("env", "data_dir", "secret_key", "database_url", "asan_gateway", "smtp_port"),
        *("mail_domain", "staff_totp_required"),
    }
    for item in fields(Settings):
        if "env" not in item.metadata:
            continue
        assert f"`{item.metadata['env']}`" in readme, item.metadata["env"]
        if item.name not in derived:
            clean_env.delenv(item.metadata["env"], raising=False)
    loaded = load_settings()
    for item in fields(Settings):
        if "env" in item.metadata and item.name not in derived:
            assert getattr(loaded, item.name) == item.default, item.name
