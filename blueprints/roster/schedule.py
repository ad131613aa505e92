"""The bell schedule, the weekly timetable, and the dated lessons made from it."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import audit
from core.errors import Refused
from core.extensions import db
from core.orm import utcnow
from tenants import service as tenants
from tenants.models import Tenant
from blueprints.roster.models import (AcademicYear, BellPeriod, Holiday, Lesson, SchoolClass, Staff, Subject, Term,
                                      TimetableEntry)
from blueprints.roster.service import owner_columns, require_manager
from blueprints.roster.teaching import assign

WEEKDAYS = {1: "Пн", 2: "Вт", 3: "Ср", 4: "Чт", 5: "Пт", 6: "Сб"}


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
        raise Refused(errors)
    existing = {p.number: p for p in bell_schedule(school)}
    for number, starts_at, ends_at in periods:
        row = existing.pop(number, None) or BellPeriod(number=number, **owner_columns(school))
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
        raise Refused(errors)
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
            raise Refused({"teacher": _("%(teacher)s already teaches in this slot.", teacher=teacher.short_name)}, 409)
        raise Refused({"class": _("The class already has a lesson in this slot.")}, 409)
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
    new_on = lesson.held_on if on is None else on
    new_period = lesson.period if period is None else period  # schools have a zero period
    new_teacher = teacher.id if teacher else lesson.teacher_id
    bells = {p.number: p for p in bell_schedule(school)}
    if new_period not in bells:
        raise Refused({"period": _("Lesson %(n)s is not in the bell schedule.", n=new_period)})
    term = db.session.execute(select(Term).where(Term.id == lesson.term_id)).scalar_one()
    if not term.starts_on <= new_on <= term.ends_on:
        raise Refused({"on": _("The date must lie inside the term (%(start)s – %(end)s).",
                                   start=term.starts_on.strftime("%d.%m.%Y"), end=term.ends_on.strftime("%d.%m.%Y"))})
    clash = db.session.execute(select(Lesson).where(
        Lesson.id != lesson.id, Lesson.held_on == new_on, Lesson.period == new_period, Lesson.is_cancelled.is_(False),
        (Lesson.teacher_id == new_teacher) | ((Lesson.class_id == lesson.class_id) & (Lesson.subgroup == lesson.subgroup)))
    ).scalars().first()
    if clash is not None and (is_cancelled is not True):
        raise _slot_taken(clash, new_teacher)
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


def _slot_taken(clash: Lesson, teacher_id: int) -> Refused:
    """409 naming the lesson that holds the slot: a duplicate, not a concurrent edit."""
    subject = db.session.execute(select(Subject.name).where(Subject.id == clash.subject_id)).scalar_one()
    grade, letter = db.session.execute(select(SchoolClass.grade, SchoolClass.letter)
                                       .where(SchoolClass.id == clash.class_id)).one()
    names = {"date": clash.held_on.strftime("%d.%m.%Y"), "n": clash.period, "subject": subject,
             "class_name": f"{grade}{letter}"}
    if clash.teacher_id == teacher_id:
        return Refused({"teacher_id": _("On %(date)s the teacher already has lesson %(n)s: %(subject)s in "
                                        "%(class_name)s.", **names)}, 409)
    return Refused({"period": _("On %(date)s lesson %(n)s of %(class_name)s is already %(subject)s.", **names)}, 409)


def lessons_count(term: Term) -> int:
    return db.session.execute(select(func.count()).select_from(Lesson).where(Lesson.term_id == term.id)).scalar_one()
