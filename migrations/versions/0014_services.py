"""services: the region's e-services catalogue and each school's responsible persons

Revision ID: 0014_services
Revises: 0013_messages
Create Date: 2026-12-03 15:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0014_services'
down_revision = '0013_messages'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'service',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=500), nullable=False),
        sa.Column('regulation', sa.Text(), nullable=False),
        sa.Column('acts', sa.Text(), nullable=False),
        sa.Column('procedure', sa.Text(), nullable=False),
        sa.Column('portal_url', sa.String(length=500), nullable=True),
        sa.Column('office_name', sa.String(length=255), nullable=True),
        sa.Column('office_room', sa.String(length=120), nullable=True),
        sa.Column('office_hours', sa.String(length=255), nullable=True),
        sa.Column('office_phone', sa.String(length=40), nullable=True),
        sa.Column('office_email', sa.String(length=255), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_service_tenant_id_tenant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service')),
        sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_service_tenant_id_code')),
    )
    with op.batch_alter_table('service') as batch_op:
        batch_op.create_index(batch_op.f('ix_service_tenant_id'), ['tenant_id'], unique=False)
    op.create_table(
        'service_contact',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('room', sa.String(length=120), nullable=True),
        sa.Column('hours', sa.String(length=255), nullable=True),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('email', sa.String(length=255), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['tenant.id'], name=op.f('fk_service_contact_region_id_tenant')),
        sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_contact_service_id_service')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_service_contact_tenant_id_tenant')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_contact')),
        sa.UniqueConstraint('tenant_id', 'service_id', name=op.f('uq_service_contact_tenant_id_service_id')),
    )
    with op.batch_alter_table('service_contact') as batch_op:
        for column in ('service_id', 'tenant_id', 'region_id'):
            batch_op.create_index(batch_op.f(f'ix_service_contact_{column}'), [column], unique=False)


def downgrade():
    op.drop_table('service_contact')
    op.drop_table('service')
