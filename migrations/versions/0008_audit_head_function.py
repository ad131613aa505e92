"""audit: on PostgreSQL, one round trip takes a chain's lock and reads its head

Revision ID: 0008_audit_head_function
Revises: 0007_change_stamps
Create Date: 2026-11-22 23:00:00

"""
from alembic import op


revision = '0008_audit_head_function'
down_revision = '0007_change_stamps'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite takes its single write lock instead (core/audit.py)
    # VOLATILE: the head is read with a snapshot taken after the lock is held (READ
    # COMMITTED), so it is the head the previous holder committed, never an older one.
    op.execute("""
        CREATE FUNCTION tabel_audit_head(lock_space integer, chain_id integer)
        RETURNS TABLE (seq integer, hash varchar) LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(lock_space, chain_id);
            RETURN QUERY SELECT a.seq, a.hash FROM audit_entry a WHERE a.chain = chain_id
                         ORDER BY a.seq DESC LIMIT 1;
        END
        $$
    """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION tabel_audit_head(integer, integer)")
