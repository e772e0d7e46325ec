"""pipeline dates: a deal's creation and stage-entry time may be unknown (an imported deal
without any date is left out of dated figures instead of being placed at import time)

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-02 12:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.alter_column("created_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        batch_op.alter_column(
            "stage_entered_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True
        )


def downgrade() -> None:
    # an unknown date becomes the last touch (the import time), as before this revision
    op.execute(sa.text("UPDATE deal SET created_at = last_touch_at WHERE created_at IS NULL"))
    op.execute(sa.text("UPDATE deal SET stage_entered_at = last_touch_at WHERE stage_entered_at IS NULL"))
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.alter_column(
            "stage_entered_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False
        )
        batch_op.alter_column("created_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)
