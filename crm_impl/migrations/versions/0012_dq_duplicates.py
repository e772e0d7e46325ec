"""data quality, duplicates: pairs dismissed as "not a duplicate", and merged records

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-02 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dq_dismissed_pair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('left_id', sa.Integer(), nullable=False),
    sa.Column('right_id', sa.Integer(), nullable=False),
    sa.Column('dismissed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('dismissed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'left_id', 'right_id')
    )
    op.create_table('dq_merge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('kept_id', sa.Integer(), nullable=False),
    sa.Column('merged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('merged_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('repointed', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'merged_id')
    )
    with op.batch_alter_table('dq_merge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dq_merge_kept_id'), ['kept_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dq_merge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dq_merge_kept_id'))
    op.drop_table('dq_merge')
    op.drop_table('dq_dismissed_pair')
