"""Database faults (issue 8): writers wait for each other instead of failing, a busy database
gives a translated message with nothing written, and a page whose PostgreSQL goes away says so
(translated, no traceback) and comes back when the database does.

PostgreSQL is never stopped here (others share the server): the app talks to it through a TCP
proxy in this process, which the test cuts and restores.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from crm_impl.core import db
from crm_impl.core.db import UnitOfWork, get_engine
from crm_impl.core.errors import DatabaseBusy, DatabaseUnavailable
from crm_impl.core.i18n import set_locale
from crm_impl.core.models import UserAccount
from crm_impl.pipeline.services.stages import ensure_default_stages
from tests.conftest import _truncate_pg, need
from tests.core.test_errors_shown import open_page

BUSY_EN = "The database is busy right now, so nothing was saved. Try again in a moment."
UNAVAILABLE_EN = "The database cannot be reached right now. Nothing was lost; try again in a moment."


# --- SQLite: writers wait ---------------------------------------------------------------


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "faults.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    yield url
    get_engine(url).dispose()


def _hold_write_lock(url: str, seconds: float, held: threading.Event) -> threading.Thread:
    """Another writer: takes SQLite's write lock, keeps it `seconds`, commits."""

    def hold() -> None:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(5)
    return thread


def _add_user(name: str):  # type: ignore[no-untyped-def]
    def work(session: Session) -> int:
        user = UserAccount(username=name, roles=["sales_rep"], display_name=name)
        session.add(user)
        session.flush()
        assert user.id is not None
        return user.id

    return work


def _has_user(url: str, name: str) -> bool:
    with Session(get_engine(url)) as s:
        return s.exec(select(UserAccount).where(UserAccount.username == name)).first() is not None


def test_sqlite_runs_in_wal_with_a_busy_timeout(sqlite_url: str) -> None:
    with get_engine(sqlite_url).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_a_write_waits_for_a_lock_held_2_s_and_succeeds(sqlite_url: str) -> None:
    get_engine(sqlite_url)  # engine ready before the clock starts
    holder = _hold_write_lock(sqlite_url, 2.0, threading.Event())
    started = time.monotonic()
    user_id = db.write(_add_user("waiter"), engine=get_engine(sqlite_url))
    waited = time.monotonic() - started
    holder.join()
    assert user_id > 0 and _has_user(sqlite_url, "waiter")
    assert 1.5 <= waited < 8, waited  # it waited for the lock, then wrote


def test_a_busy_write_is_re_run_with_backoff_until_the_lock_is_free(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one statement gives up after 0.2 s, so the 2 s lock is outlasted only by re-running
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(db, "RETRY_BUDGET_SECONDS", 8.0)
    retries = db.busy_retries()
    holder = _hold_write_lock(sqlite_url, 2.0, threading.Event())
    db.write(_add_user("patient"), engine=get_engine(sqlite_url))
    holder.join()
    assert _has_user(sqlite_url, "patient")
    assert db.busy_retries() - retries >= 2  # 2 s / (0.2 s wait + backoff) attempts at least


def test_a_lock_held_past_the_budget_gives_the_translated_busy_message_and_writes_nothing(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(db, "RETRY_BUDGET_SECONDS", 1.0)
    retries = db.busy_retries()
    attempts = 0

    def work(session: Session) -> None:
        nonlocal attempts
        attempts += 1
        _add_user("too_late")(session)

    holder = _hold_write_lock(sqlite_url, 3.0, threading.Event())
    started = time.monotonic()
    with pytest.raises(DatabaseBusy) as caught:
        db.write(work, engine=get_engine(sqlite_url))
    gave_up_after = time.monotonic() - started
    holder.join()
    assert caught.value.message() == BUSY_EN
    set_locale("pl")
    assert caught.value.message() == (
        "Baza danych jest teraz zajęta, więc nic nie zostało zapisane. Spróbuj ponownie za chwilę."
    )
    assert attempts >= 2 and db.busy_retries() - retries == attempts - 1  # the whole work re-ran
    assert gave_up_after < 2.0, gave_up_after  # within the budget (+ one statement's wait)
    assert not _has_user(sqlite_url, "too_late")  # nothing written, also after the lock is free


def test_a_unit_of_work_translates_a_locked_database(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.1)
    holder = _hold_write_lock(sqlite_url, 1.0, threading.Event())
    with pytest.raises(DatabaseBusy) as caught, UnitOfWork(get_engine(sqlite_url)) as uow:
        _add_user("direct")(uow.session)
        uow.commit()
    holder.join()
    assert isinstance(caught.value.__cause__, OperationalError)
    assert "locked" in str(caught.value.__cause__)
    assert not _has_user(sqlite_url, "direct")


def test_real_errors_are_not_retried_or_disguised(sqlite_url: str) -> None:
    db.write(_add_user("twice"), engine=get_engine(sqlite_url))
    retries = db.busy_retries()
    with pytest.raises(IntegrityError):
        db.write(_add_user("twice"), engine=get_engine(sqlite_url))
    assert db.busy_retries() == retries
    assert db.classify(IntegrityError("x", {}, Exception("UNIQUE"))) is None


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    for attempt in range(10):
        delay = min(db.RETRY_CAP_SECONDS, db.RETRY_BASE_SECONDS * 2**attempt)
        samples = {db.backoff(attempt) for _ in range(50)}
        assert all(delay / 2 <= s <= delay for s in samples)
        assert len(samples) > 1  # jitter: colliding writers do not retry in lockstep
    assert db.backoff(20) <= db.RETRY_CAP_SECONDS


# --- PostgreSQL: deadlocks are re-run; an unreachable server ---------------------------


@pytest.fixture
def pg_url(pg_database_url: str | None) -> str:
    need(pg_database_url is not None, "PostgreSQL (set CRM_IMPL_TEST_PG_URL)")
    assert pg_database_url is not None
    _truncate_pg(get_engine(pg_database_url))
    with UnitOfWork(get_engine(pg_database_url)) as uow:
        ensure_default_stages(session=uow.session)
        uow.session.add(UserAccount(username="admin", roles=["admin"], display_name="Admin"))
        uow.session.add(UserAccount(username="other", roles=["sales_rep"], display_name="Other"))
        uow.commit()
    return pg_database_url


def test_a_postgresql_deadlock_is_re_run_and_both_writers_succeed(pg_url: str) -> None:
    engine = get_engine(pg_url)
    with Session(engine) as s:
        ids = [u.id for u in s.exec(select(UserAccount).order_by(col(UserAccount.username))).all()]
    first_attempt = threading.Barrier(2, timeout=10)
    retries = db.busy_retries()
    errors: list[BaseException] = []

    def writer(order: list[int | None], name: str) -> None:
        attempts = 0

        def work(session: Session) -> None:
            nonlocal attempts
            attempts += 1
            for i, user_id in enumerate(order):
                session.execute(
                    update(UserAccount).where(col(UserAccount.id) == user_id).values(display_name=name)
                )
                if i == 0 and attempts == 1:
                    first_attempt.wait()  # both hold their first row: a deadlock, 40P01

        try:
            db.write(work, engine=engine)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(ids, "a")),
        threading.Thread(target=writer, args=(list(reversed(ids)), "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert db.busy_retries() - retries == 1  # PostgreSQL chose one victim; it was re-run
    with Session(engine) as s:
        names = {u.display_name for u in s.exec(select(UserAccount)).all()}
    assert len(names) == 1 and names <= {"a", "b"}  # the re-run writer's both rows, all-or-nothing


class Proxy:
    """A TCP proxy in front of the real PostgreSQL server that the test can cut (every
    connection dropped, the port refusing new ones) and restore on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        probe = socket.create_server(("127.0.0.1", 0))
        self.port = int(probe.getsockname()[1])
        probe.close()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._running = False
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR on POSIX
        self._listener.settimeout(0.1)
        self._running = True
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def cut(self) -> None:
        self._running = False
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._running:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied_pg(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Proxy]]:
    real = make_url(pg_url)
    proxy = Proxy((real.host or "127.0.0.1", real.port or 5432))
    url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    monkeypatch.setenv("CRM_IMPL_DATABASE_URL", url)
    yield url, proxy
    proxy.cut()
    get_engine(url).dispose()


def test_an_unreachable_postgresql_is_classified_unavailable(proxied_pg: tuple[str, Proxy]) -> None:
    url, proxy = proxied_pg
    with db.read_session(get_engine(url)) as s:
        assert s.exec(select(func.count()).select_from(UserAccount)).one() == 2
    proxy.cut()
    with pytest.raises(DatabaseUnavailable) as caught, db.read_session(get_engine(url)) as s:
        s.execute(text("SELECT 1"))
    assert caught.value.message() == UNAVAILABLE_EN
    with pytest.raises(DatabaseUnavailable):
        db.write(_add_user("offline"), engine=get_engine(url))  # not retried: it is not "busy"
    proxy.restore()
    db.write(_add_user("online"), engine=get_engine(url))
    assert _has_user(url, "online") and not _has_user(url, "offline")


def test_postgresql_stopped_while_a_page_is_open_says_unavailable_and_the_page_recovers(
    proxied_pg: tuple[str, Proxy],
) -> None:
    url, proxy = proxied_pg
    at = open_page(url, "admin", "pages/admin/users.py")
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Users"]

    proxy.cut()  # the database goes away while the page is open; the user clicks
    time.sleep(2.1)  # past the app's 2 s memo of the session check, so the run needs the database
    at.run()
    assert not at.exception  # no traceback box
    [error] = [e.value for e in at.error]
    assert error.startswith(UNAVAILABLE_EN), error
    assert "psycopg" not in error and "127.0.0.1" not in error and "connection" not in error.lower()
    assert [b.label for b in at.button if b.key == "_failure_retry"] == ["Try again"]

    proxy.restore()  # the database is back: the next run shows the page again, still signed in
    next(b for b in at.button if b.key == "_failure_retry").click()
    at.run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Users"]
    assert "admin" in set(at.dataframe[0].value["username"])
