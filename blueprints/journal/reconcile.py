"""The journal's rows against their last audited values (RT-2, PR-4; security item 10).

The audit chain proves the log was not edited; it says nothing of a grade changed with an
``UPDATE`` that bypassed the service. So ``flask audit verify`` replays the journal's
entries of the log (oldest first per chain, the last entry of each object wins) and
compares the result with the rows as they stand: a row that differs from its last audited
value was edited outside the journal, a row with no entry was inserted outside it, and an
audited row that is gone was deleted outside it.

Each kind costs two streamed statements (the log's entries of its actions, then its
table), whatever the number of rows: memory holds the replayed state, one small tuple per
audited object. What the service records decides the key and the compared fields:

- grades: the lesson (``object_id``) with the pupil and work type of ``after`` (or
  ``before`` for ``journal.grade.delete``); value and lateness (``late``, set by
  ``deadlines.is_late``);
- attendance: the lesson with each pupil's status; ``take_attendance`` records the whole
  lesson (pupils absent from ``after`` are present), ``set_absence`` one pupil;
- term, year, exam and final marks: the mark's id; pupil, subject, kind, period, value;
- lesson records: topic and homework with their lateness, and the substitute.
"""
from __future__ import annotations

from sqlalchemy import select

from core import audit
from core.extensions import db
from blueprints.journal.models import Attendance, FinalMark, Grade, LessonRecord

GONE = object()  # the log's last word on the object is its deletion
INSERTED = "the row has no audit entry: inserted outside the journal"
REINSERTED = "the audit log's last entry deletes it, yet the row is there: inserted outside the journal"
DELETED = "the audit log has it, the row is gone: deleted outside the journal"
EDITED = "edited outside the journal: "
_ANY = object()  # a field the entry did not record: not compared


def _rows(model, *names):
    """The named columns of every row of the model's table, streamed as plain rows (no ORM
    loading: the demo has a hundred thousand grades)."""
    columns = [model.__table__.c[name] for name in names]
    return db.session.execute(select(*columns).execution_options(yield_per=5000))


def _show(value):
    return "nothing" if value is None else repr(value)


def _compare(result, audited: dict, rows, fields, describe):
    """Compare ``rows`` (key, tenant_id, values) with the replayed state ``audited``
    (key -> (tenant_id, values) or (tenant_id, GONE)); what is left of ``audited`` was
    deleted outside the journal."""
    for key, tenant_id, values in rows:
        result.rows += 1
        last = audited.pop(key, None)
        if last is None:
            result.mismatch(tenant_id, describe(key), INSERTED)
        elif last[1] is GONE:
            result.mismatch(tenant_id, describe(key), REINSERTED)
        elif changed := _changes(fields, values, last[1]):
            result.mismatch(tenant_id, describe(key), EDITED + changed)
    for key, (tenant_id, values) in audited.items():
        if values is not GONE:
            result.mismatch(tenant_id, describe(key), DELETED)


def _changes(fields, now, then) -> str:
    """Each field that differs, as «value is '2', the audit log's last value is '5'»."""
    return "; ".join(f"{name} is {_show(current)}, the audit log's last value is {_show(audited)}"
                     for name, current, audited in zip(fields, now, then)
                     if audited is not _ANY and current != audited)


def grades(result):
    audited = {}
    for entry in audit.audited_changes(["journal.grade", "journal.grade.delete"]):
        side = entry.after if entry.action == "journal.grade" else entry.before
        if not isinstance(side, dict) or "pupil_id" not in side:
            continue
        key = (int(entry.object_id), int(side["pupil_id"]), side["work_type"])
        if entry.action == "journal.grade":
            audited[key] = (entry.tenant_id, (side.get("value"), side.get("late", _ANY)))
        else:
            audited[key] = (entry.tenant_id, GONE)
    rows = (((r.lesson_id, r.pupil_id, r.work_type), r.tenant_id, (r.value, bool(r.is_late)))
            for r in _rows(Grade, "lesson_id", "pupil_id", "work_type", "tenant_id", "value", "is_late"))
    _compare(result, audited, rows, ("value", "late"),
             lambda k: f"grade (lesson {k[0]}, pupil {k[1]}, work type {k[2]})")


def attendance(result):
    audited = {}
    lessons: dict[tuple, set] = {}  # (tenant, lesson) -> the pupils the log has a word on
    for entry in audit.audited_changes(["journal.attendance"]):
        after = entry.after if isinstance(entry.after, dict) else {}
        lesson = int(entry.object_id)
        seen = lessons.setdefault((entry.tenant_id, lesson), set())
        if "pupil_id" in after:  # one pupil's mark (set_absence)
            marks = {int(after["pupil_id"]): after.get("status")}
        else:  # the lesson's whole list (take_attendance): everyone else is present
            marks = {pupil: None for pupil in seen}
            marks.update({int(pupil): status for pupil, status in after.items()})
        for pupil, status in marks.items():
            seen.add(pupil)
            audited[(lesson, pupil)] = (entry.tenant_id, GONE if status is None else (status,))
    rows = (((r.lesson_id, r.pupil_id), r.tenant_id, (r.status,))
            for r in _rows(Attendance, "lesson_id", "pupil_id", "tenant_id", "status"))
    _compare(result, audited, rows, ("status",), lambda k: f"attendance (lesson {k[0]}, pupil {k[1]})")


def final_marks(result):
    audited = {}
    for entry in audit.audited_changes(["journal.final_mark"]):
        after = entry.after or {}
        audited[int(entry.object_id)] = (entry.tenant_id, (
            after.get("pupil_id"), after.get("subject_id"), after.get("kind"), after.get("period"),
            after.get("value")))
    rows = ((r.id, r.tenant_id, (r.pupil_id, r.subject_id, r.kind, r.period_key, r.value))
            for r in _rows(FinalMark, "id", "tenant_id", "pupil_id", "subject_id", "kind", "period_key",
                           "value"))
    _compare(result, audited, rows, ("pupil", "subject", "kind", "period", "value"), lambda k: f"final mark {k}")


RECORD_FIELDS = ("topic", "topic late", "homework", "no homework", "homework late", "substitute")


def lesson_records(result):
    """A record is made by the first write of any kind on a lesson (an absence, a grade),
    so a lesson the log has no topic, homework or substitute for must have none."""
    audited: dict[int, list] = {}
    blank = [None, False, None, False, False, None]
    for entry in audit.audited_changes(["journal.topic", "journal.homework", "journal.substitute"]):
        after = entry.after or {}
        state = audited.setdefault(int(entry.object_id), [entry.tenant_id, *blank])
        if entry.action == "journal.topic":
            state[1:3] = [after.get("topic"), after.get("late", _ANY)]
        elif entry.action == "journal.homework":
            state[3:6] = [after.get("homework"), after.get("no_homework"), after.get("late", _ANY)]
        else:
            state[6] = after.get("substitute_id")
    for row in _rows(LessonRecord, "lesson_id", "tenant_id", "topic", "topic_late", "homework", "no_homework",
                     "homework_late", "substitute_id"):
        result.rows += 1
        values = (row.topic, bool(row.topic_late), row.homework, bool(row.no_homework), bool(row.homework_late),
                  row.substitute_id)
        state = audited.pop(row.lesson_id, None)
        if changed := _changes(RECORD_FIELDS, values, tuple(state[1:]) if state else tuple(blank)):
            result.mismatch(row.tenant_id, f"lesson record (lesson {row.lesson_id})", EDITED + changed)
    for lesson_id, state in audited.items():
        if tuple(state[1:]) != tuple(blank):
            result.mismatch(state[0], f"lesson record (lesson {lesson_id})", DELETED)


def journal_rows(result):
    """The journal's reconciler, registered with the core from ``init_app``."""
    for kind in (grades, attendance, final_marks, lesson_records):
        kind(result)
