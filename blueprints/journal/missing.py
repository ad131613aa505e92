"""What is missing or overdue in a school's lessons: topics, attendance and homework not
entered, and whether each is past its due time (MO-1 inputs; late is counted, not
refused: ``deadlines.is_late``)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core import clock
from core.extensions import db
from blueprints.journal import deadlines
from blueprints.journal.models import LessonRecord
from blueprints.roster.models import Lesson, SchoolClass
from tenants import service as tenants


COMPONENTS = ("topic", "attendance", "homework")


def missing(school, *, teacher_id=None, class_id=None, since: dt.date | None = None, until: dt.date | None = None):
    """Lessons held up to today whose topic, attendance or homework is not entered, with
    whether each is past its due time, judged by the regulation in force on the lesson's
    date. A fixed number of queries whatever the number of lessons."""
    chain = tenants.chain_of(school)
    zone = ZoneInfo(tenants.inherited(school, chain)["timezone"])
    now = clock.now()
    until = until or now.astimezone(zone).date()
    stmt = (select(Lesson, LessonRecord, SchoolClass.grade, SchoolClass.letter)
            .join(SchoolClass, SchoolClass.id == Lesson.class_id)
            .outerjoin(LessonRecord, LessonRecord.lesson_id == Lesson.id)
            .where(Lesson.tenant_id == school.id, Lesson.is_cancelled.is_(False), Lesson.held_on <= until)
            .order_by(Lesson.held_on, Lesson.period))
    if since:
        stmt = stmt.where(Lesson.held_on >= since)
    if teacher_id:
        stmt = stmt.where(Lesson.teacher_id == teacher_id)
    if class_id:
        stmt = stmt.where(Lesson.class_id == class_id)
    rows = db.session.execute(stmt).all()
    if not rows:
        return []
    ends = {(c, d): e for c, d, e in db.session.execute(
        select(Lesson.class_id, Lesson.held_on, func.max(Lesson.ends_at))
        .where(Lesson.tenant_id == school.id, Lesson.is_cancelled.is_(False), Lesson.held_on <= until)
        .group_by(Lesson.class_id, Lesson.held_on)).all()}
    rules = tenants.effective_on_dates(school, [lesson.held_on for lesson, *_ in rows])
    items = []
    for lesson, record, grade, letter in rows:
        absent = [c for c in COMPONENTS if not _entered(record, c)]
        if not absent:
            continue
        deadlines_on = rules[lesson.held_on].document["deadlines"]
        overdue = [c for c in absent if now > deadlines.component_due(
            deadlines_on[c], lesson.held_on, zone, ends.get((lesson.class_id, lesson.held_on)))]
        items.append({"lesson": lesson, "class_name": f"{grade}{letter}", "missing": absent, "overdue": overdue})
    return items


def _entered(record, component):
    if record is None:
        return False
    if component == "topic":
        return bool(record.topic)
    if component == "homework":
        return bool(record.homework) or record.no_homework
    return record.attendance_at is not None
