"""informing channels (IN-1) on the guardian, and the diary's notification outbox

Revision ID: 0015_informing_channels
Revises: 0014_services
Create Date: 2026-12-03 14:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0015_informing_channels'
down_revision = '0014_services'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('guardian') as batch_op:
        batch_op.add_column(sa.Column('by_web', sa.Boolean(), server_default=sa.text('true'), nullable=False))
        batch_op.add_column(sa.Column('by_email', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('by_sms', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('by_paper', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('application_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('application_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('notify_mode', sa.String(length=10), server_default='instant', nullable=False))
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), server_default=sa.text('18'), nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='ru', nullable=False))

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('event', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('failed_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], name=op.f('fk_notification_guardian_id_guardian')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_notification_pupil_id_pupil')),
    sa.ForeignKeyConstraint(['region_id'], ['tenant.id'], name=op.f('fk_notification_region_id_tenant')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_notification_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('guardian_id', 'event', 'channel', name=op.f('uq_notification_guardian_id_event_channel'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_pending', ['sent_at', 'failed_at', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    op.drop_table('notification')
    with op.batch_alter_table('guardian') as batch_op:
        for name in ('language', 'digest_hour', 'notify_mode', 'application_date', 'application_number',
                     'by_paper', 'by_sms', 'by_email', 'by_web'):
            batch_op.drop_column(name)
