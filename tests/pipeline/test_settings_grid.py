"""The pipeline settings grids save all-or-nothing in one transaction, on SQLite and PostgreSQL:
one bad row writes nothing and is named; a good grid saves every row and the order together."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import RowError
from crm_impl.core.i18n import set_locale
from crm_impl.core.models import AuditEntry
from crm_impl.pipeline.models import (
    LostReason,
    LostReasonGridRow,
    StageDefinition,
    StageDefinitionUpdate,
    StageGridRow,
)
from crm_impl.pipeline.services import settings as stage_admin


def _stages(engine) -> list[StageDefinition]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(StageDefinition).order_by(col(StageDefinition.position))).all())


def _audit_count(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(AuditEntry)).one())


def _grid(stages: list[StageDefinition], **changes: dict) -> list[StageGridRow]:
    return [
        StageGridRow(
            id=int(s.id or 0),
            expected_version=s.version,
            position=s.position,
            changes=StageDefinitionUpdate(**changes.get(s.key, {})),
        )
        for s in stages
    ]


def _save(engine, actor, fn, rows):  # type: ignore[no-untyped-def]
    with UnitOfWork(engine) as uow:
        result = fn(session=uow.session, actor=actor, rows=rows)
        uow.commit()
    return result


def test_one_bad_stage_row_writes_nothing_and_is_named(engine, make_user):
    boss = make_user("boss", "sales_manager")
    before = _stages(engine)
    audits = _audit_count(engine)
    rows = _grid(
        before,
        prospect={"name_en": "Lead"},  # fine, but must not be saved alone
        offer={"rot_days": 0},  # row 4: out of range
        negotiation={"probability": 0.8},
    )
    rows[0].position, rows[1].position = 2, 1  # and a new order
    with pytest.raises(RowError) as err:
        _save(engine, boss, stage_admin.save_stages, rows)
    assert err.value.message() == (
        "Row 4 (Offer): Rot threshold (days) must be between 1 and 3650 days. Nothing was saved."
    )
    set_locale("pl")
    assert err.value.message().startswith("Wiersz 4 (Oferta): ")
    set_locale("en")
    after = _stages(engine)
    assert [(s.key, s.name_en, s.probability, s.rot_days, s.version) for s in after] == [
        (s.key, s.name_en, s.probability, s.rot_days, s.version) for s in before
    ]
    assert _audit_count(engine) == audits


def test_a_stale_row_refuses_the_whole_grid(engine, make_user):
    boss = make_user("boss", "sales_manager")
    before = _stages(engine)
    rows = _grid(before, prospect={"name_en": "Lead"}, offer={"name_en": "Quote"})
    rows[3].expected_version = 0  # someone saved Offer since the grid was loaded
    with pytest.raises(RowError) as err:
        _save(engine, boss, stage_admin.save_stages, rows)
    assert "Row 4" in err.value.message() and "changed by someone else" in err.value.message()
    assert _stages(engine)[0].name_en == "Prospect"


def test_a_good_stage_grid_saves_every_row_and_the_order_together(engine, make_user):
    boss = make_user("boss", "sales_manager")
    before = _stages(engine)
    rows = _grid(before, prospect={"name_en": "Lead", "rot_days": "45"}, offer={"stage_cost": "650,50"})
    rows[0].position, rows[1].position = 2, 1
    _save(engine, boss, stage_admin.save_stages, rows)
    after = {s.key: s for s in _stages(engine)}
    assert [s.key for s in _stages(engine)][:2] == ["contact_made", "prospect"]
    assert (after["prospect"].name_en, after["prospect"].rot_days) == ("Lead", 45)
    assert str(after["offer"].stage_cost) == "650.50"
    with Session(engine) as s:
        actions = s.exec(select(AuditEntry.action).where(AuditEntry.entity == "stage")).all()
    assert sorted(actions) == ["reorder", "update", "update"]


def test_lost_reasons_grid_all_or_nothing(engine, make_user):
    boss = make_user("boss", "sales_manager")
    with Session(engine) as s:
        reasons = list(s.exec(select(LostReason).order_by(col(LostReason.position))).all())
    rows = [
        LostReasonGridRow(
            id=r.id,
            expected_version=r.version,
            key=r.key,
            name_en=r.name_en,
            name_pl=r.name_pl,
            position=r.position,
            active=r.active,
        )
        for r in reasons
    ]
    rows[0].name_en = "Too expensive"
    bad = [
        *rows,
        LostReasonGridRow(key="quality", name_en="Quality", name_pl="Jakość"),
        LostReasonGridRow(key="quality", name_en="Quality again", name_pl="Jakość"),
    ]
    audits = _audit_count(engine)
    with pytest.raises(RowError) as err:
        _save(engine, boss, stage_admin.save_lost_reasons, bad)
    assert err.value.message().startswith(f"Row {len(rows) + 2} (quality): ")
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(LostReason)).one() == len(reasons)
        assert s.get(LostReason, reasons[0].id).name_en == "Price too high"
    assert _audit_count(engine) == audits
    _save(engine, boss, stage_admin.save_lost_reasons, bad[:-1])
    with Session(engine) as s:
        saved = {r.key: r for r in s.exec(select(LostReason)).all()}
    assert saved["price"].name_en == "Too expensive"
    assert saved["quality"].position == max(r.position for r in reasons) + 1
    assert _audit_count(engine) == audits + 2  # one update, one create: unchanged rows are not touched
