"""saved filters for every list page: the defect list's saved_filter becomes the generic store
(crm_impl.core.saved_filters): a page key (existing rows: "defects.list"), a shared flag, and
names unique per user and page instead of per user

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-02 11:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

NEW_UNIQUE = "uq_saved_filter_user_page_name"
# SQLite keeps 0005's unique constraint unnamed: batch mode names it by this convention to drop it
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _old_unique() -> str:
    if op.get_bind().dialect.name == "sqlite":
        return "uq_saved_filter_user_id_name"
    return "saved_filter_user_id_name_key"  # PostgreSQL's name for 0005's unnamed constraint


def _batch():  # type: ignore[no-untyped-def]
    sqlite = op.get_bind().dialect.name == "sqlite"
    return op.batch_alter_table("saved_filter", naming_convention=SQLITE_NAMES if sqlite else None)


def upgrade() -> None:
    with _batch() as batch_op:
        batch_op.add_column(
            sa.Column(
                "page_key",
                sqlmodel.sql.sqltypes.AutoString(length=60),
                nullable=False,
                server_default="defects.list",
            )
        )
        batch_op.add_column(sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(_old_unique(), type_="unique")
        batch_op.create_unique_constraint(NEW_UNIQUE, ["user_id", "page_key", "name"])
    with op.batch_alter_table("saved_filter", schema=None) as batch_op:
        batch_op.alter_column("page_key", existing_type=sqlmodel.sql.sqltypes.AutoString(length=60), server_default=None)
        batch_op.alter_column("shared", existing_type=sa.Boolean(), server_default=None)


def downgrade() -> None:
    # only the defect list had saved filters before this revision
    op.execute(sa.text("DELETE FROM saved_filter WHERE page_key <> 'defects.list'"))
    with op.batch_alter_table("saved_filter", schema=None) as batch_op:
        batch_op.drop_constraint(NEW_UNIQUE, type_="unique")
        batch_op.create_unique_constraint(
            _old_unique(),
            ["user_id", "name"],
        )
        batch_op.drop_column("shared")
        batch_op.drop_column("page_key")
