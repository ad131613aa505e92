"""services: the register of applications for the diary service (SV-3, IN-1)

Revision ID: 0018_service_applications
Revises: 0017_change_key_stamps
Create Date: 2026-12-04 02:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0018_service_applications'
down_revision = '0017_change_key_stamps'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'service_application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('filed_on', sa.Date(), nullable=False),
        sa.Column('service_code', sa.String(length=40), nullable=False),
        sa.Column('guardian_id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('choice', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('refusal_reason', sa.Text(), nullable=True),
        sa.Column('filed_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_service_application_decided_by_user')),
        sa.ForeignKeyConstraint(['filed_by'], ['user.id'], name=op.f('fk_service_application_filed_by_user')),
        sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_service_application_guardian_id_guardian')),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_service_application_pupil_id_pupil')),
        sa.ForeignKeyConstraint(['region_id'], ['tenant.id'], name=op.f('fk_service_application_region_id_tenant')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_service_application_tenant_id_tenant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_application')),
        sa.UniqueConstraint('tenant_id', 'year', 'number', name=op.f('uq_service_application_tenant_id_year_number')),
    )
    with op.batch_alter_table('service_application') as batch_op:
        for column in ('guardian_id', 'pupil_id', 'tenant_id', 'region_id'):
            batch_op.create_index(batch_op.f(f'ix_service_application_{column}'), [column], unique=False)


def downgrade():
    op.drop_table('service_application')
