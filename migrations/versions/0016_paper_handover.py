"""diary: paper printouts handed over to the guardians who chose paper (IN-2)

Revision ID: 0016_paper_handover
Revises: 0015_informing_channels
Create Date: 2026-12-03 15:10:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0016_paper_handover'
down_revision = '0015_informing_channels'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'paper_handover',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('guardian_id', sa.Integer(), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.Column('until', sa.Date(), nullable=False),
        sa.Column('handed_on', sa.Date(), nullable=False),
        sa.Column('handed_by', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_paper_handover_guardian_id_guardian')),
        sa.ForeignKeyConstraint(['handed_by'], ['user.id'], name=op.f('fk_paper_handover_handed_by_user')),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_paper_handover_pupil_id_pupil')),
        sa.ForeignKeyConstraint(['region_id'], ['tenant.id'], name=op.f('fk_paper_handover_region_id_tenant')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_paper_handover_tenant_id_tenant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_handover')),
    )
    with op.batch_alter_table('paper_handover') as batch_op:
        for column in ('pupil_id', 'guardian_id', 'tenant_id', 'region_id'):
            batch_op.create_index(batch_op.f(f'ix_paper_handover_{column}'), [column], unique=False)


def downgrade():
    op.drop_table('paper_handover')
