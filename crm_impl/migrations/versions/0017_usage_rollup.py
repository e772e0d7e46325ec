"""adoption usage rollup: use per source, subject and UTC day (usage_day), filled from the events

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-02 13:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0017"
down_revision = ("0016", "0009")  # after saved filters, and after activity_event (0009)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("project_key", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("imported", "project_key", "source", "subject_id", "day", name="uq_usage_day"),
    )
    # the use already in the audit log (entities that are use, as adoption.vocabulary.USE_ENTITIES
    # said at this revision) and the imported logs, per UTC day
    pg = op.get_bind().dialect.name == "postgresql"
    day = "date(timezone('UTC', {}))" if pg else "date({})"
    no = "false" if pg else "0"
    yes = "true" if pg else "1"
    use = "'deal', 'activity', 'account', 'contact', 'deal_products', 'defect', 'defect_comment'"
    columns = "imported, project_key, source, subject_id, day, created, used"
    op.execute(
        sa.text(
            f"INSERT INTO usage_day ({columns}) "
            f"SELECT {no}, coalesce(project_id, 0), 'app', coalesce(user_id, 0), {day.format('at')}, "
            "sum(CASE WHEN action = 'create' THEN 1 ELSE 0 END), count(*) FROM audit_entry "
            f"WHERE entity IN ({use}) GROUP BY coalesce(project_id, 0), coalesce(user_id, 0), {day.format('at')}"
        )
    )
    op.execute(
        sa.text(
            f"INSERT INTO usage_day ({columns}) "
            f"SELECT {yes}, project_id, source, person_id, {day.format('at')}, "
            "sum(CASE WHEN action = 'create' THEN 1 ELSE 0 END), count(*) FROM activity_event "
            f"GROUP BY project_id, source, person_id, {day.format('at')}"
        )
    )


def downgrade() -> None:
    op.drop_table("usage_day")
