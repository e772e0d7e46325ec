"""adoption registers: ADKAR survey rounds and responses, legacy tools and their users, benefits,
their measurements and the meetings that showed them

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 03:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adkar_round',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('survey_date', sa.Date(), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adkar_round', schema=None) as batch_op:
        batch_op.create_index('ix_adkar_round_project_date', ['project_id', 'survey_date'], unique=False)

    op.create_table('adkar_response',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('awareness', sa.Integer(), nullable=False),
    sa.Column('desire', sa.Integer(), nullable=False),
    sa.Column('knowledge', sa.Integer(), nullable=False),
    sa.Column('ability', sa.Integer(), nullable=False),
    sa.Column('reinforcement', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['adkar_round.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adkar_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adkar_response_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adkar_response_round_id'), ['round_id'], unique=False)

    op.create_table('legacy_tool',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('retire_by', sa.Date(), nullable=True),
    sa.Column('retired_on', sa.Date(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('legacy_tool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legacy_tool_project_id'), ['project_id'], unique=False)

    op.create_table('legacy_tool_user',
    sa.Column('tool_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['tool_id'], ['legacy_tool.id'], ),
    sa.PrimaryKeyConstraint('tool_id', 'person_id')
    )
    with op.batch_alter_table('legacy_tool_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legacy_tool_user_person_id'), ['person_id'], unique=False)

    op.create_table('benefit',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('baseline', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('baseline_on', sa.Date(), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('benefit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_project_id'), ['project_id'], unique=False)

    op.create_table('benefit_measurement',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('benefit_id', sa.Integer(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['benefit_id'], ['benefit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('benefit_id', 'measured_on')
    )
    with op.batch_alter_table('benefit_measurement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_measurement_benefit_id'), ['benefit_id'], unique=False)

    op.create_table('meeting_benefit',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('benefit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['benefit_id'], ['benefit.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.PrimaryKeyConstraint('meeting_id', 'benefit_id')
    )
    with op.batch_alter_table('meeting_benefit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_benefit_benefit_id'), ['benefit_id'], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ('meeting_benefit', ['ix_meeting_benefit_benefit_id']),
        ('benefit_measurement', ['ix_benefit_measurement_benefit_id']),
        ('benefit', ['ix_benefit_project_id']),
        ('legacy_tool_user', ['ix_legacy_tool_user_person_id']),
        ('legacy_tool', ['ix_legacy_tool_project_id']),
        ('adkar_response', ['ix_adkar_response_round_id', 'ix_adkar_response_person_id']),
        ('adkar_round', ['ix_adkar_round_project_date']),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)
