"""Pipeline value is one computation in one currency: the board's and overview's SQL and the
dashboards' pandas metrics agree, and a deal in another currency is left out of every sum and
reported instead of being added to zloty."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from crm_impl.overview import queries as overview
from crm_impl.pipeline.models import Deal, StageDefinition
from crm_impl.pipeline.queries import frames, report, values


@pytest.fixture
def deals(engine):
    with Session(engine) as s:  # test setup, not under test
        stage = {st.key: st for st in s.exec(select(StageDefinition)).all()}
        rows = [
            ("needs_analysis", "10000", None, "PLN"),
            ("needs_analysis", "5000", 0.5, "PLN"),
            ("offer", "20000", None, "PLN"),
            ("offer", "7000", None, "EUR"),
            ("offer", "3000", 0.9, "EUR"),
            ("contract", "99999", None, "PLN"),  # won: not in the open pipeline
        ]
        for i, (key, value, prob, cur) in enumerate(rows):
            s.add(
                Deal(
                    title=f"D{i}",
                    stage_id=stage[key].id,
                    value=Decimal(value),
                    probability=prob,
                    currency=cur,
                )
            )
        s.commit()
        return {k: (v.id, v.probability, v.kind) for k, v in stage.items()}


def test_one_value_in_one_currency_everywhere(engine, deals):
    na_p, offer_p = deals["needs_analysis"][1], deals["offer"][1]
    expected_value = 10000 + 5000 + 20000
    expected_weighted = 10000 * na_p + 5000 * 0.5 + 20000 * offer_p
    with Session(engine) as s:
        sql = values.open_totals(session=s)
        other = values.other_currencies(session=s)
        snap = overview.pipeline_snapshot(session=s)
        pandas = report.report_from_frames(frames.load(s))
    assert sql["value"].sum() == pytest.approx(expected_value)
    assert sql["weighted_value"].sum() == pytest.approx(expected_weighted)
    assert sql["deals"].sum() == 5  # every open deal is counted, whatever its currency
    assert snap["pipeline_value"] == pytest.approx(expected_value)
    assert snap["weighted_value"] == pytest.approx(expected_weighted)
    assert snap["currency"] == "PLN"
    assert pandas["pipeline_value"] == pytest.approx(expected_value)
    assert pandas["weighted_value"] == pytest.approx(expected_weighted)
    assert other.to_dict("records") == [{"currency": "EUR", "deals": 2, "value": 10000.0}]
    assert pandas["other_currencies"] == [{"currency": "EUR", "open_deals": 2, "value": 10000.0}]


def test_overview_per_stage_values_leave_other_currencies_out(engine, deals):
    with Session(engine) as s:
        by_stage = {key: (n, v) for key, n, v in overview.open_deals_by_stage(session=s)}
    assert by_stage["offer"] == (3, 20000.0)
    assert by_stage["needs_analysis"] == (2, 15000.0)
