"""Settings from the environment (CRM_IMPL_*) and `.streamlit/secrets.toml` ([crm_impl] section).

One validated settings object (pydantic-settings): the environment wins over the secrets file;
both win over the defaults. A bad value stops with a message naming it
(`CRM_IMPL_IDLE_TIMEOUT_MINUTES='abc': …`). `get_settings()` reads once and caches the result
for the current CRM_IMPL_* environment and secrets file, so a test (or a process) that sets a
variable sees it on the next call, and nothing leaks from one such environment to another.
Every setting is documented in README.md (a test checks that).
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

SECRETS_PATHS = (Path(".streamlit/secrets.toml"), Path.home() / ".streamlit/secrets.toml")
ENV_PREFIX = "CRM_IMPL_"


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable and the value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    database_url: str = Field("sqlite:///crm_impl.db", description="SQLAlchemy URL of the database")
    locale: Literal["en", "pl"] = Field("en", description="default language of the interface: en or pl")
    currency: str = Field("PLN", pattern=r"^[A-Z]{3}$", description="default currency of amounts")
    demo_mode: bool = Field(False, description="show one-click sign-in as each demo role on the login page")
    idle_timeout_minutes: int = Field(30, ge=1, description="sign a user out after this many idle minutes")
    session_hours: int = Field(
        12, ge=1, le=24 * 90, description="a sign-in lasts at most this many hours, even when active"
    )
    lockout_attempts: int = Field(5, ge=1, description="failed sign-ins before an account is locked")
    lockout_minutes: int = Field(15, ge=1, description="how long a locked account stays locked")
    live_refresh_seconds: int = Field(
        10, ge=1, description="how often live boards and dashboards poll for changes"
    )
    timezone: str = Field("Europe/Warsaw", description="time zone in which dates and times are shown")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError("not a known time zone (e.g. Europe/Warsaw)") from err
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # explicit values > environment > [crm_impl] of secrets.toml > defaults (no .env files)
        return init_settings, env_settings, InitSettingsSource(settings_cls, init_kwargs=_secrets_section())


# name -> (default, type, description); README's configuration table is checked against it.
SETTINGS: dict[str, tuple[Any, Any, str]] = {
    name: (f.default, f.annotation, f.description or "") for name, f in Settings.model_fields.items()
}


def _secrets_path() -> Path | None:
    return next((p for p in SECRETS_PATHS if p.is_file()), None)


def _secrets_section() -> dict[str, Any]:
    path = _secrets_path()
    if path is None:
        return {}
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    section = data.get("crm_impl", {})
    return (
        {k: v for k, v in section.items() if k in Settings.model_fields} if isinstance(section, dict) else {}
    )


def _message(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        name = str(e["loc"][0]) if e["loc"] else "?"
        variable = f"{ENV_PREFIX}{name.upper()}"
        parts.append(
            f"{variable}={e.get('input')!r}: {e['msg']} (environment or [crm_impl] {name} in secrets.toml)"
        )
    return "Invalid setting: " + "; ".join(parts)


@lru_cache(maxsize=16)
def _load(_env: tuple[tuple[str, str], ...], _secrets: tuple[str, float] | None) -> Settings:
    try:
        return Settings()
    except ValidationError as err:
        raise SettingsError(_message(err)) from None


def get_settings() -> Settings:
    """The settings, validated once per distinct CRM_IMPL_* environment and secrets file."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)))
    path = _secrets_path()
    secrets = (str(path.resolve()), path.stat().st_mtime) if path else None
    return _load(env, secrets)


def clear_settings_cache() -> None:
    """Forget every cached settings object (e.g. after editing secrets.toml within a second)."""
    _load.cache_clear()


def sso_configured() -> bool:
    """True when an [auth] section for Streamlit's st.login exists in secrets.toml."""
    path = _secrets_path()
    if path is None:
        return False
    with path.open("rb") as fh:
        return "auth" in tomllib.load(fh)


def local_tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)
