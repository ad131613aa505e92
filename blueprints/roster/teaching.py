"""Staff, the subjects a school teaches, and who teaches which subject to which class."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import Refused
from core.accounts import service as accounts
from core.extensions import db
from tenants import service as tenants
from tenants.models import Tenant
from blueprints.roster.models import AcademicYear, Assignment, SchoolClass, Staff, Subject
from blueprints.roster.service import owner_columns


def upsert_staff(school: Tenant, *, last_name, first_name, middle_name=None, position, login, email=None,
                 password=None) -> tuple[Staff, bool]:
    """Create or update a staff member matched by login; teachers get an account."""
    login = accounts.normalise_login(login)
    row = db.session.execute(select(Staff).where(Staff.tenant_id == school.id, Staff.login == login)).scalar_one_or_none()
    created = row is None
    if created:
        row = Staff(login=login, **owner_columns(school))
        db.session.add(row)
    row.last_name, row.first_name, row.middle_name = last_name, first_name, middle_name or None
    row.position, row.email = position, email or None
    db.session.flush()
    if created and password:
        user = accounts.create_user(login=login, password=password, full_name=row.full_name, email=email)
        accounts.grant(user, role="teacher", tenant_id=school.id, tenant_path=school.path, tenant_kind="school",
                       by=g.get("membership"), reason="staff import")
        row.user_id = user.id
    return row, created


def acting_staff() -> Staff | None:
    """The staff record of the signed-in teacher in the acting school."""
    membership = g.get("membership")
    if membership is None or membership.tenant_id is None:
        return None
    return db.session.execute(select(Staff).where(Staff.tenant_id == membership.tenant_id,
                                                  Staff.user_id == membership.user_id)).scalar_one_or_none()


def subjects_for(school: Tenant) -> list[Subject]:
    """The regional list and the school's own additions (visible through the scope)."""
    ids = school.path_ids
    return db.session.execute(select(Subject).where(Subject.tenant_id.in_(ids)).order_by(Subject.name)).scalars().all()


def add_subject(owner: Tenant, name: str, short_name: str | None = None) -> Subject:
    tenants.require(tenants.can_administer(owner))
    name = (name or "").strip()
    if not name:
        raise Refused({"name": _("Give the subject's name.")})
    if any(s.name.lower() == name.lower() for s in subjects_for(owner) if s.tenant_id in owner.path_ids):
        raise Refused({"name": _("The subject %(name)s is already on the list.", name=name)}, 409)
    row = Subject(tenant_id=owner.id, name=name, short_name=short_name or None)
    db.session.add(row)
    db.session.flush()
    return row


def find_subject(school: Tenant, name: str) -> Subject | None:
    wanted = (name or "").strip().lower()
    return next((s for s in subjects_for(school) if wanted in (s.name.lower(), (s.short_name or "").lower())), None)


def assign(year: AcademicYear, school_class: SchoolClass, subject: Subject, teacher: Staff, subgroup="",
           is_draft=False) -> Assignment:
    existing = db.session.execute(select(Assignment).where(
        Assignment.class_id == school_class.id, Assignment.subject_id == subject.id,
        Assignment.teacher_id == teacher.id, Assignment.subgroup == (subgroup or ""))).scalar_one_or_none()
    if existing:
        return existing
    row = Assignment(year_id=year.id, class_id=school_class.id, subject_id=subject.id, teacher_id=teacher.id,
                     subgroup=subgroup or "", is_draft=is_draft, tenant_id=year.tenant_id, region_id=year.region_id)
    db.session.add(row)
    db.session.flush()
    return row
