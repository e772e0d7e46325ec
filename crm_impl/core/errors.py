"""Domain errors: each carries an i18n key and parameters so every layer can show it translated."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# How user text quoted in a message (a name, a title, a typed value) is shown: as it is (CLI,
# tables, logs), or escaped while the UI shows the message as Markdown (`escaping`).
_USER_TEXT: ContextVar[Callable[[str], str] | None] = ContextVar("user_text_escape", default=None)


@contextmanager
def escaping(escape: Callable[[str], str]) -> Iterator[None]:
    """Messages built inside quote user text through `escape` (the UI passes common.plain)."""
    token = _USER_TEXT.set(escape)
    try:
        yield
    finally:
        _USER_TEXT.reset(token)


def user_text(value: Any) -> Any:
    """A user value for a message's placeholder: escaped inside `escaping(...)`, else as it is."""
    escape = _USER_TEXT.get()
    return escape(value) if escape is not None and isinstance(value, str) else value


class DomainError(Exception):
    """Base of every error a user may see. `key` is an i18n key; `params` fill its placeholders."""

    key = "error.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)

    def message(self) -> str:
        from crm_impl.core.i18n import get_locale, t

        params = dict(self.params)
        for name, value in params.items():  # a name stored in both languages, e.g. a stage's
            if isinstance(value, dict) and "en" in value:
                value = value.get(get_locale()) or value["en"]
            # field and action are i18n keys, translated below; the rest may quote user text
            params[name] = value if name in ("field", "action") else user_text(value)
        if "field" in params:  # a field is named by its i18n key, shown in the user's language
            params["field"] = t(str(params["field"]))
        if "action" in params:
            params["action"] = t(f"action.{params['action']}")
        return t(self.key, **params)


class PermissionDenied(DomainError):
    key = "error.permission"


class ValidationError(DomainError):
    key = "error.validation"


class NotFound(DomainError):
    key = "error.not_found"


class ConflictError(DomainError):
    """Someone else changed the row since it was read (optimistic locking)."""

    key = "error.conflict"


class AuthError(DomainError):
    key = "auth.invalid"


class RowError(ValidationError):
    """A grid save refused because of one row: "Row 3 (Offer): <the row's problem> Nothing was
    saved." — every grid (stages, lost reasons, the rollout's tables) raises this one."""

    key = "error.grid_row"

    def __init__(self, row: int, cause: DomainError, name: str | dict[str, str] | None = None) -> None:
        super().__init__(self.key, row=row)
        self.cause = cause
        self.name = name

    def message(self) -> str:
        from crm_impl.core.i18n import get_locale, t

        name = self.name
        if isinstance(name, dict):
            name = name.get(get_locale()) or name.get("en") or ""
        name = user_text(name)
        label = (
            t("error.grid_row_named", row=self.params["row"], name=name) if name else str(self.params["row"])
        )
        return t(self.key, row=label, problem=self.cause.message())


class DatabaseBusy(DomainError):
    """Other writers held the database for longer than a write may wait (after its retries);
    nothing was written."""

    key = "error.db_busy"


class DatabaseUnavailable(DomainError):
    """The database cannot be reached (server down, network cut); nothing was written."""

    key = "error.db_unavailable"
