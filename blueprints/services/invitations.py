"""Invitation slips for a class's families (AC-3): the class teacher (or the school's
administration) issues one-time sign-in codes to the pupils and guardians of a class and
prints them, a slip per person with the login, the code, a QR code of the sign-in link and
what to do. The person whose record has no account yet gets one (a login made from the
school and the record, an unusable password, the pupil's or guardian's role in the school)
linked to the record, so that redeeming the code opens exactly that pupil's diary. Every
code goes through the issuance register (``core.accounts.service.issue_code``: who, to
whom, when; an earlier unused code of the person stops working, a reissue); redeeming it
is the sign-in page's, throttled like a password (``core.accounts.throttle``)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import g, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.accounts import service as accounts
from core.accounts.models import Membership, User
from core.errors import Refused
from core.extensions import db
from blueprints.roster import school_classes, service as roster
from blueprints.roster.models import Guardian, Pupil

WHO = ("pupils", "guardians")


@dataclass
class Person:
    kind: str  # "pupil" | "guardian"
    record: object  # the Pupil or Guardian row
    pupil: Pupil  # the pupil (for a guardian: the child of the class)
    user: User | None
    family_only: bool = True  # the account holds no role but this school's family ones

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.user.last_login_at is not None


def people(school_class) -> list[Person]:
    """The class's pupils, each followed by their guardians: four statements whatever the
    class size (the roster, the guardians, the accounts and their roles)."""
    pupils = school_classes.class_roster(school_class)
    guardians = school_classes.guardians_by_pupil([p.id for p in pupils])
    user_ids = {p.user_id for p in pupils} | {x.user_id for gs in guardians.values() for x in gs}
    users = {}
    user_ids.discard(None)
    if user_ids:
        users = {u.id: u for u in accounts.users_by_id(user_ids, reason="invitations: who of the class has an account")}
    out, seen = [], set()
    for pupil in pupils:
        out.append(Person("pupil", pupil, pupil, users.get(pupil.user_id)))
        for guardian in guardians.get(pupil.id, []):
            if guardian.id not in seen:  # a guardian of two pupils of the class gets one slip
                seen.add(guardian.id)
                out.append(Person("guardian", guardian, pupil, users.get(guardian.user_id)))
    family = accounts.family_only(users, roster.school_of_row(school_class).id)
    for person in out:
        person.family_only = person.user is None or person.user.id in family
    return out


def _login_for(school, person: Person) -> str:
    """A login that names the school and the record: ``s12-p345`` (a pupil), ``s12-g678``."""
    base = f"s{school.id}-{person.kind[0]}{person.record.id}"
    login, n = base, 1
    while accounts.login_taken(login):
        n += 1
        login = f"{base}-{n}"
    return login


def issue(school_class, who: tuple[str, ...], *, everyone: bool = False) -> list[dict]:
    """Codes for the class's pupils and/or guardians (``who``): by default only those who
    have never signed in (with ``everyone``, also the others: a reissue). Returns a slip per
    person, the code in clear (shown once: the register keeps only who and when)."""
    if not who or any(w not in WHO for w in who):
        raise Refused.on("who", _("Choose pupils, guardians or both."))
    school = roster.school_of_row(school_class)
    by = g.get("membership")
    reason = _("invitations for the families of class %(name)s", name=school_class.name)
    slips = []
    for person in people(school_class):
        if person.kind + "s" not in who or (person.signed_in and not everyone):
            continue
        user = person.user
        if user is not None and not person.family_only and not accounts.may_manage_user(by, user):
            continue  # an account with other roles: the administration reissues its code
        if user is None:
            user = accounts.create_user(login=_login_for(school, person), password=secrets.token_urlsafe(24),
                                        full_name=person.record.full_name)
            person.record.user_id = user.id
            db.session.add(person.record)
        holds = db.session.execute(select(Membership.id).where(
            Membership.user_id == user.id, Membership.tenant_id == school.id,
            Membership.role == person.kind)).scalar_one_or_none()
        if holds is None:
            accounts.grant(user, role=person.kind, by=by, tenant_id=school.id, tenant_path=school.path,
                           tenant_kind="school", family_of=reason)
        code = accounts.issue_code(user, tenant_id=school.id, issued_by_id=current_user.id)
        slips.append({"kind": person.kind, "record_id": person.record.id, "name": person.record.full_name,
                      "pupil": person.pupil.full_name, "login": user.login, "code": code,
                      "link": url_for("accounts.login_with_code", login=user.login, code=code, _external=True)})
    return slips


def qr_svg(text: str) -> str:
    """The QR code of ``text`` as an SVG element (segno), for the printed slip."""
    import segno

    return segno.make(text, error="m").svg_inline(scale=3, border=2, dark="#000")


def slips_pdf(school_class, slips: list[dict]) -> bytes:
    """The slips on A4, three to a page, for cutting: the school, the class, the person, the
    login, the code, its expiry, the QR code of the sign-in link and the steps."""
    from flask import render_template
    from weasyprint import HTML

    from tenants import service as tenants

    school = roster.school_of_row(school_class)
    html = render_template("services/slips.html", school=school, school_class=school_class,
                           slips=[{**s, "qr": qr_svg(s["link"])} for s in slips],
                           valid_days=accounts.CODE_DAYS, today=tenants.local_today(school))
    return HTML(string=html, base_url=url_for("home", _external=True)).write_pdf()


def may_invite(school_class) -> bool:
    return school_classes.may_look_after(school_class)
