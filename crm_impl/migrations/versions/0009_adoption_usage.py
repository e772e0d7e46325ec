"""adoption usage: imported usage logs (usage_import) and their events (activity_event)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('usage_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('imported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('skipped_duplicates', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('usage_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_import_project_id'), ['project_id'], unique=False)

    op.create_table('activity_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['usage_import.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'fingerprint', name='uq_activity_event_fingerprint')
    )
    with op.batch_alter_table('activity_event', schema=None) as batch_op:
        batch_op.create_index('ix_activity_event_project_at', ['project_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_event_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_event_import_id'), ['import_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activity_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_event_import_id'))
        batch_op.drop_index(batch_op.f('ix_activity_event_person_id'))
        batch_op.drop_index('ix_activity_event_project_at')
    op.drop_table('activity_event')
    with op.batch_alter_table('usage_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_import_project_id'))
    op.drop_table('usage_import')
