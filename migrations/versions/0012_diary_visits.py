"""diary: a guardian's days of reading a child's diary (IN-4)

Revision ID: 0012_diary_visits
Revises: 0011_lesson_slot
Create Date: 2026-12-03 14:20:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0012_diary_visits'
down_revision = '0011_lesson_slot'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'diary_visit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('visited_on', sa.Date(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_diary_visit_pupil_id_pupil')),
        sa.ForeignKeyConstraint(['region_id'], ['tenant.id'], name=op.f('fk_diary_visit_region_id_tenant')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_diary_visit_tenant_id_tenant')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_diary_visit_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_diary_visit')),
        sa.UniqueConstraint('user_id', 'pupil_id', 'visited_on', name=op.f('uq_diary_visit_user_id_pupil_id_visited_on')),
    )
    with op.batch_alter_table('diary_visit') as batch_op:
        batch_op.create_index(batch_op.f('ix_diary_visit_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_diary_visit_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_diary_visit_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_diary_visit_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('diary_visit')
