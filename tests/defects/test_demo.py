"""The demo's testing phase (crm_impl/defects/demo.py), loaded through the services on SQLite and
PostgreSQL at a small size: four releases of which exactly one (2.0) is blocked by the go-live
gate, most defects fixed and verified, some reopened, some found on real data by the client
tester (some signed off), test runs with rising pass rates, acceptance on real data."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from crm_impl import demo
from crm_impl.core.models import AuditEntry, UserAccount
from crm_impl.defects import demo as demo_defects
from crm_impl.defects import services
from crm_impl.defects.models import OPEN_STATUSES, Acceptance, Defect, DefectChange, Release, TestRun

TODAY = date(2026, 12, 1)
DEALS = 200  # -> max(40, DEALS // 5) = 40 defects


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    with Session(engine) as s:
        demo.load(session=s, seed=7, accounts=40, deals=DEALS, today=TODAY)
    return engine


def test_demo_defects(loaded: Engine) -> None:
    with Session(loaded) as s:
        defects = s.exec(select(Defect)).all()
        assert len(defects) == max(40, DEALS // 5)
        users = {u.id: u.username for u in s.exec(select(UserAccount)).all()}

        releases = {r.name: r for r in s.exec(select(Release)).all()}
        assert sorted(releases) == ["1.0", "1.1", "1.2", "2.0"]
        assert [releases[n].status for n in ("1.0", "1.1", "1.2", "2.0")] == [
            "released",
            "released",
            "ready",
            "in_test",
        ]
        gates = {n: services.release_gate(session=s, release_id=int(r.id or 0)) for n, r in releases.items()}
        assert [n for n, reasons in gates.items() if reasons] == ["2.0"]  # exactly one blocked
        assert any(r.kind == "open_severe" and r.severity == "critical" for r in gates["2.0"])

        statuses = [d.status for d in defects]
        done = sum(st in ("verified", "closed") for st in statuses)
        assert done / len(defects) > 0.5  # most fixed and verified
        assert {"rejected", "duplicate", "wont_fix"} & set(statuses)
        assert any(st in OPEN_STATUSES for st in statuses)
        assert all(d.fixed_in_release_id is not None for d in defects if d.status in ("verified", "closed"))

        reopens = s.exec(select(func.count()).where(col(DefectChange.to_status) == "reopened")).one()
        assert reopens >= 1

        real = [d for d in defects if d.environment == "real_data"]
        assert 0.08 <= len(real) / len(defects) <= 0.4
        assert {users[d.reporter_id] for d in real if d.reporter_id} == {"tester_client"}
        assert any(d.client_signoff_by_id is not None for d in real)
        assert all(d.client_signoff_by_id is not None for d in real if d.status == "closed")

        # arrivals peak during testing: the busiest week is neither the first nor the last
        weeks = [(TODAY - d.created_at.date()).days // 7 for d in defects]
        busiest = max(set(weeks), key=weeks.count)
        assert busiest not in (0, max(weeks))

        # every defect was written through the service (its audit entry) by a demo user
        created = s.exec(
            select(func.count()).where(col(AuditEntry.entity) == "defect", col(AuditEntry.action) == "create")
        ).one()
        assert created == len(defects)
        by = set(s.exec(select(DefectChange.by_id).distinct()).all())
        assert {users[b] for b in by if b} <= {"tester", "tester_client", "pm_vendor", "programmer"}

        # vendor test runs per release: the pass rate rises release over release
        names = {int(r.id or 0): n for n, r in releases.items()}
        rates: dict[str, list[float]] = {}
        for run in s.exec(select(TestRun).where(col(TestRun.side) == "vendor")).all():
            total = run.passed + run.failed + run.blocked
            rates.setdefault(names[run.release_id], []).append(run.passed / total)
        means = [sum(rates[n]) / len(rates[n]) for n in ("1.0", "1.1", "1.2", "2.0") if n in rates]
        assert len(means) == 4 and means == sorted(means)
        assert s.exec(select(func.count()).where(col(TestRun.environment) == "real_data")).one() > 0
        decisions = set(s.exec(select(Acceptance.decision)).all())
        assert "accepted" in decisions and len(decisions) >= 2


def test_demo_plan_is_deterministic_per_seed() -> None:
    def times(seed: int) -> list[object]:
        steps = demo_defects.events(session=None, actors={}, today=TODAY, count=60, seed=seed)  # type: ignore[arg-type]
        return [when for when, _ in steps]

    assert times(7) == times(7)
    assert times(7) != times(8)
