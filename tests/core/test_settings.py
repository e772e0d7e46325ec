"""One validated settings object (pydantic-settings): same names and defaults as before, the
environment wins over secrets.toml, a bad value is named, and the cache follows the environment."""

from __future__ import annotations

import pytest

from crm_impl.core import config
from crm_impl.core.config import SETTINGS, Settings, SettingsError, get_settings

DEFAULTS = {
    "database_url": "sqlite:///crm_impl.db",
    "locale": "en",
    "currency": "PLN",
    "demo_mode": False,
    "idle_timeout_minutes": 30,
    "session_hours": 12,
    "lockout_attempts": 5,
    "lockout_minutes": 15,
    "live_refresh_seconds": 10,
    "timezone": "Europe/Warsaw",
}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    for name in SETTINGS:
        monkeypatch.delenv(f"CRM_IMPL_{name.upper()}", raising=False)
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    monkeypatch.setattr(config, "SECRETS_PATHS", (tmp_path / ".streamlit" / "secrets.toml",))
    return tmp_path


def test_names_and_defaults(clean_env):
    assert set(SETTINGS) == set(DEFAULTS)
    assert get_settings().model_dump() == DEFAULTS
    assert all(SETTINGS[name][2] for name in SETTINGS)  # every setting is described (README)


def test_environment_is_read_and_typed(clean_env, monkeypatch):
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "true")
    monkeypatch.setenv("CRM_IMPL_IDLE_TIMEOUT_MINUTES", "45")
    monkeypatch.setenv("CRM_IMPL_LOCALE", "pl")
    s = get_settings()
    assert (s.demo_mode, s.idle_timeout_minutes, s.locale) == (True, 45, "pl")
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "false")  # a changed variable is seen at once
    assert get_settings().demo_mode is False
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "")  # empty = not set
    assert get_settings().demo_mode is False


def test_read_once_per_environment(clean_env, monkeypatch):
    assert get_settings() is get_settings()
    first = get_settings()
    monkeypatch.setenv("CRM_IMPL_CURRENCY", "EUR")
    assert get_settings().currency == "EUR"
    monkeypatch.delenv("CRM_IMPL_CURRENCY")
    assert get_settings() is first  # back to the first environment: its cached object


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CRM_IMPL_IDLE_TIMEOUT_MINUTES", "abc"),
        ("CRM_IMPL_LOCKOUT_ATTEMPTS", "0"),
        ("CRM_IMPL_DEMO_MODE", "maybe"),
        ("CRM_IMPL_LOCALE", "de"),
        ("CRM_IMPL_TIMEZONE", "Mars/Olympus"),
        ("CRM_IMPL_CURRENCY", "złoty"),
    ],
)
def test_a_bad_value_is_named(clean_env, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        get_settings()
    assert f"{name}={value!r}" in str(err.value)


def test_secrets_file_below_the_environment(clean_env, monkeypatch):
    secrets = clean_env / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[crm_impl]\ncurrency = "EUR"\nlive_refresh_seconds = 3\nunknown = 1\n')
    s = get_settings()
    assert (s.currency, s.live_refresh_seconds) == ("EUR", 3)
    monkeypatch.setenv("CRM_IMPL_CURRENCY", "USD")
    assert get_settings().currency == "USD"


def test_settings_are_frozen(clean_env):
    with pytest.raises(ValueError):
        get_settings().locale = "pl"  # type: ignore[misc]
    assert Settings(currency="USD").currency == "USD"
