"""Accounts: passwords, sign-in, API tokens, the active context of a request, and account
administration. Permission rules about *where* an admin may act are expressed on tenant
paths, so this module needs nothing from the tenant tree but the path strings."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from blinker import Namespace
from flask import current_app, g, request, session
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from core import audit
from core.accounts.models import ADMIN_ROLES, ROLES, ROLES_BY_KIND, AccountSession, Membership, User
from core.orm import utcnow, valid_id
from core.errors import Refused
from core.extensions import db
from core.tenancy import Scope, set_scope, unscoped

log = logging.getLogger("tabel.accounts")
signals = Namespace()
#: Sent once per request when the scope is known; the tenants package listens to it to
#: resolve the home tenant's time zone and language.
scope_established = signals.signal("scope-established")

MIN_PASSWORD_LENGTH = 8


def _hasher() -> PasswordHasher:
    """argon2id with the library's recommended costs; tests lower them by config."""
    hasher = current_app.extensions.get("tabel.hasher")
    if hasher is None:
        options = {k: current_app.config[c] for k, c in (("time_cost", "ARGON2_TIME_COST"),
                                                          ("memory_cost", "ARGON2_MEMORY_COST"))
                   if current_app.config.get(c)}
        hasher = current_app.extensions["tabel.hasher"] = PasswordHasher(**options)
    return hasher



# Passwords ------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return True


def validate_password(password: str):
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise Refused.on("password", _("The password must be at least %(n)d characters long.",
                                          n=MIN_PASSWORD_LENGTH))


# Sign-in ---------------------------------------------------------------------------------

def authenticate(login: str, password: str) -> User | None:
    """The active user with this login and password, or None. Same answer for an unknown
    login and a wrong password."""
    with unscoped("sign-in: find the account by login", routine=True):
        user = db.session.execute(
            select(User).where(User.login == normalise_login(login))
        ).scalar_one_or_none()
    if user is None:
        _hasher().hash(password or "-")  # spend the same time as a real check
        return None
    if not user.is_active or not check_password(user, password or ""):
        return None
    return user


def normalise_login(login: str) -> str:
    return (login or "").strip().lower()


def load_user(user_id: int, session_version: int | None, session_id: str | None, kind: str) -> User | None:
    """The account of an open session, with its active memberships and the session row
    read in the same statement (every request needs all three: :func:`establish` takes the
    memberships from ``g``), the copies kept per worker while they hold (:mod:`core.accounts.kept`). None when the account is inactive, its password changed since,
    or the session ended, idled out or outlived its lifetime (AC-2)."""
    if not session_id or not valid_id(user_id):
        return None
    from core.accounts import kept

    set_scope(Scope(user_id=user_id))
    loaded = kept.load(int(user_id), session_id)
    if loaded is None:
        return None
    user, memberships, account_session, identity = loaded
    if not user.is_active:
        return None
    if (session_version is not None and user.session_version != session_version) or not _session_open(
            account_session, kind):
        return None
    kept.use(identity)
    g.preloaded_memberships = (user.id, memberships)
    g.account_session = account_session
    return user


def _session_open(row: AccountSession | None, kind: str) -> bool:
    if row is None or row.kind != kind or row.ended_at is not None or not _still_valid(row):
        return False
    now = utcnow()
    if now - row.last_seen_at > dt.timedelta(seconds=current_app.config["SESSION_TOUCH_SECONDS"]):
        # At most once a minute, on a connection of its own: a reading request commits
        # nothing, and the activity must be kept whatever the request does next.
        table = AccountSession.__table__
        with db.engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == row.id).values(last_seen_at=now))
    return True


def open_session(user: User, kind: str = "web") -> AccountSession:
    """A new server-side session (a browser's sign-in, or an API token)."""
    from core.accounts.throttle import client_address

    row = AccountSession(id=secrets.token_urlsafe(32), user_id=user.id, kind=kind,
                         created_at=utcnow(), last_seen_at=utcnow(), address=client_address(),
                         user_agent=(request.headers.get("User-Agent") or "")[:255] or None)
    db.session.add(row)
    return row


def end_session(row: AccountSession | None):
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        db.session.add(row)


def end_sessions(user: User, *, keep: AccountSession | None = None) -> int:
    """End every open session and token of ``user`` but ``keep``; returns how many."""
    rows = open_sessions(user)
    ended = 0
    for row in rows:
        if keep is None or row.id != keep.id:
            end_session(row)
            ended += 1
    return ended


def open_sessions(user: User) -> list[AccountSession]:
    """The user's sessions and tokens that are still open, newest activity first."""
    rows = db.session.execute(select(AccountSession).where(
        AccountSession.user_id == user.id, AccountSession.ended_at.is_(None))
        .order_by(AccountSession.last_seen_at.desc())).scalars().all()
    return [r for r in rows if _still_valid(r)]


def _still_valid(row: AccountSession) -> bool:
    """Within its lifetime (a browser's or a token's) and, for a browser, not idle too long."""
    config, now = current_app.config, utcnow()
    lifetime = config["SESSION_MAX_AGE"] if row.kind == "web" else config["API_TOKEN_MAX_AGE"]
    if now - row.created_at > dt.timedelta(seconds=lifetime):
        return False
    return row.kind != "web" or now - row.last_seen_at <= dt.timedelta(seconds=config["SESSION_IDLE_TIMEOUT"])


def session_handle(row: AccountSession) -> str:
    """How a session is named on pages and in the API: not its key, which would sign in."""
    return hashlib.sha256(row.id.encode()).hexdigest()[:16]


def end_session_by_handle(user: User, handle: str) -> AccountSession:
    for row in open_sessions(user):
        if session_handle(row) == handle:
            end_session(row)
            return row
    raise Refused.on("session", _("No such open session."), status=404)


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tabel-api-token")


def issue_token(user: User, membership: Membership | None) -> dict:
    """A Bearer token: a server-side session of its own, so that it can be revoked."""
    row = open_session(user, "token")
    payload = {"u": user.id, "v": user.session_version, "m": membership.id if membership else None,
               "s": row.id}
    return {
        "access_token": _serializer().dumps(payload),
        "token_type": "Bearer",
        "expires_in": current_app.config["API_TOKEN_MAX_AGE"],
    }


def user_from_token(token: str):
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None, None
    if not isinstance(data, dict):
        return None, None
    user = load_user(data.get("u"), data.get("v"), data.get("s"), "token")
    return user, data.get("m")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


# The context of a request ----------------------------------------------------------------

def memberships_of(user: User) -> list[Membership]:
    preloaded = g.pop("preloaded_memberships", None)
    if preloaded is not None and preloaded[0] == user.id:
        return sorted(preloaded[1], key=lambda m: (m.rank, m.id))
    rows = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.is_active.is_(True))
    ).scalars().all()
    return sorted(rows, key=lambda m: (m.rank, m.id))


def choose_membership(user: User, wanted_id: int | None, memberships=None) -> Membership | None:
    memberships = memberships if memberships is not None else memberships_of(user)
    for membership in memberships:
        if membership.id == wanted_id:
            return membership
    return memberships[0] if memberships else None


def scope_for(user: User, membership: Membership | None) -> Scope | None:
    """The scope of ``user`` acting in ``membership``; ``None`` for a platform admin, whose
    request opens the platform's scope through the door instead (:func:`establish`)."""
    if membership is None:
        return Scope(user_id=user.id)
    if membership.role == "platform_admin":
        return None
    return Scope(user_id=user.id, home_path=membership.tenant_path)


def establish(user: User | None, wanted_membership_id: int | None):
    """Set ``g.membership`` and the tenant scope of this request for ``user``."""
    g.membership = None
    g.memberships = []
    if user is None:
        set_scope(None)
        return
    set_scope(Scope(user_id=user.id))  # the user's own rows, to find their memberships
    g.memberships = memberships_of(user)
    g.membership = choose_membership(user, wanted_membership_id, g.memberships)
    scope = scope_for(user, g.membership)
    if scope is None:
        unscoped("a platform admin's request", platform=True).for_request()
    else:
        set_scope(scope)
    scope_established.send(current_app._get_current_object(), membership=g.membership)


def switch_context(user: User, membership_id: int) -> Membership:
    membership = next((m for m in memberships_of(user) if m.id == membership_id), None)
    if membership is None:
        raise Refused.on("membership_id", _("You have no such role."), status=404)
    session["membership_id"] = membership.id
    establish(user, membership.id)
    return membership


# Where an admin may act ------------------------------------------------------------------

def is_platform_admin(membership: Membership | None) -> bool:
    return membership is not None and membership.role == "platform_admin"


def administers(membership: Membership | None, tenant_path: str) -> bool:
    """Whether the acting membership is an admin of this tenant or of one above it."""
    if membership is None or membership.role not in ADMIN_ROLES:
        return False
    if membership.role == "platform_admin":
        return True
    return tenant_path.startswith(membership.tenant_path)


def may_manage_user(membership: Membership | None, user: User) -> bool:
    """An admin manages an account only when every role it holds lies below the admin's
    own tenant (a school admin cannot reset the password of a region admin)."""
    if is_platform_admin(membership):
        return True
    if membership is None or membership.role not in ADMIN_ROLES:
        return False
    with unscoped("account administration: every role of the account", routine=True):
        roles = db.session.execute(
            select(Membership.tenant_path, Membership.role).where(Membership.user_id == user.id)
        ).all()
    return bool(roles) and all(
        path is not None and path.startswith(membership.tenant_path) and role != "platform_admin"
        and not (path == membership.tenant_path and ROLES.index(role) <= ROLES.index(membership.role))
        for path, role in roles
    )


# Administration --------------------------------------------------------------------------

def login_taken(login: str) -> bool:
    with unscoped("account administration: logins are unique across the platform", routine=True):
        return db.session.execute(
            select(func.count()).select_from(User).where(User.login == normalise_login(login))
        ).scalar_one() > 0


def full_names(ids, *, reason="account names of the people who made a record") -> dict[int, str]:
    """The names of these accounts, whoever's scope they lie in (a dismissal or a change
    names who made it; that person may hold a role above the reader's tenant). ``reason``
    is logged with the read across tenants (:func:`core.tenancy.unscoped`)."""
    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    with unscoped(reason, routine=True):
        return dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


def family_only(user_ids, school_id: int) -> set[int]:
    """Those of the accounts whose every role is a pupil's or guardian's role in this school:
    the accounts a class teacher may issue codes to (a code sets the password, so an account
    with any other role, or a family role elsewhere, is the administration's to reissue)."""
    ids = set(user_ids) - {None}
    if not ids:
        return set()
    with unscoped("sign-in codes: every role of the accounts", routine=True):
        roles = db.session.execute(select(Membership.user_id, Membership.tenant_id, Membership.role).where(
            Membership.user_id.in_(ids), Membership.is_active.is_(True))).all()
    return ids - {user_id for user_id, tenant_id, role in roles
                  if tenant_id != school_id or role not in FAMILY_ROLES}


def users_by_id(ids, *, reason="the accounts of a school's people") -> list[User]:
    """The accounts with these ids, whoever's scope their roles lie in (a guardian's account
    may hold roles in other schools too); ``reason`` is logged with the read."""
    ids = [i for i in set(ids) if i]
    if not ids:
        return []
    with unscoped(reason, routine=True):
        return db.session.execute(select(User).where(User.id.in_(ids))).scalars().all()


def role_paths_of_logins(logins, *, reason="account administration: where the roles of these logins lie"
                         ) -> list[tuple[str, str | None]]:
    """(login, tenant path of a role) for every role of the accounts with these logins,
    across the platform; an account with no role gives one pair with ``None``."""
    with unscoped(reason, routine=True):
        return [tuple(row) for row in db.session.execute(select(User.login, Membership.tenant_path).join(
            Membership, Membership.user_id == User.id, isouter=True).where(User.login.in_(logins))).all()]


def account_and_role(login: str, *, tenant_id: int, role: str,
                     reason="account administration: is this login taken, with this role") -> tuple[User | None, bool]:
    """The account with this login, across the platform, and whether it already holds
    ``role`` in the tenant."""
    with unscoped(reason, routine=True):
        user = db.session.execute(select(User).where(User.login == login)).scalar_one_or_none()
        held = user is not None and db.session.execute(select(Membership).where(
            Membership.user_id == user.id, Membership.tenant_id == tenant_id, Membership.role == role)
        ).scalar_one_or_none() is not None
    return user, held


def create_user(*, login, password, full_name, email=None, locale=None) -> User:
    login = normalise_login(login)
    if not login:
        raise Refused.on("login", _("Enter a login."))
    if not full_name or not full_name.strip():
        raise Refused.on("full_name", _("Enter the person's full name."))
    validate_password(password)
    if login_taken(login):
        raise Refused.on("login", _("This login is already taken."), status=409)
    user = User(login=login, password_hash=hash_password(password), full_name=full_name.strip(),
                email=(email or None), locale=locale, session_version=1, is_active=True)
    db.session.add(user)
    db.session.flush()
    return user


def grantable_roles(membership: Membership | None, tenant_kind: str, tenant_path: str) -> tuple[str, ...]:
    """The roles ``membership`` may grant in a tenant: roles of that tenant's kind only, and
    only those the granting admin stands above. An admin acts in their own tenant and below
    it; in their own tenant they grant only narrower roles (a school admin makes teachers,
    not another school admin). Platform admins are made by the operator's command, never
    through a tenant."""
    if membership is None or membership.role not in ADMIN_ROLES:
        return ()
    kind_roles = ROLES_BY_KIND.get(tenant_kind, ())
    if membership.role == "platform_admin":
        return kind_roles
    if not tenant_path or not tenant_path.startswith(membership.tenant_path or "!none"):
        return ()
    if tenant_path != membership.tenant_path:
        return kind_roles
    return tuple(r for r in kind_roles if ROLES.index(r) > ROLES.index(membership.role))


#: The roles a school's families hold: a class teacher inviting the class's pupils and
#: guardians grants them without being an administrator (``family_of``).
FAMILY_ROLES = ("pupil", "guardian")


def grant(user: User, *, role: str, by: Membership | None, tenant_id=None, tenant_path=None,
          tenant_kind=None, reason=None, family_of: str | None = None) -> Membership:
    """Give ``user`` a role in a tenant (audited in that tenant's chain). ``by`` is the
    granting membership: it must stand above the role (:func:`grantable_roles`). The one
    narrower right: a pupil's or guardian's role in a school, granted by a member of that
    school for the family of a class the caller has checked ``by`` looks after
    (``family_of`` names it, and is the audit entry's reason)."""
    if family_of and role in FAMILY_ROLES and tenant_kind == "school" and by is not None \
            and by.tenant_id == tenant_id:
        reason = reason or family_of
    else:
        family_of = None
    if tenant_kind is None:
        # Only the platform's own role is held in no tenant, and only a platform admin grants it.
        if role != "platform_admin":
            raise Refused.on("role", _("This role cannot be held in this tenant."))
        if not is_platform_admin(by):
            raise Refused.on("role", _("You cannot grant this role."), status=403)
        tenant_id = tenant_path = None
    elif role not in ROLES_BY_KIND.get(tenant_kind, ()):
        raise Refused.on("role", _("This role cannot be held in this tenant."))
    elif role not in grantable_roles(by, tenant_kind, tenant_path) and not family_of:
        raise Refused.on("role", _("You cannot grant this role."), status=403)
    existing = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.role == role,
                                 Membership.tenant_id.is_(None) if tenant_id is None
                                 else Membership.tenant_id == tenant_id)
    ).scalar_one_or_none()
    if existing is not None:
        raise Refused.on("role", _("The person already holds this role here."), status=409)
    membership = Membership(user_id=user.id, tenant_id=tenant_id, tenant_path=tenant_path,
                            role=role, is_active=True)
    db.session.add(membership)
    db.session.flush()
    audit.record(tenant_id=tenant_id, action="membership.create", obj_type="membership",
                 obj_id=membership.id, after={"user": user.login, "role": role}, reason=reason)
    return membership


def reset_password(user: User, new_password: str, *, reason=None, keep: AccountSession | None = None):
    """Set a new password; every session and token of the account ends, but ``keep`` (the
    browser of a person changing their own password)."""
    validate_password(new_password)
    user.password_hash = hash_password(new_password)
    user.session_version = (user.session_version or 1) + 1
    end_sessions(user, keep=keep)
    tenants = {m.tenant_id for m in db.session.execute(
        select(Membership).where(Membership.user_id == user.id)).scalars()}
    for tenant_id in sorted(tenants, key=lambda t: (t is not None, t or 0)):
        audit.record(tenant_id=tenant_id, action="user.password_reset", obj_type="user",
                     obj_id=user.id, after={"login": user.login}, reason=reason)


def note_login(user: User):
    user.last_login_at = utcnow()
    log.info("sign-in: user %s", user.id)


def create_platform_admin(login, password, full_name=None) -> User:
    with unscoped("operator: create a platform admin"):
        user = create_user(login=login, password=password, full_name=full_name or login)
        grant(user, role="platform_admin", by=Membership(role="platform_admin"),
              reason="flask users create-admin")
    return user


# One-time sign-in codes (AC-3) ------------------------------------------------------------

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
CODE_DAYS = 14


def _code_hash(code: str) -> str:
    import hashlib

    return hashlib.sha256(code.replace("-", "").strip().upper().encode()).hexdigest()


def issue_code(user: User, *, tenant_id, issued_by_id=None, days=CODE_DAYS) -> str:
    """A new one-time code for ``user`` (earlier unused ones stop working); returns the code,
    which is shown once and never stored."""
    import datetime as dt
    import secrets

    from core.accounts.models import SignInCode

    now = utcnow()
    with unscoped("sign-in codes: retire the person's earlier codes", routine=True):
        for old in db.session.execute(select(SignInCode).where(SignInCode.user_id == user.id,
                                                               SignInCode.used_at.is_(None))).scalars():
            old.expires_at = min(old.expires_at, now)
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    code = "-".join(raw[i:i + 4] for i in range(0, 12, 4))
    db.session.add(SignInCode(user_id=user.id, tenant_id=tenant_id, code_hash=_code_hash(code),
                              issued_by_id=issued_by_id, issued_at=now, expires_at=now + dt.timedelta(days=days)))
    audit.record(tenant_id=tenant_id, action="code.issue", obj_type="user", obj_id=user.id,
                 after={"login": user.login, "days": days})
    return code


def redeem_code(login: str, code: str, new_password: str) -> User:
    """Set a password with a one-time code; the code is used up."""
    from core.accounts.models import SignInCode

    validate_password(new_password)
    with unscoped("sign-in codes: redeem", routine=True):
        user = db.session.execute(select(User).where(User.login == normalise_login(login))).scalar_one_or_none()
        row = None if user is None else db.session.execute(select(SignInCode).where(
            SignInCode.user_id == user.id, SignInCode.code_hash == _code_hash(code or ""),
            SignInCode.used_at.is_(None), SignInCode.expires_at > utcnow())).scalar_one_or_none()
        if row is None or not user.is_active:
            raise Refused.on("code", _("The code is wrong, used or expired. Ask for a new one."), status=422)
        row.used_at = utcnow()
        user.password_hash = hash_password(new_password)
        user.session_version = (user.session_version or 1) + 1
        end_sessions(user)
        audit.record(tenant_id=row.tenant_id, action="code.use", obj_type="user", obj_id=user.id,
                     after={"login": user.login}, actor_id=user.id)
    return user
