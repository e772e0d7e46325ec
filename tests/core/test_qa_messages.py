"""Messages a user sees after a mistake in a form: translated, naming the field or stage in the
user's language, and nothing written."""

from __future__ import annotations

import json

from sqlmodel import Session, func, select

from crm_impl.core.db import get_engine
from crm_impl.core.i18n import set_locale
from crm_impl.pipeline.models import Deal


def _deal_count(url: str) -> int:
    with Session(get_engine(url)) as session:
        return int(session.exec(select(func.count()).select_from(Deal)).one())


def test_new_deal_without_account_names_the_stage_in_polish(app_as, demo_url):
    before = _deal_count(demo_url)
    at = app_as("sales_rep", "pages/pipeline/deal.py", locale="pl")
    set_locale("pl")  # AppTest formats widget options in the test's thread when it submits
    at.text_input[0].set_value("Nowa szansa bez klienta")
    stage = next(s for s in at.selectbox if s.label == "Etap")
    stage.select_index(stage.options.index("Oferta"))
    at.button[0].click().run()
    set_locale("en")
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "„Oferta”" in errors, errors
    assert "Offer" not in errors
    assert _deal_count(demo_url) == before


def _idea_count(url: str) -> int:
    from crm_impl.rollout.models import Idea

    with Session(get_engine(url)) as session:
        return int(session.exec(select(func.count()).select_from(Idea)).one())


def test_a_failed_idea_keeps_what_was_typed_and_a_saved_one_clears_the_form(app_as, demo_url):
    before = _idea_count(demo_url)
    at = app_as("sales_rep", "pages/rollout/ideas.py")
    description = next(a for a in at.text_area if a.label == "Description")
    description.set_value("Quotes should be sent from the CRM with our letterhead.")
    next(b for b in at.button if b.label == "Submit an idea").click().run()
    assert not at.exception
    assert any("Title" in e.value and "required" in e.value for e in at.error), [e.value for e in at.error]
    assert _idea_count(demo_url) == before
    kept = next(a for a in at.text_area if a.label == "Description")
    assert kept.value == "Quotes should be sent from the CRM with our letterhead."

    next(i for i in at.text_input if i.label == "Title").set_value("Quotes from the CRM")
    next(b for b in at.button if b.label == "Submit an idea").click().run()
    assert not at.exception and not at.error
    assert _idea_count(demo_url) == before + 1
    assert next(a for a in at.text_area if a.label == "Description").value == ""
    assert next(i for i in at.text_input if i.label == "Title").value == ""


def test_new_stage_position_lists_stages_in_polish(app_as):
    at = app_as("admin", "pages/pipeline/settings.py", locale="pl")
    assert not at.exception
    after = next(s for s in at.selectbox if s.label == "Po etapie")
    assert "Oferta" in after.options and "Proposal" not in after.options


def test_stage_share_chart_puts_stages_on_the_readable_axis(app_as):
    at = app_as("sales_manager", "pages/pipeline/dashboard.py", locale="pl")
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    enc = next(
        s["encoding"] for s in specs if "share" in (s["encoding"]["x"]["field"], s["encoding"]["y"]["field"])
    )
    # vertical bars in a half-width column dropped every other stage name
    assert enc["y"]["field"] == "stage" and enc["x"]["field"] == "share"


def test_backtest_table_shows_money_in_the_users_format(app_as):
    at = app_as("sales_manager", "pages/pipeline/forecast.py", locale="pl")
    assert not at.exception
    table = next(d.value for d in at.dataframe if "mae" in d.value.columns)
    scored = table[table["mae"] != "–"]
    assert len(scored) >= 3 and scored["mae"].str.endswith("zł").all(), table.head()
    points = next(d.value for d in at.dataframe if "lo80" in d.value.columns)
    assert len(points) and points["value"].str.endswith("zł").all(), points.head()


def test_creating_a_deal_opens_it_and_empties_the_form(app_as, demo_url):
    from sqlmodel import Session, select

    from crm_impl.core.db import get_engine
    from crm_impl.pipeline.models import Deal

    at = app_as("sales_rep", "pages/pipeline/deal.py")
    title = next(w for w in at.text_input if w.label == "Title")
    title.input("Cement for the Kraków warehouse")
    next(b for b in at.button if b.label == "Create deal").click().run()
    assert not at.exception and not at.error
    with Session(get_engine(demo_url)) as s:
        created = s.exec(select(Deal).where(Deal.title == "Cement for the Kraków warehouse")).all()
    assert len(created) == 1
    assert at.query_params["deal"] in (str(created[0].id), [str(created[0].id)])
    assert next(w for w in at.text_input if w.label == "Title").value == ""
    at.run()  # a further run does not create it again
    with Session(get_engine(demo_url)) as s:
        assert len(s.exec(select(Deal).where(Deal.title == "Cement for the Kraków warehouse")).all()) == 1


def test_dashboard_says_the_current_month_is_still_in_progress(app_as):
    from datetime import date

    from crm_impl.core.i18n import fmt_month, set_locale

    at = app_as("management", "pages/pipeline/dashboard.py", locale="pl")
    assert not at.exception
    set_locale("pl")
    month = fmt_month(date.today().replace(day=1))
    assert any(f"Ostatni miesiąc ({month}) jeszcze trwa" in c.value for c in at.caption)
