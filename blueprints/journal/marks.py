"""Term, year, exam and final marks (GR-1): the suggested mark from a period's grades (a
forecast while the term runs, IN-6), the marks of a class in a subject, and setting them
(visible at once, DL-4) with the journal's permissions, period locks, versions and audit."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit, clock, signals
from core.errors import NotAllowed, Refused
from core.extensions import db
from core.orm import utcnow
from blueprints.journal.context import Actor, check_version, flush_or_conflict
from blueprints.journal.models import Grade
from blueprints.journal.permissions import acting_staff
from blueprints.roster import academic_years, school_classes, service as roster
from blueprints.roster.models import Enrolment, Lesson, Pupil, SchoolClass, Term
from tenants import service as tenants


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
        raise NotAllowed()
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
    running = clock.today(zone) <= term.ends_on
    pupils = db.session.execute(select(Pupil).join(Enrolment, Enrolment.pupil_id == Pupil.id).where(
        Enrolment.class_id == school_class.id, Enrolment.to_on.is_(None))
        .order_by(Pupil.last_name, Pupil.first_name)).scalars().all()
    norm = int(grading.get("min_grades_per_period", 3))
    return [{"pupil": p, "grades": [g.value for g in grades.get(p.id, [])],
             "suggested": suggested_mark(grades.get(p.id, []), grading), "is_forecast": running,
             "below_norm": len(grades.get(p.id, [])) < norm, "mark": marks.get(p.id)} for p in pupils]


def set_term_mark(school_class: SchoolClass, subject_id: int, term: Term, pupil_id: int, value: str, *,
                  by: Actor, version: int | None, reason=None, kind="term", period_key=None):
    """The teacher of the class's subject sets a term mark; it is visible to the pupil and
    guardians at once (DL-4 allows up to ``results_visible_days``)."""
    from blueprints.journal.models import FinalMark
    from blueprints.roster.models import Assignment

    school = tenants.load(school_class.tenant_id)
    regulation = tenants.effective(school, term.ends_on).document
    staff = acting_staff(school, by)
    teaches = staff is not None and db.session.execute(select(Assignment.id).where(
        Assignment.class_id == school_class.id, Assignment.subject_id == subject_id,
        Assignment.teacher_id == staff.id)).first() is not None
    zone = ZoneInfo(tenants.inherited(school)["timezone"])
    locked = academic_years.period_closed(term.ends_on, regulation, clock.today(zone))
    if locked:
        if by.role != "school_admin":
            raise NotAllowed()
        if not (reason or "").strip():
            raise Refused({"reason": _("The period is closed: a correction needs a reason.")})
    elif not (teaches and by.role == "teacher"):
        raise NotAllowed()
    if school_class.grade in regulation["grading"]["ungraded_levels"]:
        raise Refused({"value": _("Grade %(n)s is not graded.", n=school_class.grade)})
    if value not in regulation["grading"]["scale"]:
        raise Refused({"value": _("Use a mark of the scale: %(scale)s.", scale=", ".join(regulation["grading"]["scale"]))})
    if pupil_id not in {p.id for p in school_classes.class_roster(school_class)}:
        raise Refused({"pupil_id": _("The pupil is not in this class on the lesson's date.")})
    period_key = period_key or f"term:{term.id}"
    mark = db.session.execute(select(FinalMark).where(
        FinalMark.pupil_id == pupil_id, FinalMark.subject_id == subject_id,
        FinalMark.kind == kind, FinalMark.period_key == period_key)).scalar_one_or_none()
    check_version(mark, version)  # None: the writer saw no mark
    before = {"value": mark.value} if mark else None
    if mark is None:
        mark = FinalMark(pupil_id=pupil_id, class_id=school_class.id, subject_id=subject_id, kind=kind,
                         term_id=term.id if kind == "term" else None, period_key=period_key, tenant_id=school.id,
                         region_id=school_class.region_id)
        db.session.add(mark)
    mark.value, mark.entered_at, mark.entered_by = value, utcnow(), by.user_id
    flush_or_conflict(lambda: select(FinalMark).where(FinalMark.pupil_id == pupil_id,
                                                       FinalMark.subject_id == subject_id,
                                                       FinalMark.period_key == period_key))
    audit.record(tenant_id=school.id, action="journal.final_mark", obj_type="final_mark", obj_id=mark.id,
                 before=before, after={"pupil_id": pupil_id, "subject_id": subject_id, "kind": kind,
                                       "period": period_key, "value": value}, reason=reason,
                 actor_id=by.user_id)
    signals.journal_entry("final_mark", mark)
    return mark


def year_marks(school_class: SchoolClass, subject_id: int) -> list[dict]:
    """Per pupil: the term marks of the year, the suggested year mark (their mean) and the
    year, exam and final marks set."""
    from blueprints.journal.models import FinalMark

    school = tenants.load(school_class.tenant_id)
    if not roster.can_read(school):
        raise NotAllowed()
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
    for pupil in school_classes.class_roster(school_class):
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
                  by: Actor, version: int | None, reason=None):
    """A year, exam or final mark (GR-1): by the subject's teacher until the year's last term
    locks, then by a school admin with a reason."""
    from blueprints.journal.models import FINAL_KINDS, FinalMark

    if kind not in FINAL_KINDS or kind == "term":
        raise Refused({"kind": _("Choose year, exam or final.")})
    terms = db.session.execute(select(Term).where(Term.year_id == school_class.year_id,
                                                  Term.level_from <= school_class.grade,
                                                  Term.level_to >= school_class.grade)
                               .order_by(Term.ends_on.desc())).scalars().all()
    if not terms:
        raise Refused({"kind": _("The class's year has no terms.")})
    # The year closes with its last term: reuse the term rule with the last term.
    return set_term_mark(school_class, subject_id, terms[0], pupil_id, value, by=by, version=version,
                         reason=reason, kind=kind, period_key=f"{kind}:{school_class.year_id}")
