"""roster: a cancelled lesson frees its slot (a partial unique index instead of the constraint)

Revision ID: 0011_lesson_slot
Revises: 0010_second_factor
Create Date: 2026-12-03 08:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0011_lesson_slot'
down_revision = '0010_second_factor'
branch_labels = None
depends_on = None

HELD = sa.text("NOT is_cancelled")


def upgrade():
    with op.batch_alter_table('lesson') as batch_op:
        batch_op.drop_constraint('uq_lesson_class_id_held_on_period_subgroup', type_='unique')
        batch_op.create_index('uq_lesson_slot', ['class_id', 'held_on', 'period', 'subgroup'], unique=True,
                              sqlite_where=HELD, postgresql_where=HELD)


def downgrade():
    with op.batch_alter_table('lesson') as batch_op:
        batch_op.drop_index('uq_lesson_slot')
        batch_op.create_unique_constraint('uq_lesson_class_id_held_on_period_subgroup',
                                          ['class_id', 'held_on', 'period', 'subgroup'])
