"""Widgets of the budget pages: the active project, the cached report, translated labels, the
findings, the earned-value tiles, and the forms for budget lines, cost postings and the
training-share band.

Every write goes through `common.save` (or `common.run` when the page must not rerun) and the
services of `crm_impl.budget.services`; reads are cached per data version."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.budget import metrics, queries, services
from crm_impl.budget import models as bm
from crm_impl.budget.metrics import EarnedValue, Finding
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_money, fmt_number, fmt_pct, t
from crm_impl.core.models import utcnow
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common, sidebar
from crm_impl.core.ui import session as ui_session

NONE = common.EMPTY


# ---- project, version, report ------------------------------------------------------------------


def project_id() -> int:
    """The active project's id; stops the page with a hint when there is none."""
    return sidebar.require_active_project("budget.ui.no_project")


def _key() -> tuple[int, str]:
    return ui_session.data_key()


@st.cache_data(show_spinner=False, max_entries=8)
def _report(version: int, url: str, pid: int, today: date) -> dict[str, Any]:
    with read_session() as session:
        return queries.report(session, pid, today=today)


def report(pid: int) -> dict[str, Any]:
    """`queries.report` of the project as of today, cached per data version."""
    return _report(*_key(), pid, utcnow().date())


# ---- labels -----------------------------------------------------------------------------------


def field(name: str) -> str:
    return t(f"budget.field.{name}")


def category(key: str) -> str:
    return t(f"budget.category.{key}")


def categories() -> dict[str, str]:
    return {c: category(c) for c in bm.CATEGORIES}


def chart_labels() -> dict[str, str]:
    """The words every budget chart needs (charts.py docstrings)."""
    words = {
        k: t(f"budget.series.{k}") for k in ("planned", "committed", "actual", "forecast", "pv", "ev", "ac")
    }
    words |= {k: t(f"budget.ev.{k}") for k in ("cpi", "spi")}
    words |= categories()
    return words | {
        "amount": t("budget.chart.amount"),
        "value": t("budget.chart.amount"),
        "index": t("budget.chart.index"),
        "series": t("budget.chart.series"),
        "month": t("budget.chart.month"),
        "partial": t("budget.chart.partial"),
        "partial_yes": t("budget.chart.partial_yes"),
        "partial_no": t("budget.chart.partial_no"),
    }


def money(value: float | None, currency: str) -> str:
    return fmt_money(value, currency)


def ratio(value: float | None) -> str:
    return fmt_number(value, 2) if value is not None else NONE


def finding_text(f: Finding, currency: str) -> str:
    if f.kind == "missing_stage":
        return t("budget.finding.missing_stage", category=category(f.category))
    if f.kind == "overrun":
        return t(
            "budget.finding.overrun",
            line=f.line,
            category=category(f.category),
            amount=fmt_money(f.amount, currency),
        )
    return t(
        f"budget.finding.{f.kind}",
        share=fmt_pct(f.share, 1),
        low=fmt_pct(f.low),
        high=fmt_pct(f.high),
    )


def findings(found: list[Finding], currency: str) -> None:
    """Each finding as a warning (or a success for a training share inside the band), user text
    (line names) shown literally; the band's source under the training finding."""
    if not found:
        st.success(t("budget.finding.none"), icon=":material/check_circle:")
    for f in found:
        text = common.plain(finding_text(f, currency))
        if f.severity == "ok":
            st.success(text, icon=":material/check_circle:")
        else:
            st.warning(text, icon=":material/warning:")
        if f.kind.startswith("training"):
            st.caption(t("budget.finding.source", source=common.plain(f.source)))


def ev_tiles(ev: EarnedValue, currency: str) -> None:
    """BAC, PV, EV, AC, the variances, the indices and the estimates as metric tiles."""
    row = cols(4)
    row[0].metric(t("budget.ev.bac"), money(ev.bac, currency))
    row[1].metric(t("budget.ev.pv"), money(ev.pv, currency))
    row[2].metric(t("budget.ev.ev"), money(ev.ev, currency))
    row[3].metric(t("budget.ev.ac"), money(ev.ac, currency))
    row = cols(4)
    row[0].metric(t("budget.ev.cpi"), ratio(ev.cpi), help=t("budget.ev.cpi_help"))
    row[1].metric(t("budget.ev.spi"), ratio(ev.spi), help=t("budget.ev.spi_help"))
    row[2].metric(t("budget.ev.cv"), money(ev.cv, currency), help=t("budget.ev.cv_help"))
    row[3].metric(t("budget.ev.sv"), money(ev.sv, currency), help=t("budget.ev.sv_help"))
    row = cols(4)
    row[0].metric(t("budget.ev.eac"), money(ev.eac, currency), help=t("budget.ev.eac_help"))
    row[1].metric(t("budget.ev.etc"), money(ev.etc, currency), help=t("budget.ev.etc_help"))
    row[2].metric(t("budget.ev.vac"), money(ev.vac, currency), help=t("budget.ev.vac_help"))


def ev_table(history: pd.DataFrame, currency: str) -> None:
    """The monthly figures, money as money, the month in progress marked."""
    if history.empty:
        st.info(t("budget.ev.no_history"), icon=":material/info:")
        return
    view = pd.DataFrame(
        {
            t("budget.chart.month"): history["month"].map(lambda d: d.strftime("%m.%Y")),
            t("budget.chart.partial"): history["partial"].map(
                {True: t("budget.chart.partial_yes"), False: t("budget.chart.partial_no")}
            ),
        }
    )
    for k in ("pv", "ev", "ac", "cv", "sv", "eac", "etc", "vac"):
        view[t(f"budget.ev.{k}")] = common.money_text(history[k], currency)
    for k in ("cpi", "spi"):
        view[t(f"budget.ev.{k}")] = history[k].map(lambda v: ratio(v if pd.notna(v) else None))
    st.dataframe(view, hide_index=True, width="stretch", placeholder=NONE)


def amounts_table(df: pd.DataFrame, key: str, names: dict[Any, str], currency: str) -> pd.DataFrame:
    """Planned, committed, actual, forecast (and variance) as a display frame."""
    view = pd.DataFrame({field(key): df[key].map(lambda v: names.get(v, v) or t("budget.ui.no_phase"))})
    for k in ("planned", "committed", "actual", "forecast", "variance"):
        if k in df:
            view[field(k)] = common.money_text(df[k], currency)
    return view


def variance_table(lines: pd.DataFrame, currency: str, phases: dict[int, str]) -> None:
    """Every line, the largest overruns first (forecast − planned)."""
    view = pd.DataFrame(
        {
            field("name"): lines["name"],
            field("category"): lines["category"].map(category),
            field("phase"): lines["phase_id"].map(
                lambda v: phases.get(int(v), NONE) if pd.notna(v) else NONE
            ),
            field("status"): lines["status"].map(lambda s: t(f"budget.status.{s}")),
        }
    )
    for k in ("planned", "committed", "actual", "forecast", "variance"):
        view[field(k)] = common.money_text(lines[k], currency)
    view[field("variance_pct")] = lines["variance_pct"].map(lambda v: fmt_pct(v, 1) if pd.notna(v) else NONE)
    st.dataframe(view, hide_index=True, width="stretch", placeholder=NONE)


# ---- snapshots --------------------------------------------------------------------------------


def freeze_last_month(pid: int, actor: Actor) -> None:
    """A budget editor opening the earned-value page freezes the newest closed month if nobody
    has (the monthly CLI job normally has); readers only read."""
    if not actor.can("budget.edit"):
        return
    done = st.session_state.setdefault("_budget_frozen", set())
    month = metrics.last_closed_month(utcnow().date())
    if (pid, month) in done:
        return
    done.add((pid, month))
    common.run(services.freeze_last_month, project_id=pid)


# ---- forms ------------------------------------------------------------------------------------


def cols(n: int) -> list[Any]:
    """`st.columns` as a list (rows of different widths reuse one name)."""
    return list(st.columns(n))


def _k(name: str) -> str:
    """A widget key that changes after every successful save, so a saved form starts empty."""
    return f"{name}_{st.session_state.get('_forms_saved', 0)}"


def _phase_pick(name: str, phases: dict[int, str], current: int | None) -> Any:
    options: list[int | None] = [None, *phases]
    return st.selectbox(
        field("phase"),
        options,
        index=options.index(current) if current in options else 0,
        format_func=lambda v: t("budget.ui.no_phase") if v is None else phases.get(int(v), ""),
        key=_k(f"{name}_phase"),
    )


def _money_input(label: str, value: float | None, key: str) -> str:
    """Money typed as text in the reader's convention ("1 234,56" or "1,234.56")."""
    shown = "" if value is None or pd.isna(value) else fmt_number(value, 2)
    return st.text_input(label, value=shown, key=key)


def line_form(pid: int, phases: dict[int, str], line: pd.Series | None = None) -> None:
    """A new budget line, or the edit form of `line` (a row of queries.lines_frame)."""
    name = f"budget_line_edit_{int(line['id'])}" if line is not None else "budget_line_new"
    shown = 0 if line is None else common.shown_version(name, int(line["version"]))  # as the form showed it
    with common.form(name):
        c = cols(2)
        title = c[0].text_input(
            field("name"), value="" if line is None else str(line["name"]), key=_k(f"{name}_name")
        )
        keys = list(bm.CATEGORIES)
        cat = c[1].selectbox(
            field("category"),
            keys,
            index=keys.index(str(line["category"])) if line is not None else 0,
            format_func=category,
            key=_k(f"{name}_category"),
        )
        current = None if line is None or pd.isna(line["phase_id"]) else int(line["phase_id"])
        with c[0]:
            phase = _phase_pick(name, phases, current)
        status = c[1].selectbox(
            field("status"),
            list(bm.LINE_STATUSES),
            index=list(bm.LINE_STATUSES).index(str(line["status"])) if line is not None else 0,
            format_func=lambda s: t(f"budget.status.{s}"),
            key=_k(f"{name}_status"),
            disabled=line is None,
        )
        c = cols(3)
        planned = c[0].text_input(
            field("planned"),
            value="" if line is None else fmt_number(line["planned"], 2),
            key=_k(f"{name}_planned"),
        )
        committed = c[1].text_input(
            field("committed"),
            value="" if line is None else fmt_number(line["committed"], 2),
            key=_k(f"{name}_committed"),
        )
        with c[2]:
            forecast = _money_input(
                field("forecast"), None if line is None else line["forecast"], _k(f"{name}_forecast")
            )
        notes = st.text_area(
            field("notes"), value="" if line is None else str(line["notes"]), key=_k(f"{name}_notes")
        )
        submitted = st.form_submit_button(
            t("budget.ui.save_line") if line is not None else t("budget.ui.add_line"), icon=":material/save:"
        )
    if not submitted:
        return
    if line is None:
        common.save(
            services.create_line,
            "budget.ui.line_added",
            before_rerun=lambda _: common.forms_saved(),
            project_id=pid,
            data=bm.BudgetLineCreate(
                name=title,
                category=cat,
                phase_id=phase,
                planned=planned or "0",
                committed=committed or "0",
                forecast=forecast or None,
                notes=notes,
            ),
        )
    else:
        common.save(
            services.update_line,
            "budget.ui.line_saved",
            line_id=int(line["id"]),
            expected_version=shown,
            data=bm.BudgetLineUpdate(
                name=title,
                category=cat,
                phase_id=phase,
                planned=planned or "0",
                committed=committed or "0",
                forecast=forecast or None,
                status=status,
                notes=notes,
            ),
        )


def posting_form(pid: int, lines: dict[int, str]) -> None:
    """A new cost posting on one of the open lines."""
    if not lines:
        st.info(t("budget.ui.no_open_lines"), icon=":material/info:")
        return
    with common.form("budget_posting_new"):
        c = cols(3)
        line = c[0].selectbox(
            field("line"), list(lines), format_func=lambda i: lines.get(int(i), ""), key=_k("posting_line")
        )
        posted_on = c[1].date_input(
            field("posted_on"), value=utcnow().date(), format="YYYY-MM-DD", key=_k("posting_date")
        )
        amount = c[2].text_input(field("amount"), key=_k("posting_amount"))
        c = cols(3)
        supplier = c[0].text_input(field("supplier"), key=_k("posting_supplier"))
        document = c[1].text_input(field("document_number"), key=_k("posting_document"))
        description = c[2].text_input(field("description"), key=_k("posting_description"))
        submitted = st.form_submit_button(
            t("budget.ui.add_posting"), icon=":material/add:", key=_k("posting_submit")
        )
    if submitted:
        common.save(
            services.add_posting,
            "budget.ui.posting_added",
            before_rerun=lambda _: common.forms_saved(),
            project_id=pid,
            data=bm.CostPostingCreate(
                line_id=int(line),
                posted_on=posted_on,
                amount=amount,
                supplier=supplier,
                description=description,
                document_number=document,
            ),
        )


def posting_edit(posting: pd.Series, lines: dict[int, str]) -> None:
    """Correct or delete one posting (its version guards against a concurrent change)."""
    ref = int(posting["id"])
    shown = common.shown_version(f"budget_posting_edit_{ref}", int(posting["version"]))  # as shown
    with common.form(f"budget_posting_edit_{ref}"):
        c = cols(3)
        options = list(lines)
        current = int(posting["line_id"])
        if current not in options:
            options = [current, *options]
        line = c[0].selectbox(
            field("line"),
            options,
            index=options.index(current),
            format_func=lambda i: lines.get(int(i), f"#{i}"),
            key=_k(f"posting_edit_{ref}_line"),
        )
        posted_on = c[1].date_input(
            field("posted_on"),
            value=posting["posted_on"],
            format="YYYY-MM-DD",
            key=_k(f"posting_edit_{ref}_date"),
        )
        amount = c[2].text_input(
            field("amount"), value=fmt_number(posting["amount"], 2), key=_k(f"posting_edit_{ref}_amount")
        )
        c = cols(3)
        supplier = c[0].text_input(
            field("supplier"), value=str(posting["supplier"]), key=_k(f"posting_edit_{ref}_supplier")
        )
        document = c[1].text_input(
            field("document_number"),
            value=str(posting["document_number"]),
            key=_k(f"posting_edit_{ref}_document"),
        )
        description = c[2].text_input(
            field("description"), value=str(posting["description"]), key=_k(f"posting_edit_{ref}_description")
        )
        b = cols(2)
        save = b[0].form_submit_button(t("budget.ui.save_posting"), icon=":material/save:")
        delete = b[1].form_submit_button(t("budget.ui.delete_posting"), icon=":material/delete:")
    if save:
        changes: dict[str, Any] = {
            "posted_on": posted_on,
            "amount": amount,
            "supplier": supplier,
            "description": description,
            "document_number": document,
        }
        if int(line) != current:
            changes["line_id"] = int(line)
        common.save(
            services.update_posting,
            "budget.ui.posting_saved",
            posting_id=int(posting["id"]),
            expected_version=shown,
            data=bm.CostPostingUpdate(**changes),
        )
    elif delete:
        common.save(
            services.delete_posting,
            "budget.ui.posting_deleted",
            posting_id=int(posting["id"]),
            expected_version=shown,
        )


def postings_table(postings: pd.DataFrame, lines: dict[int, str], currency: str) -> pd.DataFrame:
    """The postings, newest first, as shown (user text stays data)."""
    p = postings.sort_values(["posted_on", "id"], ascending=False)
    return pd.DataFrame(
        {
            field("posted_on"): p["posted_on"],
            field("line"): p["line_id"].map(lambda i: lines.get(int(i), NONE)),
            field("amount"): common.money_text(p["amount"], currency),
            field("supplier"): p["supplier"],
            field("document_number"): p["document_number"],
            field("description"): p["description"],
        }
    )


def settings_form(pid: int, settings: bm.BudgetSettings) -> None:
    """The training share's benchmark band (per cent) and its source."""
    shown = common.shown_version(f"budget_settings_{pid}", int(settings.version or 0))  # as shown
    with common.form("budget_settings"):
        c = cols(2)
        low = c[0].number_input(
            field("training_low"),
            0.0,
            100.0,
            value=round(settings.training_share_low * 100, 2),
            step=0.5,
            key="band_low",
        )
        high = c[1].number_input(
            field("training_high"),
            0.0,
            100.0,
            value=round(settings.training_share_high * 100, 2),
            step=0.5,
            key="band_high",
        )
        source = st.text_area(field("training_source"), value=settings.training_source, key="band_source")
        submitted = st.form_submit_button(t("budget.ui.save_settings"), icon=":material/save:")
    if submitted:
        common.save(
            services.update_settings,
            "budget.ui.settings_saved",
            project_id=pid,
            expected_version=shown,
            data=bm.BudgetSettingsUpdate(
                training_share_low=low / 100, training_share_high=high / 100, training_source=source
            ),
        )


def current_settings(pid: int) -> bm.BudgetSettings:
    with read_session() as session:
        return services.budget_settings(session=session, project_id=pid)
