"""Cost postings from accounting: CSV/XLSX import through the shared engine
(`crm_impl.importers`), and the CSV/XLSX export frames of the budget.

The engine reads (cp1250 or UTF-8, `;` or `,`), maps and cleans (decimal comma, thousands
separators such as "1 234,56", day-first dates); the handler here resolves each row's budget
line and writes each valid row through `crm_impl.budget.services.add_posting` — the same rules
as the form (amount above zero, never to a closed line) and one audit entry per posting, plus
the engine's one entry for the run. A dry run writes nothing and lists every bad row.

Fields (the mapping's targets): `line`* (the budget line's name, case-insensitive; the
mapping's value map turns accounting's cost-centre codes into line names:
`examples/mappings/accounting-pl.toml`), `posted_on`* (booking date), `amount`* (net, above
zero), `supplier`, `description`, `document_number`. A row whose document number is already
posted on the same line is skipped, never duplicated; the same document and line twice in one
file is a row error.

Options (`[cost_postings.options]`): `project` (project name; default: the importing user's
active project, else the only one).

A run needs `import.run` (engine) and `budget.edit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.budget.models import BudgetLine, CostPosting, CostPostingCreate
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Project, UserAccount
from crm_impl.core.permissions import Actor, require
from crm_impl.importers.cleaning import Cleaned, FieldSpec, to_decimal
from crm_impl.importers.engine import Run, inspect_file, run_import
from crm_impl.importers.registry import EntitySpec, register

ENTITY = "cost_postings"
PERMISSION = "budget.edit"
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("line", "ref", True, 120),
    FieldSpec("posted_on", "date", True),
    FieldSpec("amount", "money", True),
    FieldSpec("supplier", "text", False, 120),
    FieldSpec("description", "text", False, 500),
    FieldSpec("document_number", "text", False, 60),
)


@dataclass
class Lookups:
    """The project's budget lines and the (document, line) pairs already posted, loaded once."""

    session: Session
    project_id: int | None = None
    lines: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    closed: set[int] = field(default_factory=set)
    posted: set[str] = field(default_factory=set)  # "<document> <line id>", lower case

    def load_project(self, project_id: int) -> None:
        self.project_id = project_id
        for lid, name, status in self.session.execute(
            select(col(BudgetLine.id), col(BudgetLine.name), col(BudgetLine.status)).where(
                col(BudgetLine.project_id) == project_id
            )
        ).all():
            self.lines[str(name).lower()] = int(lid)
            self.names.append(str(name))
            if status == "closed":
                self.closed.add(int(lid))
        for doc, lid in self.session.execute(
            select(col(CostPosting.document_number), col(CostPosting.line_id)).where(
                col(CostPosting.project_id) == project_id, col(CostPosting.document_number) != ""
            )
        ).all():
            self.posted.add(f"{str(doc).lower()} {int(lid)}")


PostingRun = Run[Lookups]


def _project(run: PostingRun) -> int:
    """The mapping's `project` (by name), else the importer's active project, else the only one."""
    lk = run.lookups
    if lk.project_id is not None:
        return lk.project_id
    name = str(run.option("project") or "")
    session = run.session
    pid: int | None
    if name:
        pid = session.execute(select(col(Project.id)).where(col(Project.name) == name)).scalars().first()
        if pid is None:
            raise ValidationError("budget.import.error.project", project=name)
    else:
        user = session.get(UserAccount, run.actor.id) if run.actor.id is not None else None
        pid = user.active_project_id if user is not None else None
        if pid is None:
            ids = list(session.execute(select(col(Project.id)).limit(2)).scalars())
            if len(ids) != 1:
                raise ValidationError("budget.import.error.no_project")
            pid = ids[0]
    lk.load_project(int(pid))
    return int(pid)


def _postings(run: PostingRun, c: Cleaned, write: bool) -> None:
    from crm_impl.budget import services  # the one rule set for a posting (and its audit)

    lk, sink = run.lookups, c.sink
    project_id = _project(run)
    index = sink.bad.index
    empty = pd.Series("", index=index, dtype=object)
    line_ids = run.resolve(c, "line", lk.lines, lk.names, "budget_line")
    closed = line_ids.map(lambda v: pd.notna(v) and int(v) in lk.closed).astype(bool)
    sink.flag(closed, run.sources["line"], "budget.import.error.closed_line", c.values["line"])
    amounts = c.values["amount"]
    sink.flag(amounts.notna() & (amounts == 0), run.sources["amount"], "budget.import.error.zero", amounts)

    doc = c.values.get("document_number", empty)
    key = (doc.str.lower() + " " + line_ids.map(lambda v: "" if pd.isna(v) else str(int(v)))).where(
        (doc != "") & line_ids.notna(), ""
    )
    if "document_number" in run.sources:
        run.duplicates(c, key, run.sources["document_number"])
    valid = ~sink.bad
    exists = key.isin(lk.posted) & (key != "")
    run.report.skipped += int((valid & exists).sum())
    todo = valid & ~exists
    n = int(todo.sum())
    run.report.created += n
    if n == 0:
        return
    money = to_decimal(c.amounts["amount"][todo], amounts[todo])
    keys = key[todo].tolist()
    if not write:
        lk.posted.update(k for k in keys if k)  # a document is counted once in a dry run too
        return
    dates = c.values["posted_on"][todo].tolist()
    lines = line_ids[todo].tolist()
    text = {f: c.values.get(f, empty)[todo].tolist() for f in ("supplier", "description", "document_number")}
    for i in range(n):
        services.add_posting(
            session=run.session,
            actor=run.actor,
            project_id=project_id,
            data=CostPostingCreate(
                line_id=int(lines[i]),
                posted_on=pd.Timestamp(dates[i]).date(),
                amount=money[i] or Decimal("0"),
                supplier=text["supplier"][i],
                description=text["description"][i],
                document_number=text["document_number"][i],
            ),
        )
    lk.posted.update(k for k in keys if k)
    run.count("postings", n)


def _lookups(session: Session) -> Lookups:
    return Lookups(session)


register(ENTITY, EntitySpec(fields=FIELDS, handler=_postings, lookups=_lookups, permission=PERMISSION))


# ---- export -----------------------------------------------------------------------------------

POSTING_EXPORT = ("line", "posted_on", "amount", "supplier", "description", "document_number")


def export_frames(*, session: Session, actor: Actor, project_id: int) -> dict[str, pd.DataFrame]:
    """The budget lines (with actual, forecast and variance) and every posting, with the import's
    field names as the postings' columns (so an export imports again without a mapping)."""
    from crm_impl.budget import metrics, queries

    require(actor, "budget.read")
    frames = queries.load(session, project_id)
    table = metrics.line_table(frames["lines"], frames["postings"])
    lines = table.loc[
        :, ["name", "category", "status", "planned", "committed", "actual", "forecast", "variance"]
    ].sort_values("name")
    names = dict(zip(frames["lines"]["id"], frames["lines"]["name"], strict=True))
    p = frames["postings"]
    postings = pd.DataFrame(
        {
            "line": p["line_id"].map(names),
            "posted_on": p["posted_on"].map(lambda d: d.isoformat()),
            "amount": p["amount"],
            "supplier": p["supplier"],
            "description": p["description"],
            "document_number": p["document_number"],
        },
        columns=list(POSTING_EXPORT),
    )
    return {"lines": lines.reset_index(drop=True), "postings": postings}


__all__ = ["ENTITY", "FIELDS", "Lookups", "export_frames", "inspect_file", "run_import"]
