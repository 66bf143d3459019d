"""experts: directory profiles, calls and their rings, the time ledger (a branch of its own)

Revision ID: experts_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'experts_0001'
down_revision = '0001'
branch_labels = ('experts',)
depends_on = None


def upgrade() -> None:
    op.create_table('expert_profiles',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('domains', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('availability', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('rating_sum', sa.Float(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('last_call_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_expert_profiles_office_id_offices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_expert_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_expert_profiles_user_id'))
    )
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_profiles_office_id'), ['office_id'], unique=False)

    op.create_table('expert_calls',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('mediator_participant_id', sa.String(length=32), nullable=False),
    sa.Column('mediator_user_id', sa.String(length=32), nullable=True),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=40), nullable=True),
    sa.Column('named_expert_id', sa.String(length=32), nullable=True),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('caucus_id', sa.String(length=32), nullable=True),
    sa.Column('strategy', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('tier', sa.String(length=12), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_by', sa.String(length=32), nullable=True),
    sa.Column('participant_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=40), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_expert_calls_case_id_cases')),
    sa.ForeignKeyConstraint(['mediator_user_id'], ['users.id'], name=op.f('fk_expert_calls_mediator_user_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_expert_calls_office_id_offices')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_expert_calls_session_id_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_calls'))
    )
    with op.batch_alter_table('expert_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_calls_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_calls_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_expert_calls_state', ['state'], unique=False)
        batch_op.create_index('uq_expert_calls_busy', ['accepted_by'], unique=True,
                              postgresql_where=sa.text("state IN ('accepted', 'joined')"),
                              sqlite_where=sa.text("state IN ('accepted', 'joined')"))

    op.create_table('expert_rings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('call_id', sa.String(length=32), nullable=False),
    sa.Column('expert_id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('rung_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['expert_calls.id'], name=op.f('fk_expert_rings_call_id_expert_calls')),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'], name=op.f('fk_expert_rings_expert_id_expert_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_rings')),
    sa.UniqueConstraint('call_id', 'expert_id', name=op.f('uq_expert_rings_call_id'))
    )
    with op.batch_alter_table('expert_rings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_rings_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_rings_expert_id'), ['expert_id'], unique=False)

    op.create_table('expert_visits',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('call_id', sa.String(length=32), nullable=False),
    sa.Column('expert_id', sa.String(length=32), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['expert_calls.id'], name=op.f('fk_expert_visits_call_id_expert_calls')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_expert_visits_case_id_cases')),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'], name=op.f('fk_expert_visits_expert_id_expert_profiles')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_expert_visits_office_id_offices')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_expert_visits_session_id_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_visits')),
    sa.UniqueConstraint('call_id', name=op.f('uq_expert_visits_call_id'))
    )
    with op.batch_alter_table('expert_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_visits_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_visits_office_id'), ['office_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('expert_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_visits_office_id'))
        batch_op.drop_index(batch_op.f('ix_expert_visits_expert_id'))

    op.drop_table('expert_visits')
    with op.batch_alter_table('expert_rings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_rings_expert_id'))
        batch_op.drop_index(batch_op.f('ix_expert_rings_call_id'))

    op.drop_table('expert_rings')
    with op.batch_alter_table('expert_calls', schema=None) as batch_op:
        batch_op.drop_index('uq_expert_calls_busy')
        batch_op.drop_index('ix_expert_calls_state')
        batch_op.drop_index(batch_op.f('ix_expert_calls_session_id'))
        batch_op.drop_index(batch_op.f('ix_expert_calls_office_id'))

    op.drop_table('expert_calls')
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_profiles_office_id'))

    op.drop_table('expert_profiles')
