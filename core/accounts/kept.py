"""The request's start, kept per worker: who is signed in, their roles, and what other
modules derive from them (the home tenant's chain, the diary's children).

Every request reads the account's own rows in one Core statement: the user, their active
memberships, the session or token row, and one number that moves whenever the shared data
of any tenant above the user's roles moves (the sum of their ``core.changes`` shared keys:
counters only go up, so the sum moves whenever one does). While the user's and the roles'
columns and that number are what they were, the request takes the kept copies instead of
loading them again: nothing is ever served from a copy older than the statement read by
this very request, so a role revoked, a password changed, a session ended, a guardian
unlinked or a tenant deactivated is seen at once.

The copies are *pristine*: built from the row values, detached, never handed out. A request
gets its own instances, placed in its session by ``merge(load=False)`` (SQLAlchemy's
caching pattern: no statement), so it may change and commit them as if it had loaded them.
Other modules keep their own derived values in :func:`extras` (dropped with the identity).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import current_app, g
from sqlalchemy import LABEL_STYLE_TABLENAME_PLUS_COL, bindparam, func, select
from sqlalchemy.orm import attributes, make_transient_to_detached

from core.extensions import db
from core.lru import Lru

KEPT = "tabel.kept_identities"


@dataclass(eq=False)
class Identity:
    rows: tuple  # the user's and the memberships' columns as read
    tenant_ids: tuple  # every tenant on the paths of the memberships, and 0
    freshness: int  # the sum of those tenants' shared change keys
    user: object
    memberships: list
    extras: dict = field(default_factory=dict)


def _store() -> Lru | None:
    if not current_app.config.get("KEPT_IDENTITIES", 2048):
        return None
    return current_app.extensions.setdefault(KEPT, Lru())


def _pristine(model, values: dict):
    """A detached instance of ``model`` holding ``values`` as loaded, in no session."""
    obj = model.__mapper__.class_manager.new_instance()
    for key, value in values.items():
        attributes.set_committed_value(obj, key, value)
    make_transient_to_detached(obj)
    return obj


def _columns(model):
    mapper = model.__mapper__
    return [(column, mapper.get_property_by_column(column).key) for column in model.__table__.columns]


def _freshness():
    from core.changes import SHARED, KeyStamp

    return (select(func.coalesce(func.sum(KeyStamp.stamp), 0))
            .where(KeyStamp.key == SHARED, KeyStamp.tenant_id.in_(bindparam("tenant_ids", expanding=True)))
            .scalar_subquery())


@functools.cache
def _statements():
    """The identity's statement and the freshness alone, built once (bound per request)."""
    from core.accounts.models import AccountSession, Membership, User

    U, M, S = User.__table__, Membership.__table__, AccountSession.__table__
    identity = (select(U, M, S, _freshness().label("freshness"))
                .select_from(U.outerjoin(M, (M.c.user_id == U.c.id) & M.c.is_active.is_(True))
                             .outerjoin(S, (S.c.id == bindparam("session_id")) & (S.c.user_id == U.c.id)))
                .where(U.c.id == bindparam("user_id")).order_by(M.c.id)
                .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL))
    columns = {model: _columns(model) for model in (User, Membership, AccountSession)}
    return identity, select(_freshness()), columns


def _tenant_ids(memberships) -> tuple:
    ids = {0}
    for membership in memberships:
        ids.update(int(part) for part in (membership.tenant_path or "").strip("/").split("/") if part)
    return tuple(sorted(ids))


def load(user_id: int, session_id: str):
    """``(user, memberships, account_session, identity)`` of an account's session (each
    instance placed in this request's session), or None when the user does not exist; one
    statement when kept. The caller checks activity, version and the session's validity,
    then calls :func:`use` with the identity: a refused session's copies serve nothing."""
    from core.accounts.models import AccountSession, Membership, User
    from core.tenancy import unscoped

    store = _store()
    key = (user_id, session_id)
    kept = store.get(key) if store is not None else None
    tenant_ids = kept.tenant_ids if kept is not None else (0,)
    statement, freshness_only, cols = _statements()
    with unscoped("the signed-in account's own rows", routine=True):
        rows = db.session.connection().execute(
            statement, {"user_id": user_id, "session_id": session_id, "tenant_ids": list(tenant_ids)}).all()
    if not rows:
        return None
    nu, nm = len(cols[User]), len(cols[Membership])
    identity_rows = tuple(tuple(row[:nu + nm]) for row in rows)
    freshness = rows[0][-1]
    if kept is None or kept.rows != identity_rows or kept.freshness != freshness:
        user = _pristine(User, {k: v for (_c, k), v in zip(cols[User], rows[0][:nu])})
        memberships = [_pristine(Membership, {k: v for (_c, k), v in zip(cols[Membership], row[nu:nu + nm])})
                       for row in rows if row[nu] is not None]
        ids = _tenant_ids(memberships)
        if ids != tenant_ids:  # roles in other tenants than the kept ones: read their number
            with unscoped("the signed-in account's tenants' change keys", routine=True):
                freshness = db.session.connection().execute(freshness_only, {"tenant_ids": list(ids)}).scalar_one()
        kept = Identity(identity_rows, ids, freshness, user, memberships)
        if store is not None:
            store.put(key, kept, current_app.config.get("KEPT_IDENTITIES", 2048))
    session_values = rows[0][nu + nm:nu + nm + len(cols[AccountSession])]
    account_session = None
    if session_values[0] is not None:
        account_session = db.session.merge(_pristine(AccountSession, {
            k: v for (_c, k), v in zip(cols[AccountSession], session_values)}), load=False)
    merge = db.session.merge
    return merge(kept.user, load=False), [merge(m, load=False) for m in kept.memberships], account_session, kept


def use(identity: Identity) -> None:
    """This request is signed in as ``identity`` (its session checked open): what other
    modules keep with it serves this request (:func:`extras`, :func:`instances`)."""
    g.kept_identity = identity


def extras() -> dict | None:
    """What this request's kept identity holds for other modules (None outside one): valid
    as long as the identity is, so a module keeps there what it derives from the account's
    roles and the shared data of their tenants."""
    kept = g.get("kept_identity")
    return kept.extras if kept is not None else None


def copy(obj):
    """A pristine copy of a loaded ORM instance (its columns), for :func:`extras`."""
    return _pristine(type(obj), {k: getattr(obj, k) for _c, k in _columns(type(obj))})


def instances(key, tenant_ids, load) -> list:
    """ORM rows derived from the signed-in account's roles: ``load()``'s, kept with the
    identity when every tenant in ``tenant_ids`` (those the rows come from) is one the
    identity watches, and given to this request as instances of its own session. A row may
    be an instance or a tuple of instances and plain values."""
    from core.changes import pending

    kept = g.get("kept_identity")
    if kept is None or not set(tenant_ids) <= set(kept.tenant_ids) or pending(db.session):
        return load()  # (a request that has written reads what it wrote)
    copies = kept.extras.get(key)
    if copies is None:
        rows = load()
        kept.extras[key] = [_map(row, copy) for row in rows]
        return rows
    return [_map(row, lambda obj: db.session.merge(obj, load=False)) for row in copies]


def _map(row, fn):
    def one(value):
        return fn(value) if hasattr(value, "__mapper__") else value

    return tuple(one(v) for v in row) if isinstance(row, tuple) else one(row)
