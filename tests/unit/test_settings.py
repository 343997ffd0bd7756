from __future__ import annotations

import pytest

from web.settings import SettingsError, load_settings


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAX_BODY_BYTES"):
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
    clean_env.setenv("SECRET_KEY", "x" * 40)
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
    clean_env.setenv("SECRET_KEY", "x" * 40)
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
    clean_env.setenv("SECRET_KEY", "k" * 48)
    clean_env.setenv("DATABASE_URL", "postgres://u@h/db")
    settings = load_settings()
    assert settings.is_production and not settings.is_development
    assert settings.asan_gateway == "disabled"
    clean_env.setenv("ASAN_GATEWAY", "simulator")
    with pytest.raises(SettingsError, match="simulator"):
        load_settings()
