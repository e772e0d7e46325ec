"""The usage rollup (crm_impl.adoption.rollup) against the events themselves, on both databases:
random company histories (people with several accounts or none, use in two projects and in
none, sign-ins that are not use, entries written by the ORM and by the import engine's bulk
insert, imported logs of two systems — one called "app" like in-app use —, days near midnight)
give exactly the frame and every figure of the report that the event-based computation
(`queries.events_daily`, the oracle) gives; a rolled-back write leaves the rollup as it was; an
entry written behind SQLAlchemy's back makes the read fall back to the events (same figures)
until `rebuild`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, insert, text
from sqlmodel import Session, select

from crm_impl.adoption import rollup
from crm_impl.adoption.metrics import usage as metrics
from crm_impl.adoption.models import UsageDay
from crm_impl.adoption.queries import usage as queries
from crm_impl.adoption.services import usage as services
from crm_impl.core import audit
from crm_impl.core.auth import actor_for
from crm_impl.core.models import Person, Project, UserAccount
from crm_impl.core.permissions import SYSTEM

TODAY = date(2026, 3, 20)
ENTITIES = ["deal", "activity", "contact", "defect", "user", "saved_filter", "import"]  # 3 not use
ACTIONS = ["create", "update", "move", "done", "login"]


def _history(session: Session, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    project = Project(name="Rollout", go_live_date=TODAY - timedelta(days=40))
    other = Project(name="Other")
    people = [
        Person(
            full_name=f"Person {i}",
            department=["Sales", "Service", ""][i % 3],
            licensed_user=bool(i % 5),
            active=i != 3,
        )
        for i in range(9)
    ]
    session.add_all([project, other, *people])
    session.flush()
    accounts = []
    for i in range(12):  # person 0 has three accounts, 1 two; the last two belong to no one
        owner = people[[0, 0, 0, 1, 1, 2, 4, 5, 6, 7][i]].id if i < 10 else None
        joined = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 70)))
        accounts.append(
            UserAccount(
                username=f"u{i}", roles=[["sales_rep", "admin"][i % 2]], person_id=owner, created_at=joined
            )
        )
    session.add_all(accounts)
    session.commit()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    bulk = []
    for n in range(int(rng.integers(150, 250))):
        user = accounts[int(rng.integers(0, len(accounts)))]
        at = start + timedelta(minutes=int(rng.integers(0, 80 * 24 * 60)))
        if n % 7 == 0:
            at = at.replace(hour=23, minute=59, second=59, microsecond=999_000)  # the edge of a day
        entity = ENTITIES[int(rng.integers(0, len(ENTITIES)))]
        action = ACTIONS[int(rng.integers(0, len(ACTIONS)))]
        project_id = [project.id, other.id, None][int(rng.integers(0, 3))]
        if n % 4 == 0:  # the import engine's bulk history insert (Core, many rows at once)
            bulk.append(
                {
                    "at": at,
                    "user_id": user.id,
                    "username": user.username,
                    "project_id": project_id,
                    "entity": entity,
                    "entity_id": "1",
                    "action": action,
                }
            )
            continue
        entry = audit.record(
            session=session,
            actor=actor_for(user),
            entity=entity,
            entity_id=n,
            action=action,
            project_id=project_id,
        )
        entry.at = at
        if n % 50 == 0:
            session.commit()
    session.connection().execute(insert(rollup.AUDIT), bulk)
    session.commit()
    for source, project_id in (("legacy", project.id), ("app", project.id), ("legacy", other.id)):
        batch = services.start_import(
            session=session, actor=SYSTEM, project_id=int(project_id or 0), source=source
        )
        session.flush()
        for _chunk in range(2):
            n = int(rng.integers(20, 60))
            who = [people[int(i)].id for i in rng.integers(0, len(people), n)]
            at = [start + timedelta(minutes=int(m)) for m in rng.integers(0, 80 * 24 * 60, n)]
            services.add_events(
                session=session,
                actor=SYSTEM,
                batch=batch,
                columns={
                    "person_id": who,
                    "at": at,
                    "action": [["create", "update"][int(i)] for i in rng.integers(0, 2, n)],
                    "entity": ["deal"] * n,
                    "source": [source] * n,
                    "fingerprint": [f"{seed}-{source}-{project_id}-{_chunk}-{i}" for i in range(n)],
                },
            )
        session.commit()
    return {"project": int(project.id or 0), "other": int(other.id or 0)}


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    out = df.assign(day=pd.to_datetime(df["day"]).dt.date)
    return out.sort_values(["person_id", "day", "source"]).reset_index(drop=True)


def _covered(session: Session) -> bool:
    events = session.connection().exec_driver_sql(rollup.events_sql(session.get_bind().dialect.name)).one()
    sums = [
        session.exec(select(func.coalesce(func.sum(UsageDay.used), 0)).where(UsageDay.imported == kind)).one()
        for kind in (False, True)
    ]
    session.rollback()
    return rollup.covered([float(c) for c in events], [float(c) for c in sums])


def _rollup_rows(session: Session) -> list[tuple[Any, ...]]:
    """Every row of the rollup, sorted."""
    columns = ["imported", "project_key", "source", "subject_id", "day", "created", "used"]
    return sorted(tuple(r) for r in session.exec(select(*(getattr(UsageDay, c) for c in columns))).all())


def _reference_matrix(daily: Any, people: pd.DataFrame, first: date, last: date) -> metrics.Matrix:
    """The person × day matrix as it was computed before the report read the frame once
    (np.add.at per cell, the frame's days normalised on every call): the figures' reference."""
    daily = daily.frame if isinstance(daily, metrics.Use) else daily
    pop = metrics.population(people)
    days = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D")
    n_people, n_days = len(pop), len(days)
    created = np.zeros((n_people, n_days), dtype=np.int64)
    updated = np.zeros((n_people, n_days), dtype=np.int64)
    start = pd.to_datetime(pop["start"]) if len(pop) else pd.Series([], dtype="datetime64[ns]")
    rows = pd.Index(pop["id"].astype("int64"))
    first_use = pd.Series(pd.NaT, index=rows, dtype="datetime64[ns]")
    if len(daily) and n_people and n_days:
        day = pd.to_datetime(daily["day"]).dt.tz_localize(None).dt.normalize()
        r = rows.get_indexer(daily["person_id"].astype("int64"))
        first_use = day.groupby(daily["person_id"].astype("int64")).min().reindex(rows)
        c = days.get_indexer(day)
        inside = (r >= 0) & (c >= 0)
        np.add.at(created, (r[inside], c[inside]), daily["created"].to_numpy(dtype=np.int64)[inside])
        np.add.at(updated, (r[inside], c[inside]), daily["updated"].to_numpy(dtype=np.int64)[inside])
    begins = pd.Series(np.asarray(start, dtype="datetime64[ns]"), index=rows)
    begins = begins.where(begins.notna() & ~(begins > first_use), first_use)
    begin = begins.fillna(pd.Timestamp(first)).to_numpy(dtype="datetime64[ns]")
    exists = days.to_numpy()[None, :] >= begin[:, None] if n_people else np.zeros((0, n_days), dtype=bool)
    active = ((created + updated) > 0) & exists
    used = first_use.to_numpy(dtype="datetime64[ns]")
    return metrics.Matrix(pop, days, metrics.working_mask(days), exists, active, created, updated, used)


def _oracle_report(frames: queries.UsageFrames, daily: pd.DataFrame, today: date) -> dict[str, Any]:
    """The report from the events' frame with the reference matrix."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metrics, "matrix", _reference_matrix)
        return queries.report_from_frames(queries.UsageFrames(frames.go_live, daily, frames.people), today)


def _same_figures(session: Session, project_id: int | None) -> None:
    oracle = queries.events_daily(session, project_id)
    session.rollback()
    found = queries.daily(session, project_id)
    session.rollback()
    assert len(found) > 0
    pd.testing.assert_frame_equal(_sorted(found), _sorted(oracle), check_dtype=False)
    if project_id is None:
        return
    frames = queries.load(session, project_id)
    session.rollback()
    for today in (TODAY, TODAY - timedelta(days=25), date(2026, 2, 28)):
        assert queries.report_from_frames(frames, today) == _oracle_report(frames, oracle, today)
    session.rollback()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rollup_gives_the_figures_of_the_events(session: Session, seed: int) -> None:
    w = _history(session, seed)
    assert _covered(session)
    rows = session.exec(select(func.count()).select_from(UsageDay)).one()
    session.rollback()
    assert rows > 0
    for project_id in (w["project"], w["other"], None):
        _same_figures(session, project_id)
    # the report through the session (what the CLI and the pages call) is the oracle's too
    report = queries.report(session, w["project"], today=TODAY)
    session.rollback()
    frames = queries.load(session, w["project"])
    oracle = queries.events_daily(session, w["project"])
    session.rollback()
    assert report == _oracle_report(frames, oracle, TODAY)
    # rebuilt from the events, the rollup is what the writes kept
    before = _rollup_rows(session)
    assert rollup.rebuild(session.connection()) == len(before)
    after = _rollup_rows(session)
    assert before == after


def test_a_rolled_back_write_leaves_the_rollup_unchanged(session: Session) -> None:
    user = UserAccount(username="ala", roles=["sales_rep"])
    session.add(user)
    session.commit()
    audit.record(session=session, actor=actor_for(user), entity="deal", entity_id=1, action="create")
    session.commit()
    audit.record(session=session, actor=actor_for(user), entity="deal", entity_id=2, action="create")
    session.flush()
    assert session.exec(select(func.sum(UsageDay.used))).one() == 2
    session.rollback()
    assert session.exec(select(func.sum(UsageDay.used), func.sum(UsageDay.created))).one() == (1, 1)
    assert _covered(session)


def test_entries_written_behind_sqlalchemy_fall_back_to_the_events_until_rebuilt(session: Session) -> None:
    w = _history(session, 4)
    session.connection().execute(
        text(
            "INSERT INTO audit_entry (at, user_id, username, project_id, entity, entity_id, action) "
            "VALUES (:at, 1, 'u0', NULL, 'deal', '1', 'create')"
        ),
        {
            "at": "2026-03-19 10:00:00.000000"
            if session.get_bind().dialect.name == "sqlite"
            else "2026-03-19 10:00:00+00"
        },
    )
    session.commit()
    assert not _covered(session)
    _same_figures(session, w["project"])  # the events are read: still the same figures
    rollup.rebuild(session.connection())
    session.commit()
    assert _covered(session)
    _same_figures(session, w["project"])
