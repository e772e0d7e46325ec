"""Messages a user sees after a mistake in a form: translated, naming the field or stage in the
user's language, and nothing written."""

from __future__ import annotations

from sqlmodel import Session, func, select

from crm_impl.db import get_engine
from crm_impl.i18n import set_locale
from crm_impl.models import Deal


def _deal_count(url: str) -> int:
    with Session(get_engine(url)) as session:
        return int(session.exec(select(func.count()).select_from(Deal)).one())


def test_new_deal_without_account_names_the_stage_in_polish(app_as, demo_url):
    before = _deal_count(demo_url)
    at = app_as("sales_rep", "pages/pipeline_deal.py", locale="pl")
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
