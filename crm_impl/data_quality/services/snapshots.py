"""Daily snapshots of the data-quality scores: `take_snapshot` scans the data as it is now and
stores one row per entity and dimension for `day` (today by default, the clock's date: the demo
replays its history under `clock.at`, so each past snapshot sees the data as it was then).
Idempotent per day: when the day has a snapshot, nothing is written and the stored rows are
returned. One audit entry per snapshot (its overall score and counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.core import audit, writes
from crm_impl.core.clock import now
from crm_impl.core.permissions import Actor, require
from crm_impl.data_quality import metrics, queries
from crm_impl.data_quality.models import DqSnapshot


@dataclass(frozen=True)
class SnapshotResult:
    day: date
    taken: bool  # False: the day already had its snapshot (nothing written)
    rows: list[DqSnapshot]

    @property
    def overall(self) -> float | None:
        return next(
            (r.score for r in self.rows if r.entity == metrics.ALL and r.dimension == metrics.OVERALL), None
        )


def take_snapshot(*, session: Session, actor: Actor, day: date | None = None) -> SnapshotResult:
    """Scan now and store the scores as of `day` (default: today)."""
    require(actor, "dq.manage")
    as_of = day or now().date()
    stored = list(
        session.exec(select(DqSnapshot).where(DqSnapshot.day == as_of).order_by(col(DqSnapshot.id))).all()
    )
    if stored:
        return SnapshotResult(as_of, False, stored)
    scores = metrics.snapshot_rows(metrics.dimension_scores(queries.run(queries.load(session, today=as_of))))
    rows = [
        DqSnapshot(
            day=as_of,
            entity=str(r.entity),
            dimension=str(r.dimension),
            score=None if pd.isna(r.score) else round(float(r.score), 4),
            checked=int(r.checked),
            failing=int(r.failing),
            taken_at=now(),
            taken_by=actor.username,
        )
        for r in scores.itertuples()
    ]
    session.add_all(rows)
    writes.flush(session)
    result = SnapshotResult(as_of, True, rows)
    audit.record(
        session=session,
        actor=actor,
        entity="dq_snapshot",
        entity_id=as_of.isoformat(),
        action="create",
        after={
            "day": as_of.isoformat(),
            "overall": result.overall,
            "rows": len(rows),
            "records": next(
                (r.checked for r in rows if r.entity == metrics.ALL and r.dimension == metrics.OVERALL), 0
            ),
        },
    )
    return result
