"""Small building blocks every page uses: the permission guard, running a service call with
translated errors, and CSV downloads."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, TypeVar, cast

import pandas as pd
import streamlit as st
from babel import numbers as babel_numbers
from sqlalchemy.exc import IntegrityError
from streamlit.runtime.scriptrunner import get_script_run_ctx

from crm_impl.core import db, exporting, incidents
from crm_impl.core.errors import DatabaseBusy, DatabaseUnavailable, DomainError, escaping
from crm_impl.core.i18n import LANGUAGES, fmt_money, get_locale, set_locale, t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import session as ui_session
from crm_impl.core.ui.nav import spec_for

T = TypeVar("T")

# What a table shows in an empty cell (pass as `placeholder=` to st.dataframe / st.data_editor);
# Streamlit's default is a grey "None".
EMPTY = "–"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~:$])")


def page(path: str) -> Actor:
    """Title the page and refuse (showing no data) when the user may not open it."""
    spec = spec_for(path)
    user = ui_session.current_user()  # one lookup serves the language and the permission check
    ui_session.apply_locale(user)
    actor = ui_session.actor(user)
    st.title(t(spec.title_key))
    flash()
    if not actor.can(spec.action):
        st.error(t("error.page_forbidden"), icon=":material/block:")
        st.stop()
    return actor


def _call(fn: Callable[..., T], success_key: str | None, kwargs: dict[str, Any]) -> tuple[bool, T | None]:
    try:
        actor = ui_session.actor()
        # the whole call is re-run when the database is busy (db.write), then DatabaseBusy
        result = db.write(lambda session: fn(session=session, actor=actor, **kwargs))
    except Exception as exc:  # noqa: BLE001 - every failure becomes a translated message
        show_failure(exc, where=f"save {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}")
        return False, None
    if success_key:
        st.session_state["_flash"] = t(success_key)
        st.toast(t(success_key), icon=":material/check_circle:")
    return True, result


def failure_message(exc: BaseException, *, where: str, saving: bool = True) -> str:
    """The translated text a user sees for `exc`. A DomainError says what it says; database
    trouble says "busy" or "unavailable"; anything else (an IntegrityError, a bug) gets a
    generic message and an incident number, and is logged with its traceback under that number
    (logger "crm_impl.incident"). Never the exception's own text: it may hold SQL and values."""
    if isinstance(exc, DomainError):
        return exc.message()
    translated = db.translate(exc)
    if translated is not None:
        incident = incidents.report(exc, where=where)
        return f"{translated.message()} {t('error.incident_ref', incident=incident)}"
    incident = incidents.report(exc, where=where)
    if isinstance(exc, IntegrityError):
        key = "error.integrity"
    else:
        key = "error.unexpected" if saving else "error.page_failed"
    return f"{t(key)} {t('error.incident_ref', incident=incident)}"


def show_failure(exc: BaseException, *, where: str, saving: bool = True) -> None:
    """Show `exc` as a translated error (see failure_message); nothing raw reaches the user."""
    with escaping(plain):  # the message may quote user text (a defect's title, a row's name)
        message = failure_message(exc, where=where, saving=saving)
    st.error(message, icon=":material/error:")


def _page_name() -> str:
    """The running page for the log: its URL path when known ("pipeline_board"), else app.py."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return "?"
    info = ctx.pages_manager.get_pages().get(ctx.page_script_hash)
    if info is None:
        return ctx.main_script_path
    return str(info.get("url_pathname") or info.get("script_path") or ctx.main_script_path)


def on_script_error(exc: Exception) -> bool:
    """The page runner's error handler: an exception that escapes a page (or app.py, or a
    fragment) is shown as a translated message with an incident number instead of Streamlit's
    traceback box. Streamlit's signature for `st.App(on_script_error=...)`; returns True so the
    default display is suppressed. `install_error_handler()` sets it for `streamlit run app.py`
    and AppTest."""
    lang = st.session_state.get("locale")
    if lang in LANGUAGES:  # the error may come before app.py applied the user's language
        set_locale(lang)
    show_failure(exc, where=f"page {_page_name()}", saving=False)
    if isinstance(exc, DatabaseUnavailable | DatabaseBusy) or db.classify(exc) is not None:
        # the next run (this button, or any click) tries again; the page comes back by itself
        st.button(t("common.retry"), icon=":material/refresh:", key="_failure_retry")
    return True


def install_error_handler() -> None:
    """Route every uncaught exception of this script run through `on_script_error`: the one
    place where a page that raises shows a translated message (app.py calls it first)."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        ctx.on_script_error = on_script_error


@contextmanager
def guard(where: str) -> Iterator[None]:
    """Show a failure of the enclosed block as a translated message and go on rendering the rest
    of the page (e.g. one panel that failed must not take the page with it)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - shown translated, logged with an incident id
        show_failure(exc, where=where, saving=False)


def run(fn: Callable[..., T], /, success_key: str | None = None, **kwargs: Any) -> T | None:
    """Call a service in its own unit of work; commit on success, show the translated error
    (and write nothing) on failure."""
    return _call(fn, success_key, kwargs)[1]


def save(
    fn: Callable[..., T],
    /,
    success_key: str,
    *,
    rerun_scope: Literal["app", "fragment"] = "app",
    before_rerun: Callable[[T], None] | None = None,
    **kwargs: Any,
) -> T | None:
    """The one UI save path: run the service in its own unit of work; on failure show the
    translated message (nothing was written) and stay on the form with what the user typed; on
    success rerun so the page shows the new state, with `success_key` shown after the rerun.
    `before_rerun(result)` runs between the commit and the rerun (e.g. to open the new row);
    inside a fragment pass `rerun_scope="fragment"` and call `flash()` at the fragment's top."""
    ok, result = _call(fn, success_key, kwargs)
    if ok:
        if before_rerun is not None:
            before_rerun(cast(T, result))  # ok: the service returned its result
        forget_shown_versions()
        rerun(scope=rerun_scope)
    return result


def forget_shown_versions() -> None:
    """After the user's own save the page shows the new state: the next run's forms start from
    the version they show then (see `shown_version`), not from the one before this save (a form
    named by that version would otherwise lose its next submit)."""
    for key in [k for k in st.session_state if str(k).startswith("_shown_version.")]:
        del st.session_state[key]


def rerun(scope: Literal["app", "fragment"] = "app") -> None:
    """Rerun after a successful save so the page shows the new state; the success message
    survives the rerun (a toast shown right before st.rerun would be lost)."""
    st.session_state["_flash_pending"] = st.session_state.pop("_flash", None)
    rerun_scope(scope)


def rerun_scope(scope: Literal["app", "fragment"]) -> None:
    """`st.rerun(scope=...)`, where "fragment" becomes "app" when this run is not a fragment's
    own rerun (the fragment's first draw is part of a whole-page run, and AppTest runs every
    click as one): Streamlit refuses scope="fragment" there."""
    if scope == "fragment" and not _fragment_rerun():
        scope = "app"
    st.rerun(scope=scope)


def _fragment_rerun() -> bool:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and getattr(ctx, "fragment_ids_this_run", None))


def flash() -> None:
    """Show the success message a save left for this run (`page()` calls it; a fragment that
    saves with `rerun_scope="fragment"` calls it at its top)."""
    message = st.session_state.pop("_flash_pending", None)
    if message:
        st.toast(message, icon=":material/check_circle:")


def form(name: str, **kwargs: Any) -> Any:
    """A form that keeps what the user typed when saving fails (so they can fix one field) and
    starts empty again after a successful save (`forms_saved`). `clear_on_submit=True` would also
    wipe the input of a failed save."""
    return st.form(f"{name}_{st.session_state.get('_forms_saved', 0)}", **kwargs)


def forms_saved() -> None:
    """After a successful save: every `form(...)` starts empty on the next run."""
    st.session_state["_forms_saved"] = st.session_state.get("_forms_saved", 0) + 1


def csv_download(
    df: pd.DataFrame, filename: str, *, key: str, label_key: str = "common.export_csv", where: Any = None
) -> None:
    """The one CSV download: through the formula-safe exporter (a cell starting with = + - @,
    a tab or CR cannot run in a spreadsheet), UTF-8 with BOM. Pages never call `to_csv`."""
    (where or st).download_button(
        t(label_key),
        lambda: exporting.to_csv_bytes(df),
        file_name=filename,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )


def xlsx_download(
    sheets: Mapping[str, pd.DataFrame], filename: str, *, key: str, label_key: str, where: Any = None
) -> None:
    """The one Excel download (one sheet per table), formula-safe like `csv_download`."""
    (where or st).download_button(
        t(label_key),
        lambda: exporting.to_xlsx_bytes(sheets),
        file_name=filename,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )


def noted_metric(where: Any, label: str, value: str, note: str | None, *, help: str | None = None) -> None:  # noqa: A002 - Streamlit's name
    """A metric tile with a grey note under the value (counts behind a share, the other
    group's figure…): Streamlit's delta line, without its colour and arrow, which would read
    as a rise or fall. (A note that should turn red past a limit is a plain `st.metric`.)"""
    where.metric(label, value, note, help=help, delta_color="off", delta_arrow="off")


def plain(text: object) -> str:
    """User text (a name, title or note) for an element that renders Markdown (st.markdown,
    st.caption, st.subheader, st.info...): every Markdown special character escaped, so
    "**x** [a](http://b)" shows literally instead of as bold text or a link. User text is data."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


def error_text(err: DomainError) -> str:
    """An error's message for an element that renders Markdown (st.error...): the user text it
    quotes (a name, a title, a typed value, a file's column) escaped like `plain`, the message
    itself as translated."""
    with escaping(plain):
        return err.message()


def money_text(values: pd.Series, currency: str | pd.Series = "PLN") -> pd.Series:
    """Money for a read-only table column, formatted like every other amount on screen
    (`fmt_money`: "11,000 PLN" / "11 000 zł"; "–" for none)."""
    currencies = currency if isinstance(currency, pd.Series) else pd.Series(currency, index=values.index)
    return pd.Series(
        [fmt_money(v, c) for v, c in zip(values, currencies, strict=True)], index=values.index, dtype=object
    )


def money_column(label: str, currency: str = "PLN", **kwargs: Any) -> Any:
    """An editable money column: a number, shown with the currency of the language ("11,000 PLN";
    in Polish "11000 zł" - the grid cannot group digits with a space, so it does not group them
    rather than write a comma that reads as a decimal point)."""
    symbol = babel_numbers.get_currency_symbol(currency, locale="pl_PL" if get_locale() == "pl" else "en_GB")
    number = "%,.0f" if get_locale() == "en" else "%.0f"
    return st.column_config.NumberColumn(label, format=f"{number} {symbol}", **kwargs)


def shown_version(key: str, current: int, *, grid: str | None = None) -> int:
    """The version of a record as the user saw it: pass THIS as `expected_version`, never the
    version read in the same run.

    A click or a form submit reruns the whole page, and the page reads the record again before
    it reaches the save, so `current` is always the newest version: an edit made on a form
    displayed before another user's save would pass the check and silently overwrite that save.
    This returns the version stored by the previous run (the one the user was looking at) and
    stores `current` for the next run; on the first run it is `current`. A refused save shows
    "changed by someone else"; the run after it shows the newest state, so a second submit is
    the user's informed choice.

    `key` names the form and the record ("deal_edit_12"), so switching records does not mix
    versions; call it once per run for each key (a second call would return `current`), before
    the widgets.

    `grid=editor_key` for a row of an `st.data_editor` outside a form: every edit reruns the
    page, so the previous run is not what the edits were made on. While the grid holds edits the
    version stays the one it showed when the editing began; untouched, the grid shows (and would
    save) the rows as just read, so it is `current`. Reset the grid after a save (a new editor
    key), or its kept edits would keep the old version."""
    state = f"_shown_version.{key}"
    if grid is not None:
        if not grid_edited(grid) or state not in st.session_state:
            st.session_state[state] = current
        return int(st.session_state[state])
    shown = int(st.session_state.get(state, current))
    st.session_state[state] = current
    return shown


def grid_edited(editor_key: str) -> bool:
    """Whether the `st.data_editor` with this key holds any edited, added or deleted rows."""
    edits = st.session_state.get(editor_key) or {}
    return any(edits.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))
