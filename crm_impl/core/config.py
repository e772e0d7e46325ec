"""Settings from the environment (CRM_IMPL_*) and `.streamlit/secrets.toml` ([crm_impl] section).

The environment wins over the secrets file; both win over the defaults. Every setting is
documented in README.md (a test checks that).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECRETS_PATHS = (Path(".streamlit/secrets.toml"), Path.home() / ".streamlit/secrets.toml")

# name -> (default, type, description); README's configuration table is checked against it.
SETTINGS: dict[str, tuple[Any, type, str]] = {
    "database_url": ("sqlite:///crm_impl.db", str, "SQLAlchemy URL of the database"),
    "locale": ("en", str, "default language of the interface: en or pl"),
    "currency": ("PLN", str, "default currency of amounts"),
    "demo_mode": (False, bool, "show one-click sign-in as each demo role on the login page"),
    "idle_timeout_minutes": (30, int, "sign a user out after this many idle minutes"),
    "lockout_attempts": (5, int, "failed sign-ins before an account is locked"),
    "lockout_minutes": (15, int, "how long a locked account stays locked"),
    "live_refresh_seconds": (10, int, "how often live boards and dashboards poll for changes"),
    "timezone": ("Europe/Warsaw", str, "time zone in which dates and times are shown"),
}


def _coerce(value: Any, kind: type) -> Any:
    if kind is bool and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return kind(value)


def _secrets_section() -> dict[str, Any]:
    for path in SECRETS_PATHS:
        if path.is_file():
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            section = data.get("crm_impl", {})
            return section if isinstance(section, dict) else {}
    return {}


@dataclass(frozen=True)
class Settings:
    database_url: str
    locale: str
    currency: str
    demo_mode: bool
    idle_timeout_minutes: int
    lockout_attempts: int
    lockout_minutes: int
    live_refresh_seconds: int
    timezone: str
    extra: dict[str, Any] = field(default_factory=dict)


def get_settings() -> Settings:
    secrets = _secrets_section()
    values: dict[str, Any] = {}
    for name, (default, kind, _doc) in SETTINGS.items():
        raw = os.environ.get(f"CRM_IMPL_{name.upper()}", secrets.get(name, default))
        values[name] = _coerce(raw, kind)
    return Settings(**values)


def sso_configured() -> bool:
    """True when an [auth] section for Streamlit's st.login exists in secrets.toml."""
    for path in SECRETS_PATHS:
        if path.is_file():
            with path.open("rb") as fh:
                return "auth" in tomllib.load(fh)
    return False


def local_tz():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(get_settings().timezone)
