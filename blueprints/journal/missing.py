"""What is missing or overdue in a school's lessons: topics, attendance and homework not
entered, and whether each is past its due time (MO-1 inputs; late is counted, not
refused: ``deadlines.is_late``)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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


# The page: what is missing, grouped by teacher, class and subject -------------------------------

PER_PAGE = 50


@dataclass
class Group:
    """The lessons of one teacher in one class and subject with something missing: how many,
    per component how many are missing and how many of those overdue, and the first one to fill."""

    teacher_id: int
    class_id: int
    subject_id: int
    class_name: str
    lessons: int = 0
    missing: dict = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    overdue: dict = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    overdue_lessons: int = 0
    first: tuple | None = None  # (held_on, period, lesson_id, term_id) of the oldest

    @property
    def key(self):
        return self.teacher_id, self.class_id, self.subject_id


@dataclass
class Row:
    """One lesson with something missing (the detailed list of one group)."""

    lesson_id: int
    term_id: int
    held_on: dt.date
    period: int
    class_id: int
    class_name: str
    subject_id: int
    teacher_id: int
    missing: list
    overdue: list


@dataclass
class Overview:
    """The whole picture (totals over every group) and one page of groups, or of one group's
    lessons when the reader asked for a teacher, class and subject."""

    lessons: int
    overdue_lessons: int
    missing: dict
    overdue: dict
    teachers: int
    classes: int
    groups: list
    rows: list
    page: int
    pages: int
    count: int  # groups, or rows in the detailed list


def overview(school, *, teacher_id=None, class_id=None, subject_id=None, page=1, order=None) -> Overview:
    """What is missing in the school's lessons held up to today, in a fixed number of
    statements whatever the number of lessons: the lessons lacking something (plain
    columns), the class's last lesson end per day, the regulation versions in force on
    their dates. Grouped by (teacher, class, subject) and paginated, ``PER_PAGE`` a page;
    with ``subject_id`` (a group chosen), that group's lessons instead. ``order`` sorts the
    groups (a key function; most overdue first by default)."""
    chain = tenants.chain_of(school)
    zone = ZoneInfo(tenants.inherited(school, chain)["timezone"])
    now = clock.now()
    until = now.astimezone(zone).date()
    blank = lambda column: column.is_(None) | (column == "")  # noqa: E731
    stmt = (select(Lesson.id, Lesson.term_id, Lesson.held_on, Lesson.period, Lesson.class_id, Lesson.subject_id,
                   Lesson.teacher_id, SchoolClass.grade, SchoolClass.letter, LessonRecord.id, LessonRecord.topic,
                   LessonRecord.homework, LessonRecord.no_homework, LessonRecord.attendance_at)
            .join(SchoolClass, SchoolClass.id == Lesson.class_id)
            .outerjoin(LessonRecord, LessonRecord.lesson_id == Lesson.id)
            .where(Lesson.tenant_id == school.id, Lesson.is_cancelled.is_(False), Lesson.held_on <= until,
                   LessonRecord.id.is_(None) | blank(LessonRecord.topic) | LessonRecord.attendance_at.is_(None)
                   | (blank(LessonRecord.homework) & LessonRecord.no_homework.is_not(True)))
            .order_by(Lesson.held_on, Lesson.period, Lesson.id))
    for column, value in ((Lesson.teacher_id, teacher_id), (Lesson.class_id, class_id),
                          (Lesson.subject_id, subject_id)):
        if value:
            stmt = stmt.where(column == value)
    found = db.session.execute(stmt).all()
    ends, rules = {}, {}
    if found:
        ends_stmt = (select(Lesson.class_id, Lesson.held_on, func.max(Lesson.ends_at))
                     .where(Lesson.tenant_id == school.id, Lesson.is_cancelled.is_(False), Lesson.held_on <= until)
                     .group_by(Lesson.class_id, Lesson.held_on))
        if class_id:
            ends_stmt = ends_stmt.where(Lesson.class_id == class_id)
        ends = {(c, d): e for c, d, e in db.session.execute(ends_stmt).all()}
        rules = {day: version.document["deadlines"]
                 for day, version in tenants.effective_on_dates(school, sorted({r[2] for r in found})).items()}
    groups, rows = {}, []
    totals, overdue_totals = dict.fromkeys(COMPONENTS, 0), dict.fromkeys(COMPONENTS, 0)
    overdue_lessons = 0
    due_memo = {}
    for (lesson_id, term_id, held_on, period, lesson_class, lesson_subject, lesson_teacher, grade, letter,
         record_id, topic, homework, no_homework, attendance_at) in found:
        absent = [c for c, entered in (("topic", bool(topic)), ("attendance", attendance_at is not None),
                                       ("homework", bool(homework) or bool(no_homework))) if not entered]
        late = []
        for component in absent:
            memo_key = (component, held_on, lesson_class)
            if memo_key not in due_memo:
                due_memo[memo_key] = deadlines.component_due(rules[held_on][component], held_on, zone,
                                                             ends.get((lesson_class, held_on)))
            if now > due_memo[memo_key]:
                late.append(component)
        key = (lesson_teacher, lesson_class, lesson_subject)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(lesson_teacher, lesson_class, lesson_subject, f"{grade}{letter}",
                                        first=(held_on, period, lesson_id, term_id))
        group.lessons += 1
        for component in absent:
            group.missing[component] += 1
            totals[component] += 1
        for component in late:
            group.overdue[component] += 1
            overdue_totals[component] += 1
        if late:
            group.overdue_lessons += 1
            overdue_lessons += 1
        if subject_id:
            rows.append(Row(lesson_id, term_id, held_on, period, lesson_class, f"{grade}{letter}", lesson_subject,
                            lesson_teacher, absent, late))
    ordered = sorted(groups.values(), key=order or (lambda g_: (-g_.overdue_lessons, -g_.lessons, g_.key)))
    listed = rows if subject_id else ordered
    pages = max((len(listed) + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(max(page, 1), pages)
    window = slice((page - 1) * PER_PAGE, page * PER_PAGE)
    return Overview(len(found), overdue_lessons, totals, overdue_totals, len({g_.teacher_id for g_ in groups.values()}),
                    len({g_.class_id for g_ in groups.values()}), [] if subject_id else ordered[window],
                    rows[window] if subject_id else [], page, pages, len(listed))
