"""agreements: 司法确认 deadline reminders, each sent once (unique per document, stage and
recipient); scanned wet-ink copies of documents signed on paper

Revision ID: agreements_0004_deadlines
Revises: agreements_0003_verification
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'agreements_0004_deadlines'
down_revision = 'agreements_0003_verification'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agreement_deadline_reminders',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=80), nullable=False),
    sa.Column('sent_to', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['agreement_documents.id'], name=op.f('fk_agreement_deadline_reminders_document_id_agreement_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_deadline_reminders')),
    sa.UniqueConstraint('document_id', 'stage', 'recipient', name=op.f('uq_agreement_deadline_reminders_document_id'))
    )
    with op.batch_alter_table('agreement_deadline_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_deadline_reminders_document_id'), ['document_id'], unique=False)

    op.create_table('agreement_wet_ink_copies',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('draft_id', sa.String(length=32), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('version_digest', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=32), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['agreement_drafts.id'], name=op.f('fk_agreement_wet_ink_copies_draft_id_agreement_drafts')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_agreement_wet_ink_copies_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_wet_ink_copies'))
    )
    with op.batch_alter_table('agreement_wet_ink_copies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_wet_ink_copies_draft_id'), ['draft_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agreement_wet_ink_copies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_wet_ink_copies_draft_id'))
    op.drop_table('agreement_wet_ink_copies')
    with op.batch_alter_table('agreement_deadline_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_deadline_reminders_document_id'))
    op.drop_table('agreement_deadline_reminders')
