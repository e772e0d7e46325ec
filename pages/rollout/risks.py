"""Risk register (slide 8): probability × impact, owner, mitigation, status. A new project starts
with the slide-8 mistakes already listed as risks."""

import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_number, t
from crm_impl.core.ui import common
from crm_impl.rollout import metrics as m
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.charts import risk_matrix
from crm_impl.rollout.models import RISK_STATUSES, RiskCreate
from crm_impl.rollout.services import scope, team

actor = common.page("pages/rollout/risks.py")
pid = plan_ui.project_id()
with read_session() as session:
    df = scope.risks_frame(session=session, project_id=pid)
    people = team.people_frame(session=session)
names = dict(zip(people["id"], people["full_name"], strict=True))
can_write = actor.can("plan.write")

risks = m.risk_scores(df)
# Preset (slide-8) risks are shown in the reader's language; an edited title is saved as typed.
risks["title"] = risks.apply(
    lambda r: t(f"plan.risk_preset.{r['key']}") if isinstance(r["key"], str) and r["key"] else r["title"],
    axis=1,
)
live = risks[risks["status"].isin(["open", "mitigating"])]
c = st.columns(2)
c[0].metric(t("plan.risks.open"), fmt_number(len(live)))
c[1].metric(t("plan.risks.high"), fmt_number(int((live["level"] == "high").sum())))

st.subheader(t("plan.risks.matrix"))
st.altair_chart(
    risk_matrix(
        live,
        labels={
            "probability": t("plan.field.probability"),
            "impact": t("plan.field.impact"),
            "score": t("plan.field.score"),
        },
    ),
    width="content",
)

f = st.columns(2)
with f[0]:
    shown = plan_ui.status_filter(risks, "status", "plan.risk_status", RISK_STATUSES, key="risk_status")
with f[1]:
    shown = plan_ui.text_filter(shown, ["title", "mitigation", "owner"], key="risk_search")
shown = shown.sort_values("score", ascending=False).assign(
    level_label=shown["level"].map(lambda v: t(f"plan.risk_level.{v}"))
)
plan_ui.edit_table(
    shown,
    key="risks_editor",
    fields=scope.RISK_FIELDS,
    column_config={
        "title": st.column_config.TextColumn(t("plan.field.title"), width="medium"),
        "probability": st.column_config.NumberColumn(
            t("plan.field.probability"), min_value=1, max_value=5, step=1
        ),
        "impact": st.column_config.NumberColumn(t("plan.field.impact"), min_value=1, max_value=5, step=1),
        "score": st.column_config.NumberColumn(t("plan.field.score")),
        "level_label": t("plan.field.level"),
        "owner_id": plan_ui.person_column(names, "plan.field.owner"),
        "mitigation": st.column_config.TextColumn(t("plan.field.mitigation"), width="large"),
        "status": plan_ui.select_column("plan.risk_status", RISK_STATUSES, "plan.field.status"),
        "slide": st.column_config.NumberColumn(t("plan.field.slide")),
    },
    update=scope.update_risk,
    id_arg="risk_id",
    can_edit=can_write,
)
common.csv_download(
    plan_ui.translated(shown, "status", "plan.risk_status").drop(columns=["version"]),
    "risks.csv",
    key="risks_csv",
)

if can_write:
    with common.form("add_risk"):
        st.markdown(f"**{t('plan.risks.add')}**")
        g = st.columns(4)
        title = g[0].text_input(t("plan.field.title"))
        probability = g[1].slider(t("plan.field.probability"), 1, 5, 3)
        impact = g[2].slider(t("plan.field.impact"), 1, 5, 3)
        owner = g[3].selectbox(
            t("plan.field.owner"),
            [None, *names],
            format_func=lambda v: names.get(v, "–"),
            placeholder=t("common.choose"),
        )
        mitigation = st.text_area(t("plan.field.mitigation"))
        if st.form_submit_button(t("plan.add"), icon=":material/add:"):
            plan_ui.save_form(
                scope.create_risk,
                "plan.created",
                project_id=pid,
                data=RiskCreate(
                    title=title, probability=probability, impact=impact, owner_id=owner, mitigation=mitigation
                ),
            )
