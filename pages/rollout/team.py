"""Team and roles (slides 8–9): people on both sides, their project roles, reporting lines and
written responsibilities, the RACI per phase, and the role rules checked as findings."""

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import t
from crm_impl.core.models import SIDES, PersonCreate
from crm_impl.core.ui import common
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.metrics import role_rules
from crm_impl.rollout.models import PROJECT_ROLES, RaciCell, RoleAssignmentCreate
from crm_impl.rollout.services import plan, projects, team

actor = common.page("pages/rollout/team.py")
pid = plan_ui.project_id()
with read_session() as session:
    assignments = team.assignments_frame(session=session, project_id=pid)
    people = team.people_frame(session=session)
    phases = plan.phases_frame(session=session, project_id=pid)
    raci = plan.raci_frame(session=session, project_id=pid)
names = dict(zip(people["id"], people["full_name"], strict=True))
can_manage = actor.can("team.manage")

# ---- role rules
findings = role_rules.check(assignments)
broken = role_rules.violations(findings)
st.subheader(t("plan.rule.title"))
if broken:
    st.warning(t("plan.rule.n_violations", n=len(broken)), icon=":material/report:")
else:
    st.success(t("plan.rule.all_ok"), icon=":material/verified:")
for f in findings:
    detail = ""
    if f.missing:
        detail = " — " + t("plan.rule.missing", roles=", ".join(t(f"role.{r}") for r in f.missing))
    elif f.people:
        detail = " — " + t("plan.rule.people", people=", ".join(common.plain(p) for p in f.people))
    icon = ":material/check_circle:" if f.ok else ":material/cancel:"
    color = "green" if f.ok else "red"
    st.markdown(
        f":{color}[{icon}] **{t(f'plan.rule.{f.rule}.name')}** · {t(f.message_key)}{detail} "
        f":gray[({t('plan.slide', n=f.slide)})]"
    )
rules_df = pd.DataFrame([{**f.as_dict(), "message": t(f.message_key)} for f in findings])
common.csv_download(rules_df, "role_findings.csv", key="rules_csv")

# ---- project roles
st.subheader(t("plan.team.roles"))
side = st.segmented_control(
    t("plan.team.side_filter"), list(SIDES), format_func=lambda s: t(f"field.{s}"), key="side_filter"
)
shown = assignments[assignments["side"] == side] if side else assignments
shown = plan_ui.text_filter(shown, ["full_name", "role", "department", "responsibilities"], key="team_search")
shown = shown.assign(
    role_label=shown["role"].map(lambda r: t(f"role.{r}")), side=shown["side"].map(lambda s: t(f"field.{s}"))
)
plan_ui.edit_table(
    shown,
    key="roles_editor",
    fields=team.ROLE_FIELDS,
    column_config={
        "full_name": t("field.full_name"),
        "side": t("field.side"),
        "department": t("field.department"),
        "role_label": t("plan.field.role"),
        "reports_to_id": plan_ui.person_column(names, "plan.field.reports_to"),
        "responsibilities": st.column_config.TextColumn(t("plan.field.responsibilities"), width="large"),
        "is_client_contact": st.column_config.CheckboxColumn(t("plan.field.client_contact")),
    },
    update=team.update_assignment,
    id_arg="assignment_id",
    can_edit=can_manage,
)
common.csv_download(assignments.drop(columns=["version"]), "project_roles.csv", key="roles_csv")

# ---- RACI grid
st.subheader(t("plan.team.raci"))
st.caption(t("plan.team.raci_help"))
if phases.empty:
    st.info(t("plan.team.no_phases"), icon=":material/info:")
else:
    members = assignments.drop_duplicates("person_id")[["person_id", "full_name"]]
    extra = raci[~raci["person_id"].isin(members["person_id"])]["person_id"].unique()
    members = pd.concat(
        [members, pd.DataFrame({"person_id": extra, "full_name": [names.get(p) for p in extra]})]
    )
    grid = raci.pivot_table(index="person_id", columns="phase_id", values="letter", aggfunc="first")
    grid = grid.reindex(index=members["person_id"], columns=phases["id"]).fillna("")
    grid.columns = [str(c) for c in grid.columns]
    grid = grid.reset_index(drop=True)
    grid.insert(0, "person", members["full_name"].to_numpy())
    phase_cols = {str(i): n for i, n in zip(phases["id"], phases["name"], strict=True)}
    config = {"person": st.column_config.TextColumn(t("plan.field.person"), disabled=True)}
    config |= {
        c: st.column_config.SelectboxColumn(n, options=["", "R", "A", "C", "I"], width="small")
        for c, n in phase_cols.items()
    }
    if actor.can("plan.write"):
        with st.form("raci_form", border=False):
            edited = st.data_editor(
                grid,
                key="raci_editor",
                placeholder=common.EMPTY,
                hide_index=True,
                width="stretch",
                column_config=config,
            )
            if st.form_submit_button(t("plan.save_changes"), icon=":material/save:"):
                cells = [
                    RaciCell(
                        phase_id=int(c),
                        person_id=int(members["person_id"].iloc[r]),
                        letter=plan.raci_letter(edited.iat[r, j + 1]),
                        was=plan.raci_letter(grid.iat[r, j + 1]),
                    )
                    for r in range(len(grid))
                    for j, c in enumerate(phase_cols)
                    if edited.iat[r, j + 1] != grid.iat[r, j + 1]
                ]
                if cells:
                    common.save(plan.save_raci, "common.saved", project_id=pid, cells=cells)
    else:
        st.dataframe(grid, placeholder=common.EMPTY, hide_index=True, width="stretch", column_config=config)
    common.csv_download(grid.rename(columns=phase_cols), "raci.csv", key="raci_csv")

# ---- people
st.subheader(t("plan.team.people"))
plan_ui.edit_table(
    people,
    key="people_editor",
    fields=team.PERSON_FIELDS,
    column_config={
        "full_name": t("field.full_name"),
        "side": st.column_config.SelectboxColumn(
            t("field.side"), options=list(SIDES), format_func=lambda s: t(f"field.{s}")
        ),
        "department": t("field.department"),
        "email": t("field.email"),
        "experience_years": st.column_config.NumberColumn(t("field.experience_years"), min_value=0, step=1),
        "licensed_user": st.column_config.CheckboxColumn(t("plan.field.licensed_user")),
    },
    update=team.update_person,
    id_arg="person_id",
    can_edit=can_manage,
)
common.csv_download(people.drop(columns=["version"]), "people.csv", key="people_csv")

if can_manage:
    left, right = st.columns(2)
    with left, common.form("add_person"):
        st.markdown(f"**{t('plan.team.add_person')}**")
        full_name = st.text_input(t("field.full_name"))
        p_side = st.selectbox(
            t("field.side"), SIDES, format_func=lambda s: t(f"field.{s}"), placeholder=t("common.choose")
        )
        dept = st.text_input(t("field.department"))
        years = st.number_input(t("field.experience_years"), min_value=0, step=1)
        licensed = st.checkbox(t("plan.field.licensed_user"))
        if st.form_submit_button(t("plan.add"), icon=":material/person_add:"):
            plan_ui.save_form(
                projects.create_person,
                "plan.created",
                data=PersonCreate(
                    full_name=full_name,
                    side=p_side,
                    department=dept,
                    experience_years=int(years),
                    licensed_user=licensed,
                ),
            )
    with right, common.form("assign_role"):
        st.markdown(f"**{t('plan.team.assign_role')}**")
        person = st.selectbox(
            t("plan.field.person"), list(names), format_func=names.get, placeholder=t("common.choose")
        )
        role = st.selectbox(
            t("plan.field.role"),
            PROJECT_ROLES,
            format_func=lambda r: t(f"role.{r}"),
            placeholder=t("common.choose"),
        )
        boss = st.selectbox(
            t("plan.field.reports_to"),
            [None, *names],
            format_func=lambda v: names.get(v, "–"),
            placeholder=t("common.choose"),
        )
        duties = st.text_area(t("plan.field.responsibilities"))
        if st.form_submit_button(t("plan.add"), icon=":material/badge:"):
            plan_ui.save_form(
                projects.assign_role,
                "plan.created",
                project_id=pid,
                data=RoleAssignmentCreate(
                    person_id=person, role=role, reports_to_id=boss, responsibilities=duties
                ),
            )
