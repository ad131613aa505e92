"""A lesson's entries: topic (DL-1), homework (DL-2), attendance (DL-1), grades (GR-1, GR-2;
due by ``deadlines.grade_due``), the substitute (DL-1) and remarks to parents (IN-5). Each
write is authorised, checked against the version its writer saw, stamped with who and when
and whether it was late (``deadlines.is_late``: marked, never refused), and audited; and
the lesson is read back with its due times and its audited history."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import audit, signals
from core.errors import NotAllowed, Refused, require
from core.extensions import db
from core.orm import utcnow
from blueprints.journal import deadlines
from blueprints.journal.context import (NO_RECORD, Actor, Context, check_version, context,
                                        flush_or_conflict, record_of)
from blueprints.journal.models import ATTENDANCE_STATUSES, Attendance, Grade, LessonRecord
from blueprints.journal.permissions import authorise_write, can_read, is_locked, may_name_substitute
from blueprints.roster.models import Enrolment, Lesson, Pupil, Staff


def _record_to_write(lesson: Lesson, record: LessonRecord | None, version) -> LessonRecord:
    """The lesson's record, made if missing, for a write based on ``version``."""
    check_version(record, version, absent=NO_RECORD)
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

def marks_wait(ctx: Context) -> bool:
    """DL-2: topics and homework may be planned ahead, grades and absence marks may not: they
    wait for the lesson's local day (DL-5) unless the regulation in force on the lesson's
    date allows them earlier (``deadlines.grades_and_absences_ahead``)."""
    return (not ctx.deadlines.get("grades_and_absences_ahead")
            and deadlines.before_lesson_day(utcnow(), ctx.lesson.held_on, ctx.zone))


def refuse_ahead(ctx: Context, field: str):
    """Refuse a grade or an absence mark that must wait for the lesson's day (:func:`marks_wait`),
    naming the lesson's date."""
    if marks_wait(ctx):
        raise Refused({field: _("Grades and absence marks are entered no earlier than the lesson's day (%(date)s).",
                                date=ctx.lesson.held_on.strftime("%d.%m.%Y"))})


def _audit(ctx, by: Actor, action, before, after, reason, kind):
    audit.record(tenant_id=ctx.school.id, action=action, obj_type="lesson", obj_id=ctx.lesson.id,
                 before=before, after=after, reason=reason if kind == "correction" or reason else None,
                 actor_id=by.user_id)


def set_topic(lesson: Lesson, topic: str, *, by: Actor, version: int, reason=None) -> LessonRecord:
    """DL-1: the topic is due by the end of the lesson's day; a late entry is marked."""
    ctx = context(lesson, by)
    record = record_of(lesson)
    kind = authorise_write(ctx, by, record, reason)
    due = due_times(ctx)["topic"]
    record = _record_to_write(lesson, record, version)
    before = {"topic": record.topic}
    now = utcnow()
    record.topic = (topic or "").strip() or None
    record.topic_at, record.topic_by = now, by.user_id
    record.topic_late = deadlines.is_late(now, due)
    flush_or_conflict(lambda: select(LessonRecord).where(LessonRecord.lesson_id == lesson.id))
    _audit(ctx, by, "journal.topic", before, {"topic": record.topic, "late": record.topic_late}, reason, kind)
    return record


def set_homework(lesson: Lesson, homework: str | None, *, by: Actor, no_homework=False, version: int,
                 reason=None) -> LessonRecord:
    """DL-2: homework (or the explicit "no homework") is due an hour after the class's last
    lesson of the day; entering it ahead of the lesson is on time."""
    ctx = context(lesson, by)
    record = record_of(lesson)
    kind = authorise_write(ctx, by, record, reason)
    text = (homework or "").strip() or None
    if not text and not no_homework:
        raise Refused({"homework": _("Write the homework, or mark that none is set.")})
    due = due_times(ctx)["homework"]
    record = _record_to_write(lesson, record, version)
    before = {"homework": record.homework, "no_homework": record.no_homework}
    now = utcnow()
    record.homework, record.no_homework = (None, True) if no_homework else (text, False)
    record.homework_at, record.homework_by = now, by.user_id
    record.homework_late = deadlines.is_late(now, due)
    flush_or_conflict(lambda: select(LessonRecord).where(LessonRecord.lesson_id == lesson.id))
    _audit(ctx, by, "journal.homework", before, {"homework": record.homework, "no_homework": record.no_homework,
                                             "late": record.homework_late}, reason, kind)
    signals.journal_entry("homework", record)
    return record


def pupils_of(lesson: Lesson) -> list[Pupil]:
    return db.session.execute(
        select(Pupil).join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Enrolment.class_id == lesson.class_id, Enrolment.from_on <= lesson.held_on,
               (Enrolment.to_on.is_(None)) | (Enrolment.to_on >= lesson.held_on))
        .order_by(Pupil.last_name, Pupil.first_name)).scalars().all()


def take_attendance(lesson: Lesson, absences: list[dict], *, by: Actor, version: int, reason=None) -> LessonRecord:
    """DL-1: attendance is due by the end of the lesson's day. An empty list is the explicit
    "taken, all present"."""
    ctx = context(lesson, by)
    record = record_of(lesson)
    kind = authorise_write(ctx, by, record, reason)
    refuse_ahead(ctx, "absences")
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
        raise Refused(errors)
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
    record.attendance_at, record.attendance_by = now, by.user_id
    record.attendance_late = deadlines.is_late(now, due)
    flush_or_conflict(lambda: select(LessonRecord).where(LessonRecord.lesson_id == lesson.id))
    _audit(ctx, by, "journal.attendance", before, {str(p): i["status"] for p, i in wanted.items()}, reason, kind)
    return record


def set_grade(lesson: Lesson, pupil_id: int, *, by: Actor, value: str, work_type: str, comment=None,
              version: int | None, reason=None) -> Grade:
    """One pupil's grade in one work-type column, checked as :func:`write_grade` checks it."""
    column = grade_column(lesson, reason, by=by)
    grade, before, after = write_grade(column, pupil_id, value, work_type, comment, version)
    flush_or_conflict(lambda: select(Grade).where(Grade.lesson_id == lesson.id, Grade.pupil_id == pupil_id,
                                                   Grade.work_type == work_type))
    _audit(column.ctx, column.by, "journal.grade", before, after, reason, column.kind)
    signals.journal_entry("grade", grade)
    return grade


def set_grades(lesson: Lesson, entries: list[dict], *, by: Actor, reason=None) -> list[Grade]:
    """A whole column at once, in one transaction: each entry as ``set_grade`` would take it,
    with the lesson's context, roster and due times worked out once."""
    column = grade_column(lesson, reason, by=by, whole=True)
    out, changes, seen = [], [], {}
    for index, entry in enumerate(entries):
        cell = (entry["pupil_id"], entry["work_type"])
        if cell in seen:
            raise Refused({f"grades.{index}.pupil_id": _("The same pupil and work type are in entry %(n)s.",
                                                              n=seen[cell])})
        seen[cell] = index
        try:
            grade, before, after = write_grade(column, entry["pupil_id"], entry["value"], entry["work_type"],
                                               entry.get("comment"), entry["version"])
        except Refused as error:
            raise Refused({f"grades.{index}.{k}": v for k, v in error.errors.items()}, status=error.status,
                               current=error.current) from None
        out.append(grade)
        changes.append((before, after))
    # One flush for the column, then its audit entries, all in batches. A grade changed
    # meanwhile by someone else fails the version check: the whole column is refused (409)
    # and the error names the first entry whose version is no longer the one in the database.
    try:
        flush_or_conflict(lambda: select(Grade).where(Grade.id == -1))
    except Refused as error:
        if error.status != 409:
            raise
        now = {(g_.pupil_id, g_.work_type): g_ for g_ in db.session.execute(
            select(Grade).where(Grade.lesson_id == lesson.id)).scalars()}
        for index, entry in enumerate(entries):
            row = now.get((entry["pupil_id"], entry["work_type"]))
            if (row.version if row is not None else None) != entry["version"]:
                raise Refused({f"grades.{index}.version": error.errors["version"]}, status=409,
                                   current=row) from None
        raise
    for before, after in changes:
        _audit(column.ctx, column.by, "journal.grade", before, after, reason, column.kind)
    signals.journal_entry("grade", *out)
    return out


@dataclass
class GradeColumn:
    """A lesson's grades made ready for writing by ``by``: the lesson's context, whether the
    writes are entries or a correction, the work types (code to kind) with their due times,
    and, for a whole column, its roster and its grades (None: cells are looked up one by one)."""

    ctx: Context
    by: Actor
    kind: str
    work_types: dict  # code -> "oral" | "written"
    due: dict  # code -> due time (UTC), None where the grade level is not bound
    pupils: set | None = None
    grades: dict | None = None  # (pupil_id, work_type) -> Grade


def grade_column(lesson: Lesson, reason, *, by: Actor, whole=False) -> GradeColumn:
    """Authorise grade writes on the lesson and work out what every cell needs: none in an
    ungraded grade level (GR-2); each work type's due time (:func:`deadlines.grade_due`).
    With ``whole``, the roster and the lesson's grades are read once for the column."""
    ctx = context(lesson, by)
    kind = authorise_write(ctx, by, None, reason, load_record=True)
    if ctx.school_class.grade in ctx.grading["ungraded_levels"]:
        raise Refused({"value": _("Grade %(n)s is not graded.", n=ctx.school_class.grade)})
    refuse_ahead(ctx, "value")
    codes = {w["code"]: w["kind"] for w in ctx.grading["work_types"]}
    due = {code: deadlines.grade_due(ctx.deadlines["grade"], work, ctx.school_class.grade, lesson.held_on, ctx.zone)
           for code, work in codes.items()}
    if not whole:
        return GradeColumn(ctx, by, kind, codes, due)
    pupils = {p.id for p in pupils_of(lesson)}
    grades = {(g_.pupil_id, g_.work_type): g_ for g_ in db.session.execute(
        select(Grade).where(Grade.lesson_id == lesson.id)).scalars()}
    return GradeColumn(ctx, by, kind, codes, due, pupils, grades)


def _enrolled_with_grade(column: GradeColumn, pupil_id, work_type):
    """Whether the pupil is in the class on the lesson's date, and their grade in the
    column: from the column's rows, or for one cell in one statement."""
    if column.grades is not None:
        return pupil_id in column.pupils, column.grades.get((pupil_id, work_type))
    lesson = column.ctx.lesson
    row = db.session.execute(
        select(Enrolment.id, Grade)
        .outerjoin(Grade, (Grade.pupil_id == Enrolment.pupil_id) & (Grade.lesson_id == lesson.id)
                   & (Grade.work_type == work_type))
        .where(Enrolment.pupil_id == pupil_id, Enrolment.class_id == lesson.class_id,
               Enrolment.from_on <= lesson.held_on,
               (Enrolment.to_on.is_(None)) | (Enrolment.to_on >= lesson.held_on)).limit(1)).first()
    return row is not None, row[1] if row is not None else None


def write_grade(column: GradeColumn, pupil_id: int, value: str, work_type: str, comment, version):
    """One cell of a prepared column (GR-1): a value of the scale, a configured work type, a
    pupil of the class on the lesson's date, the version the writer saw; stamped late after
    the work type's due time. The grade is added to the session, not flushed: the caller
    flushes and audits ``before`` and ``after``, which this returns with it."""
    grading, lesson = column.ctx.grading, column.ctx.lesson
    errors = {}
    if value not in grading["scale"]:
        errors["value"] = _("Use a mark of the scale: %(scale)s.", scale=", ".join(grading["scale"]))
    if work_type not in column.work_types:
        errors["work_type"] = _("Unknown work type %(code)s.", code=work_type)
    enrolled, grade = _enrolled_with_grade(column, pupil_id, work_type) if not errors else (False, None)
    if not errors and not enrolled:
        errors["pupil_id"] = _("The pupil is not in this class on the lesson's date.")
    if errors:
        raise Refused(errors)
    check_version(grade, version)
    before = {"value": grade.value, "comment": grade.comment} if grade else None
    now = utcnow()
    if grade is None:
        grade = Grade(lesson_id=lesson.id, pupil_id=pupil_id, work_type=work_type, tenant_id=lesson.tenant_id,
                      region_id=lesson.region_id)
        if column.grades is not None:
            column.grades[(pupil_id, work_type)] = grade
        db.session.add(grade)
    grade.value, grade.comment = value, (comment or None)
    grade.entered_at, grade.entered_by = now, column.by.user_id
    grade.is_late = deadlines.is_late(now, column.due[work_type])
    return grade, before, {"pupil_id": pupil_id, "work_type": work_type, "value": value, "late": grade.is_late}


def delete_grade(lesson: Lesson, pupil_id: int, work_type: str, *, by: Actor, version: int, reason=None):
    """Clear a grade the writer saw at ``version``; clearing one already gone changes nothing."""
    ctx = context(lesson, by)
    kind = authorise_write(ctx, by, record_of(lesson), reason)
    grade = db.session.execute(select(Grade).where(Grade.lesson_id == lesson.id, Grade.pupil_id == pupil_id,
                                                   Grade.work_type == work_type)).scalar_one_or_none()
    if grade is None:
        return None
    check_version(grade, version)
    before = {"pupil_id": pupil_id, "work_type": work_type, "value": grade.value}
    db.session.delete(grade)
    db.session.flush()
    _audit(ctx, by, "journal.grade.delete", before, None, reason, kind)
    return before


def lesson_view(lesson: Lesson, *, actor: Actor) -> dict:
    """The lesson with its record, attendance, grades and due times (for the API and pages)."""
    ctx = context(lesson, actor)
    if not can_read(ctx):
        raise NotAllowed()
    record = record_of(lesson)
    due = due_times(ctx)
    return {
        "lesson": lesson, "record": record, "due": due, "version": record.version if record else NO_RECORD,
        "attendance": db.session.execute(select(Attendance).where(Attendance.lesson_id == lesson.id)).scalars().all(),
        "grades": db.session.execute(select(Grade).where(Grade.lesson_id == lesson.id)).scalars().all(),
        "pupils": pupils_of(lesson), "locked": is_locked(ctx), "timezone": str(ctx.zone), "context": ctx,
        "marks_wait": marks_wait(ctx),  # DL-2: grades and absences not taken yet (the page's form may say so)
    }


def set_absence(lesson: Lesson, pupil_id: int, status: str | None, *, by: Actor, reason=None,
                correction_reason=None):
    """One pupil's mark from the journal grid (``None``: present). Only that pupil's row
    changes, so marks typed quickly down a column do not overwrite each other; the first
    mark also records that attendance was taken (DL-1)."""
    ctx = context(lesson, by)
    record = record_of(lesson)
    kind = authorise_write(ctx, by, record, correction_reason)
    waits = marks_wait(ctx)
    if waits and status is not None:  # clearing a mark made while the regulation allowed it stays possible
        refuse_ahead(ctx, "status")
    if pupil_id not in {p.id for p in pupils_of(lesson)}:
        raise Refused({"pupil_id": _("The pupil is not in this class on the lesson's date.")})
    if status == "excused" and not (reason or "").strip():
        raise Refused({"reason": _("An excused absence needs its reason.")})
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
    if record.attendance_at is None and not waits:  # clearing ahead takes no attendance
        # Stamped once, with a plain UPDATE: marks typed quickly down a column must not
        # conflict over the record's version.
        from sqlalchemy import update

        now = utcnow()
        db.session.flush()
        db.session.execute(
            update(LessonRecord).where(LessonRecord.id == record.id, LessonRecord.attendance_at.is_(None))
            .values(attendance_at=now, attendance_by=by.user_id, attendance_late=deadlines.is_late(now, due))
            .execution_options(synchronize_session=False))
        db.session.refresh(record)
    db.session.flush()
    _audit(ctx, by, "journal.attendance", before, {"pupil_id": pupil_id, "status": status}, correction_reason, kind)
    return record


# Remarks (IN-5), the substitute, history --------------------------------------------------------

def add_remark(lesson: Lesson, pupil_id: int, kind: str, text: str, *, by: Actor):
    from blueprints.journal.models import Remark

    ctx = context(lesson, by)
    authorise_write(ctx, by, record_of(lesson), None)
    if kind not in ("remark", "praise", "note"):
        raise Refused({"kind": _("Choose a remark, praise or note.")})
    if not (text or "").strip():
        raise Refused({"text": _("Write the remark.")})
    if pupil_id not in {p.id for p in pupils_of(lesson)}:
        raise Refused({"pupil_id": _("The pupil is not in this class on the lesson's date.")})
    row = Remark(lesson_id=lesson.id, pupil_id=pupil_id, kind=kind, text=text.strip(), entered_at=utcnow(),
                 entered_by=by.user_id, tenant_id=lesson.tenant_id, region_id=lesson.region_id)
    db.session.add(row)
    db.session.flush()
    _audit(ctx, by, "journal.remark", None, {"pupil_id": pupil_id, "kind": kind, "text": row.text}, None, "entry")
    signals.journal_entry("remark", row)
    return row


def set_substitute(lesson: Lesson, staff_id: int | None, *, by: Actor, version: int, reason=None) -> LessonRecord:
    """DL-1: who taught the lesson when it was not the timetabled teacher, recorded with the
    entry. The school's admins set it (the substitute then writes the lesson), as does the
    timetabled teacher; ``None`` clears it. After the period locks it is a correction."""
    ctx = context(lesson, by)
    record = record_of(lesson)
    if is_locked(ctx):
        kind = authorise_write(ctx, by, record, reason)  # a correction by an admin, with a reason
    else:
        require(may_name_substitute(ctx, by))
        kind = "entry"
    if staff_id is not None:
        staff = db.session.execute(select(Staff).where(Staff.id == staff_id, Staff.tenant_id == ctx.school.id,
                                                       Staff.is_active.is_(True))).scalar_one_or_none()
        if staff is None:
            raise Refused({"substitute_id": _("Choose a teacher of this school.")})
        if staff.id == lesson.teacher_id:
            staff_id = None  # the timetabled teacher taught it after all
    record = _record_to_write(lesson, record, version)
    before = {"substitute_id": record.substitute_id}
    record.substitute_id = staff_id
    flush_or_conflict(lambda: select(LessonRecord).where(LessonRecord.lesson_id == lesson.id))
    _audit(ctx, by, "journal.substitute", before, {"substitute_id": staff_id}, reason, kind)
    return record


def remarks_of(lesson: Lesson) -> list:
    """The lesson's remarks to parents, newest first."""
    from blueprints.journal.models import Remark

    return db.session.execute(select(Remark).where(Remark.lesson_id == lesson.id)
                              .order_by(Remark.entered_at.desc(), Remark.id.desc())).scalars().all()


def history(lesson: Lesson, pupil_id: int | None = None, *, actor: Actor) -> list:
    """The audited changes of a lesson (of one pupil's cells when ``pupil_id`` is given)."""
    from core.audit import AuditEntry

    ctx = context(lesson, actor)
    if not can_read(ctx):
        raise NotAllowed()
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
