"""diary: messages between guardians and teachers, in threads per pupil and teacher

Revision ID: 0013_messages
Revises: 0012_diary_visits
Create Date: 2026-12-03 14:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0013_messages'
down_revision = '0012_diary_visits'
branch_labels = None
depends_on = None


def _owned():
    return [sa.Column('tenant_id', sa.Integer(), nullable=False), sa.Column('region_id', sa.Integer(), nullable=False)]


def _owned_keys(table):
    return [sa.ForeignKeyConstraint(['region_id'], ['tenant.id'], name=op.f(f'fk_{table}_region_id_tenant')),
            sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f(f'fk_{table}_tenant_id_tenant'))]


def upgrade():
    op.create_table(
        'message_thread',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_at', sa.DateTime(), nullable=False),
        *_owned(),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_message_thread_pupil_id_pupil')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_message_thread_staff_id_staff')),
        *_owned_keys('message_thread'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_thread')),
        sa.UniqueConstraint('pupil_id', 'staff_id', name=op.f('uq_message_thread_pupil_id_staff_id')),
    )
    op.create_table(
        'message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        *_owned(),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_message_author_id_user')),
        sa.ForeignKeyConstraint(['thread_id'], ['message_thread.id'], name=op.f('fk_message_thread_id_message_thread')),
        *_owned_keys('message'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    )
    op.create_table(
        'message_read',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('last_message_id', sa.Integer(), nullable=False),
        *_owned(),
        sa.ForeignKeyConstraint(['thread_id'], ['message_thread.id'], name=op.f('fk_message_read_thread_id_message_thread')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_message_read_user_id_user')),
        *_owned_keys('message_read'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_read')),
        sa.UniqueConstraint('thread_id', 'user_id', name=op.f('uq_message_read_thread_id_user_id')),
    )
    for table, columns in (('message_thread', ['pupil_id', 'staff_id', 'tenant_id', 'region_id']),
                           ('message', ['thread_id', 'tenant_id', 'region_id']),
                           ('message_read', ['thread_id', 'user_id', 'tenant_id', 'region_id'])):
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def downgrade():
    op.drop_table('message_read')
    op.drop_table('message')
    op.drop_table('message_thread')
