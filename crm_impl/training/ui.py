"""Widgets of the training pages: the active project, the cached report and frames, labels, the
session and meeting tables and forms, invitations and the attendance form.

Every write goes through `common.save` and the services of `crm_impl.training.services`; reads
are cached per data version. User text (titles, notes, decisions) is shown in data frames or
`st.text`, never as Markdown."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import select

from crm_impl.adoption.queries import registers as adoption_registers
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, t
from crm_impl.core.models import UserAccount
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common, sidebar
from crm_impl.core.ui import session as ui_session
from crm_impl.training import metrics, queries, services
from crm_impl.training import models as tm

# ---- project, version, cached reads -----------------------------------------------------------


def project_id() -> int:
    return sidebar.require_active_project("training.ui.no_project")


def _key() -> tuple[int, str]:
    return ui_session.data_key()


@st.cache_data(show_spinner=False, max_entries=8)
def _frames(version: int, url: str, pid: int) -> queries.TrainingFrames:
    with read_session() as session:
        return queries.load(session, pid)


def frames(pid: int) -> queries.TrainingFrames:
    return _frames(*_key(), pid)


def status(pid: int) -> pd.DataFrame:
    f = frames(pid)
    return metrics.training_status(f.people, f.sessions, f.attendance, f.go_live)


def today() -> date:
    return date.today()


def names(pid: int) -> dict[int, str]:
    people = frames(pid).people
    return dict(zip(people["id"].astype(int), people["name"], strict=True))


def field(name: str) -> str:
    return t(f"training.field.{name}")


def label(kind: str, value: Any) -> str:
    return common.EMPTY if value is None or value == "" else t(f"training.{kind}.{value}")


def count_column(name: str) -> Any:
    return st.column_config.NumberColumn(field(name), format="%d")


def chart_labels() -> dict[str, str]:
    words = {k: field(k) for k in ("department", "count", "month", "week", "actions_per_user")}
    return {
        **words,
        "series": t("training.ui.series"),
        "trained": t("training.group.trained"),
        "untrained": t("training.group.untrained"),
        "held": t("training.status.held"),
        "planned": t("training.status.planned"),
        "with_management": t("training.ui.with_management"),
        "without_management": t("training.ui.without_management"),
        "involved": t("training.ui.involved"),
        "not_involved": t("training.ui.not_involved"),
        "no_department": t("training.ui.no_department"),
        "partial": t("training.ui.partial"),
        "partial_yes": t("training.ui.partial_yes"),
    }


# ---- sessions -----------------------------------------------------------------------------------


def sessions_table(pid: int) -> pd.DataFrame:
    """The sessions with the trainer's name, translated status and invited / attended counts."""
    f = frames(pid)
    who = names(pid)
    att = f.attendance
    invited = att.groupby("session_id").size()
    attended = att.loc[att["attended"].fillna(False).astype(bool)].groupby("session_id").size()
    df = f.sessions.copy()
    df["trainer"] = df["trainer_id"].map(lambda v: who.get(int(v), "") if pd.notna(v) else "")
    df["status_label"] = df["status"].map(lambda v: label("status", v))
    df["audience_text"] = df["audience"].map(lambda v: ", ".join(v or []))
    df["where"] = [place(bool(o), str(v or "")) for o, v in zip(df["online"], df["venue"], strict=True)]
    df["invited"] = df["id"].map(invited).fillna(0).astype(int)
    df["attended"] = df["id"].map(attended).fillna(0).astype(int)
    return df.sort_values(["session_date", "id"], ascending=False).reset_index(drop=True)


def place(online: bool, venue: str) -> str:
    """Where a session takes place: "Online · <link or tool>", the room, or a dash."""
    if online:
        return f"{field('online')} · {venue}" if venue else field("online")
    return venue or common.EMPTY


def show_sessions(df: pd.DataFrame) -> None:
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=[
            "session_date",
            "title",
            "module",
            "trainer",
            "audience_text",
            "where",
            "status_label",
            "invited",
            "attended",
            "duration_minutes",
        ],
        column_config={
            "session_date": st.column_config.DateColumn(field("session_date"), format="localized"),
            "title": st.column_config.TextColumn(field("title"), width="large"),
            "module": field("module"),
            "trainer": field("trainer"),
            "audience_text": field("audience"),
            "where": field("where"),
            "status_label": field("status"),
            "invited": count_column("invited"),
            "attended": st.column_config.NumberColumn(t("training.ui.attended_count"), format="%d"),
            "duration_minutes": count_column("duration_minutes"),
        },
    )


def get_session(session_id: int) -> tm.TrainingSession | None:
    with read_session() as session:
        return session.get(tm.TrainingSession, session_id)


def _people_options(pid: int) -> dict[int, str]:
    people = frames(pid).people
    people = people.loc[people["active"].astype(bool)]
    return {
        int(i): f"{n} ({d})" if d else str(n)
        for i, n, d in zip(people["id"], people["name"], people["department"], strict=True)
    }


def departments(pid: int) -> list[str]:
    return sorted({d for d in frames(pid).people["department"] if d})


def session_form(pid: int, row: tm.TrainingSession | None = None) -> None:
    """Create a session, or edit one (version-checked)."""
    shown = 0 if row is None else common.shown_version(f"training_session_{row.id}", row.version)
    name = "training_new" if row is None else f"training_edit_{row.id}_{shown}"  # as the form showed it
    people = _people_options(pid)
    with common.form(name):
        c = st.columns(3)
        title = c[0].text_input(field("title"), value=row.title if row else "", max_chars=200)
        module = c[1].text_input(field("module"), value=row.module if row else "", max_chars=80)
        day = c[2].date_input(
            field("session_date"), value=row.session_date if row else today(), format="DD.MM.YYYY"
        )
        c = st.columns(3)
        minutes = c[0].number_input(
            field("duration_minutes"), value=row.duration_minutes if row else 90, step=15, min_value=None
        )
        trainer = c[1].selectbox(
            field("trainer"),
            list(people),
            index=list(people).index(row.trainer_id) if row and row.trainer_id in people else None,
            format_func=lambda i: people.get(i, ""),
            placeholder=t("common.choose"),
        )
        online = c[2].checkbox(field("online"), value=row.online if row else False)
        audience = st.multiselect(
            field("audience"),
            departments(pid),
            default=[d for d in (row.audience if row else []) if d in departments(pid)],
            placeholder=t("common.choose_many"),
        )
        venue = st.text_input(field("venue"), value=row.venue if row else "", max_chars=200)
        notes = st.text_area(field("notes"), value=row.notes if row else "", height=68)
        values: dict[str, Any] = {
            "title": title,
            "module": module,
            "session_date": day,
            "duration_minutes": minutes,
            "trainer_id": trainer,
            "audience": audience,
            "online": online,
            "venue": venue,
            "notes": notes,
        }
        if row is None:
            if st.form_submit_button(t("training.ui.create_session"), icon=":material/add:", type="primary"):
                common.save(
                    services.create_session,
                    "training.ui.session_created",
                    before_rerun=lambda _: common.forms_saved(),
                    project_id=pid,
                    data=tm.TrainingSessionCreate(**values),
                )
        elif st.form_submit_button(t("training.ui.save"), icon=":material/save:"):
            changes = {k: v for k, v in values.items() if v != getattr(row, k)}
            if not changes:
                st.toast(t("training.ui.nothing_changed"), icon=":material/info:")
            else:
                common.save(
                    services.update_session,
                    "training.ui.session_saved",
                    session_id=int(row.id or 0),
                    expected_version=shown,
                    data=tm.TrainingSessionUpdate(**changes),
                )


def status_buttons(row: tm.TrainingSession) -> None:
    """Mark the session held (once its date has come) or cancelled."""
    shown = common.shown_version(f"training_status_{row.id}", row.version)  # as the page showed it
    c = st.columns(2)
    for col, target, icon in (
        (c[0], "held", ":material/event_available:"),
        (c[1], "cancelled", ":material/event_busy:"),
    ):
        if row.status != target and col.button(
            t(f"training.ui.mark_{target}"), icon=icon, key=f"mark_{target}_{row.id}"
        ):
            common.save(
                services.update_session,
                "training.ui.session_saved",
                session_id=int(row.id or 0),
                expected_version=shown,
                data=tm.TrainingSessionUpdate(status=target),
            )


def invite_form(pid: int, row: tm.TrainingSession, invited: set[int]) -> None:
    people = {k: v for k, v in _people_options(pid).items() if k not in invited}
    with common.form(f"invite_{row.id}"):
        chosen = st.multiselect(
            t("training.ui.invite_people"),
            list(people),
            format_func=lambda i: people.get(i, ""),
            placeholder=t("common.choose_many"),
        )
        if st.form_submit_button(t("training.ui.invite"), icon=":material/person_add:"):
            common.save(
                services.invite,
                "training.ui.invited",
                before_rerun=lambda _: common.forms_saved(),
                session_id=int(row.id or 0),
                person_ids=chosen,
            )


def attendance_frame(pid: int, session_id: int) -> pd.DataFrame:
    att = frames(pid).attendance
    rows = att.loc[att["session_id"] == session_id].copy()
    rows["name"] = rows["person_id"].map(names(pid))
    return rows.sort_values("name").reset_index(drop=True)


def show_attendance(rows: pd.DataFrame) -> None:
    shown = rows.assign(
        attended_label=rows["attended"].map(
            lambda v: common.EMPTY if pd.isna(v) else t("training.ui.yes") if v else t("training.ui.no")
        )
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=["name", "attended_label", "score"],
        column_config={
            "name": field("name"),
            "attended_label": field("attended"),
            "score": st.column_config.NumberColumn(field("score"), format="%d"),
        },
    )


def attendance_form(row: tm.TrainingSession, rows: pd.DataFrame) -> None:
    """One line per invited person: attended (checkbox) and score (blank: none)."""
    with common.form(f"attendance_{row.id}"):
        records = []
        for r in rows.itertuples():  # one widget pair per invited person (a form, not a metric)
            c = st.columns([3, 1])
            went = c[0].checkbox(
                common.plain(r.name),  # a label renders Markdown: the name is user text
                value=bool(r.attended) if pd.notna(r.attended) else False,
                key=f"att_{r.id}",
            )
            score = c[1].number_input(
                field("score"),
                value=int(r.score) if pd.notna(r.score) else None,
                step=1,
                key=f"score_{r.id}",
                label_visibility="collapsed",
                placeholder=field("score"),
            )
            records.append(
                tm.AttendanceRecord(
                    person_id=int(r.person_id),
                    attended=went,
                    score=score,
                    expected_version=common.shown_version(f"attendance_{r.id}", int(r.version)),  # as shown
                )
            )
        if st.form_submit_button(
            t("training.ui.save_attendance"), icon=":material/how_to_reg:", type="primary"
        ):
            common.save(
                services.record_attendance,
                "training.ui.attendance_saved",
                session_id=int(row.id or 0),
                records=records,
            )


# ---- coverage and effect ------------------------------------------------------------------------


def untrained_table(pid: int) -> pd.DataFrame:
    f = frames(pid)
    left = metrics.invited_pending(metrics.untrained(status(pid)), f.sessions, f.attendance)
    return left.assign(
        department=left["department"].replace("", common.EMPTY),
        next_session=[fmt_date(v.date()) if pd.notna(v) else "" for v in left["next_session"]],
    )[["name", "department", "next_session"]]


def export_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A table for download with translated headers."""
    return df[columns].rename(columns={c: field(c) for c in columns})


# ---- meetings -----------------------------------------------------------------------------------


def meetings_table(pid: int) -> pd.DataFrame:
    f = frames(pid)
    with read_session() as session:
        users = {
            int(u.id or 0): u.display_name or u.username for u in session.exec(select(UserAccount)).all()
        }
    count = f.attendees.groupby("meeting_id").size()
    df = f.meetings.copy()
    df["kind_label"] = df["kind"].map(lambda v: label("kind", v))
    df["organiser"] = df["organiser_id"].map(lambda v: users.get(int(v), "") if pd.notna(v) else "")
    df["attendees"] = df["id"].map(count).fillna(0).astype(int)
    return df.sort_values(["meeting_date", "id"], ascending=False).reset_index(drop=True)


def show_meetings(df: pd.DataFrame) -> None:
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=["meeting_date", "kind_label", "title", "organiser", "management_present", "attendees"],
        column_config={
            "meeting_date": st.column_config.DateColumn(field("meeting_date"), format="localized"),
            "kind_label": field("kind"),
            "title": st.column_config.TextColumn(field("meeting_title"), width="large"),
            "organiser": field("organiser"),
            "management_present": st.column_config.CheckboxColumn(field("management_present")),
            "attendees": count_column("attendees"),
        },
    )


def get_meeting(meeting_id: int) -> tuple[tm.Meeting | None, list[int]]:
    with read_session() as session:
        row = session.get(tm.Meeting, meeting_id)
        return row, services.attendee_ids(session=session, meeting_id=meeting_id) if row else []


def benefit_options(pid: int) -> dict[int, str]:
    """The adoption register's benefits of the project (a benefit demonstration links them)."""
    with read_session() as session:
        b = adoption_registers.benefits(session, pid)
    return dict(zip(b["id"].astype(int), b["name"].astype(str), strict=True))


def linked_benefits(meeting_id: int) -> list[int]:
    with read_session() as session:
        return adoption_registers.benefits_of_meeting(session, meeting_id)


def meeting_details(row: tm.Meeting, attendees: list[int], pid: int) -> None:
    """Decisions, notes and benefits shown as plain text (user text is data)."""
    who = names(pid)
    st.caption(t("training.ui.attendee_list", n=len(attendees)))
    st.text(", ".join(who.get(i, f"#{i}") for i in attendees) or common.EMPTY)
    linked = linked_benefits(int(row.id or 0))
    if linked:
        options = benefit_options(pid)
        st.caption(t("adoption.field.benefits"))
        st.text(", ".join(options.get(i, f"#{i}") for i in linked))
    for name in ("decisions", "notes", "benefits_shown"):
        value = getattr(row, name)
        if value:
            st.caption(field(name))
            st.text(value)


def meeting_form(pid: int, row: tm.Meeting | None = None, attendees: list[int] | None = None) -> None:
    shown = 0 if row is None else common.shown_version(f"meeting_edit_{row.id}", row.version)
    name = "meeting_new" if row is None else f"meeting_edit_{row.id}_{shown}"  # as the form showed it
    people = _people_options(pid)
    kinds = list(tm.MEETING_KINDS)
    with common.form(name):
        c = st.columns(3)
        kind = c[0].selectbox(
            field("kind"),
            kinds,
            index=kinds.index(row.kind) if row else 0,
            format_func=lambda k: label("kind", k),
        )
        title = c[1].text_input(field("meeting_title"), value=row.title if row else "", max_chars=200)
        day = c[2].date_input(
            field("meeting_date"), value=row.meeting_date if row else today(), format="DD.MM.YYYY"
        )
        present = st.checkbox(field("management_present"), value=row.management_present if row else False)
        chosen = st.multiselect(
            field("attendees"),
            list(people),
            default=[i for i in (attendees or []) if i in people],
            format_func=lambda i: people.get(i, ""),
            placeholder=t("common.choose_many"),
        )
        decisions = st.text_area(field("decisions"), value=row.decisions if row else "", height=68)
        notes = st.text_area(field("notes"), value=row.notes if row else "", height=68)
        benefit_names = benefit_options(pid)
        linked = linked_benefits(int(row.id or 0)) if row else []
        shown_benefits = st.multiselect(
            t("adoption.field.benefits"),
            list(benefit_names),
            default=[i for i in linked if i in benefit_names],
            format_func=lambda i: benefit_names.get(i, ""),
            placeholder=t("common.choose_many"),
            help=t("adoption.benefits.meeting_help"),
        )
        benefits = st.text_area(field("benefits_shown"), value=row.benefits_shown if row else "", height=68)
        values: dict[str, Any] = {
            "kind": kind,
            "title": title,
            "meeting_date": day,
            "management_present": present,
            "decisions": decisions,
            "notes": notes,
            "benefits_shown": benefits,
        }
        if row is None:
            if st.form_submit_button(t("training.ui.create_meeting"), icon=":material/add:", type="primary"):
                common.save(
                    services.create_meeting,
                    "training.ui.meeting_created",
                    before_rerun=lambda _: common.forms_saved(),
                    project_id=pid,
                    data=tm.MeetingCreate(**values, attendee_ids=chosen, benefit_ids=shown_benefits),
                )
        elif st.form_submit_button(t("training.ui.save"), icon=":material/save:"):
            changes = {k: v for k, v in values.items() if v != getattr(row, k)}
            if sorted(chosen) != sorted(attendees or []):
                changes["attendee_ids"] = chosen
            if sorted(shown_benefits) != sorted(linked):
                changes["benefit_ids"] = shown_benefits
            if not changes:
                st.toast(t("training.ui.nothing_changed"), icon=":material/info:")
            else:
                common.save(
                    services.update_meeting,
                    "training.ui.meeting_saved",
                    meeting_id=int(row.id or 0),
                    expected_version=shown,
                    data=tm.MeetingUpdate(**changes),
                )


# ---- my training ----------------------------------------------------------------------------------


def my_record(actor: Actor) -> pd.DataFrame | None:
    """The signed-in user's own training record; None when the user has no person."""
    with read_session() as session:
        user = session.get(UserAccount, actor.id) if actor.id is not None else None
        if user is None or user.person_id is None:
            return None
        df = queries.my_record(session, user.person_id)
    return df.assign(
        status_label=df["status"].map(lambda v: label("status", v)),
        attended_label=df["attended"].map(
            lambda v: common.EMPTY if pd.isna(v) else t("training.ui.yes") if v else t("training.ui.no")
        ),
    )
