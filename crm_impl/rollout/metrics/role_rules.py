"""The role rules of slides 8–9 as findings: which hold, which are violated, and by whom.

Input: one row per role assignment with columns person_id, full_name, side, role, reports_to_id,
responsibilities, is_client_contact (services.team.assignments_frame). Pure; no database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

# Role pairs one person must not hold together: the checker would check his own work, or both
# sides of the table would be one voice.
CONFLICTING = (
    ("pm_vendor", "pm_client"),
    ("sponsor", "pm_vendor"),
    ("programmer", "tester_vendor"),
    ("programmer", "tester_client"),
    ("tester_vendor", "tester_client"),
)
ROLE_SIDE = {
    "pm_vendor": "vendor",
    "pm_client": "client",
    "tester_vendor": "vendor",
    "tester_client": "client",
}
RULES = (
    ("sponsor_named", 8),
    ("both_pms_named", 8),
    ("analyst_exists", 8),
    ("programmer_not_pm_or_analyst", 8),
    ("testers_both_sides", 9),
    ("programmers_not_client_contacts", 9),
    ("programmers_report_to_pm", 9),
    ("responsibilities_written", 8),
    ("no_conflicting_roles", 8),
)


@dataclass(frozen=True)
class Finding:
    rule: str
    ok: bool
    slide: int
    people: list[str] = field(default_factory=list)  # who breaks it
    missing: list[str] = field(default_factory=list)  # project roles nobody holds

    @property
    def message_key(self) -> str:
        return f"plan.rule.{self.rule}.{'ok' if self.ok else 'violation'}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message_key": self.message_key}


def _names(df: pd.DataFrame) -> list[str]:
    return sorted(df["full_name"].astype(str).unique().tolist())


def _holders(df: pd.DataFrame, role: str) -> pd.DataFrame:
    holders = df[df["role"] == role]
    side = ROLE_SIDE.get(role)
    return holders[holders["side"] == side] if side else holders


def _missing(df: pd.DataFrame, roles: tuple[str, ...]) -> list[str]:
    return [r for r in roles if _holders(df, r).empty]


def check(assignments: pd.DataFrame) -> list[Finding]:
    df = assignments
    roles_of = df.groupby("person_id")["role"].agg(set) if len(df) else pd.Series(dtype=object)
    programmers = df[df["role"] == "programmer"]
    pm_people = set(df.loc[df["role"].isin(["pm_vendor", "pm_client"]), "person_id"])
    findings: dict[str, list[str]] = {}

    findings["sponsor_named"] = _missing(df, ("sponsor",))
    findings["both_pms_named"] = _missing(df, ("pm_vendor", "pm_client"))
    findings["analyst_exists"] = _missing(df, ("analyst",))
    bad = roles_of[
        roles_of.map(lambda rs: "programmer" in rs and bool(rs & {"pm_vendor", "pm_client", "analyst"}))
    ]
    findings["programmer_not_pm_or_analyst"] = _names(df[df["person_id"].isin(bad.index)])
    findings["testers_both_sides"] = _missing(df, ("tester_vendor", "tester_client"))
    findings["programmers_not_client_contacts"] = _names(
        programmers[programmers["is_client_contact"].astype(bool)]
    )
    findings["programmers_report_to_pm"] = _names(programmers[~programmers["reports_to_id"].isin(pm_people)])
    blank = df["responsibilities"].fillna("").astype(str).str.strip() == ""
    findings["responsibilities_written"] = sorted(
        {f"{n} ({r})" for n, r in zip(df.loc[blank, "full_name"], df.loc[blank, "role"], strict=True)}
    )
    conflicted = roles_of[roles_of.map(lambda rs: any(a in rs and b in rs for a, b in CONFLICTING))]
    findings["no_conflicting_roles"] = _names(df[df["person_id"].isin(conflicted.index)])

    missing_rules = {"sponsor_named", "both_pms_named", "analyst_exists", "testers_both_sides"}
    return [
        Finding(
            rule=rule,
            ok=not findings[rule],
            slide=slide,
            people=[] if rule in missing_rules else findings[rule],
            missing=findings[rule] if rule in missing_rules else [],
        )
        for rule, slide in RULES
    ]


def violations(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not f.ok]
