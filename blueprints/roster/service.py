"""The rules of a school's structure. Pages, the API and imports all call these."""
from __future__ import annotations

import datetime as dt

from flask import g
from flask_babel import gettext as _
from sqlalchemy import func, select

from core import audit, clock
from core.accounts import service as accounts
from core.extensions import db
from core.orm import utcnow
from tenants import service as tenants
from tenants.models import Tenant
from blueprints.roster.models import (AcademicYear, Assignment, BellPeriod, Enrolment, Guardian, GuardianLink,
                                      Holiday, Lesson, Pupil, SchoolClass, Staff, Subject, Term, TimetableEntry)

WEEKDAYS = {1: "Пн", 2: "Вт", 3: "Ср", 4: "Чт", 5: "Пт", 6: "Сб"}
TERM_COUNT = {"quarter": 4, "trimester": 3, "half_year": 2, "year": 1}
LAST_STUDY_DAY = (5, 31)  # the study year ends on 31 May; the regulation's year_end closes the records


class RosterError(ValueError):
    """A refused change; ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict, status: int = 422):
        super().__init__(errors)
        self.errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()}
        self.status = status


def school_of(tenant: Tenant) -> Tenant:
    if tenant.kind != "school":
        raise RosterError({"tenant_id": _("This is not a school.")})
    return tenant


def region_id_of(school: Tenant) -> int:
    return school.path_ids[0]


def can_manage(school: Tenant) -> bool:
    return tenants.can_administer(school)


def require_manager(school: Tenant):
    tenants.require(can_manage(school))


STAFF_ROLES = {"platform_admin", "region_admin", "municipality_admin", "school_admin", "teacher"}


def can_read(school: Tenant) -> bool:
    """Staff read the school's lists; pupils and guardians see only their own data (IN-3),
    through the diary."""
    membership = g.get("membership")
    return membership is not None and membership.role in STAFF_ROLES


def school_of_row(row) -> Tenant:
    return tenants.load(row.tenant_id)


def _one(model, school: Tenant, row_id: int, field: str):
    from core.orm import valid_id

    if not valid_id(row_id):
        raise RosterError({field: _("No such record in this school.")})
    row = db.session.execute(select(model).where(model.id == row_id, model.tenant_id == school.id)).scalar_one_or_none()
    if row is None:
        raise RosterError({field: _("No such record in this school.")})
    return row


def year_of(school: Tenant, year_id: int) -> AcademicYear:
    return _one(AcademicYear, school, year_id, "year_id")


def class_of(school: Tenant, class_id: int) -> SchoolClass:
    return _one(SchoolClass, school, class_id, "class_id")


def subject_of(school: Tenant, subject_id: int) -> Subject:
    row = db.session.execute(select(Subject).where(Subject.id == subject_id,
                                                   Subject.tenant_id.in_(school.path_ids))).scalar_one_or_none()
    if row is None:
        raise RosterError({"subject_id": _("No such subject for this school.")})
    return row


def _owned(school: Tenant) -> dict:
    return {"tenant_id": school.id, "region_id": region_id_of(school)}


# Years and terms ---------------------------------------------------------------------------

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
        raise RosterError({"calendar.year_end": _("The year must end after it starts.")})
    if db.session.execute(select(AcademicYear).where(AcademicYear.tenant_id == school.id,
                                                     AcademicYear.starts_on == starts_on)).scalar_one_or_none():
        raise RosterError({"start_year": _("This academic year already exists.")}, status=409)
    year = AcademicYear(name=f"{start_year}/{start_year + 1}", starts_on=starts_on, ends_on=ends_on,
                        status=status, **_owned(school))
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
                                level_to=period["levels"][1], starts_on=first, ends_on=last, **_owned(school)))
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
        raise RosterError(errors)
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
        raise RosterError({"starts_on": _("Lessons of a closed period cannot move to another term: its journal "
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
        raise RosterError({"starts_on": _("The holidays must lie inside the academic year %(year)s.", year=year.name)})
    holiday = Holiday(year_id=year.id, name=name, starts_on=starts_on, ends_on=ends_on, **_owned(school))
    db.session.add(holiday)
    return holiday


# Classes -------------------------------------------------------------------------------------

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
        raise RosterError(errors)
    if db.session.execute(select(SchoolClass).where(SchoolClass.year_id == year.id, SchoolClass.grade == grade,
                                                    SchoolClass.letter == letter)).scalar_one_or_none():
        raise RosterError({"letter": _("Class %(name)s already exists this year.", name=f"{grade}{letter}")}, 409)
    if class_teacher_id is not None:
        staff_of(school, class_teacher_id)
    row = SchoolClass(year_id=year.id, grade=grade, letter=letter, class_teacher_id=class_teacher_id,
                      is_draft=is_draft, **_owned(school))
    db.session.add(row)
    db.session.flush()
    return row


def create_classes(year: AcademicYear, grade_from: int, grade_to: int, letters: str) -> list[SchoolClass]:
    """Classes grade_from..grade_to for each letter («а, б»); existing ones are kept."""
    school = tenants.load(year.tenant_id)
    require_manager(school)
    wanted = [l.strip().lower() for l in (letters or "").replace(";", ",").split(",") if l.strip()]
    if not wanted:
        raise RosterError({"letters": _("Give the class letters, e.g. «а, б».")})
    if not (isinstance(grade_from, int) and isinstance(grade_to, int) and 1 <= grade_from <= grade_to <= 11):
        raise RosterError({"grade_from": _("The grade levels run from 1 to 11, lowest first.")})
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


# People --------------------------------------------------------------------------------------

def staff_of(school: Tenant, staff_id: int) -> Staff:
    return _one(Staff, school, staff_id, "teacher_id")


def upsert_staff(school: Tenant, *, last_name, first_name, middle_name=None, position, login, email=None,
                 password=None) -> tuple[Staff, bool]:
    """Create or update a staff member matched by login; teachers get an account."""
    login = accounts.normalise_login(login)
    row = db.session.execute(select(Staff).where(Staff.tenant_id == school.id, Staff.login == login)).scalar_one_or_none()
    created = row is None
    if created:
        row = Staff(login=login, **_owned(school))
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


def enrol(pupil: Pupil, school_class: SchoolClass, from_on: dt.date, reason="enrolled") -> Enrolment:
    existing = db.session.execute(select(Enrolment).where(Enrolment.pupil_id == pupil.id,
                                                          Enrolment.year_id == school_class.year_id)).scalar_one_or_none()
    if existing is not None:
        if existing.class_id == school_class.id:
            return existing
        raise RosterError({"class": _("The pupil is already in another class this year.")}, 409)
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


# Subjects and assignments -------------------------------------------------------------------

def subjects_for(school: Tenant) -> list[Subject]:
    """The regional list and the school's own additions (visible through the scope)."""
    ids = school.path_ids
    return db.session.execute(select(Subject).where(Subject.tenant_id.in_(ids)).order_by(Subject.name)).scalars().all()


def add_subject(owner: Tenant, name: str, short_name: str | None = None) -> Subject:
    tenants.require(tenants.can_administer(owner))
    name = (name or "").strip()
    if not name:
        raise RosterError({"name": _("Give the subject's name.")})
    if any(s.name.lower() == name.lower() for s in subjects_for(owner) if s.tenant_id in owner.path_ids):
        raise RosterError({"name": _("The subject %(name)s is already on the list.", name=name)}, 409)
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


# Bell schedule and timetable -----------------------------------------------------------------

def bell_schedule(school: Tenant) -> list[BellPeriod]:
    return db.session.execute(select(BellPeriod).where(BellPeriod.tenant_id == school.id)
                              .order_by(BellPeriod.number)).scalars().all()


def set_bell_schedule(school: Tenant, periods: list[tuple[int, dt.time, dt.time]]):
    require_manager(school)
    errors = {}
    previous_end = None
    for index, (number, starts_at, ends_at) in enumerate(sorted(periods)):
        if starts_at >= ends_at:
            errors[f"periods.{index}.ends_at"] = _("Lesson %(n)s must end after it starts.", n=number)
        if previous_end and starts_at < previous_end:
            errors[f"periods.{index}.starts_at"] = _("Lesson %(n)s starts before the previous one ends.", n=number)
        previous_end = ends_at
    if errors:
        raise RosterError(errors)
    existing = {p.number: p for p in bell_schedule(school)}
    for number, starts_at, ends_at in periods:
        row = existing.pop(number, None) or BellPeriod(number=number, **_owned(school))
        row.starts_at, row.ends_at = starts_at, ends_at
        db.session.add(row)
    for row in existing.values():
        db.session.delete(row)
    db.session.flush()


def add_timetable_entry(year: AcademicYear, *, weekday: int, period: int, school_class: SchoolClass, subject: Subject,
                        teacher: Staff, subgroup="", room=None) -> TimetableEntry:
    """A weekly slot. Refused when the lesson is outside the bell schedule, or the teacher
    or the class already has a lesson in that slot."""
    school = tenants.load(year.tenant_id)
    errors = {}
    if weekday not in WEEKDAYS:
        errors["weekday"] = _("The day of the week is 1 (Monday) to 6 (Saturday).")
    if period not in {p.number for p in bell_schedule(school)}:
        errors["period"] = _("Lesson %(n)s is not in the bell schedule.", n=period)
    if errors:
        raise RosterError(errors)
    clash = db.session.execute(select(TimetableEntry).where(
        TimetableEntry.year_id == year.id, TimetableEntry.weekday == weekday, TimetableEntry.period == period,
        ((TimetableEntry.teacher_id == teacher.id) | ((TimetableEntry.class_id == school_class.id)
                                                      & (TimetableEntry.subgroup == (subgroup or "")))))
    ).scalars().first()
    if clash is not None:
        if clash.class_id == school_class.id and clash.subgroup == (subgroup or "") and clash.teacher_id == teacher.id \
                and clash.subject_id == subject.id:
            clash.room = room or clash.room
            return clash  # the same slot again: a re-import changes nothing
        if clash.teacher_id == teacher.id:
            raise RosterError({"teacher": _("%(teacher)s already teaches in this slot.", teacher=teacher.short_name)}, 409)
        raise RosterError({"class": _("The class already has a lesson in this slot.")}, 409)
    assignment = assign(year, school_class, subject, teacher, subgroup)
    row = TimetableEntry(year_id=year.id, weekday=weekday, period=period, class_id=school_class.id,
                         subject_id=subject.id, teacher_id=teacher.id, assignment_id=assignment.id,
                         subgroup=subgroup or "", room=room or None, tenant_id=year.tenant_id, region_id=year.region_id)
    db.session.add(row)
    db.session.flush()
    return row


def generate_lessons(term: Term) -> int:
    """Dated lessons of a term from the weekly timetable, skipping holidays; lessons that
    already exist are kept (so one-off changes survive). Returns how many were added."""
    school = tenants.load(term.tenant_id)
    require_manager(school)
    bells = {p.number: p for p in bell_schedule(school)}
    holidays = db.session.execute(select(Holiday).where(Holiday.year_id == term.year_id)).scalars().all()
    entries = db.session.execute(
        select(TimetableEntry, SchoolClass.grade).join(SchoolClass, SchoolClass.id == TimetableEntry.class_id)
        .where(TimetableEntry.year_id == term.year_id, SchoolClass.grade.between(term.level_from, term.level_to),
               SchoolClass.is_draft.is_(False))).all()
    rows_there = db.session.execute(
        select(Lesson.class_id, Lesson.held_on, Lesson.period, Lesson.subgroup, Lesson.timetable_entry_id,
               Lesson.origin_on).where(Lesson.term_id == term.id)).all()
    existing = {(r.class_id, r.held_on, r.period, r.subgroup) for r in rows_there}
    generated = {(r.timetable_entry_id, r.origin_on) for r in rows_there if r.timetable_entry_id}
    rows = []
    day = term.starts_on
    while day <= term.ends_on:
        if not any(h.starts_on <= day <= h.ends_on for h in holidays):
            for entry, _grade in entries:
                if entry.weekday != day.isoweekday() or entry.period not in bells:
                    continue
                key = (entry.class_id, day, entry.period, entry.subgroup)
                if key in existing or (entry.id, day) in generated:
                    continue
                bell = bells[entry.period]
                rows.append({"term_id": term.id, "class_id": entry.class_id, "subject_id": entry.subject_id,
                             "teacher_id": entry.teacher_id, "timetable_entry_id": entry.id, "held_on": day,
                             "origin_on": day,
                             "period": entry.period, "starts_at": bell.starts_at, "ends_at": bell.ends_at,
                             "subgroup": entry.subgroup, "room": entry.room, "is_cancelled": False,
                             "is_one_off": False, "tenant_id": term.tenant_id, "region_id": term.region_id,
                             "created_at": utcnow()})
                existing.add(key)
        day += dt.timedelta(days=1)
    if rows:
        db.session.execute(Lesson.__table__.insert(), rows)
    audit.record(tenant_id=school.id, action="lessons.generate", obj_type="term", obj_id=term.id,
                 after={"added": len(rows)})
    return len(rows)


def change_lesson(lesson: Lesson, *, is_cancelled=None, teacher: Staff | None = None, room=None,
                  on: dt.date | None = None, period: int | None = None, reason=None) -> Lesson:
    """A one-off change to one dated lesson: cancel it, move it, or give it to another teacher
    (a substitution). The weekly timetable is not touched."""
    school = tenants.load(lesson.tenant_id)
    require_manager(school)
    before = {"on": lesson.held_on.isoformat(), "period": lesson.period, "teacher_id": lesson.teacher_id,
              "room": lesson.room, "is_cancelled": lesson.is_cancelled}
    new_on, new_period = on or lesson.held_on, period or lesson.period
    new_teacher = teacher.id if teacher else lesson.teacher_id
    bells = {p.number: p for p in bell_schedule(school)}
    if new_period not in bells:
        raise RosterError({"period": _("Lesson %(n)s is not in the bell schedule.", n=new_period)})
    term = db.session.execute(select(Term).where(Term.id == lesson.term_id)).scalar_one()
    if not term.starts_on <= new_on <= term.ends_on:
        raise RosterError({"on": _("The date must lie inside the term (%(start)s – %(end)s).",
                                   start=term.starts_on.strftime("%d.%m.%Y"), end=term.ends_on.strftime("%d.%m.%Y"))})
    clash = db.session.execute(select(Lesson).where(
        Lesson.id != lesson.id, Lesson.held_on == new_on, Lesson.period == new_period, Lesson.is_cancelled.is_(False),
        (Lesson.teacher_id == new_teacher) | ((Lesson.class_id == lesson.class_id) & (Lesson.subgroup == lesson.subgroup)))
    ).scalars().first()
    if clash is not None and (is_cancelled is not True):
        field = "teacher_id" if clash.teacher_id == new_teacher else "period"
        raise RosterError({field: _("That slot is taken on %(date)s.", date=new_on.strftime("%d.%m.%Y"))}, 409)
    lesson.held_on, lesson.period, lesson.teacher_id = new_on, new_period, new_teacher
    lesson.starts_at, lesson.ends_at = bells[new_period].starts_at, bells[new_period].ends_at
    if room is not None:
        lesson.room = room or None
    if is_cancelled is not None:
        lesson.is_cancelled = is_cancelled
    lesson.is_one_off = True
    after = {"on": lesson.held_on.isoformat(), "period": lesson.period, "teacher_id": lesson.teacher_id,
             "room": lesson.room, "is_cancelled": lesson.is_cancelled}
    audit.record(tenant_id=school.id, action="lesson.change", obj_type="lesson", obj_id=lesson.id, before=before,
                 after=after, reason=reason)
    return lesson


def lessons_count(term: Term) -> int:
    return db.session.execute(select(func.count()).select_from(Lesson).where(Lesson.term_id == term.id)).scalar_one()


def acting_staff() -> Staff | None:
    """The staff record of the signed-in teacher in the acting school."""
    membership = g.get("membership")
    if membership is None or membership.tenant_id is None:
        return None
    return db.session.execute(select(Staff).where(Staff.tenant_id == membership.tenant_id,
                                                  Staff.user_id == membership.user_id)).scalar_one_or_none()


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
