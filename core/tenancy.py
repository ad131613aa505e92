"""Tenant scoping that fails closed.

Every row of tenant data carries ``tenant_id``. A ``do_orm_execute`` hook adds
``with_loader_criteria`` to each ORM statement so that only rows of the tenants visible in
the current *scope* come back (SQLAlchemy's ``examples/extending_query/filter_public.py``).

* No scope set and a tenant-owned entity queried: :class:`ScopeError`, never "everything".
* The scope is reset at the start and end of every request (``core.create_app``).
* ``unscoped(reason)`` is the one door across tenants: it needs a reason, logs every opening
  and closes on the way out. The everything-scope of the platform exists only behind it
  (``platform=True``); :class:`Scope` refuses to be built with ``everything`` elsewhere.

The criteria are written with *named bind parameters* whose values the hook supplies on
every execution, so a cached statement can never carry a previous request's tenant.

Tenant paths (``/1/4/9/``) are immutable: tenants are never moved between parents, so a
membership can keep its tenant's path and the scope needs no query to resolve.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
from dataclasses import dataclass, field

from sqlalchemy import ForeignKey, Integer, bindparam, event, or_, select, true
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

log = logging.getLogger("tabel.tenancy")

NOTHING = "!none"  # a path prefix no tenant has (paths start with "/"): no tenant data at all
_DOOR = object()  # what only the door holds: the key to the everything-scope


class ScopeError(RuntimeError):
    """Tenant data was queried with no tenant scope set."""


@dataclass(frozen=True)
class Scope:
    """What the current request may see.

    ``home_path`` is the materialized path of the tenant the user acts in (its subtree is
    visible, its ancestors are visible for inherited settings); ``None`` means no tenant at
    all (only the user's own identity rows). ``everything`` is the platform's scope: only
    :func:`unscoped` builds it (``platform=True``), so that every use has a logged reason.
    """

    user_id: int | None = None
    home_path: str | None = None
    everything: bool = False
    _key: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.everything and self._key is not _DOOR:
            raise ScopeError("the everything-scope is opened only by unscoped(reason, platform=True)")

    @property
    def params(self):
        return {
            "scope_home": self.home_path or NOTHING,
            "scope_user": self.user_id if self.user_id is not None else -1,
        }


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("tabel_scope", default=None)
_unscoped_reason: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tabel_unscoped", default=None
)


def current_scope() -> Scope | None:
    return _scope.get()


def set_scope(scope: Scope | None):
    _scope.set(scope)


def reset_scope():
    _scope.set(None)
    _unscoped_reason.set(None)


@contextlib.contextmanager
def scoped(scope: Scope):
    """Run a block (a CLI command, a job) in the given scope."""
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def unscoped(reason: str, *, routine: bool = False, platform: bool = False) -> "Door":
    """The one door across tenants: ``with unscoped("why"):``. Every opening is logged (to
    ``tabel.tenancy``) with its reason, the calling module, the request id and the acting
    user, and the previous state comes back on exit, also on an exception.

    * ``unscoped(reason)`` reads across tenants for the block; the scope itself stays, so
      writes in the block are still attributed to the request's tenant (``core.changes``).
    * ``unscoped(reason, platform=True)`` acts as the platform for the block: the platform's
      everything-scope and, unless a platform admin already acts, a platform admin's role
      (``g.membership``). Operator commands, the demo loader, workers and jobs of the
      platform come in this way.
    * ``routine`` marks the platform's own bookkeeping (the previous link of an audit chain,
      the uniqueness of a login), logged at DEBUG so that real cross-tenant work stands out.

    A feature that needs a core table read across the scope asks core for it (a core
    function opens the door), it does not open the door around core's tables itself.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("unscoped() needs a reason")
    caller = sys._getframe(1).f_globals.get("__name__", "?")
    return Door(reason, routine=routine, platform=platform, caller=caller)


class Door:
    """An opening made by :func:`unscoped`; use it in a ``with`` statement."""

    def __init__(self, reason: str, *, routine: bool, platform: bool, caller: str):
        self.reason, self.routine, self.platform, self.caller = reason, routine, platform, caller
        self._tokens = None

    def _log(self):
        from flask import g, has_app_context

        scope = _scope.get()
        request_id = g.get("request_id") if has_app_context() else None
        user_id = scope.user_id if scope is not None else None
        log.log(logging.DEBUG if self.routine else logging.INFO,
                "unscoped access%s: %s [caller %s, request %s, user %s]",
                " as the platform" if self.platform else "", self.reason, self.caller,
                request_id or "-", user_id if user_id is not None else "-",
                extra={"unscoped_reason": self.reason, "unscoped_caller": self.caller,
                       "unscoped_platform": self.platform, "unscoped_user_id": user_id})

    def _platform_scope(self) -> Scope:
        scope = _scope.get()
        return Scope(user_id=scope.user_id if scope is not None else None, everything=True, _key=_DOOR)

    def __enter__(self):
        if self._tokens is not None:
            raise RuntimeError("this door is already open")
        self._log()
        if not self.platform:
            self._tokens = (_unscoped_reason.set(self.reason),)
            return self
        self._tokens = (_scope.set(self._platform_scope()),)
        self._membership = _platform_role()
        return self

    def __exit__(self, *exc):
        tokens, self._tokens = self._tokens, None
        if self.platform:
            _restore_membership(self._membership)
            _scope.reset(tokens[0])
        else:
            _unscoped_reason.reset(tokens[0])
        return False

    def for_request(self) -> Scope:
        """Open the platform's scope for the rest of a platform admin's request: it is
        closed by the reset of the scope at the end of every request (``core.create_app``).
        The request's own membership acts; nothing else may hold the door open."""
        from flask import has_request_context

        if not self.platform or not has_request_context():
            raise RuntimeError("only a platform admin's request holds the door open")
        self._log()
        scope = self._platform_scope()
        _scope.set(scope)
        return scope


_NO_APP = object()


def _platform_role():
    """A platform admin's role for the block, unless one already acts; what to restore."""
    from flask import g, has_app_context

    if not has_app_context():
        return _NO_APP
    previous = g.get("membership")
    if previous is None or previous.role != "platform_admin":
        from core.accounts.models import Membership

        g.membership = Membership(role="platform_admin")
    return previous


def _restore_membership(previous):
    from flask import g

    if previous is not _NO_APP:
        g.membership = previous


def _tenant_table():
    # The tenant tree is defined by the tenants package; core knows only its table name.
    from core.extensions import db

    return db.metadata.tables["tenant"]


def subtree_ids():
    """SELECT of the ids of the home tenant and everything below it."""
    t = _tenant_table()
    return select(t.c.id).where(t.c.path.startswith(bindparam("scope_home"), autoescape=False))


def ancestor_ids():
    """SELECT of the ids of the home tenant and its ancestors (``:home LIKE path || '%'``)."""
    t = _tenant_table()
    return select(t.c.id).where(literal_home().startswith(t.c.path))


def literal_home():
    return bindparam("scope_home", type_=_tenant_table().c.path.type)


class TenantScoped:
    """Base of every mapped class whose rows are filtered by the tenant scope."""

    @classmethod
    def __scope_criteria__(cls):
        """The WHERE criteria for this class; each mapped subclass defines its own.

        SQLAlchemy also calls this on the base class itself while analysing the lambda in
        ``install``, so the base answers with a neutral criterion."""
        return true()


class TenantOwned(TenantScoped):
    """Rows owned by one tenant. Visible when the owner is in the home tenant's subtree.

    Set ``__visible_below__ = True`` on settings that tenants below inherit (regulations):
    those rows are visible from the subtree *and* to the tenants below their owner.
    """

    __visible_below__ = False

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("tenant.id"), index=True, nullable=False)

    @classmethod
    def __scope_criteria__(cls):
        criteria = cls.tenant_id.in_(subtree_ids())
        if cls.__visible_below__:
            criteria = or_(criteria, cls.tenant_id.in_(ancestor_ids()))
        return criteria


def _is_scoped_entity(mapper) -> bool:
    return mapper is not None and issubclass(mapper.class_, TenantScoped)


def _scoped_tables() -> set:
    tables, todo = set(), list(TenantScoped.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if hasattr(cls, "__table__"):
            tables.add(cls.__table__)
    return tables


def _core_statement_on_tenant_tables(state) -> bool:
    """A Core statement (``select(table)``) gets no loader criteria, so it may not read
    tenant tables except in an unscoped block or the platform's scope."""
    from sqlalchemy.sql.util import find_tables

    if state.is_orm_statement:
        return False
    found = find_tables(state.statement, include_aliases=True, include_joins=True, include_selects=True)
    return bool(set(found) & _scoped_tables())


def install(session_class=Session):
    """Attach the scoping hook to every ORM session, once (every app made in a process
    shares the session class: a second hook would scope each statement twice)."""
    if not event.contains(session_class, "do_orm_execute", _apply_scope):
        event.listen(session_class, "do_orm_execute", _apply_scope)
    return _apply_scope


def _apply_scope(state):
    if not (state.is_select or state.is_update or state.is_delete):
        return None
    if _unscoped_reason.get() is not None:
        return None
    if state.is_column_load and _scope.get() is None:
        # Refreshing attributes of an object this session already loaded, by its
        # primary key (after a commit expired it): it was scoped when first loaded.
        return None
    scope = _scope.get()
    if scope is not None and scope.everything:
        return None
    if _core_statement_on_tenant_tables(state):
        raise ScopeError("tenant tables read through a Core statement: query the ORM entity so the scope "
                         "applies, or use unscoped(reason)")
    if scope is None:
        if any(_is_scoped_entity(m) for m in state.all_mappers):
            names = ", ".join(sorted(m.class_.__name__ for m in state.all_mappers))
            raise ScopeError(f"tenant data ({names}) queried with no tenant scope")
        scope = Scope()  # joins to tenant data see nothing
    if not state.is_column_load:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.__scope_criteria__(),
                include_aliases=True,
            )
        )
    if state.parameters is None:
        state.parameters = {}
    return state.invoke_statement(params=scope.params)
