"""The dashboard's filter: period, owners and teams, kept in the address (a link opens the same
view) and said in a caption. What each figure then counts: crm_impl.pipeline.metrics.scope."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from crm_impl.core.i18n import fmt_date, t, tn
from crm_impl.core.ui import common
from crm_impl.pipeline.metrics import scope as sc
from crm_impl.pipeline.queries.frames import PipelineFrames

KEYS = {
    "period": "dash_period",
    "from": "dash_from",
    "to": "dash_to",
    "owner": "dash_owner",
    "team": "dash_team",
}


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:  # a hand-edited link: the filter starts without that bound
        return None


def _from_link(owners: list[int], teams: list[str]) -> None:
    """On the page's first run, the widgets start from the address (unknown values are dropped)."""
    q = st.query_params
    if KEYS["period"] not in st.session_state:
        period = q.get("period", "all")
        st.session_state[KEYS["period"]] = period if period in sc.PERIODS else "all"
        st.session_state[KEYS["from"]] = _day(q.get("from"))
        st.session_state[KEYS["to"]] = _day(q.get("to"))
    if KEYS["owner"] not in st.session_state:
        wanted = [int(v) for v in q.get_all("owner") if v.isdigit()]
        st.session_state[KEYS["owner"]] = [i for i in wanted if i in owners]
    if KEYS["team"] not in st.session_state:
        st.session_state[KEYS["team"]] = [v for v in q.get_all("team") if v in teams]


def _to_link(scope: sc.Scope, start: date | None, end: date | None) -> None:
    q = st.query_params
    for name in ("period", "from", "to", "owner", "team"):
        q.pop(name, None)
    if scope.period != "all":
        q["period"] = scope.period
    if scope.period == "custom":
        if start:
            q["from"] = start.isoformat()
        if end:
            q["to"] = end.isoformat()
    if scope.owner_ids:
        q["owner"] = [str(i) for i in scope.owner_ids]
    if scope.teams:
        q["team"] = list(scope.teams)


def team_label(team: str) -> str:
    return t("pipeline.scope.no_team") if team == sc.NO_TEAM else team


def pick(frames: PipelineFrames, names: dict[int, str], today: date) -> sc.Scope:
    """The filter row above the figures; returns the scope every figure follows."""
    owning = set(frames.deals["owner_id"].dropna().astype(int))
    owners = sorted((i for i in owning if i in names), key=lambda i: names[i].lower())
    of_owners = frames.owners[frames.owners["id"].isin(owners)]
    teams = sorted(set(of_owners["team"]), key=lambda v: (v == sc.NO_TEAM, v.lower()))
    _from_link(owners, teams)
    c = st.columns([2, 3, 2])
    period = c[0].selectbox(
        t("pipeline.scope.period"),
        sc.PERIODS,
        format_func=lambda p: t(f"pipeline.scope.periods.{p}"),
        key=KEYS["period"],
    )
    start = end = None
    if period == "custom":
        d = c[0].columns(2)
        start = d[0].date_input(t("pipeline.scope.from"), key=KEYS["from"], format="YYYY-MM-DD")
        end = d[1].date_input(t("pipeline.scope.to"), key=KEYS["to"], format="YYYY-MM-DD")
    owner_ids = c[1].multiselect(
        t("pipeline.field.owner"),
        owners,
        format_func=lambda i: names.get(i, "–"),
        key=KEYS["owner"],
        placeholder=t("common.all"),
    )
    picked_teams = c[2].multiselect(
        t("pipeline.scope.team"),
        teams,
        format_func=team_label,
        key=KEYS["team"],
        placeholder=t("common.all"),
    )
    scope = sc.scope_for(
        period, today, start=start, end=end, owner_ids=tuple(owner_ids), teams=tuple(picked_teams)
    )
    _to_link(scope, start, end)
    return scope


def caption(scope: sc.Scope, names: dict[int, str], deals: int) -> None:
    """Which period and whose deals every figure below shows."""
    if scope.since is None and scope.until is None:
        period = t("pipeline.scope.periods.all")
    else:
        first = fmt_date(scope.since.date()) if scope.since else "…"
        last = fmt_date((scope.until - timedelta(days=1)).date()) if scope.until else "…"
        period = t(
            "pipeline.scope.span", period=t(f"pipeline.scope.periods.{scope.period}"), first=first, last=last
        )
    who = [common.plain(names.get(i, "–")) for i in scope.owner_ids]
    who += [t("pipeline.scope.team_of", team=common.plain(team_label(v))) for v in scope.teams]
    st.caption(
        tn(
            "pipeline.scope.caption",
            deals,
            period=period,
            who=", ".join(who) if who else t("pipeline.scope.everyone"),
        ),
        help=t("pipeline.scope.caption_help"),
    )
