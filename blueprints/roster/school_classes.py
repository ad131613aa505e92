"""A year's classes and their pupils: creating classes, enrolling pupils, class lists and
guardians."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import Refused
from core.extensions import db
from tenants import service as tenants
from blueprints.roster.models import AcademicYear, Enrolment, Guardian, GuardianLink, Pupil, SchoolClass, Staff
from blueprints.roster.service import owner_columns, require_manager, staff_of


def classes_of(year: AcademicYear) -> list[SchoolClass]:
    return db.session.execute(select(SchoolClass).where(SchoolClass.year_id == year.id)
                              .order_by(SchoolClass.grade, SchoolClass.letter)).scalars().all()


def create_class(year: AcademicYear, grade: int, letter: str, class_teacher_id: int | None = None,
                 is_draft=False) -> SchoolClass:
    school = tenants.load(year.tenant_id)
    require_manager(school)
    errors = {}
    if not isinstance(grade, int) or not 1 <= grade <= 11:
        errors["grade"] = _("The grade level is a number from 1 to 11.")
    letter = (letter or "").strip().lower()
    if not letter or len(letter) > 4:
        errors["letter"] = _("Give the class letter (e.g. «а»).")
    if errors:
        raise Refused(errors)
    if db.session.execute(select(SchoolClass).where(SchoolClass.year_id == year.id, SchoolClass.grade == grade,
                                                    SchoolClass.letter == letter)).scalar_one_or_none():
        raise Refused({"letter": _("Class %(name)s already exists this year.", name=str(grade) + letter)}, 409)
    if class_teacher_id is not None:
        staff_of(school, class_teacher_id)
    row = SchoolClass(year_id=year.id, grade=grade, letter=letter, class_teacher_id=class_teacher_id,
                      is_draft=is_draft, **owner_columns(school))
    db.session.add(row)
    db.session.flush()
    return row


def create_classes(year: AcademicYear, grade_from: int, grade_to: int, letters: str) -> list[SchoolClass]:
    """Classes grade_from..grade_to for each letter («а, б»); existing ones are kept."""
    school = tenants.load(year.tenant_id)
    require_manager(school)
    wanted = [l.strip().lower() for l in (letters or "").replace(";", ",").split(",") if l.strip()]
    if not wanted:
        raise Refused({"letters": _("Give the class letters, e.g. «а, б».")})
    if not (isinstance(grade_from, int) and isinstance(grade_to, int) and 1 <= grade_from <= grade_to <= 11):
        raise Refused({"grade_from": _("The grade levels run from 1 to 11, lowest first.")})
    have = {(c.grade, c.letter) for c in classes_of(year)}
    made = []
    for grade in range(grade_from, grade_to + 1):
        for letter in wanted:
            if (grade, letter) not in have:
                made.append(create_class(year, grade, letter))
    return made


def find_class(year: AcademicYear, name: str) -> SchoolClass | None:
    """«5а», «5 А», «11Б» → the class of that year."""
    text = (name or "").replace(" ", "").lower()
    digits = "".join(ch for ch in text if ch.isdigit())
    letter = text[len(digits):]
    if not digits or not letter or not text.startswith(digits):
        return None
    return db.session.execute(select(SchoolClass).where(
        SchoolClass.year_id == year.id, SchoolClass.grade == int(digits), SchoolClass.letter == letter)
    ).scalar_one_or_none()


def enrol(pupil: Pupil, school_class: SchoolClass, from_on: dt.date, reason="enrolled") -> Enrolment:
    existing = db.session.execute(select(Enrolment).where(Enrolment.pupil_id == pupil.id,
                                                          Enrolment.year_id == school_class.year_id)).scalar_one_or_none()
    if existing is not None:
        if existing.class_id == school_class.id:
            return existing
        raise Refused({"class": _("The pupil is already in another class this year.")}, 409)
    row = Enrolment(pupil_id=pupil.id, class_id=school_class.id, year_id=school_class.year_id, from_on=from_on,
                    reason=reason, tenant_id=pupil.tenant_id, region_id=pupil.region_id)
    db.session.add(row)
    return row


def class_roster(school_class: SchoolClass) -> list[Pupil]:
    """The pupils of a class, alphabetical: one query whatever the class size."""
    return db.session.execute(
        select(Pupil).join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Enrolment.class_id == school_class.id, Enrolment.to_on.is_(None))
        .order_by(Pupil.last_name, Pupil.first_name)).scalars().all()


def guardians_by_pupil(pupil_ids) -> dict[int, list[Guardian]]:
    if not pupil_ids:
        return {}
    rows = db.session.execute(
        select(GuardianLink.pupil_id, Guardian).join(Guardian, Guardian.id == GuardianLink.guardian_id)
        .where(GuardianLink.pupil_id.in_(list(pupil_ids))).order_by(Guardian.last_name)).all()
    out: dict[int, list[Guardian]] = {}
    for pupil_id, guardian in rows:
        out.setdefault(pupil_id, []).append(guardian)
    return out


def may_look_after(school_class: SchoolClass) -> bool:
    """The school's administration (and the admins above it), or the class's own teacher:
    who looks after a class's families (the diary's reports, paper printouts, invitations)."""
    from flask import g
    from flask_login import current_user

    from blueprints.roster import service

    school = service.school_of_row(school_class)
    if service.can_manage(school):
        return True
    membership = g.get("membership")
    if membership is None or membership.role != "teacher" or school_class.class_teacher_id is None:
        return False
    staff = db.session.execute(select(Staff.id).where(
        Staff.tenant_id == school.id, Staff.user_id == current_user.id)).scalar_one_or_none()
    return staff is not None and staff == school_class.class_teacher_id
