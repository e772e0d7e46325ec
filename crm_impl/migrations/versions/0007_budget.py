"""budget: budget lines, cost postings, budget settings, earned-value snapshots

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budget_line',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=True),
    sa.Column('planned', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('committed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('forecast', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['phase_id'], ['phase.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'name')
    )
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_line_project_id'), ['project_id'], unique=False)

    op.create_table('cost_posting',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('supplier', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('document_number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['budget_line.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cost_posting', schema=None) as batch_op:
        batch_op.create_index('ix_cost_posting_line', ['line_id'], unique=False)
        batch_op.create_index('ix_cost_posting_project_date', ['project_id', 'posted_on'], unique=False)

    op.create_table('budget_settings',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('training_share_low', sa.Float(), nullable=False),
    sa.Column('training_share_high', sa.Float(), nullable=False),
    sa.Column('training_source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('project_id')
    )

    op.create_table('ev_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('bac', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('pv', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('ev', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('ac', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('taken_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'month')
    )
    with op.batch_alter_table('ev_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ev_snapshot_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ev_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ev_snapshot_project_id'))
    op.drop_table('ev_snapshot')
    op.drop_table('budget_settings')
    with op.batch_alter_table('cost_posting', schema=None) as batch_op:
        batch_op.drop_index('ix_cost_posting_project_date')
        batch_op.drop_index('ix_cost_posting_line')
    op.drop_table('cost_posting')
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_line_project_id'))
    op.drop_table('budget_line')
