"""stock levels from the ERP (slide 7): on hand and reserved per product, warehouse and day

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:30:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_level",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("on_hand", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("reserved", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stock_level", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_level_product_warehouse_asof", ["product_id", "warehouse", "as_of"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("stock_level", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_level_product_warehouse_asof")
    op.drop_table("stock_level")
