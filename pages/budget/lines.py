"""Budget lines and cost postings: the lines with actual and forecast, add or edit a line, post
a cost (PMs and management), correct or delete a posting, the training-share band; the
postings import from accounting runs on the Import page (entity "Cost postings")."""

import pandas as pd
import streamlit as st

from crm_impl.budget import ui
from crm_impl.core.i18n import fmt_pct, t
from crm_impl.core.ui import common

actor = common.page("pages/budget/lines.py")
pid = ui.project_id()
data = ui.report(pid)
cur = data["currency"]
frames = data["frames"]
lines, postings = frames["lines"], frames["postings"]
phases = dict(zip(frames["phases"]["id"].astype(int), frames["phases"]["name"], strict=True))
edit = actor.can("budget.edit")
ev = data["earned_value"]

c = ui.cols(4)
c[0].metric(ui.field("planned"), ui.money(data["totals"]["planned"], cur))
c[1].metric(ui.field("actual"), ui.money(data["totals"]["actual"], cur))
c[2].metric(t("budget.ev.cpi"), ui.ratio(ev.cpi), help=t("budget.ev.cpi_help"))
c[3].metric(t("budget.ev.spi"), ui.ratio(ev.spi), help=t("budget.ev.spi_help"))

lines_tab, postings_tab, settings_tab = st.tabs(
    [t("budget.lines.tab_lines"), t("budget.lines.tab_postings"), t("budget.lines.tab_settings")]
)
names = dict(zip(lines["id"].astype(int), lines["name"], strict=True))
open_lines = {
    int(i): n for i, n, s in zip(lines["id"], lines["name"], lines["status"], strict=True) if s == "open"
}

with lines_tab:
    if lines.empty:
        st.info(t("budget.ui.no_lines"), icon=":material/info:")
    else:
        ui.variance_table(data["lines"], cur, phases)
    if edit:
        if not lines.empty:
            with st.expander(t("budget.lines.edit"), icon=":material/edit:"):
                chosen = st.selectbox(
                    ui.field("line"),
                    list(names),
                    format_func=lambda i: names.get(int(i), ""),
                    key="line_pick",
                )
                row = lines.loc[lines["id"] == chosen].iloc[0] if chosen is not None else None
                if row is not None:
                    ui.line_form(pid, phases, row)
        with st.expander(t("budget.lines.new"), icon=":material/add:"):
            ui.line_form(pid, phases)

with postings_tab:
    if edit:
        st.subheader(t("budget.lines.post_cost"))
        ui.posting_form(pid, open_lines)
    if postings.empty:
        st.info(t("budget.ui.no_postings"), icon=":material/info:")
    else:
        st.dataframe(
            ui.postings_table(postings, names, cur),
            hide_index=True,
            width="stretch",
            placeholder=common.EMPTY,
        )
        if edit:
            with st.expander(t("budget.lines.edit_posting"), icon=":material/edit_note:"):
                labels = {
                    int(r.id): f"{r.posted_on} · {names.get(int(r.line_id), '')} · {ui.money(r.amount, cur)}"
                    + (f" · {r.document_number}" if r.document_number else "")
                    for r in postings.sort_values(["posted_on", "id"], ascending=False).itertuples()
                }
                pick = st.selectbox(
                    t("budget.lines.pick_posting"),
                    list(labels),
                    format_func=lambda i: labels.get(int(i), ""),
                    key="posting_pick",
                )
                if pick is not None:
                    row = postings.loc[postings["id"] == pick].iloc[0]
                    ui.posting_edit(
                        pd.Series(row), open_lines | {int(row["line_id"]): names.get(int(row["line_id"]), "")}
                    )
    st.caption(t("budget.lines.import_hint"))

with settings_tab:
    settings = ui.current_settings(pid)
    st.caption(t("budget.lines.band_hint"))
    if edit:
        ui.settings_form(pid, settings)
    else:
        st.metric(
            t("budget.lines.band"),
            f"{fmt_pct(settings.training_share_low)} – {fmt_pct(settings.training_share_high)}",
        )
        st.text(settings.training_source)
