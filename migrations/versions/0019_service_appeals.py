"""services: the register of complaints, requests and information requests (SV-3)

Revision ID: 0019_service_appeals
Revises: 0018_service_applications
Create Date: 2026-12-04 02:50:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0019_service_appeals'
down_revision = '0018_service_applications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'service_appeal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('applicant', sa.String(length=255), nullable=False),
        sa.Column('contact', sa.String(length=255), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('responsible', sa.String(length=255), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered_on', sa.Date(), nullable=True),
        sa.Column('recorded_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['recorded_by'], ['user.id'], name=op.f('fk_service_appeal_recorded_by_user')),
        sa.ForeignKeyConstraint(['region_id'], ['tenant.id'], name=op.f('fk_service_appeal_region_id_tenant')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_service_appeal_tenant_id_tenant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_appeal')),
        sa.UniqueConstraint('tenant_id', 'year', 'number', name=op.f('uq_service_appeal_tenant_id_year_number')),
    )
    with op.batch_alter_table('service_appeal') as batch_op:
        for column in ('tenant_id', 'region_id'):
            batch_op.create_index(batch_op.f(f'ix_service_appeal_{column}'), [column], unique=False)


def downgrade():
    op.drop_table('service_appeal')
