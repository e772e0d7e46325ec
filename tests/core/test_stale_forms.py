"""Edit forms save with the version they showed (common.shown_version), not the one the submit
run read again: a form displayed before another user's save is refused with "changed by someone
else" and the other user's change stays; a form with nothing changed behind its back saves."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from crm_impl.core.auth import actor_for
from crm_impl.core.db import get_engine
from crm_impl.core.models import UserAccount
from crm_impl.defects import services as defects
from crm_impl.defects.models import Defect, DefectUpdate
from crm_impl.pipeline.models import Deal, DealUpdate
from crm_impl.pipeline.services import deals as pipeline

CONFLICT = "This record was changed by someone else in the meantime — reload and try again."


def _user(session: Session, login: str) -> UserAccount:
    return session.exec(select(UserAccount).where(UserAccount.username == login)).one()


def _deal(url: str) -> Deal:
    with Session(get_engine(url)) as session:
        deal = session.exec(select(Deal).order_by(col(Deal.id))).first()
        assert deal is not None
        return deal


def _deal_now(url: str, deal_id: int) -> Deal:
    with Session(get_engine(url)) as session:
        deal = session.get(Deal, deal_id)
        assert deal is not None
        return deal


def _someone_else_changes_the_deal(url: str, deal: Deal, value: Decimal) -> None:
    with Session(get_engine(url)) as session:
        pipeline.update_deal(
            session=session,
            actor=actor_for(_user(session, "management")),
            deal_id=int(deal.id or 0),
            expected_version=deal.version,
            data=DealUpdate(value=value),
        )
        session.commit()


def _open_deal(app_as, deal_id: int) -> AppTest:
    at = app_as("sales_manager", "pages/pipeline/deal.py")
    at.query_params["deal"] = str(deal_id)
    at.run()
    assert not at.exception, at.exception
    return at


def _submit_details(at: AppTest, deal_id: int) -> None:
    next(b for b in at.button if b.proto.form_id == f"edit_{deal_id}").click().run()
    assert not at.exception, at.exception


def test_the_deal_details_form_refuses_an_edit_made_before_someone_elses_save(app_as, demo_url):
    deal = _deal(demo_url)
    at = _open_deal(app_as, int(deal.id or 0))
    _someone_else_changes_the_deal(demo_url, deal, Decimal("123457"))
    # the user types a new title into the form loaded before that save, then saves
    next(w for w in at.text_input if w.value == deal.title).input("Typed on the old form")
    _submit_details(at, int(deal.id or 0))
    assert [e.value for e in at.error] == [CONFLICT]
    now = _deal_now(demo_url, int(deal.id or 0))
    assert (now.title, now.value, now.version) == (deal.title, Decimal("123457"), deal.version + 1)


def test_the_deal_details_form_saves_when_nobody_else_changed_it(app_as, demo_url):
    deal = _deal(demo_url)
    at = _open_deal(app_as, int(deal.id or 0))
    next(w for w in at.text_input if w.value == deal.title).input("Typed on a fresh form")
    _submit_details(at, int(deal.id or 0))
    assert not at.error
    now = _deal_now(demo_url, int(deal.id or 0))
    assert (now.title, now.version) == ("Typed on a fresh form", deal.version + 1)
    # the next save starts from the saved version: still no conflict
    next(w for w in at.text_input if w.value == "Typed on a fresh form").input("And again")
    _submit_details(at, int(deal.id or 0))
    assert not at.error
    now = _deal_now(demo_url, int(deal.id or 0))
    assert (now.title, now.version) == ("And again", deal.version + 2)


def test_a_deal_move_chosen_before_someone_elses_save_is_refused(app_as, demo_url):
    deal = _deal(demo_url)
    deal_id = int(deal.id or 0)
    at = _open_deal(app_as, deal_id)
    target = at.selectbox(key=f"move_to_{deal_id}").value
    assert target is not None
    _someone_else_changes_the_deal(demo_url, deal, Decimal("98765"))
    at.button(key=f"move_{deal_id}").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [CONFLICT]
    now = _deal_now(demo_url, deal_id)
    assert (now.stage_id, now.value, now.version) == (deal.stage_id, Decimal("98765"), deal.version + 1)
    # the run that showed the conflict showed the newest deal: moving now is the user's choice
    at.button(key=f"move_{deal_id}").click().run()
    assert not at.exception, at.exception
    assert not at.error
    assert _deal_now(demo_url, deal_id).stage_id != deal.stage_id


# ---- defects ---------------------------------------------------------------------------------


def _defect(url: str) -> Defect:
    with Session(get_engine(url)) as session:
        query = select(Defect).where(Defect.status == "assigned").order_by(col(Defect.id))
        found = session.exec(query).first()
        assert found is not None
        return found


def _defect_now(url: str, defect_id: int) -> Defect:
    with Session(get_engine(url)) as session:
        found = session.get(Defect, defect_id)
        assert found is not None
        return found


def _open_defect(app_as, defect_id: int) -> AppTest:
    at = app_as("tester", "pages/defects/list.py")
    at.switch_page("pages/defects/defect.py")
    at.query_params["id"] = str(defect_id)
    at.run()
    assert not at.exception, at.exception
    return at


def _submit_defect(at: AppTest, defect_id: int) -> None:
    submit = next(b for b in at.button if b.proto.form_id.startswith(f"defect_edit_{defect_id}_"))
    submit.click().run()
    assert not at.exception, at.exception


def test_the_defect_edit_form_refuses_an_edit_made_before_someone_elses_save(app_as, demo_url):
    defect = _defect(demo_url)
    defect_id = int(defect.id or 0)
    at = _open_defect(app_as, defect_id)
    with Session(get_engine(demo_url)) as session:  # a PM edits the defect in another tab
        defects.update_defect(
            session=session,
            actor=actor_for(_user(session, "pm_vendor")),
            defect_id=defect_id,
            expected_version=defect.version,
            data=DefectUpdate(module="Changed elsewhere"),
        )
        session.commit()
    next(w for w in at.text_input if w.value == defect.title).input("Typed on the old form")
    _submit_defect(at, defect_id)
    assert [e.value for e in at.error] == [CONFLICT]
    now = _defect_now(demo_url, defect_id)
    assert (now.title, now.module, now.version) == (defect.title, "Changed elsewhere", defect.version + 1)


def test_the_defect_edit_form_saves_when_nobody_else_changed_it(app_as, demo_url):
    defect = _defect(demo_url)
    defect_id = int(defect.id or 0)
    at = _open_defect(app_as, defect_id)
    next(w for w in at.text_input if w.value == defect.title).input("Typed on a fresh form")
    _submit_defect(at, defect_id)
    assert not at.error
    now = _defect_now(demo_url, defect_id)
    assert (now.title, now.version) == ("Typed on a fresh form", defect.version + 1)
