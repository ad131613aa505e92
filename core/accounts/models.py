"""People and the roles they hold in tenants."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, bindparam, exists, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.orm import utcnow
from core.extensions import db
from core.tenancy import TenantScoped, subtree_ids

# Ordered from the widest reach to the narrowest: the default context after login is the
# first membership in this order.
ROLES = (
    "platform_admin",
    "region_admin",
    "municipality_admin",
    "school_admin",
    "teacher",
    "guardian",
    "pupil",
)
ROLE_LABELS = {
    "platform_admin": _l("Platform administrator"),
    "region_admin": _l("Region administrator"),
    "municipality_admin": _l("Municipality administrator"),
    "school_admin": _l("School administrator"),
    "teacher": _l("Teacher"),
    "guardian": _l("Parent or guardian"),
    "pupil": _l("Pupil"),
}
ADMIN_ROLES = {"platform_admin", "region_admin", "municipality_admin", "school_admin"}
# Which roles may be held in a tenant of each kind.
ROLES_BY_KIND = {
    "region": ("region_admin",),
    "municipality": ("municipality_admin",),
    "school": ("school_admin", "teacher", "guardian", "pupil"),
}


class User(TenantScoped, db.Model):
    """A person who signs in. Visible to themselves and to whoever sees one of their
    memberships' tenants."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or reset: ends every session and API token issued before.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", order_by="Membership.id", lazy="raise"
    )

    @classmethod
    def __scope_criteria__(cls):
        # An alias of its own, so the subquery never correlates with a query on memberships.
        member = Membership.__table__.alias("scope_member")
        visible_member = exists(
            select(member.c.id).where(member.c.user_id == cls.id, member.c.tenant_id.in_(subtree_ids()))
        ).correlate_except(member)
        return or_(cls.id == bindparam("scope_user"), visible_member)

    # Flask-Login
    is_authenticated = True
    is_anonymous = False

    def get_id(self):
        return f"{self.id}.{self.session_version}"


class Membership(TenantScoped, db.Model):
    """A role held by a user in a tenant. Platform admins hold theirs in no tenant.

    ``tenant_path`` copies the tenant's (immutable) path, so that a request's scope is
    known as soon as the membership is.
    """

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "tenant_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    tenant_path: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")

    @classmethod
    def __scope_criteria__(cls):
        return or_(cls.tenant_id.in_(subtree_ids()), cls.user_id == bindparam("scope_user"))

    @property
    def role_label(self):
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def rank(self):
        return ROLES.index(self.role)


class SignInCode(TenantScoped, db.Model):
    """A one-time code issued to a person to set their password (AC-3).

    The rows are the issuance register: who issued a code to whom, in which tenant, when,
    and when it was used. Only a hash of the code is kept."""

    __tablename__ = "sign_in_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    @classmethod
    def __scope_criteria__(cls):
        return cls.tenant_id.in_(subtree_ids())


class AccountSession(db.Model):
    """A signed-in browser or an issued API token, kept server-side so that it can end:
    sign-out, revocation, the idle and absolute timeouts (AC-2), a password change.

    The browser's signed cookie and the token carry only ``id``, a random key. Account data,
    not tenant data: no tenant scope applies (like the accounts it belongs to)."""

    __tablename__ = "account_session"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # web | token
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    @property
    def is_open(self):
        return self.ended_at is None


class SignInThrottle(db.Model):
    """Failed sign-ins counted per key (an account's login, or a client address), shared by
    every worker: the embedded store of :mod:`core.accounts.throttle` (Redis in production)."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


class SecondFactor(db.Model):
    """An account's authenticator app (TOTP, RFC 6238; security item 9). One per account.

    ``secret`` is sealed with ``SECOND_FACTOR_KEY`` (:mod:`core.accounts.second_factor`),
    so a copy of the database alone does not give the codes; it is shown only until the
    account confirms a first code (``confirmed_at``). ``last_used_step`` is the 30-second
    step of the last code accepted: a code of that step or an earlier one is refused, so an
    overheard code cannot be replayed. Account data, not tenant data: no tenant scope."""

    __tablename__ = "second_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    secret: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    last_used_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def is_confirmed(self):
        return self.confirmed_at is not None


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator (a lost phone). Ten are shown
    once, when made; only the SHA-256 of each is kept (they are random, 50 bits each, so a
    slow hash would add nothing)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
