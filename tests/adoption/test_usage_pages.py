"""The usage dashboard for every role: renders without exception; refused for roles without
adoption.read, showing no data; draws its three charts; the headline figures are the report's
(English and Polish); the never-active list is the report's and exportable; both sources of use
are listed; the import link only for whoever may import."""

import pytest
from sqlmodel import Session, select

from crm_impl.adoption.queries import usage as queries
from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_number, fmt_pct, set_locale
from crm_impl.core.models import Project
from crm_impl.core.ui.nav import PAGES
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric
from tests.core.test_permissions import EXPECTED

PAGE = "pages/adoption/usage.py"


def test_the_usage_page_is_registered():
    spec = next(p for p in PAGES if p.path == PAGE)
    assert (spec.section_key, spec.action) == ("section.adoption", "adoption.read")


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
def test_usage_page_for_role(app_as, role):
    at = app_as(ROLE_LOGINS[role], PAGE)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, "adoption.read"])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
    else:
        assert len(at.get("vega_lite_chart")) == 3  # trend, per department, per role


def _report(url: str) -> dict:  # type: ignore[type-arg]
    with Session(get_engine(url)) as session:
        pid = int(session.exec(select(Project.id)).one() or 0)
        return queries.report(session, pid)


def test_headline_figures_and_lists_come_from_the_data(app_as, demo_url):
    data = _report(demo_url)
    s = data["summary"]
    assert 0 < s["mau"] < s["licensed"]  # the demo: the sales team uses it, others never did
    at = app_as("management", PAGE)
    assert metric(at, "Adoption rate (MAU ÷ licensed)") == fmt_pct(s["adoption_rate"], 1)
    assert metric(at, "WAU") == fmt_number(s["wau"])
    assert metric(at, "Stickiness (DAU ÷ MAU)") == fmt_pct(s["stickiness"], 1)
    frames = [df.value for df in at.dataframe]
    never = next(df for df in frames if {"name", "role", "start"} <= set(df.columns))
    assert sorted(never["name"]) == sorted(p["name"] for p in data["never_active"])
    sources = next(df for df in frames if "people" in df.columns)
    assert set(sources["source"]) == {"This app", "crm-mobile"}
    assert any(b.label == "Export CSV" for b in at.get("download_button"))
    assert not [link for link in at.get("page_link")]  # management does not import
    admin = app_as("admin", PAGE)
    assert [link.proto.label for link in admin.get("page_link")] == ["Import a usage log"]
    pl = app_as("management", PAGE, locale="pl")
    set_locale("pl")
    try:
        assert metric(pl, "Wskaźnik adopcji (MAU ÷ licencje)") == fmt_pct(s["adoption_rate"], 1)
    finally:
        set_locale("en")


def test_user_text_is_shown_as_text(app_as, demo_url):
    at = app_as("pm_client", PAGE)
    assert not [m for m in at.markdown if "<script" in m.value]
    imports = next(df.value for df in at.dataframe if "file_name" in df.value.columns)
    # the demo's two overlapping exports, newest first: the second skipped what the first added
    assert len(imports) == 2
    assert imports["skipped_duplicates"].iloc[0] > 0 and imports["skipped_duplicates"].iloc[1] == 0
    assert (imports["added"] > 0).all() and set(imports["source"]) == {"crm-mobile"}


def test_shares_are_shown_in_percent_to_one_decimal(app_as, demo_url):
    """The tables show the shares as the headline does (43.5, not 0.435 drawn as "43.48%")."""
    data = _report(demo_url)
    at = app_as("management", PAGE)
    departments = next(df.value for df in at.dataframe if "department" in df.value.columns)
    expected = {d["department"] or "–": d for d in data["by_department"]}
    for row in departments.itertuples():
        want = expected[row.department]
        assert row.adoption_rate == pytest.approx(100 * want["adoption_rate"])
        if want["stickiness"] is None:
            assert row.stickiness != row.stickiness  # NaN: shown as "–"
        else:
            assert row.stickiness == pytest.approx(100 * want["stickiness"])
    monthly = next(df.value for df in at.dataframe if "working_days" in df.value.columns)
    assert monthly["adoption_rate"].max() > 1  # in percent, not a fraction


def test_the_months_are_named_in_the_apps_language(app_as):
    at = app_as("management", PAGE, locale="pl")
    monthly = next(df.value for df in at.dataframe if "working_days" in df.value.columns)
    polish = ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień")
    polish += ("wrzesień", "październik", "listopad", "grudzień")
    assert all(str(m).split()[0] in polish for m in monthly["month"]), monthly["month"].tolist()
