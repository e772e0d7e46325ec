"""All tables, imported here so SQLModel.metadata (and Alembic) sees every one of them."""

from crm_impl.models.audit import AuditEntry
from crm_impl.models.auth import LoginThrottle, UserAccount
from crm_impl.models.base import utcnow
from crm_impl.models.pipeline import (
    Account,
    Activity,
    Contact,
    Deal,
    DealProduct,
    ErpBalance,
    LostReason,
    Product,
    SalesBudget,
    StageChange,
    StageDefinition,
)
from crm_impl.models.rollout import (
    BaselineItem,
    BusinessGoal,
    ChangeRequest,
    GoalMeasurement,
    Idea,
    IntegrationInterface,
    Milestone,
    Phase,
    PhaseBaseline,
    PlanSettings,
    RaciEntry,
    Requirement,
    Risk,
)
from crm_impl.models.team import Person, Project, RoleAssignment

__all__ = [
    "BaselineItem",
    "BusinessGoal",
    "ChangeRequest",
    "GoalMeasurement",
    "Idea",
    "IntegrationInterface",
    "Milestone",
    "Phase",
    "PhaseBaseline",
    "PlanSettings",
    "RaciEntry",
    "Requirement",
    "Risk",
    "Account",
    "Activity",
    "AuditEntry",
    "Contact",
    "Deal",
    "DealProduct",
    "ErpBalance",
    "LostReason",
    "Product",
    "SalesBudget",
    "LoginThrottle",
    "Person",
    "Project",
    "RoleAssignment",
    "StageChange",
    "StageDefinition",
    "UserAccount",
    "utcnow",
]
