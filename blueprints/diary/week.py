"""A pupil's week (IN-3, IN-5): the timetable by day with topics and homework, the pupil's
grades with their work types and comments, attendance and remarks. A fixed number of
statements whatever the number of lessons and grades: the enrolments, the lessons with
their records, subjects and teachers, then the pupil's grades, attendance and remarks."""
from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from core.errors import Refused
from core.extensions import db
from blueprints.diary import labels
from blueprints.diary.service import Child, reading
from blueprints.journal.models import Attendance, Grade, LessonRecord, Remark
from blueprints.roster.models import AcademicYear, Enrolment, Lesson, SchoolClass, Staff, Subject
from tenants import service as tenants

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def monday_of(value: str | None, today: dt.date) -> dt.date:
    """The Monday of ISO week ``YYYY-Www`` (the week of ``today`` when not given)."""
    if not value:
        return today - dt.timedelta(days=today.weekday())
    match = WEEK.match(value)
    try:
        if not match:
            raise ValueError(value)
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise Refused.on("week", _("Give the week as YYYY-Www, e.g. 2026-W47.")) from None


def week_key(monday: dt.date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def enrolments(child: Child, first: dt.date, last: dt.date):
    """The pupil's classes on the days from ``first`` to ``last`` (a move mid-week gives two)."""
    return db.session.execute(
        select(Enrolment, SchoolClass).join(SchoolClass, SchoolClass.id == Enrolment.class_id)
        .where(Enrolment.pupil_id == child.id, Enrolment.from_on <= last,
               or_(Enrolment.to_on.is_(None), Enrolment.to_on >= first))
        .order_by(Enrolment.from_on)).all()


def why_empty(child: Child, on: dt.date) -> str:
    """Why a pupil has no class on a date: the school has no year running, or the pupil is
    not in a class of it (one statement, only when empty)."""
    started = db.session.execute(select(func.count()).select_from(AcademicYear).where(
        AcademicYear.tenant_id == child.school.id, AcademicYear.status != "draft",
        AcademicYear.starts_on <= on, AcademicYear.ends_on >= on)).scalar_one()
    return "no_class" if started else "not_started"


def week(child: Child, monday: dt.date) -> dict:
    sunday = monday + dt.timedelta(days=6)
    today = child.today()
    with reading(child):
        grading = tenants.effective(child.school, monday).document["grading"]
        names = labels.work_type_names(grading)
        classes = enrolments(child, monday, sunday)
        out = {"week": week_key(monday), "starts_on": monday, "ends_on": sunday, "today": today,
               "previous": week_key(monday - dt.timedelta(days=7)), "next": week_key(monday + dt.timedelta(days=7)),
               "this_week": week_key(today - dt.timedelta(days=today.weekday())),
               "class_name": ", ".join(c.name for _e, c in classes), "days": [], "empty": None}
        if not classes:
            out["empty"] = why_empty(child, monday if monday > today else min(today, sunday))
            out["days"] = [{"date": monday + dt.timedelta(days=n), "lessons": []} for n in range(5)]
            return out
        in_class = or_(*[and_(Lesson.class_id == c.id, Lesson.held_on >= e.from_on,
                              *( [Lesson.held_on <= e.to_on] if e.to_on else []))
                         for e, c in classes])
        teacher_id = func.coalesce(LessonRecord.substitute_id, Lesson.teacher_id)
        lesson_ids = select(Lesson.id).where(in_class, Lesson.held_on.between(monday, sunday))
        rows = db.session.execute(
            select(Lesson, LessonRecord, Subject.name, Staff.last_name, Staff.first_name, Staff.middle_name)
            .outerjoin(LessonRecord, LessonRecord.lesson_id == Lesson.id)
            .join(Subject, Subject.id == Lesson.subject_id)
            .outerjoin(Staff, Staff.id == teacher_id)
            .where(in_class, Lesson.held_on.between(monday, sunday))
            .order_by(Lesson.held_on, Lesson.period, Lesson.subgroup)).all()
        grades, absences, remarks = {}, {}, {}
        if rows:
            for grade in db.session.execute(select(Grade).where(
                    Grade.pupil_id == child.id, Grade.lesson_id.in_(lesson_ids)).order_by(Grade.id)).scalars():
                grades.setdefault(grade.lesson_id, []).append(grade)
            absences = {a.lesson_id: a for a in db.session.execute(select(Attendance).where(
                Attendance.pupil_id == child.id, Attendance.lesson_id.in_(lesson_ids))).scalars()}
            for remark in db.session.execute(select(Remark).where(
                    Remark.pupil_id == child.id, Remark.lesson_id.in_(lesson_ids)).order_by(Remark.id)).scalars():
                remarks.setdefault(remark.lesson_id, []).append(remark)
    by_day = {monday + dt.timedelta(days=n): [] for n in range(5)}
    recorded = 0
    for lesson, record, subject, last, first, middle in rows:
        teacher = f"{last} {''.join(f'{p[0]}.' for p in (first, middle) if p)}".strip() if last else None
        absence = absences.get(lesson.id)
        taken = record is not None and record.attendance_at is not None
        status = absence.status if absence else ("present" if taken else None)
        entry = {
            "id": lesson.id, "period": lesson.period, "starts_at": lesson.starts_at, "ends_at": lesson.ends_at,
            "subject": subject, "teacher": teacher, "room": lesson.room, "subgroup": lesson.subgroup or None,
            "is_cancelled": lesson.is_cancelled,
            "topic": record.topic if record else None,
            "homework": record.homework if record else None,
            "no_homework": bool(record and record.no_homework),
            "attendance": status, "attendance_label": labels.attendance_label(status),
            "grades": [{"value": g.value, "work_type": g.work_type, "work_type_name": names.get(g.work_type, g.work_type),
                        "comment": g.comment} for g in grades.get(lesson.id, [])],
            "remarks": [{"kind": r.kind, "kind_label": str(labels.REMARK_KINDS.get(r.kind, r.kind)), "text": r.text}
                        for r in remarks.get(lesson.id, [])],
        }
        recorded += bool(record and (record.topic or record.homework or record.no_homework or taken)) \
            or bool(entry["grades"])
        by_day.setdefault(lesson.held_on, []).append(entry)
    out["days"] = [{"date": day, "lessons": by_day[day]} for day in sorted(by_day)]
    if not rows:
        out["empty"] = "no_lessons"
    elif not recorded:
        out["empty"] = "not_recorded"
    return out


EMPTY_REASONS = {
    "not_started": lambda: _("The school has not started the school year in the diary yet."),
    "no_class": lambda: _("The pupil is not in a class this week."),
    "no_lessons": lambda: _("There are no lessons in the timetable this week."),
    "not_recorded": lambda: _("No lessons of this week have been recorded yet: topics, homework and grades "
                              "appear once the teachers enter them."),
}


def empty_reason(code: str | None) -> str | None:
    return EMPTY_REASONS[code]() if code else None
