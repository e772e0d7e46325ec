"""The demo company: deterministic, believable, valid NIP numbers, every project role filled."""

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from crm_impl import demo
from crm_impl.core.models import UserAccount
from crm_impl.core.validation import nip_valid
from crm_impl.pipeline.models import Account, Deal, StageChange
from crm_impl.rollout.models import PROJECT_ROLES, RoleAssignment


def _load(engine, seed=3):
    with Session(engine) as s:
        return demo.load(session=s, seed=seed, accounts=60, deals=250, today=date(2026, 11, 30))


def test_demo_is_complete_and_valid(engine):
    summary = _load(engine)
    with Session(engine) as s:
        nips = s.exec(select(Account.nip)).all()
        roles = set(s.exec(select(RoleAssignment.role)).all())
        history = s.exec(select(func.count()).select_from(StageChange)).one()
        first_changes = s.exec(
            select(func.count()).select_from(StageChange).where(StageChange.from_stage_id.is_(None))
        ).one()
        users = s.exec(select(UserAccount)).all()
    assert summary.accounts == len(nips) == 60 and all(nip_valid(n) for n in nips)
    assert roles == set(PROJECT_ROLES)
    assert first_changes == summary.deals == 250 and history > summary.deals
    assert {r for u in users for r in u.roles} >= {"admin", "management", "sales_rep"}


def test_same_seed_same_company(engine, tmp_path):
    from crm_impl.core.db import get_engine, upgrade

    _load(engine, seed=11)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other)
    _load(get_engine(other), seed=11)

    def fingerprint(e):
        with Session(e) as s:
            return s.exec(select(Deal.title, Deal.value, Deal.stage_id).order_by(Deal.id)).all()

    assert [tuple(map(str, r)) for r in fingerprint(engine)] == [
        tuple(map(str, r)) for r in fingerprint(get_engine(other))
    ]
