"""The application's clock: the current UTC time, unless a block runs "as of" another moment.

`with clock.at(moment):` makes `now()` (and so `crm_impl.core.models.utcnow`, every model's
default timestamp and every audit entry) return `moment` inside the block. The override lives in
a context variable, so it is per thread and per asyncio task, and it ends with the block. The demo
uses it to write a year of history through the ordinary services; tests use it to pin time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_override: ContextVar[datetime | None] = ContextVar("crm_impl_clock", default=None)


def now() -> datetime:
    """The current time in UTC, or the moment of the innermost active `at` block."""
    moment = _override.get()
    return datetime.now(UTC) if moment is None else moment


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    """Run the block as if it were `moment` (a naive time is taken as UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    token = _override.set(moment)
    try:
        yield moment
    finally:
        _override.reset(token)
