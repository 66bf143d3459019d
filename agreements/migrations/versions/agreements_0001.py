"""agreements: drafts, versions, comments, signing ceremonies, sealed documents, office
templates (a branch of its own)

Revision ID: agreements_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'agreements_0001'
down_revision = '0001'
branch_labels = ('agreements',)
depends_on = None


def upgrade() -> None:
    op.create_table('agreement_templates',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_agreement_templates_office_id_offices')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_agreement_templates_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_templates'))
    )
    with op.batch_alter_table('agreement_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_templates_office_id'), ['office_id'], unique=False)

    op.create_table('agreement_drafts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('caucus_id', sa.String(length=32), nullable=True),
    sa.Column('case_number', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('template_ref', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_agreement_drafts_case_id_cases')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_agreement_drafts_session_id_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_drafts'))
    )
    with op.batch_alter_table('agreement_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_drafts_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_drafts_session_id'), ['session_id'], unique=False)

    op.create_table('agreement_ceremonies',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('draft_id', sa.String(length=32), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('seats', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['agreement_drafts.id'], name=op.f('fk_agreement_ceremonies_draft_id_agreement_drafts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_ceremonies'))
    )
    with op.batch_alter_table('agreement_ceremonies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_ceremonies_draft_id'), ['draft_id'], unique=False)

    op.create_table('agreement_documents',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('draft_id', sa.String(length=32), nullable=False),
    sa.Column('ceremony_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('version_digest', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('docx', sa.LargeBinary(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('judicial_confirmation_deadline', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_agreement_documents_case_id_cases')),
    sa.ForeignKeyConstraint(['draft_id'], ['agreement_drafts.id'], name=op.f('fk_agreement_documents_draft_id_agreement_drafts')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_agreement_documents_session_id_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_documents')),
    sa.UniqueConstraint('draft_id', name=op.f('uq_agreement_documents_draft_id'))
    )
    with op.batch_alter_table('agreement_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_documents_case_id'), ['case_id'], unique=False)

    op.create_table('agreement_draft_comments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('draft_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['agreement_drafts.id'], name=op.f('fk_agreement_draft_comments_draft_id_agreement_drafts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_draft_comments'))
    )
    with op.batch_alter_table('agreement_draft_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_draft_comments_draft_id'), ['draft_id'], unique=False)

    op.create_table('agreement_draft_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('draft_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['agreement_drafts.id'], name=op.f('fk_agreement_draft_versions_draft_id_agreement_drafts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_draft_versions')),
    sa.UniqueConstraint('draft_id', 'number', name=op.f('uq_agreement_draft_versions_draft_id'))
    )
    with op.batch_alter_table('agreement_draft_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_draft_versions_draft_id'), ['draft_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('agreement_draft_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_draft_versions_draft_id'))

    op.drop_table('agreement_draft_versions')
    with op.batch_alter_table('agreement_draft_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_draft_comments_draft_id'))

    op.drop_table('agreement_draft_comments')
    with op.batch_alter_table('agreement_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_documents_case_id'))

    op.drop_table('agreement_documents')
    with op.batch_alter_table('agreement_ceremonies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_ceremonies_draft_id'))

    op.drop_table('agreement_ceremonies')
    with op.batch_alter_table('agreement_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_drafts_session_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_drafts_case_id'))

    op.drop_table('agreement_drafts')
    with op.batch_alter_table('agreement_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_templates_office_id'))

    op.drop_table('agreement_templates')
