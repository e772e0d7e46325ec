"""Every data-quality page for every role: renders without exception; forbidden pages refuse and
show no data; allowed pages draw their charts; the overall figure is the scan's."""

import pytest
from sqlmodel import Session, select

from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_number
from crm_impl.core.ui.nav import PAGES
from crm_impl.data_quality import metrics, queries
from crm_impl.pipeline.models import Contact
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric
from tests.core.test_permissions import EXPECTED

DQ = [p for p in PAGES if p.path.startswith("pages/data_quality/") and "duplicates" not in p.path]
CHARTS = {"pages/data_quality/overview.py": 2}  # dimension bars, trend of the demo's snapshots


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", DQ, ids=lambda s: s.path)
def test_dq_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
    else:
        assert len(at.get("vega_lite_chart")) == CHARTS.get(spec.path, 0)


def test_overview_figures_are_the_scan(app_as, demo_url):
    with Session(get_engine(demo_url)) as session:
        scores = metrics.dimension_scores(queries.run(queries.load(session)))
    overall = scores.set_index(["entity", "dimension"]).loc[(metrics.ALL, metrics.OVERALL)]
    at = app_as("management", "pages/data_quality/overview.py")
    assert metric(at, "Overall score") == fmt_number(overall["score"], 1)
    assert metric(at, "Records with an issue") == fmt_number(int(overall["failing"]))
    pl = app_as("management", "pages/data_quality/overview.py", locale="pl")
    assert metric(pl, "Ocena ogólna") == fmt_number(overall["score"], 1).replace(".", ",")


def test_records_page_lists_the_demo_slips(app_as):
    at = app_as("sales_manager", "pages/data_quality/records.py")
    table = at.dataframe[0].value
    assert (table["record"] == "Test Test").any() and (table["record"] == "Umowa ramowa 2027").any()
    assert table["what"].str.contains("looks made up").any()


@pytest.mark.parametrize(
    ("locale", "owner", "department"), [("en", "Owner", "Department"), ("pl", "Opiekun", "Dział")]
)
def test_overview_tables_are_named_in_both_languages(app_as, demo_url, locale, owner, department):
    from crm_impl.core.i18n import catalogue
    from crm_impl.data_quality.rules import REGISTRY

    names = catalogue(locale)
    assert all(f"dq.rule_name.{r.id}" in names for r in REGISTRY)
    with Session(get_engine(demo_url)) as session:
        top = metrics.top_issues(queries.run(queries.load(session)), 15)
    at = app_as("management", "pages/data_quality/overview.py", locale=locale)
    frames = [df.value for df in at.dataframe]
    issues = next(df for df in frames if "rule" in df.columns)
    # the rule's name, not its per-record message with the values left out ("… (similarity )")
    assert issues["rule"].tolist() == [names[f"dq.rule_name.{r}"] for r in top["rule"]]
    assert not issues["rule"].str.contains("…|\\( ?\\)|\\{", regex=True).any()
    firsts = [df.columns[0] for df in frames]
    assert owner in firsts and department in firsts and "group" not in firsts


def test_fixing_a_contact_says_its_score_before_and_after(app_as, demo_url):
    """The demo's made-up contact (placeholder e-mail, repeated-digit phone), corrected in the
    records page's form: the next run says her score went from what the scan gave to 100."""
    person = "Anna Wiśniewska"
    with Session(get_engine(demo_url)) as session:
        scores = metrics.record_scores(queries.run(queries.load(session)))
        contact = session.exec(select(Contact).where(Contact.full_name == person)).one()
    before = scores[(scores["entity"] == "contact") & (scores["id"] == contact.id)]["score"].iloc[0]
    assert before < 100
    at = app_as("sales_manager", "pages/data_quality/records.py")
    at.session_state["dq_fix_pick"] = ("contact", contact.id)  # picked in the "Record to fix" box
    at.run()
    form = f"dq_fix_contact_{contact.id}_"  # + the version the form shows
    fields = {w.label: w for w in at.text_input if w.form_id.startswith(form)}
    fields["E-mail"].input("anna.wisniewska@budmax.pl")
    fields["Phone"].input("+48 601 234 567")
    next(b for b in at.button if b.form_id.startswith(form) and b.label == "Save").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    moved = [s.value for s in at.success]
    assert f"{person}: score {fmt_number(before, 1)} → 100.0." in moved, moved
    at.run()  # said once: the next run (nothing changed) does not repeat it
    assert not any(person in s.value for s in at.success)
