"""Which entities can be imported: each domain registers its own in its `importing.py`.

The shared engine knows no domain. A domain calls `register("deals", EntitySpec(...))` at import
time with its field specs, the handler that checks references and writes a cleaned chunk, and
a factory for the per-run lookups (known names, loaded once per run). The engine, the mapping
files and the import page then see every registered entity, in registration order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlmodel import Session

from crm_impl.core.errors import ValidationError
from crm_impl.importers.cleaning import Cleaned, FieldSpec

if TYPE_CHECKING:
    from crm_impl.importers.engine import Run

C = TypeVar("C")


@dataclass(frozen=True)
class EntitySpec(Generic[C]):
    """One importable entity. `handler(run, cleaned, write)` adds row errors to the cleaned
    chunk and, when `write`, writes its valid rows; `lookups(session)` builds the state the
    handler reads as `run.lookups` (once per run).

    `deferred=True` (preferred): `write` means "queue the writes" — the handler hands them to
    `run.later(fn, payload)` and writes nothing itself; the engine checks the whole file in one
    pass and runs the queue at the end, so the write lock is held only for the writes.
    `deferred=False`: the handler writes directly (flush, never commit) when `write`; the engine
    then checks the whole file first (a pass with `write=False`) and writes in a second pass."""

    fields: tuple[FieldSpec, ...]
    handler: Callable[[Run[C], Cleaned, bool], None]
    lookups: Callable[[Session], C]
    permission: str = "import.run"
    deferred: bool = False


_SPECS: dict[str, EntitySpec[Any]] = {}


def register(entity: str, spec: EntitySpec[Any]) -> None:
    """Register (or replace) an importable entity."""
    _SPECS[entity] = spec


def specs() -> dict[str, EntitySpec[Any]]:
    return dict(_SPECS)


def entities() -> tuple[str, ...]:
    return tuple(_SPECS)


def get(entity: str) -> EntitySpec[Any]:
    spec = _SPECS.get(entity)
    if spec is None:
        raise ValidationError("imports.error.entity", entity=entity)
    return spec


def fields(entity: str) -> list[FieldSpec]:
    return list(get(entity).fields)
