"""data quality: scan settings and daily score snapshots

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-03 00:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dq_settings',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('required_account', sa.JSON(), nullable=False),
    sa.Column('required_contact', sa.JSON(), nullable=False),
    sa.Column('required_deal', sa.JSON(), nullable=False),
    sa.Column('stale_days', sa.Integer(), nullable=False),
    sa.Column('burst_count', sa.Integer(), nullable=False),
    sa.Column('burst_minutes', sa.Integer(), nullable=False),
    sa.Column('sectors', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('dq_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('dimension', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('checked', sa.Integer(), nullable=False),
    sa.Column('failing', sa.Integer(), nullable=False),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('taken_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'entity', 'dimension')
    )
    with op.batch_alter_table('dq_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dq_snapshot_day'), ['day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dq_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dq_snapshot_day'))
    op.drop_table('dq_snapshot')
    op.drop_table('dq_settings')
