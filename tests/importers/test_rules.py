"""One rule, one place: "an account is required from Needs analysis on" is
`crm_impl.pipeline.rules.account_required`, and the deal service and the importer agree on it
for every stage, also after the stages are reordered and renamed; lost deals are exempt."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ValidationError
from crm_impl.pipeline import importing as imports
from crm_impl.pipeline.models import DealCreate, StageDefinition
from crm_impl.pipeline.rules import account_required
from crm_impl.pipeline.services import deals


def _service_requires(engine, actor, key: str) -> bool:  # type: ignore[no-untyped-def]
    with UnitOfWork(engine) as uow:
        try:
            if key == "lost":  # a deal is never created lost: move an open one there
                deal = deals.create_deal(session=uow.session, actor=actor, data=DealCreate(title="x"))
                deals.move_deal(
                    session=uow.session,
                    actor=actor,
                    deal_id=int(deal.id or 0),
                    expected_version=deal.version,
                    to_stage_key="lost",
                    lost_reason="price",
                )
            else:
                deals.create_deal(session=uow.session, actor=actor, data=DealCreate(title="x", stage_key=key))
        except ValidationError as err:
            assert err.key == "pipeline.error.account_required", err.key
            return True  # the unit of work is left without commit: nothing stays
    return False


def _importer_requires(engine, actor, name: str) -> bool:  # type: ignore[no-untyped-def]
    data = f"stage,created,closed\n{name},2024-01-02,2024-02-03\n".encode()
    with UnitOfWork(engine) as uow:
        report = imports.run_import(session=uow.session, actor=actor, entity="deals", data=data)
    keys = {e.key for e in report.errors}
    assert keys <= {"imports.error.account_required"}, keys
    return bool(keys)


def test_service_and_importer_agree_after_reordering_and_renaming(engine, session, make_user):
    actor = make_user("mgr", "sales_manager")
    stages = {s.key: s for s in session.exec(select(StageDefinition)).all()}
    # Needs analysis moves before Contact made, and is renamed: the rule follows its key
    na, cm = stages["needs_analysis"], stages["contact_made"]
    na.position, cm.position = cm.position, na.position
    na.name_en, na.name_pl = "Discovery", "Rozpoznanie"
    session.add(na)
    session.add(cm)
    session.commit()
    rows = session.exec(select(StageDefinition).order_by(StageDefinition.position)).all()
    expected = {s.key: account_required(s, rows) for s in rows}
    assert expected["contact_made"] and expected["needs_analysis"] and not expected["prospect"]
    assert not expected["lost"] and expected["completed"]
    for stage in rows:
        service = _service_requires(engine, actor, stage.key)
        importer = _importer_requires(engine, actor, stage.name_en)
        assert service == importer == expected[stage.key], stage.key


def test_without_a_needs_analysis_stage_nothing_requires_an_account():
    class S:
        def __init__(self, key: str, kind: str, position: int) -> None:
            self.key, self.kind, self.position = key, kind, position

    stages = [S("a", "open", 1), S("b", "open", 2), S("won", "won", 3)]
    assert not any(account_required(s, stages) for s in stages)


@pytest.mark.parametrize("kind", ["open", "won"])
def test_at_and_after_needs_analysis(kind):
    class S:
        def __init__(self, key: str, kind: str, position: int) -> None:
            self.key, self.kind, self.position = key, kind, position

    stages = [S("prospect", "open", 1), S("needs_analysis", "open", 5), S("later", kind, 9)]
    assert [account_required(s, stages) for s in stages] == [False, True, True]
    assert not account_required(S("lost", "lost", 10), stages)
