"""Adoption — usage (issue 11, slide 11: success means people actually use the CRM): headline
DAU/WAU/MAU, stickiness and adoption rate over the last 30 days, the monthly trend since go-live,
per department, role and source, the licensed users never active (exportable), and the imported
usage logs. docs/adoption.md has the definitions."""

import streamlit as st

from crm_impl.adoption.charts import usage as charts
from crm_impl.adoption.metrics import usage as metrics
from crm_impl.adoption.ui import usage as ui
from crm_impl.core.i18n import fmt_date, fmt_month, fmt_number, fmt_pct, t, tn
from crm_impl.core.ui import common

actor = common.page("pages/adoption/usage.py")
pid = ui.project_id()
f = ui.frames(pid)
today = ui.today()
s = metrics.summary(f.daily, f.people, today)

c = st.columns(5)
common.noted_metric(
    c[0],
    t("adoption.usage.field.adoption_rate"),
    fmt_pct(s["adoption_rate"], 1),
    t("adoption.usage.mau_of", n=s["mau"], total=s["licensed"]),
)
c[1].metric(t("adoption.usage.field.wau"), fmt_number(s["wau"]))
common.noted_metric(
    c[2],
    t("adoption.usage.field.dau_mean"),
    fmt_number(s["dau_mean"], 1),
    t("adoption.usage.dau_share", share=fmt_pct(s["dau_share"], 1)),
)
c[3].metric(t("adoption.usage.field.stickiness"), fmt_pct(s["stickiness"], 1))
common.noted_metric(
    c[4],
    t("adoption.usage.per_active"),
    fmt_number(s["created_per_active"], 1),
    t("adoption.usage.updated_per_active", n=fmt_number(s["updated_per_active"], 1)),
)
st.caption(
    tn(
        "adoption.usage.window_note",
        s["working_days"],
        first=fmt_date(s["first_day"]),
        last=fmt_date(s["last_day"]),
    )
)
if s["licensed"] == 0:
    st.info(t("adoption.usage.no_licensed"), icon=":material/info:")
    st.stop()

monthly = metrics.monthly(f.daily, f.people, f.go_live, today)
st.subheader(t("adoption.usage.trend"))
if f.go_live is not None and f.go_live <= today:
    st.caption(t("adoption.usage.trend_since", date=fmt_date(f.go_live)))
elif f.go_live is not None:
    st.caption(t("adoption.usage.trend_before", date=fmt_date(f.go_live)))
else:
    st.caption(t("adoption.usage.trend_no_go_live"))
st.altair_chart(charts.trend(monthly, labels=ui.trend_labels()), width="stretch")
st.dataframe(
    ui.shares_in_percent(monthly).assign(
        partial=monthly["partial"].map({True: t("adoption.usage.partial_yes"), False: ""}),
        month=monthly["month"].map(fmt_month),  # the app's language, not the browser's
    ),
    hide_index=True,
    width="stretch",
    placeholder=common.EMPTY,
    column_order=[
        "month",
        "partial",
        "working_days",
        "licensed",
        "mau",
        "adoption_rate",
        "dau_mean",
        "dau_share",
        "stickiness",
        "created_per_active",
        "updated_per_active",
    ],
    column_config={
        **ui.group_config("month"),
        "month": ui.field("month"),
        "partial": ui.field("partial"),
        "working_days": st.column_config.NumberColumn(ui.field("working_days"), format="%d"),
    },
)

for column, heading in (("department", "adoption.usage.by_department"), ("role", "adoption.usage.by_role")):
    groups = metrics.by_group(f.daily, f.people, today, column)
    st.subheader(t(heading))
    if column == "role":
        groups = groups.assign(role=groups["role"].map(lambda r: ui.role_label(r) if r else ""))
    st.altair_chart(charts.rates_by_group(groups, column, labels=ui.rate_labels(column)), width="stretch")
    st.dataframe(
        ui.shares_in_percent(groups).assign(**{column: groups[column].replace("", common.EMPTY)}),
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_config=ui.group_config(column),
    )

st.subheader(t("adoption.usage.by_source"))
sources = metrics.by_source(f.daily, f.people, today)
st.dataframe(
    sources.assign(source=sources["source"].map(ui.source_label)),
    hide_index=True,
    width="stretch",
    placeholder=common.EMPTY,
    column_config={
        "source": ui.field("source"),
        "people": st.column_config.NumberColumn(ui.field("people"), format="%d"),
        "created": st.column_config.NumberColumn(ui.field("created"), format="%d"),
        "updated": st.column_config.NumberColumn(ui.field("updated"), format="%d"),
    },
)

never = metrics.never_active(f.daily, f.people, today)
st.subheader(t("adoption.usage.never_active"))
st.caption(t("adoption.usage.never_active_hint"))
if never.empty:
    st.success(t("adoption.usage.everyone_active"), icon=":material/task_alt:")
else:
    st.dataframe(
        never.assign(
            role=never["role"].map(ui.role_label), department=never["department"].replace("", common.EMPTY)
        ),
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=["name", "department", "role", "start"],
        column_config={
            "name": ui.field("name"),
            "department": ui.field("department"),
            "role": ui.field("role"),
            "start": st.column_config.DateColumn(ui.field("start"), format="localized"),
        },
    )
    common.csv_download(ui.export_never_active(never), "never-active.csv", key="adoption_never_active_csv")

st.subheader(t("adoption.usage.imports"))
logs = ui.imports(pid)
if logs.empty:
    st.caption(t("adoption.usage.no_imports"))
else:
    st.dataframe(
        logs.drop(columns=["id"]),
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_config={
            "source": ui.field("source"),
            "file_name": ui.field("file_name"),
            "imported_at": st.column_config.DatetimeColumn(ui.field("imported_at"), format="localized"),
            "imported_by": ui.field("imported_by"),
            "added": st.column_config.NumberColumn(ui.field("added"), format="%d"),
            "skipped_duplicates": st.column_config.NumberColumn(ui.field("skipped_duplicates"), format="%d"),
        },
    )
if actor.can("import.run") and actor.can("adoption.import"):
    st.page_link(
        "pages/pipeline/imports.py", label=t("adoption.usage.import_link"), icon=":material/upload_file:"
    )
