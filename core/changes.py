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

Beside the tenant's stamp, a finer one (:class:`KeyStamp`) per tenant and *key*, for pages
built from one pupil's rows (the diary): a table whose rows belong to one pupil says so with
``info={"stamp_keys": ("pupil_id",)}`` (grades, attendance, remarks, final marks), and a
write to such a row advances the key ``pupil_id:<id>`` of its tenant; every other write to
the tenant's data advances its *shared* key ``""``. So a teacher grading one pupil changes
that pupil's key, not the page of the pupil beside them, while the tenant's stamp (which the
journal's grid reads) moves as before. Rows no kept page is built from (audit entries, the
notification outbox) say ``info={"stamp_keys": ()}``: they move no key. A bulk statement on
a keyed table moves the keys of the rows it names, else the shared key.

Only writes through the ORM session move stamps and keys: a row changed past it (psql, a
bulk ``COPY``) leaves what workers keep as it was until the tenant's next write.

Stamps are advanced when the outermost transaction commits (not when a savepoint is
released), after the last flush, in tenant-id order: the row locks they take are the last
locks a transaction takes, so they cannot deadlock with the audit chain's lock or with
each other.
"""
from __future__ import annotations

import functools

from sqlalchemy import BigInteger, Integer, String, bindparam, event, inspect, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.extensions import db

GLOBAL = 0
SHARED = ""  # the key of a tenant's rows that belong to no one pupil
_CHANGED = "tabel.changed_tenants"
_KEYS = "tabel.changed_keys"


class ChangeStamp(db.Model):
    """The change counter of one tenant (``0``: changes whose tenant is not known)."""

    __tablename__ = "change_stamp"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(BigInteger, default=0)


class KeyStamp(db.Model):
    """The change counter of one key of a tenant: ``""`` for its shared rows, ``pupil_id:<id>``
    for one pupil's."""

    __tablename__ = "change_key_stamp"

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    stamp: Mapped[int] = mapped_column(BigInteger, default=0)


def pupil_key(pupil_id: int) -> str:
    return f"pupil_id:{pupil_id}"


def read_keys(pairs) -> tuple:
    """The counters of ``(tenant_id, key)`` pairs as a sorted tuple of ``(tenant_id, key,
    stamp)`` (a counter never advanced is absent): a key for what is built from them. One
    statement; the table holds no tenant data, so no scope is needed."""
    rows = db.session.connection().execute(_keys_statement(), {"pairs": sorted(set(pairs))})
    return tuple(sorted(tuple(row) for row in rows))


@functools.cache
def _keys_statement():
    return (select(KeyStamp.tenant_id, KeyStamp.key, KeyStamp.stamp)
            .where(tuple_(KeyStamp.tenant_id, KeyStamp.key).in_(bindparam("pairs", expanding=True))))


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
    return bool(session.info.get(_CHANGED) or session.info.get(_KEYS))


def _changed(session) -> set:
    return session.info.setdefault(_CHANGED, set())


def _keys(session) -> set:
    return session.info.setdefault(_KEYS, set())


def _key_columns(table):
    """The columns whose values key a row's writes, () for rows that move no key, None for
    a tenant's shared rows."""
    return table.info.get("stamp_keys")


def _note_keys(session, obj, owner):
    columns = _key_columns(type(obj).__table__)
    if columns is None:
        _keys(session).add((owner, SHARED))
        return
    state = inspect(obj)
    for column in columns:
        history = state.attrs[column].history  # a row moved to another pupil changes both
        for value in (*history.added, *history.unchanged, *history.deleted):
            if value is not None:
                _keys(session).add((owner, f"{column}:{value}"))


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
            _note_keys(session, obj, owner)


def _do_orm_execute(state):
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table.name == ChangeStamp.__tablename__ or table.info.get("unstamped"):
        return
    from core.tenancy import _scoped_tables, current_scope

    if table not in _scoped_tables():
        return
    changed, keys = _changed(state.session), _keys(state.session)
    columns = _key_columns(table)
    params = state.parameters
    rows = params if isinstance(params, (list, tuple)) else [params] if params else []
    rows = [row for row in rows if isinstance(row, dict)]
    owners = {row.get("tenant_id") for row in rows}
    if owners and None not in owners:
        changed.update(owners)
        if columns == ():
            return
        for row in rows:
            values = [(column, row.get(column)) for column in columns or ()]
            if columns and all(value is not None for _c, value in values):
                keys.update((row["tenant_id"], f"{column}:{value}") for column, value in values)
            else:
                keys.add((row["tenant_id"], SHARED))
        return
    scope = current_scope()
    if scope is not None and scope.home_path and not scope.everything:
        owner = int(scope.home_path.strip("/").split("/")[-1])
    else:
        owner = GLOBAL
    changed.add(owner)
    if columns != ():
        keys.add((owner, SHARED))  # which pupils' rows it touched is not known: all of them


def _before_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint released: the stamps move when the whole transaction commits
    session.flush()  # what the commit would flush counts too (a no-op when nothing is pending)
    changed = session.info.pop(_CHANGED, set())
    keys = session.info.pop(_KEYS, set())
    if keys:
        bump_keys(session, keys)
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


def bump_keys(session, pairs):
    """Advance the counters of ``(tenant_id, key)`` pairs in one statement (in key order)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = KeyStamp.__table__
    stmt = insert(table).values([{"tenant_id": t, "key": k, "stamp": 1} for t, k in sorted(pairs)])
    session.connection().execute(stmt.on_conflict_do_update(index_elements=[table.c.tenant_id, table.c.key],
                                                            set_={"stamp": table.c.stamp + 1}))


def _forget(session, previous_transaction):
    """The whole transaction rolled back: what it wrote is gone. A savepoint's rollback
    keeps the set (a tenant it named is advanced anyway: harmless)."""
    if not previous_transaction.nested and previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)
        session.info.pop(_KEYS, None)


def install(session_class=Session):
    """Attach the hooks to every ORM session."""
    hooks = (("before_flush", _before_flush), ("do_orm_execute", _do_orm_execute),
             ("before_commit", _before_commit), ("after_soft_rollback", _forget))
    for name, hook in hooks:
        if not event.contains(session_class, name, hook):
            event.listen(session_class, name, hook)
