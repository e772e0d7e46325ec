"""The one UI save path on the pipeline settings page (AppTest): a successful save reruns and
shows its success message after the rerun; a failed one shows the translated error, writes
nothing and keeps what the user typed."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from crm_impl.core.db import get_engine
from crm_impl.pipeline.models import SalesBudget, StageDefinition

PAGE = "pages/pipeline/settings.py"


def _by_label(widgets, label: str):  # type: ignore[no-untyped-def]
    return next(w for w in widgets if w.label == label)


def _count(url: str, model) -> int:  # type: ignore[no-untyped-def]
    with Session(get_engine(url)) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_a_save_shows_its_success_message_after_the_rerun(app_as, demo_url):
    at = app_as("sales_manager", PAGE)
    assert not at.exception, at.exception
    before = _count(demo_url, SalesBudget)
    _by_label(at.date_input, "Month").set_value("2031-05-17")
    _by_label(at.number_input, "Sales budget").set_value(123456.0)
    [b for b in at.button if b.label == "Save"][-1].click()  # the budget form's (last tab)
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.toast] == ["Saved."]  # shown in the run after the rerun
    assert not at.error
    assert _count(demo_url, SalesBudget) == before + 1
    at.run()  # a later run does not repeat it
    assert not at.toast


def test_a_failed_save_shows_the_error_writes_nothing_and_keeps_the_input(app_as, demo_url):
    at = app_as("sales_manager", PAGE)
    stages = _count(demo_url, StageDefinition)
    _by_label(at.text_input, "Key (identifier)").set_value("Not a key!")
    _by_label(at.text_input, "Name (English)").set_value("Demo")
    _by_label(at.button, "Add stage").click()
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "A key has 2–40 characters: lowercase letters, digits and underscores, starting with a letter."
    ]
    assert not at.toast
    assert _count(demo_url, StageDefinition) == stages
    assert _by_label(at.text_input, "Name (English)").value == "Demo"  # what the user typed stays
