"""Releases (name, date, status, the fixes they contain) and the release gate naming each
defect that blocks go-live; test runs per release (TestRail) with failed cases turned into
defects in one step; acceptance on real data per business process × release."""

import streamlit as st

from crm_impl.core.i18n import fmt_number, fmt_pct, t
from crm_impl.core.ui import common
from crm_impl.defects import ui

actor = common.page("pages/defects/releases.py")
pid = ui.project_id()
look = ui.lookups(pid)
data = ui.release_data(pid)
rel, runs, acc = data["releases"], data["runs"], data["acceptance"]
manage = actor.can("release.manage")

totals = runs[["passed", "failed", "blocked"]].sum()
cases = int(totals.sum())
c = st.columns(4)
c[0].metric(t("defects.releases.count"), fmt_number(len(rel)))
c[1].metric(t("defects.releases.runs"), fmt_number(len(runs)))
c[2].metric(t("defects.releases.cases"), fmt_number(cases))
c[3].metric(ui.field("pass_rate"), fmt_pct(int(totals["passed"]) / cases if cases else None))

releases_tab, runs_tab, acceptance_tab = st.tabs(
    [t("defects.releases.tab_releases"), t("defects.releases.tab_runs"), t("defects.releases.tab_acceptance")]
)

with releases_tab:
    if rel.empty:
        st.info(t("defects.releases.none"), icon=":material/info:")
    else:
        ui.releases_table(rel)
        names = dict(zip(rel["id"].astype(int), rel["name"], strict=True))
        # the release still on its way to go-live first (its gate is what the PM looks at)
        pending = [int(i) for i in rel.loc[rel["status"].isin(("planned", "in_test")), "id"]]
        chosen = st.selectbox(
            t("defects.releases.pick"),
            list(names),
            index=list(names).index(pending[0]) if pending else 0,
            format_func=lambda i: names.get(i, ""),
            placeholder=t("common.choose"),
            key="release_pick",
        )
        release = ui.get_release(int(chosen)) if chosen is not None else None
        if release is not None:
            st.subheader(t("defects.releases.gate", release=common.plain(release.name)))
            ui.gate(release, manage)
            if manage:
                with st.expander(t("defects.releases.edit"), icon=":material/edit:"):
                    ui.release_form(pid, release)
    if manage:
        with st.expander(t("defects.releases.new"), icon=":material/add:"):
            ui.release_form(pid)

with runs_tab:
    if runs.empty:
        st.info(t("defects.releases.no_runs"), icon=":material/info:")
    else:
        ui.runs_table(runs, look)
    if actor.can("testrun.record"):
        if rel.empty:
            st.info(t("defects.releases.none"), icon=":material/info:")
        else:
            with st.expander(t("defects.releases.record_run"), icon=":material/fact_check:"):
                ui.test_run_form(pid, look)

with acceptance_tab:
    st.caption(t("defects.releases.acceptance_hint"))
    if rel.empty or not look["processes"]:
        st.info(t("defects.releases.no_processes"), icon=":material/info:")
    else:
        ui.acceptance_matrix(acc, rel, look["processes"])
        if actor.can("acceptance.record") and ui.is_client_tester(actor, look):
            with st.expander(t("defects.releases.record_acceptance"), icon=":material/task_alt:"):
                ui.acceptance_form(pid, look, acc)
