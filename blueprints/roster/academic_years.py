"""Academic years, their terms and holidays, and the rollover to the next year (MO-5)."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import clock
from core.errors import Refused
from core.i18n import N_
from core import audit
from core.extensions import db
from tenants import service as tenants
from tenants.models import Tenant
from blueprints.roster.models import (AcademicYear, Assignment, Enrolment, Holiday, Lesson, Pupil, SchoolClass, Staff,
                                      Subject, Term)
from blueprints.roster.school_classes import classes_of, create_class, enrol
from blueprints.roster.service import owner_columns, require_manager
from blueprints.roster.teaching import assign

TERM_COUNT = {"quarter": 4, "trimester": 3, "half_year": 2, "year": 1}
# A term as people name it: «1-я четверть», «2-е полугодие» (the kinds are the regulation's
# codes, calendar.periods, GR-1).
TERM_NAMES = {
    "quarter": N_("Quarter %(n)s"),
    "trimester": N_("Trimester %(n)s"),
    "half_year": N_("Half-year %(n)s"),
    "year": N_("The whole year"),
}
YEAR_STATUS_LABELS = {"draft": _l("draft"), "active": _l("current"), "closed": _l("closed")}


def term_name(term) -> str:
    """«1-я четверть» / «Quarter 1» for a term (or anything with ``kind`` and ``number``)."""
    msgid = TERM_NAMES.get(term.kind)
    return _(msgid, n=term.number) if msgid else f"{term.number} · {term.kind}"


def year_status(year) -> str:
    return str(YEAR_STATUS_LABELS.get(year.status, year.status))
LAST_STUDY_DAY = (5, 31)  # the study year ends on 31 May; the regulation's year_end closes the records


def years(school: Tenant) -> list[AcademicYear]:
    return db.session.execute(select(AcademicYear).where(AcademicYear.tenant_id == school.id)
                              .order_by(AcademicYear.starts_on.desc())).scalars().all()


def current_year(school: Tenant, on: dt.date | None = None) -> AcademicYear | None:
    on = on or clock.today()
    rows = years(school)
    return next((y for y in rows if y.starts_on <= on <= y.ends_on and y.status != "draft"), rows[0] if rows else None)


def _month_day(value: str, year: int) -> dt.date:
    month, day = (int(p) for p in value.split("-"))
    return dt.date(year, month, day)


def create_year(school: Tenant, start_year: int, *, status="active") -> AcademicYear:
    """A year and its terms from the calendar regulation in force on its first day."""
    require_manager(school)
    calendar = tenants.effective(school, dt.date(start_year, 9, 1)).document["calendar"]
    starts_on = _month_day(calendar["year_start"], start_year)
    ends_on = _month_day(calendar["year_end"], start_year + 1)
    if ends_on <= starts_on:
        raise Refused({"calendar.year_end": _("The year must end after it starts.")})
    if db.session.execute(select(AcademicYear).where(AcademicYear.tenant_id == school.id,
                                                     AcademicYear.starts_on == starts_on)).scalar_one_or_none():
        raise Refused({"start_year": _("This academic year already exists.")}, status=409)
    year = AcademicYear(name=f"{start_year}/{start_year + 1}", starts_on=starts_on, ends_on=ends_on,
                        status=status, **owner_columns(school))
    db.session.add(year)
    db.session.flush()
    study_end = min(dt.date(start_year + 1, *LAST_STUDY_DAY), ends_on)
    for period in calendar["periods"]:
        count = TERM_COUNT[period["kind"]]
        span = (study_end - starts_on).days + 1
        for number in range(1, count + 1):
            first = starts_on + dt.timedelta(days=span * (number - 1) // count)
            last = starts_on + dt.timedelta(days=span * number // count - 1)
            db.session.add(Term(year_id=year.id, kind=period["kind"], number=number, level_from=period["levels"][0],
                                level_to=period["levels"][1], starts_on=first, ends_on=last, **owner_columns(school)))
    db.session.flush()
    audit.record(tenant_id=school.id, action="year.create", obj_type="academic_year", obj_id=year.id,
                 after={"name": year.name, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    return year


def terms_of(year: AcademicYear) -> list[Term]:
    return db.session.execute(select(Term).where(Term.year_id == year.id)
                              .order_by(Term.level_from, Term.number)).scalars().all()


def update_term(term: Term, starts_on: dt.date, ends_on: dt.date) -> Term:
    """A school adjusts its term dates inside its academic year."""
    school = tenants.load(term.tenant_id)
    require_manager(school)
    year = db.session.execute(select(AcademicYear).where(AcademicYear.id == term.year_id)).scalar_one()
    errors = {}
    if starts_on > ends_on:
        errors["ends_on"] = _("The term must end after it starts.")
    if starts_on < year.starts_on or ends_on > year.ends_on:
        errors["starts_on"] = _("The term must lie inside the academic year %(year)s.", year=year.name)
    overlapping = [t for t in terms_of(year) if t.id != term.id and t.level_from <= term.level_to
                   and term.level_from <= t.level_to and t.starts_on <= ends_on and starts_on <= t.ends_on]
    if overlapping:
        other = overlapping[0]
        errors["starts_on"] = _("The dates overlap another term of these grades (%(start)s – %(end)s).",
                                start=other.starts_on.strftime("%d.%m.%Y"), end=other.ends_on.strftime("%d.%m.%Y"))
    if not errors and term.id in _closed_term_ids(year, [term]) and (starts_on, ends_on) != (term.starts_on, term.ends_on):
        errors["starts_on"] = _("The period is closed and its journal locked: its dates can no longer change.")
    if errors:
        raise Refused(errors)
    before = {"starts_on": term.starts_on.isoformat(), "ends_on": term.ends_on.isoformat()}
    term.starts_on, term.ends_on = starts_on, ends_on
    moved = _refile_lessons(year, term)
    audit.record(tenant_id=school.id, action="term.update", obj_type="term", obj_id=term.id, before=before,
                 after={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "lessons_refiled": moved})
    return term


def _refile_lessons(year: AcademicYear, term: Term) -> int:
    """After a term's dates change, each lesson of its grade levels belongs to the term that
    now contains its date (a journal page is one term's lessons). A lesson in a gap between
    terms stays where it was until a term covers its date again (moving a boundary takes
    two edits: shrink one term, then stretch the other)."""
    terms = [t for t in terms_of(year) if t.level_from <= term.level_to and term.level_from <= t.level_to]
    rows = db.session.execute(
        select(Lesson.id, Lesson.held_on, Lesson.term_id, SchoolClass.grade)
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .where(SchoolClass.year_id == year.id, SchoolClass.grade >= term.level_from,
               SchoolClass.grade <= term.level_to)).all()  # cancelled ones too: their slot is taken
    changes = {}
    for lesson_id, held_on, term_id, grade in rows:
        home = next((t.id for t in terms if t.level_from <= grade <= t.level_to
                     and t.starts_on <= held_on <= t.ends_on), None)
        if home is not None and home != term_id:
            changes[lesson_id] = home
    term_of = {lesson_id: term_id for lesson_id, _held, term_id, _grade in rows}
    closed = _closed_term_ids(year, terms)
    if any(source in closed or target in closed
           for source, target in ((term_of[lesson_id], home) for lesson_id, home in changes.items())):
        raise Refused({"starts_on": _("Lessons of a closed period cannot move to another term: its journal "
                                          "is locked.")})
    for lesson in db.session.execute(select(Lesson).where(Lesson.id.in_(list(changes)))).scalars() if changes else ():
        lesson.term_id = changes[lesson.id]
    return len(changes)


def period_closed(ends_on: dt.date, regulation: dict, today: dt.date) -> bool:
    """A term's journal locks ``lock_after_period_days`` after the term ends, by the
    school's local date: the one rule the journal and the term editor share."""
    return today > ends_on + dt.timedelta(days=int(regulation["deadlines"]["lock_after_period_days"]))


def _closed_term_ids(year: AcademicYear, terms: list[Term]) -> set[int]:
    """Terms whose journal is locked, judged by the end they had before this change."""
    from sqlalchemy import inspect as inspect_

    school = tenants.load(year.tenant_id)
    regulation = tenants.effective(school).document
    today = tenants.local_today(school)
    closed = set()
    for term in terms:
        history = inspect_(term).attrs.ends_on.history
        if period_closed(history.deleted[0] if history.deleted else term.ends_on, regulation, today):
            closed.add(term.id)
    return closed


def add_holiday(year: AcademicYear, name: str, starts_on: dt.date, ends_on: dt.date) -> Holiday:
    school = tenants.load(year.tenant_id)
    require_manager(school)
    if starts_on > ends_on or starts_on < year.starts_on or ends_on > year.ends_on:
        raise Refused({"starts_on": _("The holidays must lie inside the academic year %(year)s.", year=year.name)})
    holiday = Holiday(year_id=year.id, name=name, starts_on=starts_on, ends_on=ends_on, **owner_columns(school))
    db.session.add(holiday)
    return holiday


# Year rollover (MO-5) ------------------------------------------------------------------------

def rollover(school: Tenant, from_year: AcademicYear, final_grade: int = 11) -> dict:
    """Prepare the next year: each class moves up a grade level as a draft class with its
    pupils and its teaching assignments; the final grade graduates. Running it again adds
    nothing. The school reviews the drafts, then confirms them (``confirm_year``)."""
    require_manager(school)
    start = from_year.starts_on.year + 1
    new_year = db.session.execute(select(AcademicYear).where(
        AcademicYear.tenant_id == school.id, AcademicYear.starts_on > from_year.starts_on)
        .order_by(AcademicYear.starts_on)).scalars().first() or create_year(school, start, status="draft")
    summary = {"year_id": new_year.id, "classes": 0, "promoted": 0, "graduated": 0, "assignments": 0}
    new_classes = {(c.grade, c.letter): c for c in classes_of(new_year)}
    assignments = db.session.execute(select(Assignment).where(Assignment.year_id == from_year.id)).scalars().all()
    for old in classes_of(from_year):
        if old.is_draft:
            continue
        enrolments = db.session.execute(select(Enrolment).where(
            Enrolment.class_id == old.id, Enrolment.to_on.is_(None))).scalars().all()
        if old.grade >= final_grade:
            summary["graduated"] += len(enrolments)  # they leave when the new year is confirmed
            continue
        target = new_classes.get((old.grade + 1, old.letter))
        if target is None:
            target = create_class(new_year, old.grade + 1, old.letter, old.class_teacher_id, is_draft=True)
            new_classes[(target.grade, target.letter)] = target
            summary["classes"] += 1
        for enrolment in enrolments:
            # This year's enrolment stays open: the journal of the running year keeps its
            # pupils until the new year is confirmed.
            pupil = db.session.execute(select(Pupil).where(Pupil.id == enrolment.pupil_id)).scalar_one()
            before = db.session.execute(select(Enrolment).where(Enrolment.pupil_id == pupil.id,
                                                                Enrolment.year_id == new_year.id)).scalar_one_or_none()
            if before is None:
                enrol(pupil, target, new_year.starts_on, reason="promoted")
                summary["promoted"] += 1
        for assignment in (a for a in assignments if a.class_id == old.id):
            subject = db.session.execute(select(Subject).where(Subject.id == assignment.subject_id)).scalar_one()
            teacher = db.session.execute(select(Staff).where(Staff.id == assignment.teacher_id)).scalar_one()
            exists = db.session.execute(select(Assignment).where(
                Assignment.class_id == target.id, Assignment.subject_id == subject.id,
                Assignment.teacher_id == teacher.id, Assignment.subgroup == assignment.subgroup)).scalar_one_or_none()
            if exists is None:
                assign(new_year, target, subject, teacher, assignment.subgroup, is_draft=True)
                summary["assignments"] += 1
    db.session.flush()
    audit.record(tenant_id=school.id, action="year.rollover", obj_type="academic_year", obj_id=new_year.id,
                 after=summary)
    return summary


def confirm_year(year: AcademicYear) -> AcademicYear:
    """The school accepts the drafted classes and assignments; the new year becomes active."""
    school = tenants.load(year.tenant_id)
    require_manager(school)
    for row in classes_of(year):
        row.is_draft = False
    for row in db.session.execute(select(Assignment).where(Assignment.year_id == year.id)).scalars():
        row.is_draft = False
    # The year before ends: its enrolments close, as promoted (enrolled again) or graduated.
    previous = db.session.execute(select(AcademicYear).where(
        AcademicYear.tenant_id == year.tenant_id, AcademicYear.starts_on < year.starts_on)
        .order_by(AcademicYear.starts_on.desc())).scalars().first()
    if previous is not None:
        moving = set(db.session.execute(select(Enrolment.pupil_id).where(Enrolment.year_id == year.id)).scalars())
        for enrolment in db.session.execute(select(Enrolment).where(
                Enrolment.year_id == previous.id, Enrolment.to_on.is_(None))).scalars():
            enrolment.to_on = previous.ends_on
            enrolment.reason = "promoted" if enrolment.pupil_id in moving else "graduated"
        previous.status = "closed"
    year.status = "active"
    audit.record(tenant_id=school.id, action="year.confirm", obj_type="academic_year", obj_id=year.id,
                 after={"name": year.name})
    return year
