"""account registry numbers and address: REGON, bank account (IBAN), postal code and street

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 10:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("regon", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column("iban", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True))
        batch_op.add_column(
            sa.Column("postal_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.add_column(sa.Column("street", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("street")
        batch_op.drop_column("postal_code")
        batch_op.drop_column("iban")
        batch_op.drop_column("regon")
