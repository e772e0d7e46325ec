"""The deal and client pages refresh by themselves when another user changes the deal, keep what
the user is typing, and never lose a click to a refresh (crm_impl.core.ui.session.live_page)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, col, select
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests
from streamlit.testing.v1 import AppTest

from crm_impl.core.auth import actor_for
from crm_impl.core.db import UnitOfWork, get_engine
from crm_impl.core.i18n import fmt_money
from crm_impl.core.models import UserAccount
from crm_impl.core.ui import session as ui_session
from crm_impl.pipeline.models import Activity, ActivityCreate, Deal, DealUpdate, StageDefinition
from crm_impl.pipeline.services import deals as pipeline
from tests.core.test_pages import metric


def _as(url: str, login: str):  # type: ignore[no-untyped-def]
    with Session(get_engine(url)) as s:
        return actor_for(s.exec(select(UserAccount).where(UserAccount.username == login)).one())


def _open_deal(url: str) -> Deal:
    with Session(get_engine(url)) as s:
        return s.exec(
            select(Deal)
            .join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
            .where(StageDefinition.kind == "open", Deal.currency == "PLN")
            .order_by(col(Deal.id))
        ).first()


def _someone_else_sets_value(url: str, deal_id: int, value: str) -> None:
    """Another user (the administrator) saves the deal through the service, as the app does."""
    with UnitOfWork(get_engine(url)) as uow:
        deal = uow.session.get(Deal, deal_id)
        pipeline.update_deal(
            session=uow.session,
            actor=_as(url, "admin"),
            deal_id=deal_id,
            expected_version=deal.version,
            data=DealUpdate(value=Decimal(value)),
        )
        uow.commit()


def _edit_title(at: AppTest, title: str):  # type: ignore[no-untyped-def]
    """The title field of the deal's edit form (the new-deal form has one too, empty)."""
    return next(w for w in at.text_input if w.label == "Title" and w.value == title)


def _form_inputs(at: AppTest) -> dict[tuple[str, str], str]:
    """(form, label) -> widget id of every text input in a form."""
    return {(w.form_id, w.label): w.id for w in at.text_input if w.form_id}


def test_the_deal_page_shows_another_users_change_and_keeps_what_is_typed(app_as, demo_url):
    deal = _open_deal(demo_url)
    at = app_as("sales_manager", "pages/pipeline/deal.py")
    at.query_params["deal"] = str(deal.id)
    at.run()
    assert metric(at, "Value") == fmt_money(deal.value)
    # What a user types in a form stays in the browser until the form is submitted, kept by the
    # widget's id (AppTest, like the browser, sends nothing before the submit): the refresh
    # must give every input the same id again, or the browser would drop what was typed.
    typed_in = _form_inputs(at)
    # the edit form, the activity form, the new contact person's form and the search box
    assert {label for _form, label in typed_in} == {
        "Title",
        "Subject",
        "Full name",
        "E-mail",
        "Phone",
        "Job title",
        "Search",
    }
    _someone_else_sets_value(demo_url, deal.id, "123456")
    at.run()  # the watcher's next tick reruns the page: the data version moved
    assert not at.exception, at.exception
    assert metric(at, "Value") == fmt_money(Decimal("123456"))  # no click needed
    assert _form_inputs(at) == typed_in  # every form keeps its inputs
    value = next(n for n in at.number_input if n.form_id == f"edit_{deal.id}" and n.label == "Value")
    assert value.value == 123456.0  # the one field the other user changed shows their value
    # the form showed the new value: saving a typed title keeps the other user's value
    _edit_title(at, deal.title).input("Typed, then saved")
    submit = next(b for b in at.button if b.label == "Save" and b.proto.is_form_submitter)
    submit.click()
    at.run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    with Session(get_engine(demo_url)) as s:
        saved = s.get(Deal, deal.id)
        assert (saved.title, saved.value) == ("Typed, then saved", Decimal("123456"))


def test_a_click_on_the_page_drawn_before_a_change_is_not_lost(app_as, demo_url):
    """The user clicks on the page as it was drawn; another user's save lands first. The click's
    run draws from the new data, and the button (keyed by what it acts on) is still found."""
    deal = _open_deal(demo_url)
    activity = None
    with UnitOfWork(get_engine(demo_url)) as uow:
        activity = pipeline.create_activity(
            session=uow.session,
            actor=_as(demo_url, "admin"),
            data=ActivityCreate(deal_id=deal.id, kind="call", subject="Follow up"),
        )
        uow.commit()
    at = app_as("sales_manager", "pages/pipeline/deal.py")
    at.query_params["deal"] = str(deal.id)
    at.run()
    done = at.button(key=f"done_{activity.id}")
    _someone_else_sets_value(demo_url, deal.id, "98765")
    done.click()
    at.run()
    assert not at.exception, at.exception
    with Session(get_engine(demo_url)) as s:
        assert s.get(Activity, activity.id).done_at is not None
    assert metric(at, "Value") == fmt_money(Decimal("98765"))


def test_the_client_page_shows_another_users_change(app_as, demo_url):
    deal = _open_deal(demo_url)
    at = app_as("sales_manager", "pages/pipeline/client.py")
    at.query_params["account"] = str(deal.account_id)
    at.run()
    assert not at.exception, at.exception
    _someone_else_sets_value(demo_url, deal.id, "7654321")
    at.run()
    links = [getattr(e.proto, "label", "") for e in at.get("page_link")]
    assert any(fmt_money(Decimal("7654321")) in label for label in links), links


# -- the watcher itself ---------------------------------------------------------------------


def _probe() -> None:
    import streamlit as st

    from crm_impl.core.ui import session

    session.live_page(5, "probe")
    st.session_state["drawn"] = st.session_state.get("drawn", 0) + 1


@pytest.fixture
def watched(monkeypatch):  # type: ignore[no-untyped-def]
    """A live page whose data versions are scripted: each read takes the next one."""
    state = {"versions": [], "reads": 0, "pending": False}

    def version() -> int:
        state["reads"] += 1
        return state["versions"].pop(0) if len(state["versions"]) > 1 else state["versions"][0]

    monkeypatch.setattr(ui_session, "live_user", lambda: object())
    monkeypatch.setattr(ui_session, "_data_version", version)
    monkeypatch.setattr(ui_session, "_interaction_pending", lambda: state["pending"])
    return state


def test_the_watcher_reruns_the_page_only_when_the_data_changed(watched):
    watched["versions"] = [1, 1]
    at = AppTest.from_function(_probe).run()
    assert (at.session_state["drawn"], watched["reads"]) == (1, 2)  # drew once, two tiny reads
    watched["versions"], watched["reads"] = [1, 2, 2, 2], 0  # a change between draw and tick
    at = AppTest.from_function(_probe).run()
    assert not at.exception
    assert watched["reads"] == 4  # the tick saw 2, the page ran again and drew version 2
    assert at.session_state["_live_seen_probe"] == 2


def test_the_watcher_leaves_a_pending_click_its_own_run(watched):
    watched["versions"], watched["pending"] = [1, 2, 2, 2], True
    at = AppTest.from_function(_probe).run()
    assert not at.exception
    assert watched["reads"] == 2  # no rerun of its own: the click's run redraws the page
    assert at.session_state["_live_seen_probe"] == 1


def test_a_pending_interaction_is_read_from_streamlits_request_queue(monkeypatch):
    """Guards the one private read (`ScriptRequests._state`): a Streamlit upgrade that renames
    it fails here instead of silently never deferring."""
    from streamlit.runtime.scriptrunner_utils import script_run_context

    class Ctx:
        script_requests = ScriptRequests()

    ctx = Ctx()
    monkeypatch.setattr(script_run_context, "get_script_run_ctx", lambda: ctx)
    assert not ui_session._interaction_pending()
    ctx.script_requests.request_rerun(RerunData())
    assert ui_session._interaction_pending()
