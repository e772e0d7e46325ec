"""Reading rollout projects, which every domain and the app shell need (the sidebar's project
picker); creating and editing them is the rollout's (crm_impl.rollout.services.projects)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from crm_impl.core.errors import NotFound
from crm_impl.core.models import Project


def list_projects(*, session: Session) -> list[Project]:
    return list(session.exec(select(Project).order_by(col(Project.name))).all())


def get_project(*, session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("error.not_found", entity="project", id=project_id)
    return project
