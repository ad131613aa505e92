"""core.changes: change counters per tenant and key (a tenant's shared rows, one pupil's rows)

Revision ID: 0017_change_key_stamps
Revises: 0016_paper_handover
Create Date: 2026-12-04 02:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0017_change_key_stamps'
down_revision = '0016_paper_handover'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'change_key_stamp',
        sa.Column('tenant_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('stamp', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', 'key', name=op.f('pk_change_key_stamp')),
    )


def downgrade():
    op.drop_table('change_key_stamp')
