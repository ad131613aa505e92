"""A pupil's term by subject: every grade, the average, the forecast of the period mark
(IN-6) and the period, year, exam and final marks once they are visible (DL-4). A fixed
number of statements whatever the number of subjects and grades."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from core import clock
from core.errors import Refused
from core.extensions import db
from blueprints.diary import labels
from blueprints.diary.service import Child, reading
from blueprints.diary.week import enrolments
from blueprints.journal.marks import suggested_mark
from blueprints.journal.models import FinalMark, Grade
from blueprints.roster.models import Lesson, SchoolClass, Subject, Term
from tenants import service as tenants


def visible_from(mark: FinalMark, deadlines: dict) -> dt.datetime:
    """DL-4: a period, year, exam or final mark is shown to the pupil and guardians no later
    than ``deadlines.results_visible_days`` after it is entered, and may be shown earlier.
    The journal publishes a mark when it is set (``blueprints.journal.marks.set_term_mark``),
    so it is visible from its entry; a school that someday holds marks back until it
    publishes them would move this instant, never past the limit."""
    limit = mark.entered_at + dt.timedelta(days=int(deadlines.get("results_visible_days", 3)))
    return min(mark.entered_at, limit)


def is_visible(mark: FinalMark, deadlines: dict, now: dt.datetime | None = None) -> bool:
    now = now or clock.now()
    entered = visible_from(mark, deadlines)
    if entered.tzinfo is None:
        entered = entered.replace(tzinfo=dt.timezone.utc)
    return entered <= now


def average(values: list[str]) -> Decimal | None:
    """The mean of the numeric grades (a pass/fail or a letter mark does not count)."""
    numbers = []
    for value in values:
        try:
            numbers.append(Decimal(value))
        except ArithmeticError:
            continue
    if not numbers:
        return None
    return (sum(numbers) / len(numbers)).quantize(Decimal("0.01"))


def _class_on(child: Child, today: dt.date):
    rows = enrolments(child, today, today)
    if rows:
        return rows[-1][1]
    latest = enrolments(child, dt.date(1900, 1, 1), today)  # the last class, after the year ended
    return latest[-1][1] if latest else None


def term_page(child: Child, term_id: int | None) -> dict:
    """The terms of the pupil's class (for a choice), the chosen one (``term_id``, else the
    one running, else the last begun) and per subject its grades, average and forecast."""
    today = child.today()
    with reading(child):
        school_class: SchoolClass | None = _class_on(child, today)
        out = {"terms": [], "term": None, "subjects": [], "year_marks": [], "class_name": None, "empty": None,
               "is_forecast": False, "graded": True}
        if school_class is None:
            from blueprints.diary.week import why_empty

            out["empty"] = why_empty(child, today)
            if term_id is not None:
                raise Refused.on("term_id", _("The pupil has no such term."), status=404)
            return out
        out["class_name"] = school_class.name
        terms = db.session.execute(select(Term).where(
            Term.year_id == school_class.year_id, Term.level_from <= school_class.grade,
            Term.level_to >= school_class.grade).order_by(Term.starts_on)).scalars().all()
        out["terms"] = terms
        if term_id is not None:
            term = next((t for t in terms if t.id == term_id), None)
            if term is None:
                raise Refused.on("term_id", _("The pupil has no such term."), status=404)
        else:
            term = next((t for t in terms if t.starts_on <= today <= t.ends_on), None) or next(
                (t for t in reversed(terms) if t.starts_on <= today), terms[0] if terms else None)
        if term is None:
            out["empty"] = "not_started"
            return out
        out["term"] = term
        regulation = tenants.effective(child.school, term.ends_on).document
        grading, deadlines = regulation["grading"], regulation["deadlines"]
        out["graded"] = school_class.grade not in grading.get("ungraded_levels", [])
        names = labels.work_type_names(grading)
        # Subjects of the class in the term (its lessons), with the pupil's grades in them.
        subjects = {sid: name for sid, name in db.session.execute(
            select(Subject.id, Subject.name).where(Subject.id.in_(
                select(Lesson.subject_id).where(Lesson.class_id == school_class.id, Lesson.term_id == term.id)))
            .order_by(Subject.name))}
        grades: dict[int, list] = {}
        for grade, subject_id, held_on in db.session.execute(
                select(Grade, Lesson.subject_id, Lesson.held_on).join(Lesson, Lesson.id == Grade.lesson_id)
                .where(Grade.pupil_id == child.id, Lesson.term_id == term.id)
                .order_by(Lesson.held_on, Lesson.period, Grade.id)):
            grades.setdefault(subject_id, []).append((grade, held_on))
        marks = db.session.execute(select(FinalMark).where(
            FinalMark.pupil_id == child.id,
            FinalMark.period_key.in_([f"term:{term.id}"] + [f"{k}:{school_class.year_id}" for k in ("year", "exam", "final")])
        )).scalars().all()
    now = clock.now()
    shown = [m for m in marks if is_visible(m, deadlines, now)]
    period = {m.subject_id: m for m in shown if m.kind == "term"}
    running = term.starts_on <= today <= term.ends_on
    out["is_forecast"] = running
    missing_names = {}
    for subject_id in set(grades) | {m.subject_id for m in shown}:
        if subject_id not in subjects:
            missing_names[subject_id] = None
    if missing_names:  # a grade in a subject no longer in the term's lessons: keep it visible
        with reading(child):
            subjects.update(dict(db.session.execute(select(Subject.id, Subject.name).where(
                Subject.id.in_(list(missing_names)))).all()))
    for subject_id, name in sorted(subjects.items(), key=lambda item: item[1]):
        rows = grades.get(subject_id, [])
        mark = period.get(subject_id)
        out["subjects"].append({
            "subject_id": subject_id, "subject": name,
            "grades": [{"value": g.value, "work_type": g.work_type, "work_type_name": names.get(g.work_type, g.work_type),
                        "comment": g.comment, "on": held_on} for g, held_on in rows],
            "average": average([g.value for g, _on in rows]),
            # IN-6: the mark the regulation's final_mark_rule gives from the grades so far,
            # while the term runs and before a mark is set.
            "forecast": suggested_mark([g for g, _on in rows], grading) if running and mark is None and out["graded"]
            else None,
            "mark": mark.value if mark else None,
        })
    year_rows = {}
    for mark in shown:
        if mark.kind != "term":
            year_rows.setdefault(mark.subject_id, {})[mark.kind] = mark.value
    out["year_marks"] = [{"subject_id": sid, "subject": subjects.get(sid, ""), "year": None, "exam": None,
                          "final": None, **kinds}
                         for sid, kinds in sorted(year_rows.items(), key=lambda item: subjects.get(item[0], ""))]
    return out
