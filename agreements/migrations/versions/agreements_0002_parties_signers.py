"""agreements: parties' confirmations of their own details, and copy links sent to parties

Revision ID: agreements_0002_parties_signers
Revises: agreements_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'agreements_0002_parties_signers'
down_revision = 'agreements_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agreement_party_confirmations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('draft_id', sa.String(length=32), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('acting_as', sa.String(length=16), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('details_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['agreement_drafts.id'], name=op.f('fk_agreement_party_confirmations_draft_id_agreement_drafts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_party_confirmations'))
    )
    with op.batch_alter_table('agreement_party_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_party_confirmations_draft_id'), ['draft_id'], unique=False)

    op.create_table('agreement_copy_links',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['agreement_documents.id'], name=op.f('fk_agreement_copy_links_document_id_agreement_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_copy_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_agreement_copy_links_token_hash'))
    )
    with op.batch_alter_table('agreement_copy_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_copy_links_document_id'), ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agreement_copy_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_copy_links_document_id'))
    op.drop_table('agreement_copy_links')
    with op.batch_alter_table('agreement_party_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_party_confirmations_draft_id'))
    op.drop_table('agreement_party_confirmations')
