"""change stamps: a counter per tenant advanced by every committed write to its data

Revision ID: 0007_change_stamps
Revises: 0006_disclosure
Create Date: 2026-11-22 22:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_change_stamps'
down_revision = '0006_disclosure'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('change_stamp',
    sa.Column('tenant_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stamp', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_change_stamp'))
    )


def downgrade():
    op.drop_table('change_stamp')
