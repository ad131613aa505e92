"""The lesson page's entry form: topic, homework, attendance and grades, read from the posted
fields and saved in one transaction through the rules of :mod:`blueprints.journal.entries`
(each write checked, stamped and audited there), and the rows the form shows.

The form's fields:

- ``topic``, ``homework``, ``no_homework``; ``version``: the lesson's version the page showed;
- ``attendance_taken``: the teacher's «everyone present except those marked» (DL-1); a
  lesson's attendance is taken when it is ticked or any pupil is marked, never by a save of
  the topic alone; ``status:<pupil>`` and ``reason:<pupil>`` per pupil not simply present;
- ``grade:<pupil>`` and ``work:<pupil>``: a new grade and its work type (GR-1);
- ``grade:<pupil>:<code>`` with ``was:…`` and ``version:…``: a grade the page showed, changed
  or (empty) cleared; the version it was shown at, so a grade changed meanwhile by someone
  else is a conflict (409) and nothing of the form is saved.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import Refused
from core.extensions import db
from blueprints.journal import entries
from blueprints.journal.context import Actor
from blueprints.journal.models import Attendance, Grade, LessonRecord
from blueprints.roster.models import Lesson


@dataclass(frozen=True)
class GradeChange:
    """One grade the form changes: a value to write (``None``: clear it) in a work-type
    column, based on the version the page showed (``None``: the page showed none)."""

    pupil_id: int
    work_type: str
    value: str | None
    version: int | None


def _int(text):
    return int(text) if text is not None and text.strip().lstrip("-").isdigit() else None


def grade_changes(form, work_types) -> list[GradeChange]:
    """The grades the posted form changes, one per (pupil, work type), in the order of the
    form: a grade shown and changed or cleared, a new grade with its work type (the first
    work type of the regulation when none was chosen). A new grade in a work type the pupil
    already has a grade in changes that grade, at the version it was shown at."""
    shown = {}
    for key, value in form.items():
        kind, _sep, rest = key.partition(":")
        if kind != "grade":
            continue
        pupil, _sep, code = rest.partition(":")
        if not pupil.isdigit() or not code:
            continue
        shown[(int(pupil), code)] = (value.strip(), form.get(f"was:{key}", "").strip(),
                                     _int(form.get(f"version:{key}")))
    changes = {}
    for (pupil, code), (value, was, version) in shown.items():
        if value != was:
            changes[(pupil, code)] = GradeChange(pupil, code, value or None, version)
    for key, value in form.items():
        kind, _sep, pupil = key.partition(":")
        if kind != "grade" or not pupil.isdigit() or not value.strip():
            continue
        code = form.get(f"work:{pupil}") or (work_types[0] if work_types else "")
        cell = (int(pupil), code)
        version = shown[cell][2] if cell in shown else None
        changes[cell] = GradeChange(int(pupil), code, value.strip(), version)
    return list(changes.values())


def absences_of(form) -> list[dict]:
    """The pupils marked in the posted form (not simply present), as ``take_attendance`` takes them."""
    return [{"pupil_id": int(key.split(":", 1)[1]), "status": value,
             "reason": form.get(f"reason:{key.split(':', 1)[1]}")}
            for key, value in form.items()
            if key.startswith("status:") and key.split(":", 1)[1].isdigit() and value]


def attendance_to_take(form, record: LessonRecord | None, current: set, *, waits=False) -> list[dict] | None:
    """The absences to record (``[]``: everyone present), or None when the form says
    nothing about attendance (DL-1). Attendance counts as taken when the teacher ticks
    «everyone present except those marked» or marks any pupil; a lesson whose attendance was
    taken already takes the form's marks as they stand. An unchanged, taken attendance is
    not written again (its on-time entry would turn late). Before the lesson's day
    (``waits``, DL-2) the form's marks are shown, not sent; marks sent all the same go to the
    rule, which refuses them."""
    absences = absences_of(form)
    if waits and not absences:
        return None  # DL-2: a topic or homework planned ahead; attendance waits for the lesson's day
    taken = record is not None and record.attendance_at is not None
    if not (form.get("attendance_taken") or absences or taken):
        return None
    wanted = {(a["pupil_id"], a["status"], a["reason"] or None) for a in absences}
    if taken and wanted == current:
        return None
    return absences


def save(lesson: Lesson, form, *, by: Actor, reason=None) -> None:
    """Save what the form changed, as one unit of work (the caller's transaction): topic,
    homework, attendance and grades, each through its rule in ``entries``. The version the
    page was read at goes with the first write to the lesson's record; each write then moves
    the record on, and the next one names the version it left. A change saved by someone else
    since the page was read fails its write, and the caller rolls everything back."""
    from blueprints.journal import context

    record = context.record_of(lesson)
    version = _int(form.get("version"))
    # Only what changed is saved: re-sending an unchanged part must not re-stamp it (its
    # on-time entry would turn late).
    topic = (form.get("topic") or "").strip() or None
    if topic != (record.topic if record else None) and topic is not None:
        version = entries.set_topic(lesson, topic, by=by, version=version, reason=reason).version
    homework = (form.get("homework") or "").strip() or None
    no_homework = bool(form.get("no_homework"))
    if (homework, no_homework) != ((record.homework, record.no_homework) if record else (None, False)) \
            and (homework or no_homework):
        version = entries.set_homework(lesson, homework, by=by, no_homework=no_homework,
                                       version=version, reason=reason).version
    current = {(a.pupil_id, a.status, a.reason or None) for a in db.session.execute(
        select(Attendance).where(Attendance.lesson_id == lesson.id)).scalars()}
    absences = attendance_to_take(form, record, current, waits=entries.marks_wait(context.context(lesson, by)))
    if absences is not None:
        version = entries.take_attendance(lesson, absences, by=by, version=version, reason=reason).version
    if not any(key.startswith("grade:") and value for key, value in form.items()) \
            and not any(key.startswith("was:grade:") for key in form):
        return  # no grade on the form: the regulation's work types are not needed
    changes = grade_changes(form, [w["code"] for w in context.context(lesson, by).grading["work_types"]])
    if not changes:
        return
    # A changed grade keeps its comment: the form edits the mark only.
    comments = {(g_.pupil_id, g_.work_type): g_.comment for g_ in db.session.execute(
        select(Grade).where(Grade.lesson_id == lesson.id)).scalars()}
    writes = [{"pupil_id": c.pupil_id, "work_type": c.work_type, "value": c.value, "version": c.version,
               "comment": comments.get((c.pupil_id, c.work_type))} for c in changes if c.value is not None]
    if writes:
        try:
            entries.set_grades(lesson, writes, by=by, reason=reason)
        except Refused as error:
            if error.status == 409:
                raise
            raise Refused(_named(error.errors, writes, lesson), status=error.status, current=error.current) from None
    for change in changes:
        if change.value is None:
            entries.delete_grade(lesson, change.pupil_id, change.work_type, by=by, version=change.version,
                                 reason=reason)


def _named(errors: dict, writes: list[dict], lesson: Lesson) -> dict:
    """A refused column's errors saying whom they concern («Зайцев Егор, Устный ответ: …»),
    keyed by the form's field (``grade:<pupil>:<code>``) rather than the column's entry path
    (``grades.0.value``), which the page would show."""
    from blueprints.roster.models import Pupil
    from blueprints.journal.context import context as lesson_context

    names = {p.id: f"{p.last_name} {p.first_name}" for p in db.session.execute(
        select(Pupil).where(Pupil.id.in_({w["pupil_id"] for w in writes}))).scalars()}
    kinds = {w["code"]: w["name"] for w in lesson_context(lesson, None).grading["work_types"]}
    out = {}
    for path, messages in errors.items():
        parts = path.split(".")
        if len(parts) == 3 and parts[0] == "grades" and parts[1].isdigit() and int(parts[1]) < len(writes):
            write = writes[int(parts[1])]
            who = f"{names.get(write['pupil_id'], write['pupil_id'])}, {kinds.get(write['work_type'], write['work_type'])}"
            path, messages = f"grade:{write['pupil_id']}:{write['work_type']}", [f"{who}: {m}" for m in messages]
        out.setdefault(path, []).extend(messages)
    return out


def unsaved(form, record: LessonRecord | None) -> list[tuple[str, str]]:
    """What the teacher typed and a conflict would lose, (label, text): the topic and the
    homework when they differ from what is saved."""
    typed = [(label, (form.get(key) or "").strip(), (getattr(record, key) if record else None) or "")
             for key, label in (("topic", _("topic")), ("homework", _("homework")))]
    return [(label, text) for label, text, saved in typed if text != saved]


def grade_rows(pupils, grades, work_types) -> dict:
    """Each pupil's grades on the lesson, in the regulation's order of work types, for the
    form: ``{pupil_id: [Grade, ...]}``."""
    order = {code: n for n, code in enumerate(work_types)}
    rows = {p.id: [] for p in pupils}
    for grade in sorted(grades, key=lambda g_: (order.get(g_.work_type, len(order)), g_.work_type)):
        rows.setdefault(grade.pupil_id, []).append(grade)
    return rows
