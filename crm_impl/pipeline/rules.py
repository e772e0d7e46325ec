"""Pipeline rules that more than one writer enforces (the deal service and the importer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

ACCOUNT_FROM = "needs_analysis"  # the key of the stage from which on a deal needs an account


class StageLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def position(self) -> int: ...


def account_required(stage: StageLike, stages: Iterable[StageLike]) -> bool:
    """An account is required from Needs analysis on: at or after that stage's position (found
    by key, so renaming or reordering stages keeps the rule), except for lost deals. Without a
    Needs analysis stage nothing requires an account."""
    if stage.kind == "lost":
        return False
    threshold = next((s.position for s in stages if s.key == ACCOUNT_FROM), None)
    return threshold is not None and stage.position >= threshold


def decides_outcome(target: StageLike, stages: Iterable[StageLike]) -> bool:
    """A move that decides how a deal ends, and so is confirmed first on the board: into Lost,
    into the first won stage (Contract: it now counts as won) or into the last one (Completed)."""
    if target.kind == "lost":
        return True
    won = sorted((s for s in stages if s.kind == "won"), key=lambda s: s.position)
    return bool(won) and target.key in (won[0].key, won[-1].key)
