"""The page registry: every screen, its section, icon and the read permission it needs.

Navigation is built from it: pages the user may open are listed in the sidebar, the others
stay routable but hidden, so opening one by URL shows a refusal instead of a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from crm_impl.core.i18n import t
from crm_impl.core.permissions import Actor

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to the project root, e.g. "pages/home/overview.py"
    title_key: str
    icon: str
    section_key: str
    action: str  # read permission needed to open it


PAGES: list[PageSpec] = [
    PageSpec(
        "pages/home/overview.py",
        "page.home_overview",
        ":material/dashboard:",
        "section.home",
        "overview.read",
    ),
    PageSpec(
        "pages/home/profile.py", "page.home_profile", ":material/person:", "section.home", "overview.read"
    ),
    PageSpec(
        "pages/pipeline/my_day.py",
        "page.pipeline_my_day",
        ":material/today:",
        "section.home",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/board.py",
        "page.pipeline_board",
        ":material/view_kanban:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/deals.py",
        "page.pipeline_deals",
        ":material/table_rows:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/deal.py",
        "page.pipeline_deal",
        ":material/handshake:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/client.py",
        "page.pipeline_client",
        ":material/storefront:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/dashboard.py",
        "page.pipeline_dashboard",
        ":material/monitoring:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/forecast.py",
        "page.pipeline_forecast",
        ":material/trending_up:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/stale.py",
        "page.pipeline_stale",
        ":material/hourglass_bottom:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/search.py",
        "page.pipeline_search",
        ":material/search:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/pipeline/settings.py",
        "page.pipeline_settings",
        ":material/tune:",
        "section.admin",
        "stage.configure",
    ),
    PageSpec(
        "pages/rollout/schedule.py",
        "page.rollout_schedule",
        ":material/view_timeline:",
        "section.rollout",
        "plan.read",
    ),
    PageSpec(
        "pages/rollout/team.py", "page.rollout_team", ":material/groups:", "section.rollout", "team.read"
    ),
    PageSpec(
        "pages/rollout/goals.py", "page.rollout_goals", ":material/flag:", "section.rollout", "plan.read"
    ),
    PageSpec(
        "pages/rollout/requirements.py",
        "page.rollout_requirements",
        ":material/checklist:",
        "section.rollout",
        "plan.read",
    ),
    PageSpec(
        "pages/rollout/ideas.py", "page.rollout_ideas", ":material/lightbulb:", "section.rollout", "plan.read"
    ),
    PageSpec(
        "pages/rollout/changes.py",
        "page.rollout_changes",
        ":material/change_circle:",
        "section.rollout",
        "plan.read",
    ),
    PageSpec(
        "pages/rollout/integrations.py",
        "page.rollout_integrations",
        ":material/hub:",
        "section.rollout",
        "plan.read",
    ),
    PageSpec(
        "pages/rollout/risks.py", "page.rollout_risks", ":material/warning:", "section.rollout", "plan.read"
    ),
    PageSpec(
        "pages/pipeline/imports.py",
        "page.pipeline_imports",
        ":material/upload_file:",
        "section.pipeline",
        "import.run",
    ),
    PageSpec(
        "pages/pipeline/export.py",
        "page.pipeline_export",
        ":material/download:",
        "section.pipeline",
        "pipeline.read",
    ),
    PageSpec(
        "pages/defects/list.py",
        "page.defects_list",
        ":material/bug_report:",
        "section.testing",
        "defect.read",
    ),
    PageSpec(
        "pages/defects/new.py",
        "page.defects_new",
        ":material/add_circle:",
        "section.testing",
        "defect.report",
    ),
    PageSpec(
        "pages/defects/defect.py",
        "page.defects_defect",
        ":material/pest_control:",
        "section.testing",
        "defect.read",
    ),
    PageSpec(
        "pages/defects/my_work.py",
        "page.defects_my_work",
        ":material/assignment_ind:",
        "section.testing",
        "defect.read",
    ),
    PageSpec(
        "pages/defects/releases.py",
        "page.defects_releases",
        ":material/new_releases:",
        "section.testing",
        "defect.read",
    ),
    PageSpec(
        "pages/defects/dashboard.py",
        "page.defects_dashboard",
        ":material/insights:",
        "section.testing",
        "defect.read",
    ),
    PageSpec(
        "pages/budget/overview.py",
        "page.budget_overview",
        ":material/account_balance_wallet:",
        "section.rollout",
        "budget.read",
    ),
    PageSpec(
        "pages/budget/earned_value.py",
        "page.budget_earned_value",
        ":material/trending_up:",
        "section.rollout",
        "budget.read",
    ),
    PageSpec(
        "pages/budget/lines.py",
        "page.budget_lines",
        ":material/receipt_long:",
        "section.rollout",
        "budget.read",
    ),
    PageSpec(
        "pages/training/sessions.py",
        "page.training_sessions",
        ":material/school:",
        "section.training",
        "training.read",
    ),
    PageSpec(
        "pages/training/coverage.py",
        "page.training_coverage",
        ":material/groups_3:",
        "section.training",
        "training.read",
    ),
    PageSpec(
        "pages/training/effect.py",
        "page.training_effect",
        ":material/trending_up:",
        "section.training",
        "training.read",
    ),
    PageSpec(
        "pages/training/meetings.py",
        "page.training_meetings",
        ":material/event:",
        "section.training",
        "training.read",
    ),
    PageSpec(
        "pages/training/my_training.py",
        "page.training_my_training",
        ":material/workspace_premium:",
        "section.training",
        "overview.read",
    ),
    PageSpec(
        "pages/adoption/usage.py",
        "page.adoption_usage",
        ":material/query_stats:",
        "section.adoption",
        "adoption.read",
    ),
    PageSpec(
        "pages/adoption/readiness.py",
        "page.adoption_readiness",
        ":material/psychology:",
        "section.adoption",
        "adoption.read",
    ),
    PageSpec(
        "pages/adoption/legacy_tools.py",
        "page.adoption_legacy_tools",
        ":material/inventory_2:",
        "section.adoption",
        "adoption.read",
    ),
    PageSpec(
        "pages/adoption/benefits.py",
        "page.adoption_benefits",
        ":material/savings:",
        "section.adoption",
        "adoption.read",
    ),
    PageSpec(
        "pages/data_quality/overview.py",
        "page.data_quality_overview",
        ":material/fact_check:",
        "section.data_quality",
        "dq.read",
    ),
    PageSpec(
        "pages/data_quality/records.py",
        "page.data_quality_records",
        ":material/rule:",
        "section.data_quality",
        "dq.read",
    ),
    PageSpec(
        "pages/data_quality/duplicates.py",
        "page.data_quality_duplicates",
        ":material/join:",
        "section.data_quality",
        "dq.read",
    ),
    PageSpec(
        "pages/data_quality/settings.py",
        "page.data_quality_settings",
        ":material/tune:",
        "section.admin",
        "dq.manage",
    ),
    PageSpec("pages/admin/users.py", "page.admin_users", ":material/group:", "section.admin", "user.read"),
    PageSpec("pages/admin/audit.py", "page.admin_audit", ":material/history:", "section.admin", "audit.read"),
]

HOME = "pages/home/overview.py"
# The page "/" opens per role (the first of the user's roles that has one), if the user may read
# it; everyone else lands on the overview. A link to a page (`/pipeline_deal?deal=…`) still opens
# that page: the landing page is only the default of "/".
LANDING = {"sales_rep": "pages/pipeline/my_day.py"}

SECTION_ORDER = ["section.home", "section.pipeline", "section.rollout", "section.testing", "section.admin"]


def url_path(path: str) -> str:
    """`pages/<domain>/<screen>.py` is served at `/<domain>_<screen>`."""
    page = Path(path)
    return f"{page.parent.name}_{page.stem}"


def spec_for(path: str) -> PageSpec:
    return next(p for p in PAGES if p.path == path)


def landing(actor: Actor) -> str:
    """The path of the page the actor lands on after sign-in (the default of "/")."""
    for role in actor.roles:
        path = LANDING.get(role)
        if path is not None and actor.can(spec_for(path).action):
            return path
    return HOME


def build(actor: Actor) -> dict[str, list[st.Page]]:
    sections: dict[str, list[st.Page]] = {}
    home = landing(actor)
    order = SECTION_ORDER + sorted({p.section_key for p in PAGES} - set(SECTION_ORDER))
    for section in order:
        for spec in (p for p in PAGES if p.section_key == section):
            page = st.Page(
                str(ROOT / spec.path),
                title=t(spec.title_key),
                icon=spec.icon,
                url_path=url_path(spec.path),
                default=spec.path == home,
                visibility="visible" if actor.can(spec.action) else "hidden",
            )
            sections.setdefault(t(section), []).append(page)
    return sections


def signed_out(show_login: Callable[[], None]) -> list[st.Page]:
    """Signed out, every page's address shows the sign-in form (not Streamlit's "page not
    found"); the address and its query parameters stay, so after sign-in the app opens what the
    link asked for (`/pipeline_deal?id=123`)."""
    pages = [st.Page(show_login, title=t("login.title"), icon=":material/login:", default=True)]
    for spec in PAGES:
        pages.append(
            st.Page(show_login, title=t("login.title"), icon=":material/login:", url_path=url_path(spec.path))
        )
    return pages
