"""Administrators' second factor (security item 9): a TOTP authenticator app (RFC 6238,
through pyotp) and single-use recovery codes.

Who must have one is a policy: platform admins when ``PLATFORM_ADMIN_SECOND_FACTOR`` is
set; the admins of a tenant when a policy registered by an upper layer says so (the tenants
package registers the regulation key ``security.admin_second_factor`` from its
``init_app``), so core asks without importing the tenant tree. Teachers, pupils and
parents are never asked: only an account holding an admin role may enrol.

The time comes from :func:`clock`, which tests replace with a fixed instant.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from core import audit
from core import clock as wall_clock
from core.accounts.models import ADMIN_ROLES, Membership, RecoveryCode, SecondFactor, User
from core.accounts.service import CODE_ALPHABET, memberships_of
from core.errors import Refused
from core.extensions import db
from core.orm import utcnow
from core.tenancy import Scope, scoped, unscoped

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10  # from a 32-letter alphabet: 50 bits each
#: A code of the step before or after the server's is accepted too (a phone's clock drifts).
VALID_WINDOW = 1
_POLICIES = "tabel.second_factor_policies"
_SEAL_VERSION = "v1"


def clock() -> float:
    """Now, as a UNIX time (``core.clock``, which tests stand at a fixed instant)."""
    return wall_clock.now().timestamp()


# The policy ------------------------------------------------------------------------------

def register_policy(app, policy):
    """An upper layer says when admins need a second factor: ``policy(memberships)`` gets
    the account's active admin memberships held in tenants and answers True when any of
    them requires one."""
    app.extensions.setdefault(_POLICIES, []).append(policy)


def _memberships(user: User) -> list[Membership]:
    with scoped(Scope(user_id=user.id)):
        return memberships_of(user)


def may_enrol(user: User, memberships=None) -> bool:
    """Only administrators have a second factor: other roles are never asked for one."""
    memberships = _memberships(user) if memberships is None else memberships
    return any(m.role in ADMIN_ROLES for m in memberships)


def is_required(user: User, memberships=None) -> bool:
    """Whether the account must sign in with a second factor: it holds an admin role that
    the platform's config or its tenant's regulation puts under the rule."""
    memberships = _memberships(user) if memberships is None else memberships
    admin = [m for m in memberships if m.role in ADMIN_ROLES]
    if not admin:
        return False
    if current_app.config.get("PLATFORM_ADMIN_SECOND_FACTOR") and any(m.role == "platform_admin" for m in admin):
        return True
    in_tenants = [m for m in admin if m.tenant_id is not None]
    return bool(in_tenants) and any(policy(in_tenants) for policy in current_app.extensions.get(_POLICIES, ()))


# The factor ------------------------------------------------------------------------------

def factor_of(user: User) -> SecondFactor | None:
    return db.session.execute(select(SecondFactor).where(SecondFactor.user_id == user.id)).scalar_one_or_none()


def is_enrolled(user: User) -> bool:
    factor = factor_of(user)
    return factor is not None and factor.is_confirmed


def begin_enrolment(user: User) -> SecondFactor:
    """The account's unconfirmed factor, made on first call: the same secret is shown again
    until a code confirms it, so a page reloaded after scanning still matches the phone."""
    factor = factor_of(user)
    if factor is not None and factor.is_confirmed:
        raise Refused.on("code", _("The second factor is already set up."), status=409)
    if factor is None:
        factor = SecondFactor(user_id=user.id, secret=_seal(pyotp.random_base32(32)), created_at=utcnow())
        db.session.add(factor)
        db.session.flush()
    return factor


def enrolment_details(user: User, factor: SecondFactor) -> dict:
    """What the enrolment page shows: the secret (grouped by four for typing), the
    ``otpauth://`` address and its QR code as an SVG ``data:`` URI (no script, no inline
    style: the page stays within ``img-src 'self' data:``). Only while unconfirmed."""
    import segno

    if factor.is_confirmed:
        raise Refused.on("code", _("The second factor is already set up."), status=409)
    secret = _unseal(factor.secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.login,
                                              issuer_name=current_app.config["SECOND_FACTOR_ISSUER"])
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")
    return {"secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), "uri": uri, "qr": qr}


def confirm(user: User, code: str) -> list[str]:
    """Switch the factor on with a first code from the app; returns the recovery codes,
    shown this once."""
    factor = factor_of(user)
    if factor is None or factor.is_confirmed:
        raise Refused.on("code", _("Start the set-up of the second factor again."), status=409)
    step = _matching_step(_unseal(factor.secret), code)
    if step is None:
        raise Refused.on("code", _("The code is wrong. Check that the time on your phone is right and "
                                     "enter the code the app shows now."))
    # Conditional, so that two confirmations at once give one set of recovery codes.
    done = db.session.execute(
        update(SecondFactor).where(SecondFactor.id == factor.id, SecondFactor.confirmed_at.is_(None))
        .values(confirmed_at=utcnow(), last_used_step=step).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Refused.on("code", _("The second factor is already set up."), status=409)
    db.session.refresh(factor)
    codes = _new_recovery_codes(user)
    record(user, "second_factor.enable")
    return codes


def check_code(user: User, code: str) -> bool:
    """A current code from the app (each 30-second step once only) or an unused recovery
    code (used up now). False for anything else: the caller counts it as a failed sign-in."""
    factor = factor_of(user)
    if factor is None or not factor.is_confirmed:
        return False
    value = _normalise(code)
    if re.fullmatch(r"\d{6}", value):
        step = _matching_step(_unseal(factor.secret), value)
        if step is None:
            return False
        # The same step twice is a replay; the conditional update also settles two
        # requests racing with one code: the second finds the step used.
        used = db.session.execute(
            update(SecondFactor).where(SecondFactor.id == factor.id, or_(
                SecondFactor.last_used_step.is_(None), SecondFactor.last_used_step < step))
            .values(last_used_step=step).execution_options(synchronize_session=False))
        return used.rowcount == 1
    if len(value) != RECOVERY_CODE_LENGTH:
        return False
    used = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(value),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return False
    record(user, "second_factor.recovery_code_used", after={"left": recovery_codes_left(user)})
    return True


def recovery_codes_left(user: User) -> int:
    return db.session.execute(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes for a current code; the earlier ones stop working."""
    if not check_code(user, code):
        raise Refused.on("code", wrong_code_message())
    codes = _new_recovery_codes(user)
    record(user, "second_factor.recovery_codes")
    return codes


def disable(user: User, code: str):
    """Switch the factor off with a current code, unless the account must have one."""
    if is_required(user):
        raise Refused.on("code", _("Your organisation requires administrators to sign in with a second "
                                     "factor: it cannot be switched off."), status=403)
    if not check_code(user, code):
        raise Refused.on("code", wrong_code_message())
    remove(user)
    record(user, "second_factor.disable")


def remove(user: User):
    """Forget the factor and the recovery codes (switching off, or an operator's reset
    for a person who lost both the phone and the codes)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))


def wrong_code_message() -> str:
    return _("The code is wrong or has already been used.")


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code this is, within the drift allowed; None when none is."""
    value = _normalise(code)
    if not re.fullmatch(r"\d{6}", value):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(clock()) // totp.interval
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), value):
            return step
    return None


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _c in range(RECOVERY_CODE_LENGTH))
        code = f"{raw[:5]}-{raw[5:]}"
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(code), created_at=utcnow()))
        codes.append(code)
    db.session.flush()
    return codes


def record(user: User, action: str, after=None, *, by_operator=False):
    """An audit entry in the chain of every tenant the account holds a role in (0 for a
    platform admin), as for a password reset; the person acts on their own account, an
    operator's command acts as nobody."""
    with unscoped("second factor: the tenants of the account's roles", routine=True):
        tenants = set(db.session.execute(select(Membership.tenant_id).where(Membership.user_id == user.id)).scalars())
    for tenant_id in sorted(tenants, key=lambda t: (t is not None, t or 0)):
        audit.record(tenant_id=tenant_id, action=action, obj_type="user", obj_id=user.id,
                     after={"login": user.login, **(after or {})}, actor_id=None if by_operator else user.id)


# Sealing the secret -----------------------------------------------------------------------
# Fernet (AES-128-CBC with an HMAC-SHA256 tag) from ``cryptography``, under a key derived
# from SECOND_FACTOR_KEY (SECRET_KEY if unset): whoever reads the database alone cannot
# make codes. Changing that key invalidates every factor.

def _fernet():
    from cryptography.fernet import Fernet

    master = (current_app.config.get("SECOND_FACTOR_KEY") or current_app.config["SECRET_KEY"]).encode()
    key = hmac.new(master, b"tabel second factor: sealing", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(secret: str) -> str:
    return f"{_SEAL_VERSION}.{_fernet().encrypt(secret.encode()).decode()}"


def _unseal(sealed: str) -> str:
    from cryptography.fernet import InvalidToken

    version, _dot, token = (sealed or "").partition(".")
    try:
        if version != _SEAL_VERSION:
            raise InvalidToken
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("the second factor's secret does not open with this key") from None
