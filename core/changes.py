"""Change stamps: a counter per tenant that every committed write to its data advances.

A page built from a tenant's data can be kept and served again while the stamps it was
built under are unchanged (the journal's grid does this). The stamps live in the database,
so a write by any process (a web worker, a job, a CLI command) is seen by every other one,
and a stamp moves in the same transaction as the write: a rolled-back write moves nothing.

What counts as a write to a tenant's data:

* an object of a tenant-scoped class added, changed or deleted in a session flush: its
  ``tenant_id`` (a school for journal rows, a region for its subjects), or the tenant
  itself for a tenant row; rows of no tenant (accounts, the platform's own audit chain and
  jobs) advance nothing, so signing in does not throw away what every worker keeps;
* a bulk statement (``session.execute(insert(...)/update(...)/delete(...))``) on a
  tenant-scoped table: the ``tenant_id`` values it carries, else the current scope's home
  tenant, else (platform or no scope) the global stamp ``0``, which every reader includes.

A table that nothing is built from and that is written while pages are read (the diary's
visits log) says ``info={"unstamped": True}`` in its ``__table_args__``: its writes advance
no stamp, or each parent's visit would throw away what the school's pages keep.

A reader includes the stamps of a tenant's whole chain (the region and municipality
above a school, and ``0``), so a change made above invalidates what was built below. An
audited write advances its tenant's audit chain in the same commit, so its stamp is left
alone and readers read the chain heads beside the stamps (:func:`stamp_rows`).

Stamps are advanced when the outermost transaction commits (not when a savepoint is
released), after the last flush, in tenant-id order: the row locks they take are the last
locks a transaction takes, so they cannot deadlock with the audit chain's lock or with
each other.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.extensions import db

GLOBAL = 0
_CHANGED = "tabel.changed_tenants"


class ChangeStamp(db.Model):
    """The change counter of one tenant (``0``: changes whose tenant is not known)."""

    __tablename__ = "change_stamp"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(BigInteger, default=0)


def stamp_rows(tenant_ids, *more):
    """A SELECT of ``(kind, tenant_id, value)`` rows that changes whenever data of any of
    ``tenant_ids`` (or the global counter) changes: each stamp (kind 0), and the head of each
    tenant's audit chain (kind 1), which an audited write advances instead of the stamp (see
    ``_before_commit``). It reads audit entries of tenants above the reader's: run it in
    ``unscoped`` (it reads sequence numbers, nothing of their content). ``more`` are further
    SELECTs of three columns to read in the same statement (SQLite nests no compound)."""
    from sqlalchemy import func, literal, union_all

    from core.audit import AuditEntry

    ids = sorted(set(tenant_ids) | {GLOBAL})
    parts = [select(literal(0).label("kind"), ChangeStamp.tenant_id, ChangeStamp.stamp)
             .where(ChangeStamp.tenant_id.in_(ids))]
    parts += [select(literal(1), literal(i), select(func.max(AuditEntry.seq)).where(AuditEntry.chain == i)
                     .scalar_subquery()) for i in ids if i != GLOBAL]
    return union_all(*parts, *more)


def read_stamp_rows(tenant_ids, *more, reason="change stamps and audit heads of a chain") -> tuple:
    """:func:`stamp_rows` (with ``more``) read across tenants, as a sorted tuple of its rows:
    a key for what is built from the data of ``tenant_ids``. ``reason`` is logged with the
    unscoped read (:func:`core.tenancy.unscoped`); the rows of ``more`` are read unscoped too,
    so they must filter by tenant themselves."""
    from core.tenancy import unscoped

    with unscoped(reason, routine=True):
        return tuple(sorted(tuple(row) for row in db.session.execute(stamp_rows(tenant_ids, *more))))


def stamps(tenant_ids) -> tuple:
    """:func:`stamp_rows` read, as a tuple (empty counters and chains as 0)."""
    found = {(kind, tenant): value for kind, tenant, value in read_stamp_rows(tenant_ids)}
    ids = sorted(set(tenant_ids) | {GLOBAL})
    return tuple(found.get((0, i)) or 0 for i in ids) + tuple(found.get((1, i)) or 0 for i in ids if i != GLOBAL)


def pending(session) -> bool:
    """Whether the session's transaction has written tenant data not yet committed."""
    return bool(session.info.get(_CHANGED))


def _changed(session) -> set:
    return session.info.setdefault(_CHANGED, set())


def _owner(obj):
    """The tenant whose data ``obj`` is: its ``tenant_id``; for a tenant row, the tenant
    itself; None for rows of no tenant (accounts, the platform's audit chain and jobs),
    which no tenant's page shows."""
    if type(obj).__table__.info.get("unstamped"):
        return None
    if "tenant_id" in type(obj).__table__.c:
        return obj.tenant_id
    return obj.id if type(obj).__table__.name == "tenant" else None


def _before_flush(session, _context, _instances):
    from core.tenancy import TenantScoped

    changed, dirty = None, session.dirty  # (session.dirty is computed on each access)
    for obj in (*session.new, *dirty, *session.deleted):
        if not isinstance(obj, TenantScoped) or (obj in dirty and not session.is_modified(obj)):
            continue
        owner = _owner(obj)
        if owner is not None:
            if changed is None:
                changed = _changed(session)
            changed.add(owner)


def _do_orm_execute(state):
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table.name == ChangeStamp.__tablename__ or table.info.get("unstamped"):
        return
    from core.tenancy import _scoped_tables, current_scope

    if table not in _scoped_tables():
        return
    changed = _changed(state.session)
    params = state.parameters
    rows = params if isinstance(params, (list, tuple)) else [params] if params else []
    owners = {row.get("tenant_id") for row in rows if isinstance(row, dict)}
    if owners and None not in owners:
        changed.update(owners)
        return
    scope = current_scope()
    if scope is not None and scope.home_path and not scope.everything:
        changed.add(int(scope.home_path.strip("/").split("/")[-1]))
    else:
        changed.add(GLOBAL)


def _before_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint released: the stamps move when the whole transaction commits
    session.flush()  # what the commit would flush counts too (a no-op when nothing is pending)
    changed = session.info.pop(_CHANGED, set())
    # A tenant whose audit chain this transaction appended to needs no bump: the chain's
    # head advances in the same commit, and readers read it with the stamps (stamp_rows).
    from core.audit import HEADS

    changed -= set(session.info.get(HEADS) or ()) - {GLOBAL}
    if changed:
        bump(session, changed)


def bump(session, tenant_ids):
    """Advance the stamps of ``tenant_ids`` in the session's transaction (in id order)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = ChangeStamp.__table__
    connection = session.connection()  # bookkeeping: past the session's hooks
    for tenant_id in sorted(tenant_ids):
        stmt = insert(table).values(tenant_id=tenant_id, stamp=1)
        connection.execute(stmt.on_conflict_do_update(index_elements=[table.c.tenant_id],
                                                      set_={"stamp": table.c.stamp + 1}))


def _forget(session, previous_transaction):
    """The whole transaction rolled back: what it wrote is gone. A savepoint's rollback
    keeps the set (a tenant it named is advanced anyway: harmless)."""
    if not previous_transaction.nested and previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)


def install(session_class=Session):
    """Attach the hooks to every ORM session."""
    hooks = (("before_flush", _before_flush), ("do_orm_execute", _do_orm_execute),
             ("before_commit", _before_commit), ("after_soft_rollback", _forget))
    for name, hook in hooks:
        if not event.contains(session_class, name, hook):
            event.listen(session_class, name, hook)
