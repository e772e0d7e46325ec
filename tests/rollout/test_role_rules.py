"""Every role rule of slides 8–9, each with a team that passes it and one that breaks it."""

import pandas as pd
import pytest

from crm_impl.rollout.metrics.role_rules import RULES, check

GOOD = [
    # person_id, name, side, role, reports_to_id, responsibilities, is_client_contact
    (1, "Sponsor", "client", "sponsor", None, "Approves scope", False),
    (2, "PM client", "client", "pm_client", 1, "Filters ideas", True),
    (3, "PM vendor", "vendor", "pm_vendor", None, "First contact", True),
    (4, "Analyst", "vendor", "analyst", 3, "Writes requirements", False),
    (5, "Tester V", "vendor", "tester_vendor", 3, "Tests every version", False),
    (6, "Tester C", "client", "tester_client", 2, "Tests on real data", False),
    (7, "Programmer", "vendor", "programmer", 3, "Builds what the PM assigns", False),
]
COLUMNS = ["person_id", "full_name", "side", "role", "reports_to_id", "responsibilities", "is_client_contact"]


def _team(rows):
    return pd.DataFrame(rows, columns=COLUMNS)


def _finding(rows, rule):
    return next(f for f in check(_team(rows)) if f.rule == rule)


def _replace(role, **changes):
    rows = []
    for r in GOOD:
        row = dict(zip(COLUMNS, r, strict=True))
        if row["role"] == role:
            row.update(changes)
        rows.append(tuple(row.values()))
    return rows


def _without(role):
    return [r for r in GOOD if r[3] != role]


BROKEN = {
    "sponsor_named": _without("sponsor"),
    "both_pms_named": _replace("pm_client", side="vendor"),  # a "client" PM from the vendor
    "analyst_exists": _without("analyst"),
    "programmer_not_pm_or_analyst": [
        *GOOD,
        (7, "Programmer", "vendor", "analyst", 3, "Also analyses", False),
    ],
    "testers_both_sides": _without("tester_client"),
    "programmers_not_client_contacts": _replace("programmer", is_client_contact=True),
    "programmers_report_to_pm": _replace("programmer", reports_to_id=4),
    "responsibilities_written": _replace("tester_vendor", responsibilities="  "),
    "no_conflicting_roles": [*GOOD, (5, "Tester V", "vendor", "programmer", 3, "Codes too", False)],
}


def test_every_rule_has_a_broken_case_and_a_slide():
    assert set(BROKEN) == {rule for rule, _ in RULES}
    assert {slide for _, slide in RULES} == {8, 9}


@pytest.mark.parametrize("rule", [r for r, _ in RULES])
def test_rule_holds_for_a_well_staffed_team(rule):
    finding = _finding(GOOD, rule)
    assert finding.ok and finding.message_key == f"plan.rule.{rule}.ok"


@pytest.mark.parametrize("rule", [r for r, _ in RULES])
def test_rule_is_violated(rule):
    finding = _finding(BROKEN[rule], rule)
    assert not finding.ok and finding.message_key == f"plan.rule.{rule}.violation"
    assert finding.people or finding.missing


def test_violation_names_who_breaks_it():
    assert _finding(BROKEN["programmers_not_client_contacts"], "programmers_not_client_contacts").people == [
        "Programmer"
    ]
    assert _finding(BROKEN["both_pms_named"], "both_pms_named").missing == ["pm_client"]


def test_empty_team_breaks_the_presence_rules_only():
    findings = {f.rule: f.ok for f in check(_team([]))}
    assert not findings["sponsor_named"] and not findings["testers_both_sides"]
    assert findings["no_conflicting_roles"] and findings["programmers_report_to_pm"]
