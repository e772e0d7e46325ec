"""Read the records the rules check (accounts, contacts, deals) and the scan's context from the
database, run the scan, and shape the report the pages and `crm-impl report dq` show.

One query per entity through the driver (no ORM objects); the database turns timestamps and
dates into epoch seconds and money into a float (as `crm_impl.pipeline.queries.frames` does), so
nothing is parsed per row in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.core.clock import now
from crm_impl.core.i18n import fmt_date, fmt_number, t
from crm_impl.core.models import Person, UserAccount
from crm_impl.core.permissions import Actor, require
from crm_impl.data_quality import metrics, rules
from crm_impl.data_quality.models import DqSettings, DqSnapshot
from crm_impl.data_quality.rules import Context, Scan, ScanSettings
from crm_impl.data_quality.vocabulary import DIMENSIONS, ENTITIES
from crm_impl.pipeline.models import Product
from crm_impl.pipeline.queries.frames import _days, _epoch, _float, _rows

ACCOUNT_TIMES = ("created_at",)
DEAL_TIMES = ("created_at", "last_touch_at", "stage_entered_at", "closed_at")
DEAL_DATES = ("expected_close", "promised_delivery", "actual_delivery")


@dataclass(frozen=True)
class DqData:
    frames: dict[str, pd.DataFrame]
    context: Context
    owners: pd.DataFrame  # id, name, department


def _frame(session: Session, sql: str, columns: list[str]) -> pd.DataFrame:
    rows = _rows(session.connection(), sql)
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


def _times(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    for c in columns:
        frame[c] = pd.to_datetime(pd.to_numeric(frame[c], errors="coerce"), unit="s", utc=True)


def _dates(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    for c in columns:
        frame[c] = _days(pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float))


def _ids(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    for c in columns:
        frame[c] = pd.array(pd.to_numeric(frame[c], errors="coerce"), dtype="Int64")


def read_accounts(session: Session) -> pd.DataFrame:
    d = session.connection().dialect.name
    cols = ["id", "name", "nip", "regon", "iban", "postal_code", "sector", "city", "owner_id", "created_at"]
    sql = (
        "SELECT id, name, nip, regon, iban, postal_code, sector, city, owner_id, "
        f"{_epoch('created_at', d)} FROM account"
    )
    frame = _frame(session, sql, cols)
    _ids(frame, ("owner_id",))
    _times(frame, ACCOUNT_TIMES)
    return frame


def read_contacts(session: Session) -> pd.DataFrame:
    """Contacts with their account's owner (a contact has none of its own)."""
    d = session.connection().dialect.name
    cols = ["id", "account_id", "full_name", "email", "phone", "position", "created_at", "owner_id"]
    sql = (
        "SELECT c.id, c.account_id, c.full_name, c.email, c.phone, c.position, "
        f"{_epoch('c.created_at', d)}, a.owner_id FROM contact c LEFT JOIN account a ON a.id = c.account_id"
    )
    frame = _frame(session, sql, cols)
    _ids(frame, ("account_id", "owner_id"))
    _times(frame, ("created_at",))
    return frame


def read_deals(session: Session) -> pd.DataFrame:
    """Deals with their stage's key and kind and their first product's name."""
    d = session.connection().dialect.name
    cols = [
        "id",
        "title",
        "account_id",
        "contact_id",
        "owner_id",
        "value",
        "currency",
        "lost_reason",
        "stage_key",
        "stage_kind",
        "product",
        *DEAL_TIMES,
        *DEAL_DATES,
    ]
    times = ", ".join(_epoch(f"d.{c}", d) for c in (*DEAL_TIMES, *DEAL_DATES))
    sql = (
        "SELECT d.id, d.title, d.account_id, d.contact_id, d.owner_id, "
        f"{_float('d.value', d)}, d.currency, d.lost_reason, s.key, s.kind, p.product, {times} "
        "FROM deal d JOIN stage_definition s ON s.id = d.stage_id "
        "LEFT JOIN (SELECT dp.deal_id, MIN(pr.name) AS product FROM deal_product dp "
        "JOIN product pr ON pr.id = dp.product_id GROUP BY dp.deal_id) p ON p.deal_id = d.id"
    )
    frame = _frame(session, sql, cols)
    _ids(frame, ("account_id", "contact_id", "owner_id"))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    _times(frame, DEAL_TIMES)
    _dates(frame, DEAL_DATES)
    return frame


def settings(session: Session) -> DqSettings:
    """The stored settings, or the defaults (not written) when none are stored yet."""
    return session.get(DqSettings, 1) or DqSettings()


def scan_settings(row: DqSettings) -> ScanSettings:
    return ScanSettings(
        required={
            "account": tuple(row.required_account),
            "contact": tuple(row.required_contact),
            "deal": tuple(row.required_deal),
        },
        stale_days=int(row.stale_days),
        burst_count=int(row.burst_count),
        burst_minutes=int(row.burst_minutes),
        sectors=tuple(row.sectors),
    )


def owners(session: Session) -> pd.DataFrame:
    """Every user: id, name (display name, else login), department (of their person, else "")."""
    rows = session.exec(
        select(UserAccount.id, UserAccount.display_name, UserAccount.username, Person.department).join(
            Person, col(Person.id) == col(UserAccount.person_id), isouter=True
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "display_name", "username", "department"])
    frame["name"] = frame["display_name"].where(frame["display_name"].fillna("") != "", frame["username"])
    frame["department"] = frame["department"].fillna("")
    return frame[["id", "name", "department"]]


def dismissed_pairs(session: Session) -> dict[str, pd.DataFrame]:
    """Pairs marked "not a duplicate", when the duplicates part keeps them (else none)."""
    from crm_impl.data_quality import models as dq_models

    table = getattr(dq_models, "DqDismissedPair", None)
    if table is None:
        return {}
    rows = session.exec(select(table.kind, table.left_id, table.right_id)).all()  # type: ignore[attr-defined]
    frame = pd.DataFrame(rows, columns=["kind", "left_id", "right_id"])
    return {k: g[["left_id", "right_id"]] for k, g in frame.groupby("kind")}


def load(session: Session, *, today: date | None = None) -> DqData:
    today = today or now().date()
    frames = {
        "account": read_accounts(session),
        "contact": read_contacts(session),
        "deal": read_deals(session),
    }
    catalogue = tuple(str(n) for n in session.exec(select(Product.name)).all())
    ctx = Context(
        today=today,
        settings=scan_settings(settings(session)),
        catalogue=catalogue,
        dismissed=dismissed_pairs(session),
    )
    return DqData(frames, ctx, owners(session))


def run(data: DqData) -> Scan:
    return rules.scan(data.frames, data.context)


def labels(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """entity, id, label (name / full name / title), account_id (for links)."""
    parts = []
    for entity, column in (("account", "name"), ("contact", "full_name"), ("deal", "title")):
        f = frames.get(entity)
        if f is None:
            continue
        account = f["id"] if entity == "account" else f.get("account_id", pd.Series(pd.NA, index=f.index))
        parts.append(
            pd.DataFrame(
                {
                    "entity": entity,
                    "id": f["id"].to_numpy(),
                    "label": f[column].astype(str).to_numpy(),
                    "account_id": pd.array(account, dtype="Int64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _json_number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else round(float(value), 2)


def report(*, session: Session, actor: Actor, today: date | None = None, top: int = 10) -> dict[str, Any]:
    """What `crm-impl report dq` prints: scores per entity and dimension, failing counts per rule,
    the top issues, scores per owner and per department, and the latest snapshots."""
    require(actor, "dq.read")
    data = load(session, today=today)
    found = run(data)
    return report_from_scan(found, data, top=top) | {"trend": trend_json(snapshots(session))}


def report_from_scan(found: Scan, data: DqData, *, top: int = 10) -> dict[str, Any]:
    scores = metrics.dimension_scores(found)
    people = data.owners.set_index("id")
    by_owner = metrics.group_scores(found)
    by_dept = metrics.group_scores(found, people["department"].replace("", np.nan))
    overall = scores[(scores["entity"] == metrics.ALL) & (scores["dimension"] == metrics.OVERALL)].iloc[0]

    def groups(frame: pd.DataFrame, names: pd.Series | None) -> list[dict[str, Any]]:
        rows = []
        for group, g in frame.groupby("group", dropna=False, sort=False):
            d = g.set_index("dimension")
            label = None if pd.isna(group) else (names.get(group, str(group)) if names is not None else group)
            rows.append(
                {
                    "group": label if label is None else str(label),
                    "owner_id": None if names is None or pd.isna(group) else int(group),
                    "records": int(d.loc[metrics.OVERALL, "checked"]),
                    "failing_records": int(d.loc[metrics.OVERALL, "failing"]),
                    "overall": _json_number(d.loc[metrics.OVERALL, "score"]),
                    "dimensions": {k: _json_number(d.loc[k, "score"]) for k in DIMENSIONS},
                }
            )
        return sorted(rows, key=lambda r: (r["overall"] is None, r["overall"] or 0))

    return {
        "as_of": data.context.today.isoformat(),
        "overall": _json_number(overall["score"]),
        "records": int(overall["checked"]),
        "failing_records": int(overall["failing"]),
        "scores": [
            {
                "entity": r.entity,
                "dimension": r.dimension,
                "score": _json_number(r.score),
                "checked": int(r.checked),
                "failing": int(r.failing),
            }
            for r in scores.itertuples()
        ],
        "rules": [
            {k: (int(v) if k in ("checked", "failing") else v) for k, v in r.items()}
            for r in found.rules.to_dict("records")
        ],
        "top_issues": [
            {**{k: v for k, v in r.items() if k != "share"}, "share": round(float(r["share"]), 4)}
            for r in metrics.top_issues(found, top).to_dict("records")
        ],
        "by_owner": groups(by_owner, people["name"]),
        "by_department": groups(by_dept, None),
    }


def snapshots(session: Session, *, days: int | None = None) -> pd.DataFrame:
    """Stored daily snapshots: day, entity, dimension, score, checked, failing."""
    q = select(  # type: ignore[call-overload]
        DqSnapshot.day,
        DqSnapshot.entity,
        DqSnapshot.dimension,
        DqSnapshot.score,
        DqSnapshot.checked,
        DqSnapshot.failing,
    ).order_by(col(DqSnapshot.day))
    rows = session.exec(q).all()
    frame = pd.DataFrame(rows, columns=["day", "entity", "dimension", "score", "checked", "failing"])
    frame["day"] = pd.to_datetime(frame["day"])
    if days is not None and len(frame):
        frame = frame[frame["day"] > frame["day"].max() - pd.Timedelta(days=days)]
    return frame.reset_index(drop=True)


def trend_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    mine = frame[(frame["entity"] == metrics.ALL) & (frame["dimension"] == metrics.OVERALL)]
    return [
        {"day": d.date().isoformat(), "overall": _json_number(s)}
        for d, s in zip(mine["day"], mine["score"], strict=True)
    ]


__all__ = ["DIMENSIONS", "ENTITIES"]


def _field_names(value: str) -> str:
    return ", ".join(t(f"dq.field.{name.strip()}") for name in value.split(",") if name.strip())


NUMBER_VALUES = ("deal.value_negative", "deal.value_implausible")  # {value}: an amount
DATE_VALUES = ("deal.close_overdue", "deal.date_far")  # {value}: a day (ISO in the scan)


def _number(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return fmt_number(number, 0 if number.is_integer() else 2)


def _date(value: str) -> str:
    try:
        return fmt_date(date.fromisoformat(value[:10]))
    except ValueError:
        return value


def messages(issues: pd.DataFrame) -> pd.Series:
    """The translated "what is wrong" text of every issue row (current language). Formatted once
    per distinct (rule, value, hint), then mapped back."""
    if issues.empty:
        return pd.Series([], dtype=object, index=issues.index)
    keys = issues[["rule", "value", "hint"]].astype(str)
    distinct = keys.drop_duplicates()
    texts: dict[tuple[str, str, str], str] = {}
    for rule_id, value, hint in distinct.itertuples(index=False):
        shown_value, shown_hint = value, hint
        if rule_id.endswith(".required") or rule_id == "deal.dates_out_of_order":
            shown_value = _field_names(value)
        elif rule_id in NUMBER_VALUES:
            shown_value = _number(value)
        elif rule_id in DATE_VALUES:
            shown_value = _date(value)
        elif rule_id == "deal.contract_incomplete":
            shown_value = t(f"dq.contract.{value}")
        if rule_id in ("account.sector_unknown", "deal.product_unknown"):
            shown_hint = t("dq.ui.did_you_mean", value=hint) if hint else ""
        texts[(rule_id, value, hint)] = t(f"dq.rule.{rule_id}", value=shown_value, hint=shown_hint).strip()
    return pd.Series(
        list(zip(keys["rule"], keys["value"], keys["hint"], strict=True)), index=issues.index
    ).map(texts)


def record_issues(found: Scan, data: DqData) -> pd.DataFrame:
    """One row per record with at least one issue: entity, id, label, account_id, owner_id,
    score, issues (count), dimensions (keys), what (the messages joined), worst severity —
    lowest score first."""
    issues = found.issues
    if issues.empty:
        return pd.DataFrame(
            columns=[
                "entity",
                "id",
                "label",
                "account_id",
                "owner_id",
                "score",
                "issues",
                "dimensions",
                "what",
                "severity",
            ]
        )
    shown = issues.assign(message=messages(issues))
    order = {"error": 0, "warning": 1, "info": 2}
    shown["sev"] = shown["severity"].map(order)
    grouped = shown.groupby(["entity", "record_id"], sort=False).agg(
        issues=("rule", "size"),
        what=("message", " · ".join),
        dimensions=("dimension", lambda s: ",".join(dict.fromkeys(s))),
        sev=("sev", "min"),
    )
    grouped = grouped.reset_index().rename(columns={"record_id": "id"})
    grouped["severity"] = grouped["sev"].map({v: k for k, v in order.items()})
    scores = metrics.record_scores(found)[["entity", "id", "owner_id", "score"]]
    out = grouped.merge(scores, on=["entity", "id"], how="left").merge(
        labels(data.frames), on=["entity", "id"], how="left"
    )
    out = out.sort_values(["score", "sev", "entity", "id"], kind="stable").reset_index(drop=True)
    return out[
        [
            "entity",
            "id",
            "label",
            "account_id",
            "owner_id",
            "score",
            "issues",
            "dimensions",
            "what",
            "severity",
        ]
    ]
