"""agreements: each sealed document's short id (public /verify) and the event-chain head it
recorded

Documents sealed before this revision get a short id here; their recorded head is unknown
(it was printed on the PDF only) and stays empty.

Revision ID: agreements_0003_verification
Revises: agreements_0002_parties_signers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agreements.shortid import new_short_id

revision = 'agreements_0003_verification'
down_revision = 'agreements_0002_parties_signers'
branch_labels = None
depends_on = None

documents = sa.table("agreement_documents", sa.column("id", sa.String()),
                     sa.column("short_id", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("agreement_documents") as batch:
        batch.add_column(sa.Column("short_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("event_log_head", sa.String(80), nullable=True))
        batch.create_unique_constraint("uq_agreement_documents_short_id", ["short_id"])
    conn = op.get_bind()
    for (document_id,) in conn.execute(sa.select(documents.c.id)).all():
        conn.execute(documents.update().where(documents.c.id == document_id)
                     .values(short_id=new_short_id()))


def downgrade() -> None:
    with op.batch_alter_table("agreement_documents") as batch:
        batch.drop_constraint("uq_agreement_documents_short_id", type_="unique")
        batch.drop_column("event_log_head")
        batch.drop_column("short_id")
