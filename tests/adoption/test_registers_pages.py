"""The registers' pages (readiness, legacy tools, benefits) for every role: render without
exception; refused without adoption.read and showing no data; exactly their charts; the figures
are the database's (the report's); the managers get the forms, the readers do not; a tool added
through the page is saved; user text stays text; Polish renders."""

import pytest
from sqlmodel import Session, select

from crm_impl.adoption.queries import registers as queries
from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_number, fmt_pct
from crm_impl.core.models import Project
from crm_impl.core.ui.nav import PAGES
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric
from tests.core.test_permissions import EXPECTED

MINE = ("readiness", "legacy_tools", "benefits")
SPECS = [p for p in PAGES if p.path in {f"pages/adoption/{n}.py" for n in MINE}]
CHARTS = {
    "pages/adoption/readiness.py": 2,
    "pages/adoption/legacy_tools.py": 1,
    "pages/adoption/benefits.py": 1,
}


def _report(url: str) -> dict:  # type: ignore[type-arg]
    with Session(get_engine(url)) as session:
        pid = int(session.exec(select(Project.id)).one() or 0)
        return queries.report(session, pid)


def test_the_pages_are_registered_in_the_adoption_section():
    assert len(SPECS) == 3
    assert {p.section_key for p in SPECS} == {"section.adoption"}
    assert {p.action for p in SPECS} == {"adoption.read"}


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.path)
def test_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
        return
    assert len(at.get("vega_lite_chart")) == CHARTS[spec.path]
    assert bool(at.expander) == EXPECTED[role, "adoption.manage"]  # the forms: managers only


def test_readiness_shows_the_barrier_beside_usage_and_coverage(app_as, demo_url):
    data = _report(demo_url)["adkar"]
    barriers = {d["department"]: d["barrier"] for d in data["departments"] if d["responses"]}
    assert {"knowledge", "ability"} & set(barriers.values())  # the demo stalls at K and at A
    at = app_as("management", "pages/adoption/readiness.py")
    assert metric(at, "Departments with a barrier") == fmt_number(sum(1 for b in barriers.values() if b))
    view = at.dataframe[0].value
    shown = dict(zip(view["department"], view["barrier_label"], strict=True))
    words = {
        None: "none",
        "awareness": "Awareness",
        "desire": "Desire",
        "knowledge": "Knowledge",
        "ability": "Ability",
        "reinforcement": "Reinforcement",
    }
    assert {d: shown[d] for d in barriers} == {d: words[b] for d, b in barriers.items()}
    rates = {d["department"]: d["adoption_rate"] for d in data["departments"]}
    assert dict(zip(view["department"], view["adoption_rate"], strict=True)) == pytest.approx(rates)


def test_legacy_tools_figures_and_the_overdue_list(app_as, demo_url):
    data = _report(demo_url)["legacy_tools"]
    assert data["overdue"] == 1 and 0 < data["retired"] < data["tools"]
    at = app_as("pm_client", "pages/adoption/legacy_tools.py")
    assert metric(at, "Retired") == fmt_pct(data["share_retired"], 1)
    assert metric(at, "Overdue") == fmt_number(data["overdue"])
    assert at.dataframe[0].value["name"].tolist() == [t["name"] for t in data["overdue_tools"]]
    assert any(b.label == "Export CSV" for b in at.get("download_button"))


def test_a_tool_added_on_the_page_is_saved_and_its_name_stays_text(app_as, demo_url):
    at = app_as("pm_client", "pages/adoption/legacy_tools.py")
    name = "**Stary** [arkusz](http://x.example)"
    next(t for t in at.text_input if t.label == "Tool").set_value(name)
    next(b for b in at.button if b.label == "Add the tool").click().run()
    assert not at.exception and not at.error
    data = _report(demo_url)["legacy_tools"]
    assert data["tools"] == 7
    at = app_as("pm_client", "pages/adoption/legacy_tools.py")
    assert name in at.dataframe[1].value["name"].tolist()
    assert not any("http://x.example" in m.value for m in at.markdown)


def test_benefits_figures_and_where_a_benefit_was_shown(app_as, demo_url):
    data = _report(demo_url)["benefits"]
    assert data["shown"] > 0
    at = app_as("management", "pages/adoption/benefits.py")
    assert metric(at, "Benefits") == fmt_number(data["benefits"])
    assert metric(at, "Mean gain") == fmt_pct(data["mean_gain_share"], 1)
    table = at.dataframe[0].value
    assert table["gain"].tolist() == pytest.approx([i["gain"] for i in data["items"]])
    first = next(i for i in data["items"] if i["meetings"])
    with Session(get_engine(demo_url)) as session:
        pid = int(session.exec(select(Project.id)).one() or 0)
        ids = queries.benefits(session, pid).set_index("name")["id"]
    at.selectbox(key="benefit_pick").set_value(int(ids[first["name"]])).run()
    assert len(at.dataframe[1].value) == first["meetings"]


def test_polish_pages(app_as):
    at = app_as("management", "pages/adoption/readiness.py", locale="pl")
    assert not at.exception
    assert metric(at, "Działy z barierą")
    at = app_as("management", "pages/adoption/legacy_tools.py", locale="pl")
    assert metric(at, "Po terminie") == fmt_number(1)
