"""The usage metrics on hand-made event logs, every figure counted by hand in the test: weekends
left out of the DAU means but counted in WAU/MAU, Polish public holidays, a user who joins
mid-month counted from their start, licensed-but-never-active, per department and role, the
monthly trend with the month in progress partial."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from crm_impl.adoption.metrics import usage as m

# March 2026: Mon 2nd … Tue 31st; 22 working days (no public holiday in March 2026).
TODAY = date(2026, 3, 31)


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "name": ["Ala", "Bartek", "Celina", "Darek", "Ewa", "Franek"],
            "department": ["Sales", "Sales", "Sales", "Logistics", "Logistics", "Sales"],
            "role": ["sales_rep", "sales_rep", "sales_rep", "sales_manager", "sales_rep", "sales_rep"],
            "licensed_user": [True, True, True, True, False, True],
            "active": [True, True, True, True, True, False],
            # Celina joins on Monday 16 March; the others have their accounts since January
            "start": pd.to_datetime(
                ["2026-01-05", "2026-01-05", "2026-03-16", "2026-01-05", "2026-01-05", None]
            ),
        }
    )


def daily(rows: list[tuple[int, str, int, int]], source: str = "app") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "day": pd.to_datetime([r[1] for r in rows]),
            "source": source,
            "created": [r[2] for r in rows],
            "updated": [r[3] for r in rows],
        }
    )


LOG = daily(
    [
        (1, "2026-03-02", 2, 1),  # Mon
        (1, "2026-03-03", 0, 4),  # Tue
        (1, "2026-03-28", 1, 0),  # Saturday: counts for WAU/MAU, not a DAU day
        (2, "2026-03-07", 0, 2),  # Saturday only
        (3, "2026-03-17", 3, 0),  # Celina's first use (Tue)
        (3, "2026-03-31", 0, 1),  # today (Tue)
        (5, "2026-03-02", 5, 5),  # Ewa: not licensed, never counted
        (6, "2026-03-02", 5, 5),  # Franek: inactive (left), never counted
        (2, "2026-02-10", 1, 0),  # February (outside the 30-day window)
    ]
)


def test_working_days_leave_out_weekends_and_polish_holidays():
    days = pd.date_range("2026-03-01", "2026-03-31")
    assert int(m.working_mask(days).sum()) == 22
    may = pd.date_range("2026-05-01", "2026-05-31")  # 21 weekdays; 1 May (Fri) is a holiday, 3 May a Sunday
    assert int(m.working_mask(may).sum()) == 20
    easter = m.polish_holidays(2026)
    assert date(2026, 4, 5) in easter and date(2026, 4, 6) in easter  # Easter Sunday and Monday
    assert date(2026, 6, 4) in easter  # Corpus Christi: Easter + 60 days
    assert date(2025, 12, 24) in m.polish_holidays(2025) and date(2024, 12, 24) not in m.polish_holidays(2024)


def test_summary_over_the_last_30_days():
    s = m.summary(LOG, people(), TODAY)
    assert (s["first_day"], s["last_day"], s["working_days"]) == (date(2026, 3, 2), TODAY, 22)
    # the population on the 31st: Ala, Bartek, Celina, Darek (Ewa unlicensed, Franek inactive)
    assert s["licensed"] == 4
    assert s["mau"] == 3  # Ala, Bartek (a Saturday is use), Celina; Darek never
    assert s["adoption_rate"] == pytest.approx(3 / 4)
    assert s["wau"] == 2  # 25–31 March: Ala (Sat 28th), Celina (31st)
    # DAU on working days: 2nd Ala, 3rd Ala, 17th Celina, 31st Celina -> 4 / 22 working days
    assert s["dau_mean"] == pytest.approx(4 / 22)
    # DAU share: before the 16th the population is 3, from the 16th 4 (Celina counted from her start)
    assert s["dau_share"] == pytest.approx((1 / 3 + 1 / 3 + 1 / 4 + 1 / 4) / 22)
    assert s["stickiness"] == pytest.approx((4 / 22) / 3)
    assert s["created_per_active"] == pytest.approx((2 + 0 + 1 + 0 + 3 + 0) / 3)
    assert s["updated_per_active"] == pytest.approx((1 + 4 + 0 + 2 + 0 + 1) / 3)
    assert s["never_active"] == 1  # Darek


def test_a_mid_month_joiner_is_not_in_the_denominator_before_their_start():
    only_before = m.summary(LOG, people(), date(2026, 3, 13))  # Fri 13th, before Celina starts
    assert only_before["licensed"] == 3 and only_before["never_active"] == 1  # Darek, not Celina


def test_weekend_use_does_not_lower_the_dau_share():
    weekday = daily([(1, "2026-03-02", 1, 0)])
    with_weekend = daily([(1, "2026-03-02", 1, 0), (2, "2026-03-07", 1, 0), (2, "2026-03-08", 1, 0)])
    a = m.summary(weekday, people(), TODAY)
    b = m.summary(with_weekend, people(), TODAY)
    assert a["dau_mean"] == b["dau_mean"] == pytest.approx(1 / 22)  # weekends are not DAU days
    assert (a["mau"], b["mau"]) == (1, 2)


def test_use_before_the_account_start_moves_the_start():
    log = daily([(3, "2026-03-10", 1, 0)])  # Celina used an imported system before her account
    s = m.summary(log, people(), TODAY)
    assert s["licensed"] == 4 and s["mau"] == 1


def test_by_department_and_role():
    dep = m.by_group(LOG, people(), TODAY, "department").set_index("department")
    assert list(dep.index) == ["Logistics", "Sales"]
    assert dep.loc["Sales", "licensed"] == 3 and dep.loc["Sales", "mau"] == 3
    assert dep.loc["Logistics", "licensed"] == 1 and dep.loc["Logistics", "mau"] == 0
    assert dep.loc["Logistics", "never_active"] == 1
    assert dep.loc["Sales", "dau_mean"] == pytest.approx(4 / 22)
    assert pd.isna(dep.loc["Logistics", "stickiness"])  # no MAU: no stickiness, not 0
    role = m.by_group(LOG, people(), TODAY, "role").set_index("role")
    assert role.loc["sales_rep", "mau"] == 3 and role.loc["sales_manager", "adoption_rate"] == 0


def test_never_active_list_and_sources():
    never = m.never_active(LOG, people(), TODAY)
    assert never["name"].tolist() == ["Darek"]
    both = pd.concat([LOG, daily([(4, "2026-03-20", 0, 3)], source="crm-web")])
    assert m.never_active(both, people(), TODAY).empty
    src = m.by_source(both, people(), TODAY).set_index("source")
    assert src.loc["crm-web", "people"] == 1 and src.loc["crm-web", "updated"] == 3
    assert src.loc["app", "people"] == 3  # Ewa and Franek left out
    assert m.summary(both, people(), TODAY)["mau"] == 4


def test_monthly_trend_since_go_live_with_the_month_in_progress_partial():
    go_live = date(2026, 2, 16)
    trend = m.monthly(LOG, people(), go_live, date(2026, 3, 20))
    assert trend["month"].tolist() == [pd.Timestamp("2026-02-01"), pd.Timestamp("2026-03-01")]
    assert trend["partial"].tolist() == [False, True]
    feb, mar = trend.iloc[0], trend.iloc[1]
    assert feb["working_days"] == 10  # 16–27 February
    assert feb["mau"] == 0  # Bartek's 10 February is before go-live
    assert feb["licensed"] == 3
    assert mar["working_days"] == 15  # 2–20 March
    assert mar["mau"] == 3 and mar["licensed"] == 4
    assert mar["dau_mean"] == pytest.approx(3 / 15)  # 2nd, 3rd (Ala), 17th (Celina)
    assert m.trend_start(LOG, date(2026, 9, 1), TODAY) == date(2026, 2, 1)  # go-live ahead: first use


def test_series_per_day():
    s = m.series(LOG, people(), date(2026, 3, 1), date(2026, 3, 8)).set_index("day")
    assert pd.isna(s.loc["2026-03-07", "dau"])  # Saturday: no DAU
    assert s.loc["2026-03-02", "dau"] == 1 and s.loc["2026-03-08", "wau"] == 2  # Ala, Bartek
    assert s.loc["2026-03-08", "mau"] == 2  # 7 Feb – 8 Mar: Ala, Bartek (10 Feb and 7 Mar)
    assert (s["licensed"] == 3).all()


def test_empty_inputs_give_no_figures_rather_than_errors():
    empty = daily([])
    s = m.summary(empty, people(), TODAY)
    assert s["mau"] == 0 and s["stickiness"] is None and s["never_active"] == 4
    assert m.by_source(empty, people(), TODAY).empty
    nobody = people().iloc[0:0]
    assert m.summary(empty, nobody, TODAY)["adoption_rate"] is None
    assert m.monthly(empty, nobody, None, TODAY)["licensed"].tolist() == [0]
