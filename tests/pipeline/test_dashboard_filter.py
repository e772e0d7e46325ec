"""The dashboard's period / owner / team filter: every figure follows it.

Hand-made deals of three owners (two teams and one without) across months; each KPI under each
filter is compared with a plain computation written here, independently of the metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, select

from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_money, fmt_money_short, fmt_number, set_locale, t
from crm_impl.core.models import Person, UserAccount
from crm_impl.pipeline.metrics import scope as sc
from crm_impl.pipeline.models import Deal, StageDefinition
from crm_impl.pipeline.queries import frames as pipeline_data
from crm_impl.pipeline.queries import report
from crm_impl.pipeline.queries.frames import PipelineFrames
from crm_impl.pipeline.services.stages import DEFAULT_STAGES
from tests.core.test_pages import metric

TODAY = date(2026, 5, 15)
NOW = datetime(2026, 5, 15, 12, tzinfo=UTC)


def _t(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


# id, owner, created, stage key, decided (won: close; lost: the day it was lost), value
DEALS = [
    (1, 1, "2026-01-10", "prospect", None, 100.0),
    (2, 1, "2026-02-05", "contract", "2026-03-31 23:59:59", 200.0),  # last second of March
    (3, 2, "2026-03-01", "contract", "2026-04-01 00:00:00", 300.0),  # first second of April
    (4, 2, "2026-04-10", "lost", "2026-04-20", 400.0),
    (5, 1, "2026-04-15", "negotiation", None, 500.0),
    (6, 3, "2025-11-03", "completed", "2026-01-15", 600.0),
    (7, 2, "2026-05-02", "offer", None, 700.0),
    (8, 1, "2025-06-10", "lost", "2025-12-01", 800.0),
    (9, 1, None, "prospect", None, 900.0),  # imported without any date
]
TEAMS = {1: "North", 2: "South", 3: sc.NO_TEAM}


def _stages() -> pd.DataFrame:
    rows = [
        {
            "id": i,
            "key": key,
            "position": i,
            "name_en": en,
            "name_pl": pl,
            "kind": kind,
            "probability": prob,
            "stage_cost": float(cost),
            "rot_days": rot,
            "active": True,
        }
        for i, (key, en, pl, kind, prob, cost, rot) in enumerate(DEFAULT_STAGES, start=1)
    ]
    return pd.DataFrame(rows)


def _frames() -> PipelineFrames:
    stages = _stages()
    sid = dict(zip(stages["key"], stages["id"], strict=True))
    rows, changes = [], []
    for i, owner, created, key, decided, value in DEALS:
        c, dec = _t(created), _t(decided)
        entered = dec if dec is not None else c
        rows.append(
            {
                "id": i,
                "stage_id": sid[key],
                "account_id": i,
                "owner_id": owner,
                "value": value,
                "probability": np.nan,
                "created_at": c,
                "closed_at": dec,
                "last_touch_at": entered or NOW,
                "stage_entered_at": entered,
                "expected_close": pd.NaT,
                "promised_delivery": pd.NaT,
                "actual_delivery": pd.NaT,
            }
        )
        if c is not None:
            changes.append({"deal_id": i, "to_stage_id": sid["prospect"], "at": c})
            if key != "prospect":
                changes.append({"deal_id": i, "to_stage_id": sid[key], "at": entered})
    deals = pd.DataFrame(rows)
    for col in ("created_at", "closed_at", "last_touch_at", "stage_entered_at"):
        deals[col] = pd.to_datetime(deals[col], utc=True)
    for col in ("expected_close", "promised_delivery", "actual_delivery"):
        deals[col] = pd.to_datetime(deals[col]).astype("datetime64[s]")
    deals["owner_id"] = deals["owner_id"].astype("Int64")
    deals["account_id"] = deals["account_id"].astype("Int64")
    ch = pd.DataFrame(changes)
    ch["at"] = pd.to_datetime(ch["at"], utc=True)
    budget = pd.DataFrame(
        {
            "month": pd.date_range("2025-06-01", "2026-12-01", freq="MS").astype("datetime64[s]"),
            "amount": 1000.0,
        }
    )
    owners = pd.DataFrame({"id": list(TEAMS), "team": list(TEAMS.values())})
    return PipelineFrames(stages=stages, deals=deals, changes=ch, budget=budget, owners=owners)


def _expected(scope: sc.Scope) -> dict[str, object]:
    """The KPIs by hand, one deal at a time."""
    kinds = {key: kind for key, _en, _pl, kind, *_ in DEFAULT_STAGES}
    since, until = scope.since, scope.until
    who = set(scope.owner_ids) | {o for o, team in TEAMS.items() if team in scope.teams}
    picked = []
    for i, owner, created, key, decided, value in DEALS:
        c, dec = _t(created), _t(decided)
        if who and owner not in who:
            continue
        if until is not None and c is not None and c >= until:
            continue  # created after the period
        if since is not None and dec is not None and dec < since:
            continue  # decided before it
        picked.append((i, kinds[key], c, dec, value))

    def in_period(x: datetime | None) -> bool:
        return x is not None and (since is None or x >= since) and (until is None or x < until)

    won = [p for p in picked if p[1] == "won" and in_period(p[3])]
    lost = [p for p in picked if p[1] == "lost" and in_period(p[3])]
    open_ = [p for p in picked if p[1] == "open"]
    cycles = [(p[3] - p[2]).total_seconds() / 86400 for p in won if p[2] is not None]
    return {
        "deals": len(picked),
        "open": len(open_),
        "pipeline_value": sum(p[4] for p in open_),
        "won": len(won),
        "lost": len(lost),
        "won_value": sum(p[4] for p in won),
        "win_rate": len(won) / (len(won) + len(lost)) if won or lost else None,
        "avg_sales_cycle_days": sum(cycles) / len(cycles) if cycles else None,
        "new": sum(1 for p in picked if in_period(p[2])),
    }


SCOPES = [
    ("all", {}),
    ("this_month", {}),
    ("last_month", {}),
    ("this_quarter", {}),
    ("last_quarter", {}),
    ("this_year", {}),
    ("last_12", {}),
    ("custom", {"start": date(2026, 3, 31), "end": date(2026, 3, 31)}),
    ("custom", {"start": date(2026, 4, 1)}),
    ("all", {"owner_ids": (1,)}),
    ("all", {"teams": ("South",)}),
    ("all", {"teams": (sc.NO_TEAM,)}),
    ("last_quarter", {"owner_ids": (1,)}),
    ("last_month", {"teams": ("South",)}),
    ("this_year", {"owner_ids": (3,), "teams": ("South",)}),  # the owner picked and the team
    ("last_12", {"teams": ("North", "South")}),
]


@pytest.mark.parametrize(("period", "kw"), SCOPES, ids=lambda v: str(v))
def test_every_kpi_follows_the_filter(period, kw):
    scope = sc.scope_for(period, TODAY, **kw)
    data = report.dashboard_from_frames(_frames(), TODAY, scope)
    want = _expected(scope)
    s = data["summary"]
    assert data["deals"] == want["deals"]
    assert s["open"] == want["open"]
    assert s["pipeline_value"] == pytest.approx(want["pipeline_value"])
    assert (s["won"], s["lost"]) == (want["won"], want["lost"])
    assert s["won_value"] == pytest.approx(want["won_value"])
    assert s["win_rate"] == pytest.approx(want["win_rate"])
    assert s["avg_sales_cycle_days"] == pytest.approx(want["avg_sales_cycle_days"])
    # the share per stage, the funnel and the trends count the same deals
    assert int(data["share"]["open_deals"].sum()) == want["open"]
    # every deal picked entered the first stage (the undated one too: its stage, at no known time)
    assert int(data["funnel"].set_index("key").loc["prospect", "reached"]) == want["deals"]
    assert int(data["trends"]["new"].sum()) == want["new"]
    assert int(data["trends"]["won"].sum()) == want["won"]
    assert int(data["trends"]["lost"].sum()) == want["lost"]


def test_the_months_drawn_are_the_periods():
    frames = _frames()
    scope = sc.scope_for("last_quarter", TODAY)
    data = report.dashboard_from_frames(frames, TODAY, scope)
    months = [m.strftime("%Y-%m") for m in pd.to_datetime(data["trends"]["month"])]
    assert months == ["2026-01", "2026-02", "2026-03"]
    budget = data["cost_vs_budget"]
    assert [m.strftime("%Y-%m") for m in pd.to_datetime(budget["month"])] == ["2026-01", "2026-02", "2026-03"]
    assert data["cost_totals"]["budget"] == pytest.approx(3000.0)
    # this year runs into months still to come: only those up to this one are in the total
    year = report.dashboard_from_frames(frames, TODAY, sc.scope_for("this_year", TODAY))
    assert year["cost_totals"]["budget"] == pytest.approx(5000.0)
    assert year["cost_totals"]["later_budget"] == pytest.approx(7000.0)


def test_period_boundaries_close_on_the_last_day_of_the_month():
    frames = _frames()
    april = report.dashboard_from_frames(frames, TODAY, sc.scope_for("last_month", TODAY))
    march = report.dashboard_from_frames(frames, TODAY, sc.scope_for("last_quarter", TODAY))
    # deal 2 won at 23:59:59 on 31 March: March's; deal 3 won at midnight on 1 April: April's
    assert march["summary"]["won_value"] == pytest.approx(200.0 + 600.0)
    assert april["summary"]["won_value"] == pytest.approx(300.0)
    assert sc.period_bounds("last_month", TODAY) == (_t("2026-04-01"), _t("2026-05-01"))
    assert sc.period_bounds("this_quarter", TODAY) == (_t("2026-04-01"), _t("2026-07-01"))
    assert sc.period_bounds("last_quarter", date(2026, 2, 3)) == (_t("2025-10-01"), _t("2026-01-01"))
    assert sc.period_bounds("last_12", TODAY) == (_t("2025-05-01"), _t("2026-05-01"))
    assert sc.period_bounds("last_month", date(2026, 1, 31)) == (_t("2025-12-01"), _t("2026-01-01"))
    # a custom range includes both days, whichever way round they were typed
    assert sc.period_bounds("custom", TODAY, date(2026, 3, 31), date(2026, 3, 1)) == (
        _t("2026-03-01"),
        _t("2026-04-01"),
    )
    assert sc.scope_for("nonsense", TODAY) == sc.Scope()


def test_no_deal_matches_and_nothing_breaks():
    scope = sc.scope_for("this_month", TODAY, owner_ids=(3,))
    data = report.dashboard_from_frames(_frames(), TODAY, scope)
    assert data["deals"] == 0
    assert data["summary"]["open"] == 0 and data["summary"]["win_rate"] is None
    assert data["funnel"]["reached"].sum() == 0


# -- the database: teams are the owners' departments; both backends ---------------------------


def _seed(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        stage = {r.key: r.id for r in s.exec(select(StageDefinition)).all()}
        ids = {}
        for login, dept in (("ann", "North"), ("bob", "South"), ("cid", None)):
            person = None
            if dept:
                person = Person(full_name=login, side="client", department=dept)
                s.add(person)
                s.flush()
            user = UserAccount(username=login, roles=["sales_rep"], display_name=login.title())
            user.person_id = person.id if person else None
            s.add(user)
            s.flush()
            ids[login] = int(user.id or 0)
        for title, owner, created, key, closed, value in (
            ("a1", "ann", "2026-03-10", "prospect", None, "100"),
            ("a2", "ann", "2026-02-01", "contract", "2026-03-31 23:59:59", "200"),
            ("b1", "bob", "2026-03-05", "contract", "2026-04-01 00:00:00", "300"),
            ("c1", "cid", "2026-04-02", "offer", None, "400"),
        ):
            at = _t(created)
            s.add(
                Deal(
                    title=title,
                    owner_id=ids[owner],
                    stage_id=stage[key],
                    value=Decimal(value),
                    created_at=at,
                    stage_entered_at=_t(closed) or at,
                    last_touch_at=_t(closed) or at,
                    closed_at=_t(closed),
                )
            )
        s.commit()
    return ids


def test_teams_come_from_the_owners_departments(engine):
    ids = _seed(engine)
    with Session(engine) as s:
        frames = pipeline_data.load(s)
    teams = dict(zip(frames.owners["id"], frames.owners["team"], strict=True))
    assert (teams[ids["ann"]], teams[ids["bob"]], teams[ids["cid"]]) == ("North", "South", sc.NO_TEAM)
    south = report.dashboard_from_frames(frames, TODAY, sc.scope_for("all", TODAY, teams=("South",)))
    assert (south["deals"], south["summary"]["won_value"]) == (1, pytest.approx(300.0))
    q1 = report.dashboard_from_frames(frames, TODAY, sc.scope_for("last_quarter", TODAY))
    assert (q1["summary"]["won"], q1["summary"]["won_value"]) == (1, pytest.approx(200.0))
    nobody = report.dashboard_from_frames(frames, TODAY, sc.scope_for("all", TODAY, teams=(sc.NO_TEAM,)))
    assert (nobody["deals"], nobody["summary"]["open"], nobody["summary"]["pipeline_value"]) == (
        1,
        1,
        pytest.approx(400.0),
    )


# -- the page -------------------------------------------------------------------------------


def _open_of(url: str, owner_id: int) -> tuple[int, Decimal]:
    with Session(get_engine(url)) as s:
        rows = s.exec(
            select(Deal.value)
            .join(StageDefinition, StageDefinition.id == Deal.stage_id)
            .where(StageDefinition.kind == "open", Deal.owner_id == owner_id, Deal.currency == "PLN")
        ).all()
    return len(rows), sum(rows, Decimal(0))


def _user_id(url: str, login: str) -> tuple[int, str]:
    with Session(get_engine(url)) as s:
        user = s.exec(select(UserAccount).where(UserAccount.username == login)).one()
        return int(user.id or 0), user.display_name


@pytest.mark.parametrize(
    ("login", "locale"), [("sales_manager", "en"), ("sales_rep", "pl"), ("management", "en")]
)
def test_dashboard_follows_a_filter_from_the_link(app_as, demo_url, login, locale, request):
    rep_id, rep_name = _user_id(demo_url, "sales_rep")
    at = app_as(login, "pages/pipeline/dashboard.py", locale=locale)
    assert not at.exception, at.exception
    set_locale(locale)  # the labels the test looks for, in the page's language
    request.addfinalizer(lambda: set_locale("en"))
    everyone = metric(at, t("metric.open_deals"))
    at.query_params["owner"] = str(rep_id)
    at.query_params["period"] = "this_year"
    at.session_state["dash_period"] = "this_year"
    at.session_state["dash_owner"] = [rep_id]
    at.run()
    assert not at.exception, at.exception
    n, value = _open_of(demo_url, rep_id)
    assert metric(at, t("metric.open_deals")) == fmt_number(n) != everyone
    assert metric(at, t("metric.pipeline_value")) == fmt_money_short(value)  # short in the tile,
    tile = next(m for m in at.metric if m.label == t("metric.pipeline_value"))
    assert tile.proto.help == fmt_money(value)  # exact in its tooltip
    caption = " ".join(c.value for c in at.caption)
    assert t("pipeline.scope.periods.this_year") in caption and rep_name in caption
    assert (at.query_params["period"], at.query_params["owner"]) == ("this_year", str(rep_id))
    assert len(at.get("vega_lite_chart")) == 7  # every chart still drawn


def test_dashboard_opens_from_a_link_with_a_team(app_as, demo_url):
    """A link with the filter opens the same view: the widgets start from the address."""
    from streamlit.testing.v1 import AppTest

    from tests.apptest import APP, sign_in_state

    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["locale"] = "en"
    sign_in_state(at, demo_url, "sales_manager")
    at.run()
    at.switch_page("pages/pipeline/dashboard.py")
    at.query_params["period"] = "last_12"
    at.query_params["team"] = "Sales"
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="dash_period").value == "last_12"
    assert at.multiselect(key="dash_team").value == ["Sales"]
    caption = " ".join(c.value for c in at.caption)
    assert "Last 12 complete months" in caption and "team Sales" in caption


@pytest.mark.parametrize(("period", "kw"), SCOPES[:3], ids=lambda v: str(v))
def test_the_figures_computed_side_by_side_are_those_computed_one_by_one(period, kw):
    # the dashboard computes half its figures in a second thread: each is still the plain metric
    from crm_impl.pipeline import metrics as pm

    frames, scope = _frames(), sc.scope_for(period, TODAY, **kw)
    data = report.dashboard_from_frames(frames, TODAY, scope)
    day, now = report._now(TODAY)
    s = frames.stages
    d, c = sc.restrict(frames.deals, frames.changes, s, frames.owners, scope)
    pairs = pm.entered(c, d)
    by_month = sc.months(pm.cost_vs_budget(c, d, s, frames.budget, sc.entries_in(pairs, scope)), scope)
    one_by_one = {
        "summary": pm.summary(d, s, now, since=scope.since, until=scope.until),
        "share": pm.stage_share(d, s),
        "funnel": pm.funnel(c, d, s, pairs),
        "time_in_stage": pm.time_in_stage(c, s, deals=d, now=now),
        "trends": sc.months(pm.monthly_trends(sc.events_in(d, scope), s), scope),
        "undated": pm.undated_deals(d),
        "stage_cost": pm.stage_cost(c, d, s, pairs),
        "cost_vs_budget": by_month,
        "cost_totals": pm.cost_budget_totals(by_month, day),
        "stale_by_owner": pm.stale_by_owner(d, s, now),
        "on_time": pm.on_time_fulfilment(sc.delivered_in(d, scope)),
        "outlook": pm.relationship_outlook(d, s, day),
        "deals": len(d),
    }
    assert set(one_by_one) <= set(data)
    for name, want in one_by_one.items():
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(data[name], want, obj=name)
        else:
            assert data[name] == want, name
