"""The register of issued credentials (SV-3, AC-3): every one-time sign-in code a tenant
issued — by an import, the onboarding of a school, or an administrator — with to whom, by
whom, when, until when, and whether and when it was used. The codes themselves are never
kept (only their hashes), so the register shows who was issued what, not the code."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from core.accounts import service as accounts
from core.accounts.models import SignInCode, User
from core.extensions import db
from core.orm import utcnow
from flask_babel import lazy_gettext as _l

PAGE = 50
STATUS_LABELS = {"open": _l("not used yet"), "used": _l("used"), "expired": _l("expired unused")}


def status_of(row: SignInCode, now) -> str:
    if row.used_at is not None:
        return "used"
    return "expired" if row.expires_at <= now else "open"


def register(tenant, *, search: str | None = None, page: int = 1) -> dict:
    """A tenant's codes, newest first, 50 a page; ``search`` matches the person's name or
    login. Three statements: the count, the page, the issuers' names."""
    now = utcnow()
    criteria = [SignInCode.tenant_id == tenant.id]
    if search and search.strip():
        like = f"%{search.strip().lower()}%"
        criteria.append(or_(func.lower(User.full_name).like(like), User.login.like(like)))
    # The codes are the tenant's (scoped); the accounts they were issued to belong to no tenant.
    total = db.session.execute(select(func.count()).select_from(SignInCode)
                               .join(User, User.id == SignInCode.user_id).where(*criteria)).scalar_one()
    rows = db.session.execute(
        select(SignInCode, User.login, User.full_name).join(User, User.id == SignInCode.user_id)
        .where(*criteria).order_by(SignInCode.issued_at.desc(), SignInCode.id.desc())
        .limit(PAGE).offset((max(page, 1) - 1) * PAGE)).all()
    issuers = accounts.full_names([r.issued_by_id for r, _l, _n in rows], reason="the issuance register: who issued")
    return {"total": total, "page": max(page, 1), "pages": max(1, -(-total // PAGE)), "search": search or "",
            "rows": [{"id": r.id, "login": login, "person": name, "issued_at": r.issued_at,
                      "issued_by": issuers.get(r.issued_by_id), "expires_at": r.expires_at, "used_at": r.used_at,
                      "status": status_of(r, now),
                      "status_label": str(STATUS_LABELS[status_of(r, now)])} for r, login, name in rows]}

