"""The journal's rules: who may write a lesson, due times and lateness, period locks and
corrections, no lost updates, and an audit entry for every change."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from core import audit
from core.extensions import db
from core.orm import utcnow
from blueprints.journal import deadlines
from blueprints.journal.models import ATTENDANCE_STATUSES, Attendance, Grade, LessonRecord
from blueprints.roster import service as roster
from blueprints.roster.models import Enrolment, Lesson, Pupil, SchoolClass, Staff, Term
from tenants import service as tenants


class JournalError(ValueError):
    def __init__(self, errors: dict, status: int = 422, current=None):
        super().__init__(errors)
        self.errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()}
        self.status = status
        self.current = current


@dataclass
class Context:
    """Everything the rules need about one lesson, loaded once."""

    lesson: Lesson
    school: object
    school_class: SchoolClass
    term: Term
    regulation: dict
    zone: ZoneInfo

    @property
    def grading(self):
        return self.regulation["grading"]

    @property
    def deadlines(self):
        return self.regulation["deadlines"]


def context(lesson: Lesson) -> Context:
    school = tenants.load(lesson.tenant_id)
    chain = tenants.chain_of(school)
    stmt = (select(SchoolClass, Term).join(Term, Term.year_id == SchoolClass.year_id)
            .where(SchoolClass.id == lesson.class_id, Term.id == lesson.term_id))
    staff_cache = g.setdefault("acting_staff", {})
    reader_is_teacher = _teacher_reads() and school.id not in staff_cache
    if reader_is_teacher:  # the teacher's staff record rides along (see acting_staff)
        stmt = stmt.add_columns(Staff).outerjoin(Staff, (Staff.tenant_id == school.id)
                                                 & (Staff.user_id == current_user.id))
    row = db.session.execute(stmt).one()
    school_class, term = row[0], row[1]
    if reader_is_teacher:
        staff_cache[school.id] = row[2]
    regulation = tenants.effective(school, lesson.held_on).document  # the version in force on the lesson's date
    zone = ZoneInfo(tenants.inherited(school, chain)["timezone"])
    return Context(lesson, school, school_class, term, regulation, zone)


# Permissions -------------------------------------------------------------------------------------

def _teacher_reads() -> bool:
    """The signed-in user acts as a teacher (whose staff record may name their lessons)."""
    membership = g.get("membership")
    return membership is not None and membership.role == "teacher" and current_user.is_authenticated


def acting_staff(school) -> Staff | None:
    """The signed-in user's staff record in this school (once per request)."""
    if not current_user.is_authenticated:
        return None
    cache = g.setdefault("acting_staff", {})
    if school.id not in cache:
        cache[school.id] = db.session.execute(select(Staff).where(
            Staff.tenant_id == school.id, Staff.user_id == current_user.id)).scalar_one_or_none()
    return cache[school.id]


def can_read(ctx: Context) -> bool:
    return roster.can_read(ctx.school)


def is_teacher_of(ctx: Context, record: LessonRecord | None = None, *, load_record=False) -> bool:
    """The lesson's teacher, or the substitute who taught it."""
    membership = g.get("membership")
    if membership is None or membership.role != "teacher":
        return False
    staff = acting_staff(ctx.school)
    if staff is None:
        return False
    if staff.id == ctx.lesson.teacher_id:
        return True
    if record is None and load_record:
        record = record_of(ctx.lesson)
    return record is not None and staff.id == record.substitute_id


def is_locked(ctx: Context, today: dt.date | None = None) -> bool:
    """A term locks ``lock_after_period_days`` after it ends (in the school's local date)."""
    return roster.period_closed(ctx.term.ends_on, ctx.regulation, today or dt.datetime.now(ctx.zone).date())


def authorise_write(ctx: Context, record, reason: str | None, *, load_record=False):
    """Teachers write their lessons until the period locks; afterwards only a school admin
    corrects, with a reason (pupils and guardians never write: AC-2)."""
    membership = g.get("membership")
    locked = is_locked(ctx)
    if locked:
        if membership is None or membership.role not in ("school_admin",):
            tenants.require(False)
        if not (reason or "").strip():
            raise JournalError({"reason": _("The period is closed: a correction needs a reason.")})
        return "correction"
    if not is_teacher_of(ctx, record, load_record=load_record):
        tenants.require(False)
    return "entry"


def record_of(lesson: Lesson, create=False, *, saw_none=False) -> LessonRecord | None:
    """The lesson's record; with ``create``, made if missing. Two first entries on a lesson
    at the same moment (marks typed quickly down a column) both try to make it: the loser's
    insert is undone inside a savepoint and it uses the winner's row, unless ``saw_none``
    (its writer based the write on no record): then the winner's entry would be overwritten
    unseen, and the loser gets 409 with it."""
    from sqlalchemy.exc import IntegrityError

    query = select(LessonRecord).where(LessonRecord.lesson_id == lesson.id)
    row = db.session.execute(query).scalar_one_or_none()
    if row is not None and saw_none:  # made since the writer looked
        raise _conflict(row)
    if row is None and create:
        try:
            with db.session.begin_nested():
                row = LessonRecord(lesson_id=lesson.id, tenant_id=lesson.tenant_id, region_id=lesson.region_id)
                db.session.add(row)
        except IntegrityError:
            row = db.session.execute(query.execution_options(populate_existing=True)).scalar_one()
            if saw_none:
                raise _conflict(row) from None
    return row


def _flush_or_conflict(current_query):
    """Two writers passed the version check at the same moment: the database lets one
    UPDATE through (the version column) and the other gets 409 with the winner's row."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    try:
        db.session.flush()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise _conflict(db.session.execute(current_query()).scalar_one_or_none()) from None


def _conflict(current) -> JournalError:
    """409 with what is there now (``None``: nothing is)."""
    return JournalError({"version": _("The entry was changed by someone else. Reload it and try again.")},
                        status=409, current=current)


#: The version a lesson's record has before it exists: topic, homework, attendance and the
#: substitute always name one, so a first entry says "I saw nothing written" with 0.
NO_RECORD = 0


def _check_version(obj, version, *, absent=None):
    """Every racing write names the version it was based on, and it must be the version
    there now: a number matches the row's, and the version of no row is ``absent`` (None for
    grades and marks: the writer saw none; ``NO_RECORD`` for a lesson's record). So a stale
    copy, a write that saw nothing over a row that exists, and a write over a row deleted
    meanwhile are all refused with 409 and what is there now."""
    if version != (obj.version if obj is not None else absent):
        raise _conflict(obj)


def _record_to_write(lesson: Lesson, record: LessonRecord | None, version) -> LessonRecord:
    """The lesson's record, made if missing, for a write based on ``version``."""
    _check_version(record, version, absent=NO_RECORD)
    return record or record_of(lesson, create=True, saw_none=True)


# Due times ---------------------------------------------------------------------------------------

def last_lesson_end(lesson: Lesson) -> dt.time | None:
    return db.session.execute(select(func.max(Lesson.ends_at)).where(
        Lesson.class_id == lesson.class_id, Lesson.held_on == lesson.held_on, Lesson.is_cancelled.is_(False))).scalar_one()


def due_times(ctx: Context) -> dict:
    rules = ctx.deadlines
    end = last_lesson_end(ctx.lesson) if "after_last_lesson" in {rules[k].get("rule") for k in ("topic", "homework", "attendance")} else None
    due = {key: deadlines.component_due(rules[key], ctx.lesson.held_on, ctx.zone, end)
           for key in ("topic", "attendance", "homework")}
    for work in ctx.grading["work_types"]:
        due[f"grade:{work['code']}"] = deadlines.grade_due(rules["grade"], work["kind"], ctx.school_class.grade,
                                                           ctx.lesson.held_on, ctx.zone)
    return due


# Writing -----------------------------------------------------------------------------------------

def _audit(ctx, action, before, after, reason, kind):
    audit.record(tenant_id=ctx.school.id, action=action, obj_type="lesson", obj_id=ctx.lesson.id,
                 before=before, after=after, reason=reason if kind == "correction" or reason else None)


def set_topic(lesson: Lesson, topic: str, *, version: int, reason=None) -> LessonRecord:
    """DL-1: the topic is due by the end of the lesson's day; a late entry is marked."""
    ctx = context(lesson)
    record = record_of(lesson)
    kind = authorise_write(ctx, record, reason)
    due = due_times(ctx)["topic"]
    record = _record_to_write(lesson, record, version)
    before = {"topic": record.topic}
    now = utcnow()
    record.topic = (topic or "").strip() or None
    record.topic_at, record.topic_by = now, current_user.id
    record.topic_late = deadlines.is_late(now, due)
    _flush_or_conflict(lambda: select(LessonRecord).where(LessonRecord.lesson_id == lesson.id))
    _audit(ctx, "journal.topic", before, {"topic": record.topic, "late": record.topic_late}, reason, kind)
    return record


def set_homework(lesson: Lesson, homework: str | None, *, no_homework=False, version: int,
                 reason=None) -> LessonRecord:
    """DL-2: homework (or the explicit "no homework") is due an hour after the class's last
    lesson of the day; entering it ahead of the lesson is on time."""
    ctx = context(lesson)
    record = record_of(lesson)
    kind = authorise_write(ctx, record, reason)
    text = (homework or "").strip() or None
    if not text and not no_homework:
        raise JournalError({"homework": _("Write the homework, or mark that none is set.")})
    due = due_times(ctx)["homework"]
    record = _record_to_write(lesson, record, version)
    before = {"homework": record.homework, "no_homework": record.no_homework}
    now = utcnow()
    record.homework, record.no_homework = (None, True) if no_homework else (text, False)
    record.homework_at, record.homework_by = now, current_user.id
    record.homework_late = deadlines.is_late(now, due)
    _flush_or_conflict(lambda: select(LessonRecord).where(LessonRecord.lesson_id == lesson.id))
    _audit(ctx, "journal.homework", before, {"homework": record.homework, "no_homework": record.no_homework,
                                             "late": record.homework_late}, reason, kind)
    return record


def pupils_of(lesson: Lesson) -> list[Pupil]:
    return db.session.execute(
        select(Pupil).join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Enrolment.class_id == lesson.class_id, Enrolment.from_on <= lesson.held_on,
               (Enrolment.to_on.is_(None)) | (Enrolment.to_on >= lesson.held_on))
        .order_by(Pupil.last_name, Pupil.first_name)).scalars().all()


def take_attendance(lesson: Lesson, absences: list[dict], *, version: int, reason=None) -> LessonRecord:
    """DL-1: attendance is due by the end of the lesson's day. An empty list is the explicit
    "taken, all present"."""
    ctx = context(lesson)
    record = record_of(lesson)
    kind = authorise_write(ctx, record, reason)
    pupils = {p.id for p in pupils_of(lesson)}
    errors = {}
    for index, item in enumerate(absences):
        if item.get("pupil_id") not in pupils:
            errors[f"absences.{index}.pupil_id"] = _("The pupil is not in this class on the lesson's date.")
        if item.get("status") not in ATTENDANCE_STATUSES:
            errors[f"absences.{index}.status"] = _("Choose absent, late, ill or excused.")
        if item.get("status") == "excused" and not (item.get("reason") or "").strip():
            errors[f"absences.{index}.reason"] = _("An excused absence needs its reason.")
    if errors:
        raise JournalError(errors)
    due = due_times(ctx)["attendance"]
    record = _record_to_write(lesson, record, version)
    existing = {a.pupil_id: a for a in db.session.execute(
        select(Attendance).where(Attendance.lesson_id == lesson.id)).scalars()}
    before = {str(p): a.status for p, a in existing.items()}
    wanted = {item["pupil_id"]: item for item in absences}
    for pupil_id, row in existing.items():
        if pupil_id not in wanted:
            db.session.delete(row)
    for pupil_id, item in wanted.items():
        row = existing.get(pupil_id) or Attendance(lesson_id=lesson.id, pupil_id=pupil_id, tenant_id=lesson.tenant_id,
                                                   region_id=lesson.region_id)
        row.status, row.reason = item["status"], (item.get("reason") or None)
        db.session.add(row)
    now = utcnow()
    record.attendance_at, record.attendance_by = now, current_user.id
    record.attendance_late = deadlines.is_late(now, due)
    _flush_or_conflict(lambda: select(LessonRecord).where(LessonRecord.lesson_id == lesson.id))
    _audit(ctx, "journal.attendance", before, {str(p): i["status"] for p, i in wanted.items()}, reason, kind)
    return record


def set_grade(lesson: Lesson, pupil_id: int, *, value: str, work_type: str, comment=None, version: int | None,
              reason=None) -> Grade:
    """GR-1: a value of the scale in a column of a configured work type; GR-2: none in an
    ungraded grade level; DL-3: late after the work type's days, for the bound levels."""
    return _grade_writer(lesson, reason)(pupil_id, value, work_type, comment, version)


def set_grades(lesson: Lesson, entries: list[dict], *, reason=None) -> list[Grade]:
    """A whole column at once, in one transaction: each entry as ``set_grade`` would take it,
    with the lesson's context, roster and due times worked out once."""
    write = _grade_writer(lesson, reason, many=True)
    out, audits, seen = [], [], {}
    for index, entry in enumerate(entries):
        cell = (entry["pupil_id"], entry["work_type"])
        if cell in seen:
            raise JournalError({f"grades.{index}.pupil_id": _("The same pupil and work type are in entry %(n)s.",
                                                              n=seen[cell])})
        seen[cell] = index
        try:
            grade, audit_entry = write(entry["pupil_id"], entry["value"], entry["work_type"], entry.get("comment"),
                                       entry["version"])
        except JournalError as error:
            raise JournalError({f"grades.{index}.{k}": v for k, v in error.errors.items()}, status=error.status,
                               current=error.current) from None
        out.append(grade)
        audits.append(audit_entry)
    # One flush for the column, then its audit entries, all in batches. A grade changed
    # meanwhile by someone else fails the version check: the whole column is refused (409)
    # and the error names the first entry whose version is no longer the one in the database.
    try:
        _flush_or_conflict(lambda: select(Grade).where(Grade.id == -1))
    except JournalError as error:
        if error.status != 409:
            raise
        now = {(g_.pupil_id, g_.work_type): g_ for g_ in db.session.execute(
            select(Grade).where(Grade.lesson_id == lesson.id)).scalars()}
        for index, entry in enumerate(entries):
            row = now.get((entry["pupil_id"], entry["work_type"]))
            if (row.version if row is not None else None) != entry["version"]:
                raise JournalError({f"grades.{index}.version": error.errors["version"]}, status=409,
                                   current=row) from None
        raise
    for audit_entry in audits:
        audit_entry()
    return out


def _grade_writer(lesson: Lesson, reason, many=False):
    ctx = context(lesson)
    kind = authorise_write(ctx, None, reason, load_record=True)
    if ctx.school_class.grade in ctx.grading["ungraded_levels"]:
        raise JournalError({"value": _("Grade %(n)s is not graded.", n=ctx.school_class.grade)})
    codes = {w["code"]: w["kind"] for w in ctx.grading["work_types"]}
    due = {f"grade:{code}": deadlines.grade_due(ctx.deadlines["grade"], work, ctx.school_class.grade,
                                                lesson.held_on, ctx.zone) for code, work in codes.items()}
    pupils = {p.id for p in pupils_of(lesson)} if many else None
    existing = ({(g_.pupil_id, g_.work_type): g_ for g_ in db.session.execute(
        select(Grade).where(Grade.lesson_id == lesson.id)).scalars()} if many else {})

    def enrolled_with_grade(pupil_id, work_type):
        """Whether the pupil is in the class on the lesson's date, and their grade in the
        column: from the column's rows, or for one cell in one statement."""
        if many:
            return pupil_id in pupils, existing.get((pupil_id, work_type))
        row = db.session.execute(
            select(Enrolment.id, Grade)
            .outerjoin(Grade, (Grade.pupil_id == Enrolment.pupil_id) & (Grade.lesson_id == lesson.id)
                       & (Grade.work_type == work_type))
            .where(Enrolment.pupil_id == pupil_id, Enrolment.class_id == lesson.class_id,
                   Enrolment.from_on <= lesson.held_on,
                   (Enrolment.to_on.is_(None)) | (Enrolment.to_on >= lesson.held_on)).limit(1)).first()
        return row is not None, row[1] if row is not None else None

    def write(pupil_id, value, work_type, comment, version):
        errors = {}
        if value not in ctx.grading["scale"]:
            errors["value"] = _("Use a mark of the scale: %(scale)s.", scale=", ".join(ctx.grading["scale"]))
        if work_type not in codes:
            errors["work_type"] = _("Unknown work type %(code)s.", code=work_type)
        enrolled, grade = enrolled_with_grade(pupil_id, work_type) if not errors else (False, None)
        if not errors and not enrolled:
            errors["pupil_id"] = _("The pupil is not in this class on the lesson's date.")
        if errors:
            raise JournalError(errors)
        _check_version(grade, version)
        before = {"value": grade.value, "comment": grade.comment} if grade else None
        now = utcnow()
        if grade is None:
            grade = existing[(pupil_id, work_type)] = Grade(
                lesson_id=lesson.id, pupil_id=pupil_id, work_type=work_type, tenant_id=lesson.tenant_id,
                region_id=lesson.region_id)
            db.session.add(grade)
        grade.value, grade.comment = value, (comment or None)
        grade.entered_at, grade.entered_by = now, current_user.id
        grade.is_late = deadlines.is_late(now, due[f"grade:{work_type}"])
        after = {"pupil_id": pupil_id, "work_type": work_type, "value": value, "late": grade.is_late}
        if many:  # the column flushes once, then audits
            return grade, lambda: _audit(ctx, "journal.grade", before, after, reason, kind)
        _flush_or_conflict(lambda: select(Grade).where(Grade.lesson_id == lesson.id, Grade.pupil_id == pupil_id,
                                                       Grade.work_type == work_type))
        _audit(ctx, "journal.grade", before, after, reason, kind)
        return grade

    return write


def delete_grade(lesson: Lesson, pupil_id: int, work_type: str, *, version: int, reason=None):
    """Clear a grade the writer saw at ``version``; clearing one already gone changes nothing."""
    ctx = context(lesson)
    kind = authorise_write(ctx, record_of(lesson), reason)
    grade = db.session.execute(select(Grade).where(Grade.lesson_id == lesson.id, Grade.pupil_id == pupil_id,
                                                   Grade.work_type == work_type)).scalar_one_or_none()
    if grade is None:
        return None
    _check_version(grade, version)
    before = {"pupil_id": pupil_id, "work_type": work_type, "value": grade.value}
    db.session.delete(grade)
    db.session.flush()
    _audit(ctx, "journal.grade.delete", before, None, reason, kind)
    return before


def lesson_view(lesson: Lesson) -> dict:
    """The lesson with its record, attendance, grades and due times (for the API and pages)."""
    ctx = context(lesson)
    if not can_read(ctx):
        tenants.require(False)
    record = record_of(lesson)
    due = due_times(ctx)
    return {
        "lesson": lesson, "record": record, "due": due, "version": record.version if record else NO_RECORD,
        "attendance": db.session.execute(select(Attendance).where(Attendance.lesson_id == lesson.id)).scalars().all(),
        "grades": db.session.execute(select(Grade).where(Grade.lesson_id == lesson.id)).scalars().all(),
        "pupils": pupils_of(lesson), "locked": is_locked(ctx), "timezone": str(ctx.zone), "context": ctx,
    }


def set_absence(lesson: Lesson, pupil_id: int, status: str | None, *, reason=None, correction_reason=None):
    """One pupil's mark from the journal grid (``None``: present). Only that pupil's row
    changes, so marks typed quickly down a column do not overwrite each other; the first
    mark also records that attendance was taken (DL-1)."""
    ctx = context(lesson)
    record = record_of(lesson)
    kind = authorise_write(ctx, record, correction_reason)
    if pupil_id not in {p.id for p in pupils_of(lesson)}:
        raise JournalError({"pupil_id": _("The pupil is not in this class on the lesson's date.")})
    if status == "excused" and not (reason or "").strip():
        raise JournalError({"reason": _("An excused absence needs its reason.")})
    due = due_times(ctx)["attendance"]
    row = db.session.execute(select(Attendance).where(Attendance.lesson_id == lesson.id,
                                                      Attendance.pupil_id == pupil_id)).scalar_one_or_none()
    before = {"pupil_id": pupil_id, "status": row.status if row else None}
    if status is None:
        if row is not None:
            db.session.delete(row)
    else:
        row = row or Attendance(lesson_id=lesson.id, pupil_id=pupil_id, tenant_id=lesson.tenant_id,
                                region_id=lesson.region_id)
        row.status, row.reason = status, reason or None
        db.session.add(row)
    record = record or record_of(lesson, create=True)
    if record.attendance_at is None:
        # Stamped once, with a plain UPDATE: marks typed quickly down a column must not
        # conflict over the record's version.
        from sqlalchemy import update

        now = utcnow()
        db.session.flush()
        db.session.execute(
            update(LessonRecord).where(LessonRecord.id == record.id, LessonRecord.attendance_at.is_(None))
            .values(attendance_at=now, attendance_by=current_user.id, attendance_late=deadlines.is_late(now, due))
            .execution_options(synchronize_session=False))
        db.session.refresh(record)
    db.session.flush()
    _audit(ctx, "journal.attendance", before, {"pupil_id": pupil_id, "status": status}, correction_reason, kind)
    return record


@dataclass
class _RecordRow:
    topic: str | None
    substitute_id: int | None


@dataclass
class Grid:
    """The journal page of one class, subject and term: pupils by lessons."""

    school_class: SchoolClass
    subject: object
    term: Term
    lessons: list
    pupils: list
    grades: dict  # (lesson_id, pupil_id) -> [Grade]
    absences: dict  # (lesson_id, pupil_id) -> Attendance
    records: dict  # lesson_id -> LessonRecord
    work_types: list
    scale: list
    can_write: set  # lesson ids the user may write
    today: dt.date


def grid(school, school_class: SchoolClass, subject, term: Term, today: dt.date, staff_id: int | None) -> Grid:
    """Everything the page shows on ``today`` (the school's date) to the reader whose staff
    id is given (None: not a teacher of the school), in a fixed number of queries whatever
    the class size and the number of lessons: the lessons with their records, the pupils,
    and the grades and absences together. Called by :func:`grid_table`, which checks access."""
    from sqlalchemy import literal, null, union_all

    lesson_rows = db.session.execute(
        select(Lesson, LessonRecord.topic, LessonRecord.substitute_id)
        .outerjoin(LessonRecord, LessonRecord.lesson_id == Lesson.id)
        .where(Lesson.class_id == school_class.id, Lesson.subject_id == subject.id, Lesson.term_id == term.id,
               Lesson.is_cancelled.is_(False)).order_by(Lesson.held_on, Lesson.period)).all()
    lessons = [row[0] for row in lesson_rows]
    ids = [l.id for l in lessons]
    pupils = db.session.execute(
        select(Pupil.id, Pupil.last_name, Pupil.first_name).join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Enrolment.class_id == school_class.id, Enrolment.to_on.is_(None))
        .order_by(Pupil.last_name, Pupil.first_name)).all()
    # Plain rows, not ORM objects: the page has about a thousand cells.
    grades, absences = {}, {}
    if ids:
        marks = select(Grade.lesson_id, Grade.pupil_id, Grade.value, Grade.work_type, Grade.is_late,
                       Grade.version).where(Grade.lesson_id.in_(ids))
        absent = select(Attendance.lesson_id, Attendance.pupil_id, Attendance.status, null(), literal(False),
                        null()).where(Attendance.lesson_id.in_(ids))
        for row in db.session.execute(union_all(marks, absent)):
            if row[5] is None:
                absences[(row[0], row[1])] = row[2]
            else:
                grades.setdefault((row[0], row[1]), []).append(row)
    records = {lesson.id: _RecordRow(topic, substitute) for lesson, topic, substitute in lesson_rows
               if topic is not None or substitute is not None}
    regulation = tenants.effective(school, today).document
    locked = roster.period_closed(term.ends_on, regulation, today)
    writable = set()
    if staff_id is not None and not locked:
        writable = {l.id for l in lessons
                    if staff_id in (l.teacher_id, records[l.id].substitute_id if l.id in records else None)}
    return Grid(school_class, subject, term, lessons, pupils, grades, absences, records,
                regulation["grading"]["work_types"], regulation["grading"]["scale"], writable, today)


GRID_CACHE = "tabel.journal.grids"


@dataclass(frozen=True)
class SubjectRow:
    id: int
    name: str


@dataclass(frozen=True)
class TermRow:
    id: int
    number: int
    starts_on: dt.date
    ends_on: dt.date
    level_from: int
    level_to: int


@dataclass(frozen=True)
class GridTable:
    """What the journal page shows: the choice of subject and term, the chosen ones, and
    the table as ready HTML with the scale and work types its keyboard entry needs."""

    subjects: tuple
    terms: tuple
    subject: SubjectRow | None
    term: TermRow | None
    head: str = ""
    body: str = ""
    work_types: tuple = ()
    scale: tuple = ()


def class_choices(school_class: SchoolClass):
    """The class's subjects (those with an assignment) and its grade level's terms, in one
    statement: a kept journal page that must be built again costs one statement less."""
    from sqlalchemy import Date, Integer, cast, literal, literal_column, null, union_all

    from blueprints.roster.models import Assignment, Subject

    number, day = cast(null(), Integer), cast(null(), Date)  # typed: PostgreSQL matches UNION columns by type
    subjects = (select(literal(0).label("kind"), Subject.id.label("id"), Subject.name.label("name"),
                       number.label("number"), day.label("starts_on"), day.label("ends_on"),
                       number.label("level_from"), number.label("level_to"))
                .join(Assignment, Assignment.subject_id == Subject.id)
                .where(Assignment.class_id == school_class.id).distinct())
    terms = select(literal(1), Term.id, cast(null(), Subject.name.type), Term.number, Term.starts_on, Term.ends_on, Term.level_from,
                   Term.level_to).where(Term.year_id == school_class.year_id)
    rows = db.session.execute(union_all(subjects, terms).order_by(
        literal_column("kind"), literal_column("name"), literal_column("number"))).all()
    return (tuple(SubjectRow(row.id, row.name) for row in rows if row.kind == 0),
            tuple(TermRow(row.id, row.number, _as_date(row.starts_on), _as_date(row.ends_on), row.level_from,
                          row.level_to)
                  for row in rows if row.kind == 1 and row.level_from <= school_class.grade <= row.level_to))


def _as_date(value):
    """A date column read through a UNION: SQLite hands it back as text."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def choose(subjects, terms, subject_id, term_id, today):
    """The requested subject and term, else the first subject and the term running today."""
    subject = next((s_ for s_ in subjects if s_.id == subject_id), subjects[0] if subjects else None)
    term = next((t for t in terms if t.id == term_id), None) or next(
        (t for t in terms if t.starts_on <= today <= t.ends_on), terms[0] if terms else None)
    return subject, term


def grid_table(school_class: SchoolClass, subject_id, term_id, lesson_url: str, no_topic: str) -> GridTable:
    """The journal page's content, kept per worker and served again while nothing it shows
    can have changed; on a hit the page's data costs one statement.

    The key holds everything the content depends on: the class, subject and term; the
    school's local date (what is missing, whether the period is locked, which term runs);
    the versions of the school's chain (its regulation, time zone); the reader's staff id
    (their writable columns); and the change stamps and audit heads of the chain
    (:mod:`core.changes`), which every committed write to the school's data, or to a tenant
    above it, advances.
    The stamps are read before the data, so nothing is kept under a stamp older than what
    it shows, and nothing made from this transaction's own uncommitted writes is kept."""
    from sqlalchemy import literal

    from core import changes
    from core.tenancy import unscoped

    school = tenants.load(school_class.tenant_id)
    if not roster.can_read(school):
        tenants.require(False)
    chain = tenants.chain_of(school)
    today = tenants.local_today(school, chain)
    limit = current_app.config.get("JOURNAL_GRID_CACHE_SIZE", 512)
    cache = current_app.extensions.setdefault(GRID_CACHE, _Lru()) if limit else _Lru()
    reader = []
    if _teacher_reads():
        # The reader's staff id rides along, filtered by the school the scope let us load.
        reader.append(select(literal(2), literal(school.id), Staff.id).where(
            Staff.tenant_id == school.id, Staff.user_id == current_user.id))
    stmt = changes.stamp_rows([t.id for t in chain], *reader)
    with unscoped("journal: change stamps and audit heads of the school's chain", routine=True):
        found = tuple(sorted(tuple(row) for row in db.session.execute(stmt)))
    base = (school_class.id, today, tuple((t.id, t.version) for t in chain), found)

    def keep(key, value):
        if limit and not changes.pending(db.session):
            cache.put(key, value, limit)
        return value

    choices = cache.get(("choices", base)) or keep(("choices", base), class_choices(school_class))
    subject, term = choose(*choices, subject_id, term_id, today)
    if subject is None or term is None:
        return GridTable(*choices, subject, term)
    key = ("table", base, subject.id, term.id, lesson_url, str(no_topic))
    table = cache.get(key)
    if table is None:
        staff_id = next((value for kind, _tenant, value in found if kind == 2), None)
        data = grid(school, school_class, subject, term, today, staff_id)  # the key's date, also across midnight
        table = keep(key, GridTable(*choices, subject, term, *grid_html(data, lesson_url, no_topic),
                                    tuple(data.work_types), tuple(data.scale)))
    return table


class _Lru:
    """A small least-recently-used map, safe across a worker's threads."""

    def __init__(self):
        import collections
        import threading

        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value, limit):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > limit:
                self._items.popitem(last=False)


def grid_html(data: Grid, lesson_url: str, no_topic: str):
    """The table's header and body as ready HTML, built in one pass: the page has about a
    thousand cells, which a template would render one call at a time. ``lesson_url`` is
    the lesson page's address with ``{}`` for the id. Every value is escaped once."""
    from markupsafe import Markup, escape

    memo = {}

    def esc(value):
        if value not in memo:
            memo[value] = str(escape(value))
        return memo[value]

    head = []
    for lesson in data.lessons:
        record = data.records.get(lesson.id)
        topic = record.topic if record is not None else None
        attrs = ' data-w="1"' if lesson.id in data.can_write else ""
        if lesson.held_on <= data.today and not topic:
            attrs += ' class="missing"'
        head.append(f'<th scope="col" data-l="{lesson.id}"{attrs}><a href="{lesson_url.format(lesson.id)}" '
                    f'title="{escape(topic or no_topic)}">{lesson.held_on:%d.%m}</a></th>')
    cells = {}
    for key, marks in data.grades.items():
        late = ' class="l"' if any(m.is_late for m in marks) else ""
        if len(marks) == 1:
            mark = marks[0]
            cells[key] = f'<td{late} data-v="{int(mark.version)}" data-t="{esc(mark.work_type)}">{esc(mark.value)}</td>'
        else:
            cells[key] = f"<td{late}>{esc('/'.join(m.value for m in marks))}</td>"
    for key in data.absences:
        cells[key] = "<td>н</td>"
    lesson_ids = [lesson.id for lesson in data.lessons]
    body = []
    for pupil_id, last_name, first_name in data.pupils:
        row = "".join([cells.get((lesson_id, pupil_id), "<td></td>") for lesson_id in lesson_ids])
        body.append(f'<tr data-p="{pupil_id}"><th scope="row">{escape(last_name)} {escape(first_name)}</th>{row}</tr>')
    return Markup("".join(head)), Markup("\n".join(body))


# What is missing or overdue (MO-1 inputs, DL-6) -------------------------------------------------

COMPONENTS = ("topic", "attendance", "homework")


def missing(school, *, teacher_id=None, class_id=None, since: dt.date | None = None, until: dt.date | None = None):
    """Lessons held up to today whose topic, attendance or homework is not entered, with
    whether each is past its due time, judged by the regulation in force on the lesson's
    date. A fixed number of queries whatever the number of lessons."""
    chain = tenants.chain_of(school)
    zone = ZoneInfo(tenants.inherited(school, chain)["timezone"])
    now = dt.datetime.now(dt.timezone.utc)
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


# Final marks (GR-1, IN-6) -------------------------------------------------------------------------

def suggested_mark(grades: list, grading: dict) -> str | None:
    """The mean of a pupil's numeric grades in the period, or their mean weighted by work
    type (``weight``, 1 if unset) when ``final_mark_rule`` is ``weighted``; rounded half up
    and kept on the scale. None without grades."""
    from decimal import ROUND_HALF_UP, Decimal

    weights = {w["code"]: (w.get("weight") or 1) for w in grading["work_types"]}
    weighted = grading.get("final_mark_rule") == "weighted"
    total = count = Decimal(0)
    for grade in grades:
        try:
            value = Decimal(grade.value)
        except ArithmeticError:
            continue
        weight = Decimal(weights.get(grade.work_type, 1) if weighted else 1)
        total += value * weight
        count += weight
    if not count:
        return None
    mark = str((total / count).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    scale = grading["scale"]
    return mark if mark in scale else (scale[-1] if Decimal(mark) > Decimal(scale[-1]) else scale[0])


def term_marks(school_class: SchoolClass, subject_id: int, term: Term) -> list[dict]:
    """Per pupil: the term's grades, the suggested mark (a forecast while the term runs,
    IN-6) and the mark set, if any. A fixed number of queries."""
    from blueprints.journal.models import FinalMark

    school = tenants.load(school_class.tenant_id)
    if not roster.can_read(school):
        tenants.require(False)
    grading = tenants.effective(school, term.ends_on).document["grading"]
    lessons = [l for (l,) in db.session.execute(select(Lesson.id).where(
        Lesson.class_id == school_class.id, Lesson.subject_id == subject_id, Lesson.term_id == term.id))]
    grades: dict[int, list] = {}
    if lessons:
        for grade in db.session.execute(select(Grade).where(Grade.lesson_id.in_(lessons))).scalars():
            grades.setdefault(grade.pupil_id, []).append(grade)
    marks = {m.pupil_id: m for m in db.session.execute(select(FinalMark).where(
        FinalMark.class_id == school_class.id, FinalMark.subject_id == subject_id,
        FinalMark.period_key == f"term:{term.id}")).scalars()}
    zone = ZoneInfo(tenants.inherited(school)["timezone"])
    running = dt.datetime.now(zone).date() <= term.ends_on
    pupils = db.session.execute(select(Pupil).join(Enrolment, Enrolment.pupil_id == Pupil.id).where(
        Enrolment.class_id == school_class.id, Enrolment.to_on.is_(None))
        .order_by(Pupil.last_name, Pupil.first_name)).scalars().all()
    norm = int(grading.get("min_grades_per_period", 3))
    return [{"pupil": p, "grades": [g.value for g in grades.get(p.id, [])],
             "suggested": suggested_mark(grades.get(p.id, []), grading), "is_forecast": running,
             "below_norm": len(grades.get(p.id, [])) < norm, "mark": marks.get(p.id)} for p in pupils]


def set_term_mark(school_class: SchoolClass, subject_id: int, term: Term, pupil_id: int, value: str, *,
                  version: int | None, reason=None, kind="term", period_key=None):
    """The teacher of the class's subject sets a term mark; it is visible to the pupil and
    guardians at once (DL-4 allows up to ``results_visible_days``)."""
    from blueprints.journal.models import FinalMark
    from blueprints.roster.models import Assignment

    school = tenants.load(school_class.tenant_id)
    regulation = tenants.effective(school, term.ends_on).document
    staff = acting_staff(school)
    teaches = staff is not None and db.session.execute(select(Assignment.id).where(
        Assignment.class_id == school_class.id, Assignment.subject_id == subject_id,
        Assignment.teacher_id == staff.id)).first() is not None
    zone = ZoneInfo(tenants.inherited(school)["timezone"])
    locked = roster.period_closed(term.ends_on, regulation, dt.datetime.now(zone).date())
    membership = g.get("membership")
    if locked:
        if membership is None or membership.role != "school_admin":
            tenants.require(False)
        if not (reason or "").strip():
            raise JournalError({"reason": _("The period is closed: a correction needs a reason.")})
    elif not (teaches and membership is not None and membership.role == "teacher"):
        tenants.require(False)
    if school_class.grade in regulation["grading"]["ungraded_levels"]:
        raise JournalError({"value": _("Grade %(n)s is not graded.", n=school_class.grade)})
    if value not in regulation["grading"]["scale"]:
        raise JournalError({"value": _("Use a mark of the scale: %(scale)s.", scale=", ".join(regulation["grading"]["scale"]))})
    if pupil_id not in {p.id for p in roster.class_roster(school_class)}:
        raise JournalError({"pupil_id": _("The pupil is not in this class on the lesson's date.")})
    period_key = period_key or f"term:{term.id}"
    mark = db.session.execute(select(FinalMark).where(
        FinalMark.pupil_id == pupil_id, FinalMark.subject_id == subject_id,
        FinalMark.kind == kind, FinalMark.period_key == period_key)).scalar_one_or_none()
    _check_version(mark, version)  # None: the writer saw no mark
    before = {"value": mark.value} if mark else None
    if mark is None:
        mark = FinalMark(pupil_id=pupil_id, class_id=school_class.id, subject_id=subject_id, kind=kind,
                         term_id=term.id if kind == "term" else None, period_key=period_key, tenant_id=school.id,
                         region_id=school_class.region_id)
        db.session.add(mark)
    mark.value, mark.entered_at, mark.entered_by = value, utcnow(), current_user.id
    _flush_or_conflict(lambda: select(FinalMark).where(FinalMark.pupil_id == pupil_id,
                                                       FinalMark.subject_id == subject_id,
                                                       FinalMark.period_key == period_key))
    audit.record(tenant_id=school.id, action="journal.final_mark", obj_type="final_mark", obj_id=mark.id,
                 before=before, after={"pupil_id": pupil_id, "subject_id": subject_id, "kind": kind,
                                       "period": period_key, "value": value}, reason=reason)
    return mark


# Remarks (IN-5) and history -----------------------------------------------------------------------

def add_remark(lesson: Lesson, pupil_id: int, kind: str, text: str):
    from blueprints.journal.models import Remark

    ctx = context(lesson)
    authorise_write(ctx, record_of(lesson), None)
    if kind not in ("remark", "praise", "note"):
        raise JournalError({"kind": _("Choose a remark, praise or note.")})
    if not (text or "").strip():
        raise JournalError({"text": _("Write the remark.")})
    if pupil_id not in {p.id for p in pupils_of(lesson)}:
        raise JournalError({"pupil_id": _("The pupil is not in this class on the lesson's date.")})
    row = Remark(lesson_id=lesson.id, pupil_id=pupil_id, kind=kind, text=text.strip(), entered_at=utcnow(),
                 entered_by=current_user.id, tenant_id=lesson.tenant_id, region_id=lesson.region_id)
    db.session.add(row)
    db.session.flush()
    _audit(ctx, "journal.remark", None, {"pupil_id": pupil_id, "kind": kind, "text": row.text}, None, "entry")
    return row


def may_name_substitute(ctx: Context) -> bool:
    """Before the period locks: the school's admin, or the lesson's timetabled teacher."""
    membership = g.get("membership")
    if membership is None:
        return False
    if membership.role == "school_admin":
        return roster.can_manage(ctx.school)
    own = acting_staff(ctx.school)
    return membership.role == "teacher" and own is not None and own.id == ctx.lesson.teacher_id


def set_substitute(lesson: Lesson, staff_id: int | None, *, version: int, reason=None) -> LessonRecord:
    """DL-1: who taught the lesson when it was not the timetabled teacher, recorded with the
    entry. The school's admins set it (the substitute then writes the lesson), as does the
    timetabled teacher; ``None`` clears it. After the period locks it is a correction."""
    ctx = context(lesson)
    record = record_of(lesson)
    if is_locked(ctx):
        kind = authorise_write(ctx, record, reason)  # a correction by an admin, with a reason
    else:
        tenants.require(may_name_substitute(ctx))
        kind = "entry"
    if staff_id is not None:
        staff = db.session.execute(select(Staff).where(Staff.id == staff_id, Staff.tenant_id == ctx.school.id,
                                                       Staff.is_active.is_(True))).scalar_one_or_none()
        if staff is None:
            raise JournalError({"substitute_id": _("Choose a teacher of this school.")})
        if staff.id == lesson.teacher_id:
            staff_id = None  # the timetabled teacher taught it after all
    record = _record_to_write(lesson, record, version)
    before = {"substitute_id": record.substitute_id}
    record.substitute_id = staff_id
    _flush_or_conflict(lambda: select(LessonRecord).where(LessonRecord.lesson_id == lesson.id))
    _audit(ctx, "journal.substitute", before, {"substitute_id": staff_id}, reason, kind)
    return record


def remarks_of(lesson: Lesson) -> list:
    """The lesson's remarks to parents, newest first."""
    from blueprints.journal.models import Remark

    return db.session.execute(select(Remark).where(Remark.lesson_id == lesson.id)
                              .order_by(Remark.entered_at.desc(), Remark.id.desc())).scalars().all()


def history(lesson: Lesson, pupil_id: int | None = None) -> list:
    """The audited changes of a lesson (of one pupil's cells when ``pupil_id`` is given)."""
    from core.audit import AuditEntry

    ctx = context(lesson)
    if not can_read(ctx):
        tenants.require(False)
    rows = db.session.execute(select(AuditEntry).where(
        AuditEntry.tenant_id == lesson.tenant_id, AuditEntry.object_type == "lesson",
        AuditEntry.object_id == str(lesson.id)).order_by(AuditEntry.seq)).scalars().all()
    if pupil_id is None:
        return rows

    def concerns(entry):
        for side in (entry.before, entry.after):
            if isinstance(side, dict) and (side.get("pupil_id") == pupil_id or str(pupil_id) in side):
                return True
        return False

    return [r for r in rows if concerns(r)]


def year_marks(school_class: SchoolClass, subject_id: int) -> list[dict]:
    """Per pupil: the term marks of the year, the suggested year mark (their mean) and the
    year, exam and final marks set."""
    from blueprints.journal.models import FinalMark

    school = tenants.load(school_class.tenant_id)
    if not roster.can_read(school):
        tenants.require(False)
    grading = tenants.effective(school, tenants.local_today(school)).document["grading"]
    marks: dict[int, dict] = {}
    for mark in db.session.execute(select(FinalMark).where(
            FinalMark.class_id == school_class.id, FinalMark.subject_id == subject_id)).scalars():
        entry = marks.setdefault(mark.pupil_id, {"terms": [], "year": None, "exam": None, "final": None})
        if mark.kind == "term":
            entry["terms"].append(mark)
        else:
            entry[mark.kind] = mark
    out = []
    for pupil in roster.class_roster(school_class):
        entry = marks.get(pupil.id, {"terms": [], "year": None, "exam": None, "final": None})
        as_grades = [SimpleGrade(m.value, "") for m in entry["terms"]]
        out.append({"pupil": pupil, "terms": [m.value for m in entry["terms"]],
                    "suggested": suggested_mark(as_grades, {**grading, "final_mark_rule": "mean"}),
                    "year": entry["year"], "exam": entry["exam"], "final": entry["final"]})
    return out


@dataclass
class SimpleGrade:
    value: str
    work_type: str


def set_year_mark(school_class: SchoolClass, subject_id: int, kind: str, pupil_id: int, value: str, *,
                  version: int | None, reason=None):
    """A year, exam or final mark (GR-1): by the subject's teacher until the year's last term
    locks, then by a school admin with a reason."""
    from blueprints.journal.models import FINAL_KINDS, FinalMark

    if kind not in FINAL_KINDS or kind == "term":
        raise JournalError({"kind": _("Choose year, exam or final.")})
    terms = db.session.execute(select(Term).where(Term.year_id == school_class.year_id,
                                                  Term.level_from <= school_class.grade,
                                                  Term.level_to >= school_class.grade)
                               .order_by(Term.ends_on.desc())).scalars().all()
    if not terms:
        raise JournalError({"kind": _("The class's year has no terms.")})
    # The year closes with its last term: reuse the term rule with the last term.
    return set_term_mark(school_class, subject_id, terms[0], pupil_id, value, version=version, reason=reason,
                         kind=kind, period_key=f"{kind}:{school_class.year_id}")
