"""No raw exception reaches a user (issue 8, item 3), AppTest on the real users page.

A service that hits a real IntegrityError, a page that raises unexpectedly and a save against a
database locked by another writer each show one translated message - with an incident number
that is logged with the traceback under logger "crm_impl.incident" when the error was
unexpected - and never the exception's text (SQL, table names, values) or a traceback box.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from crm_impl.core import db, users
from crm_impl.core.db import get_engine
from crm_impl.core.models import UserAccount
from tests.apptest import APP

PAGE = "pages/admin/users.py"
INCIDENT = r"[A-Z2-9]{4}-[A-Z2-9]{4}"
RAW = ("INSERT", "SELECT", "UNIQUE", "user_account", "Traceback", "sqlite3", "IntegrityError", "locked")


def open_page(url: str, login: str, page: str | None = None, *, locale: str = "en") -> AppTest:
    """The app signed in as `login` on the database at `url` (like tests.apptest.app_as, which is
    bound to the SQLite demo): with a server-side session when the app keeps one."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["locale"] = locale
    with Session(get_engine(url), expire_on_commit=False) as s:
        user = s.exec(select(UserAccount).where(UserAccount.username == login)).one()
        at.session_state["user_id"] = user.id
        try:
            from crm_impl.core import sessions
        except ImportError:  # pragma: no cover - before server-side sessions
            sessions = None  # type: ignore[assignment]
        if sessions is not None and hasattr(sessions, "start"):
            session_id, _ticket = sessions.start(session=s, user=user)
            s.commit()
            at.session_state["session_id"] = session_id
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def _shown(at: AppTest) -> str:
    """Every text a user can read on the page (errors, Markdown, captions, texts, exceptions)."""
    parts = [e.value for e in at.error] + [e.value for e in at.warning] + [m.value for m in at.markdown]
    parts += [c.value for c in at.caption] + [x.value for x in at.text] + [str(x.value) for x in at.exception]
    return "\n".join(str(p) for p in parts)


def _users(url: str) -> int:
    with Session(get_engine(url)) as s:
        return int(s.exec(select(func.count()).select_from(UserAccount)).one())


def _incident_records(caplog: pytest.LogCaptureFixture, incident: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "crm_impl.incident" and incident in r.getMessage()]


def _create_user(at: AppTest, username: str) -> None:
    next(w for w in at.text_input if w.label == "Username").set_value(username)
    next(w for w in at.text_input if w.label == "Full name").set_value("Ewa Test")
    next(w for w in at.text_input if w.label == "Password").set_value("a-long-unusual-phrase-41")
    next(w for w in at.multiselect if w.label == "Roles").set_value(["sales_rep"])
    next(b for b in at.button if b.label == "New user").click()
    at.run()


def test_an_integrity_error_in_a_save_shows_a_translated_message_with_an_incident_id(
    demo_url, monkeypatch, caplog
):
    def duplicate_admin(*, session, actor, data):  # type: ignore[no-untyped-def]
        # a real IntegrityError from the database: its text holds the SQL and the values
        session.add(UserAccount(username="admin", roles=["admin"], password_hash="x", display_name="dup"))
        session.flush()

    monkeypatch.setattr(users, "create_user", duplicate_admin)
    at = open_page(demo_url, "admin", PAGE)
    before = _users(demo_url)
    caplog.set_level(logging.ERROR, logger="crm_impl.incident")
    _create_user(at, "ewa.test")

    assert not at.exception
    [error] = [e.value for e in at.error]
    match = re.fullmatch(
        "This change does not fit the data already stored \\(a duplicate, or a linked record that no "
        f"longer exists\\), so nothing was saved. If it happens again, give your administrator this "
        f"incident number: ({INCIDENT}).",
        error,
    )
    assert match, error
    shown = _shown(at)
    assert not [word for word in RAW if word in shown], shown
    [record] = _incident_records(caplog, match.group(1))
    assert record.exc_info is not None and isinstance(record.exc_info[1], IntegrityError)
    assert "user_account" in str(record.exc_info[1])  # the log has the details the user did not see
    assert _users(demo_url) == before
    assert not at.toast  # no success message
    assert next(w for w in at.text_input if w.label == "Full name").value == "Ewa Test"  # input kept


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        (
            "en",
            "This page could not be shown because of an unexpected error. If it happens again, give "
            "your administrator this incident number: ",
        ),
        (
            "pl",
            "Nie udało się wyświetlić tej strony z powodu nieoczekiwanego błędu. Jeśli to się powtórzy, "
            "podaj administratorowi numer zgłoszenia: ",
        ),
    ],
)
def test_a_page_that_raises_shows_a_translated_message_instead_of_a_traceback(
    demo_url, monkeypatch, caplog, locale, text
):
    def broken(**_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("SELECT password_hash FROM user_account WHERE username = 'admin'")

    monkeypatch.setattr(users, "list_users", broken)
    caplog.set_level(logging.ERROR, logger="crm_impl.incident")
    at = open_page(demo_url, "admin", PAGE, locale=locale)

    assert not at.exception
    [error] = [e.value for e in at.error]
    match = re.fullmatch(re.escape(text) + f"({INCIDENT}).", error)
    assert match, error
    shown = _shown(at)
    assert not [word for word in RAW if word in shown], shown
    [record] = _incident_records(caplog, match.group(1))
    assert record.exc_info is not None and "password_hash" in str(record.exc_info[1])
    assert "pages_admin_users" in record.getMessage() or "admin_users" in record.getMessage()


def test_a_domain_error_keeps_its_own_message_and_gets_no_incident(demo_url, caplog):
    at = open_page(demo_url, "admin", PAGE)
    caplog.set_level(logging.ERROR, logger="crm_impl.incident")
    _create_user(at, "Not A Username!")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "A username has 2–64 characters: lowercase letters, digits, dots, dashes or underscores, "
        "starting with a letter or digit."
    ]
    assert not [r for r in caplog.records if r.name == "crm_impl.incident"]


def test_a_save_against_a_locked_database_waits_then_shows_the_busy_message(demo_url, monkeypatch):
    at = open_page(demo_url, "admin", PAGE)
    before = _users(demo_url)
    # short waits so the test is quick: one statement waits 0.1 s, the whole save 3 s (it hashes
    # the password in every attempt)
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(db, "RETRY_BUDGET_SECONDS", 3.0)
    get_engine(demo_url).dispose()  # new connections take the short busy timeout
    retries = db.busy_retries()
    holder = sqlite3.connect(Path(demo_url.removeprefix("sqlite:///")), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock throughout
        _create_user(at, "ewa.test")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert not at.exception
    assert [e.value for e in at.error] == [
        "The database is busy right now, so nothing was saved. Try again in a moment."
    ]
    assert db.busy_retries() > retries  # the save was re-run before giving up
    assert _users(demo_url) == before
    assert next(w for w in at.text_input if w.label == "Username").value == "ewa.test"  # input kept
