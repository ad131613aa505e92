"""accounts: server-side sessions and tokens, shared sign-in throttling

Revision ID: 0009_sessions
Revises: 0008_audit_head_function
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0009_sessions'
down_revision = '0008_audit_head_function'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'account_session',
        sa.Column('id', sa.String(length=43), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_account_session_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_session')),
    )
    with op.batch_alter_table('account_session') as batch_op:
        batch_op.create_index(batch_op.f('ix_account_session_user_id'), ['user_id'], unique=False)
    op.create_table(
        'sign_in_throttle',
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', sa.DateTime(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttle')),
    )


def downgrade():
    op.drop_table('sign_in_throttle')
    with op.batch_alter_table('account_session') as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_session_user_id'))
    op.drop_table('account_session')
