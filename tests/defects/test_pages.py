"""Every defects page for every role (and the client-side tester): renders without exception;
forbidden pages refuse and show no data; the dashboard draws exactly its charts and its numbers
are the database's; a tester files a defect through the page and finds it in the list; each
user is offered only the moves the lifecycle allows them; the release gate names its blockers."""

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from crm_impl.core.auth import actor_for
from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_number
from crm_impl.core.models import Project, UserAccount
from crm_impl.core.ui.nav import PAGES, SECTION_ORDER
from crm_impl.defects import services
from crm_impl.defects.models import OPEN_STATUSES, Defect, Release
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric
from tests.core.test_permissions import EXPECTED

DEFECTS = [p for p in PAGES if p.path.startswith("pages/defects/")]
# the client-side tester has the app role tester; her side changes what the pages offer
LOGINS = {
    **{role: (role, login) for role, login in ROLE_LOGINS.items()},
    "tester_client": ("tester", "tester_client"),
}
CHARTS = {"pages/defects/dashboard.py": 7}  # every other defects page draws none


def _session(url: str) -> Session:
    return Session(get_engine(url))


def _user(session: Session, login: str) -> UserAccount:
    return session.exec(select(UserAccount).where(UserAccount.username == login)).one()


def _project_id(session: Session) -> int:
    return int(session.exec(select(Project.id)).one() or 0)


def test_every_defects_page_is_registered_under_testing():
    assert {p.path for p in DEFECTS} == {
        f"pages/defects/{n}.py" for n in ("list", "new", "defect", "my_work", "releases", "dashboard")
    }
    assert {p.section_key for p in DEFECTS} == {"section.testing"}
    assert SECTION_ORDER.index("section.testing") == SECTION_ORDER.index("section.rollout") + 1
    assert {p.title_key for p in DEFECTS} == {f"page.defects_{p.path.split('/')[-1][:-3]}" for p in DEFECTS}


@pytest.mark.parametrize("who", list(LOGINS))
@pytest.mark.parametrize("spec", DEFECTS, ids=lambda s: s.path)
def test_defects_page_for_role(app_as, who, spec):
    role, login = LOGINS[who]
    at = app_as(login, spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
    else:
        assert len(at.get("vega_lite_chart")) == CHARTS.get(spec.path, 0)


def test_dashboard_counts_what_the_database_holds(app_as, demo_url):
    with _session(demo_url) as session:
        pid = _project_id(session)
        count = select(func.count()).select_from(Defect).where(col(Defect.project_id) == pid)
        total = int(session.exec(count).one())
        still_open = int(session.exec(count.where(col(Defect.status).in_(OPEN_STATUSES))).one())
    assert total > 0 and 0 < still_open < total  # the demo's testing phase
    at = app_as("management", "pages/defects/dashboard.py")
    assert metric(at, "Defects") == fmt_number(total)
    assert metric(at, "Open") == fmt_number(still_open)
    pl = app_as("management", "pages/defects/dashboard.py", locale="pl")
    assert metric(pl, "Otwarte") == fmt_number(still_open)


def test_a_tester_files_a_defect_and_finds_it_in_the_list(app_as, demo_url):
    title = "Invoice PDF shows the net total twice"
    at = app_as("tester", "pages/defects/new.py")
    at.text_input(key="defect_new_title_0").input(title).run()
    at.text_area(key="defect_new_steps_0").input("Open an invoice, print it as PDF").run()
    at.button(key="defect_new_submit_0").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with _session(demo_url) as session:
        filed = session.exec(select(Defect).where(Defect.title == title)).one()
        assert filed.status == "new" and filed.reporter_id == _user(session, "tester").id
    assert any(f"#{filed.id}" in s.value for s in at.success)
    listed = app_as("tester", "pages/defects/list.py")
    assert title in set(listed.dataframe[0].value["title"])
    # typing the same title again suggests the defect just filed, before any save
    again = app_as("tester", "pages/defects/new.py")
    again.text_input(key="defect_new_title_0").input("Invoice PDF shows net total twice").run()
    assert any("Similar defects" in w.value for w in again.warning)
    assert filed.id in set(again.dataframe[0].value["id"])


def test_a_bad_defect_is_refused_with_nothing_written(app_as, demo_url):
    with _session(demo_url) as session:
        before = int(session.exec(select(func.count()).select_from(Defect)).one())
    at = app_as("tester", "pages/defects/new.py")
    at.button(key="defect_new_submit_0").click().run()  # no title
    assert at.error and "Title" in at.error[0].value
    with _session(demo_url) as session:
        assert int(session.exec(select(func.count()).select_from(Defect)).one()) == before


def _defect_in(session: Session, status: str, **where: Any) -> Defect:
    query = select(Defect).where(Defect.status == status).order_by(col(Defect.id))
    for name, value in where.items():
        query = query.where(getattr(Defect, name) == value)
    found = session.exec(query).first()
    assert found is not None, (status, where)
    return found


def test_each_user_is_offered_only_their_moves(app_as, demo_url):
    with _session(demo_url) as session:
        programmer = _user(session, "programmer")
        mine = _defect_in(session, "assigned", assignee_id=programmer.id)
        expected = services.allowed_transitions(session=session, actor=actor_for(programmer), defect=mine)
    assert expected == ["in_progress"]
    at = app_as("programmer", "pages/defects/list.py")
    at.switch_page("pages/defects/defect.py")
    at.query_params["id"] = str(mine.id)
    at.run()
    assert not at.exception
    assert [o for o in at.radio(key=f"move_{mine.id}").options] == ["In progress"]
    pm = app_as("pm_vendor", "pages/defects/list.py")
    pm.switch_page("pages/defects/defect.py")
    pm.query_params["id"] = str(mine.id)
    pm.run()
    assert "In progress" not in pm.radio(key=f"move_{mine.id}").options  # only the assignee fixes


def test_the_release_gate_names_the_defects_that_block_it(app_as, demo_url):
    with _session(demo_url) as session:
        releases = session.exec(select(Release).order_by(col(Release.id))).all()
        blocked = {r.id: services.release_gate(session=session, release_id=int(r.id or 0)) for r in releases}
    name, reasons = next((r.name, blocked[r.id]) for r in releases if blocked[r.id])
    at = app_as("pm_vendor", "pages/defects/releases.py")
    at.selectbox(key="release_pick").set_value(next(r.id for r in releases if r.name == name)).run()
    assert not at.exception
    assert any("block go-live" in e.value or "blocks go-live" in e.value for e in at.error)
    shown = [df.value for df in at.dataframe if "reason" in df.value.columns]
    assert shown and list(shown[0]["id"]) == [r.defect_id for r in reasons]


def test_the_edit_form_saves_only_what_changed_and_says_so_after_the_rerun(app_as, demo_url):
    with _session(demo_url) as session:
        defect = _defect_in(session, "assigned")
        before = defect.version
    at = app_as("tester", "pages/defects/list.py")
    at.switch_page("pages/defects/defect.py")
    at.query_params["id"] = str(defect.id)
    at.run()
    form_title = next(w for w in at.text_input if w.value == defect.title)
    form_title.input("Invoice PDF: VAT rounded twice")
    submit = next(b for b in at.button if b.proto.form_id.startswith(f"defect_edit_{defect.id}_"))
    submit.click().run()
    assert not at.exception
    with _session(demo_url) as session:
        saved = session.get(Defect, defect.id)
        assert saved is not None
        assert (saved.title, saved.version) == ("Invoice PDF: VAT rounded twice", before + 1)
    assert "Invoice PDF: VAT rounded twice" in [w.value for w in at.text_input]
