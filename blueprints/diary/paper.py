"""Paper for the guardians who chose it (IN-2): the class teacher sees who is due a printout
(every ``informing.paper_interval_days`` since the last one handed over), prints one A4 PDF
per pupil or one for the class (the grades, absences and remarks of the interval, the
school's name, a line for the parent's signature), and records that it was handed over.

A printout is drawn from the journal as it stands when printed; what it covered is the
interval recorded with the handover. The due list and the printout of a class cost a
fixed number of statements whatever the class size."""
from __future__ import annotations

import datetime as dt
from datetime import datetime

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Date, ForeignKey, func, select
from sqlalchemy.orm import Mapped, mapped_column

from core.audit import record
from core.errors import Refused
from core.extensions import db
from core.orm import utcnow
from blueprints.journal.labels import REMARK_KINDS, attendance_label, work_type_names
from blueprints.journal.models import Attendance, Grade, Remark
from blueprints.roster import school_classes, service as roster
from blueprints.roster.models import AcademicYear, Guardian, GuardianLink, Lesson, SchoolClass, SchoolOwned, Subject
from tenants import service as tenants


class PaperHandover(SchoolOwned, db.Model):
    """A printout handed to a guardian: the interval it covered, the day, and by whom."""

    __tablename__ = "paper_handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), index=True)
    since: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date] = mapped_column(Date)
    handed_on: Mapped[dt.date] = mapped_column(Date)
    handed_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime]


def due_list(school_class: SchoolClass) -> dict:
    """Each guardian of the class who chose paper, with the interval a printout would cover
    now (from the day after the last one handed over, or the school year's start), when it
    is due, and whether it is overdue (IN-2). Four statements."""
    school = roster.school_of_row(school_class)
    today = tenants.local_today(school)
    interval = tenants.effective(school, today).document["informing"]["paper_interval_days"]
    year = db.session.get(AcademicYear, school_class.year_id)
    pupils = {p.id: p for p in school_classes.class_roster(school_class)}
    rows = db.session.execute(
        select(GuardianLink.pupil_id, Guardian).join(Guardian, Guardian.id == GuardianLink.guardian_id)
        .where(GuardianLink.pupil_id.in_(list(pupils)), Guardian.by_paper.is_(True))
        .order_by(Guardian.last_name, Guardian.first_name)).all()
    last = {(pupil, guardian): (until, handed) for pupil, guardian, until, handed in db.session.execute(
        select(PaperHandover.pupil_id, PaperHandover.guardian_id, func.max(PaperHandover.until),
               func.max(PaperHandover.handed_on))
        .where(PaperHandover.pupil_id.in_(list(pupils)))
        .group_by(PaperHandover.pupil_id, PaperHandover.guardian_id))}
    out = []
    for pupil_id, guardian in sorted(rows, key=lambda r: (pupils[r[0]].last_name, pupils[r[0]].first_name)):
        until, handed = last.get((pupil_id, guardian.id), (None, None))
        since = (until + dt.timedelta(days=1)) if until else year.starts_on
        due = (handed or year.starts_on) + dt.timedelta(days=interval)
        out.append({"pupil_id": pupil_id, "pupil": pupils[pupil_id].full_name, "guardian_id": guardian.id,
                    "guardian": guardian.full_name, "application": guardian.application_number,
                    "last_handed_on": handed, "since": since, "until": today, "due_on": due,
                    "overdue": today > due, "due": today >= due})
    return {"class_id": school_class.id, "class_name": school_class.name, "today": today,
            "interval_days": interval, "rows": out}


def period(since: str | None, until: str | None, default_since: dt.date | None,
           today: dt.date | None) -> tuple[dt.date, dt.date]:
    """Two days as given (YYYY-MM-DD), each refused by name when it is not a date."""
    def day(value, field, default):
        if not value:
            if default is None:
                raise Refused.on(field, _("Give a date as YYYY-MM-DD."))
            return default
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise Refused.on(field, _("Give a date as YYYY-MM-DD.")) from None
    start, end = day(since, "since", default_since), day(until, "until", today)
    if start > end:
        raise Refused.on("since", _("The first day comes after the last."))
    return start, end


def printout(school_class: SchoolClass, pupil_ids: list[int], since: dt.date, until: dt.date) -> bytes:
    """One A4 page (or more) per pupil: by subject, the grades with their dates and work
    types, the absences, the remarks of the interval; a line for the parent's signature."""
    from weasyprint import HTML

    school = roster.school_of_row(school_class)
    grading = tenants.effective(school, until).document["grading"]
    names = work_type_names(grading)
    pupils = [p for p in school_classes.class_roster(school_class) if p.id in set(pupil_ids)]
    ids = [p.id for p in pupils]
    lessons = {lesson.id: (lesson, subject) for lesson, subject in db.session.execute(
        select(Lesson, Subject.name).join(Subject, Subject.id == Lesson.subject_id)
        .where(Lesson.class_id == school_class.id, Lesson.held_on.between(since, until),
               Lesson.is_cancelled.is_(False)))}
    by_pupil = {p.id: {} for p in pupils}

    def subject_of(pupil_id, lesson_id):
        lesson, subject = lessons[lesson_id]
        return lesson, by_pupil[pupil_id].setdefault(subject, {"grades": [], "absences": [], "remarks": []})

    if lessons and ids:
        for g in db.session.execute(select(Grade).where(Grade.pupil_id.in_(ids), Grade.lesson_id.in_(list(lessons)))
                                    .order_by(Grade.id)).scalars():
            lesson, entry = subject_of(g.pupil_id, g.lesson_id)
            entry["grades"].append((lesson.held_on, g.value, names.get(g.work_type, g.work_type)))
        for a in db.session.execute(select(Attendance).where(Attendance.pupil_id.in_(ids),
                                                             Attendance.lesson_id.in_(list(lessons)))).scalars():
            lesson, entry = subject_of(a.pupil_id, a.lesson_id)
            entry["absences"].append((lesson.held_on, attendance_label(a.status)))
        for r in db.session.execute(select(Remark).where(Remark.pupil_id.in_(ids), Remark.lesson_id.in_(list(lessons)))
                                    .order_by(Remark.id)).scalars():
            lesson, entry = subject_of(r.pupil_id, r.lesson_id)
            entry["remarks"].append((lesson.held_on, str(REMARK_KINDS.get(r.kind, r.kind)), r.text))
    for subjects in by_pupil.values():
        for entry in subjects.values():
            for items in entry.values():
                items.sort(key=lambda item: item[0])
    html = render_template("diary/paper_pdf.html", school=school, school_class=school_class, pupils=pupils,
                           by_pupil=by_pupil, since=since, until=until)
    return HTML(string=html).write_pdf()


def hand_over(school_class: SchoolClass, pupil_id, guardian_id, since: dt.date, until: dt.date,
              handed_on: dt.date) -> PaperHandover:
    """Record a printout handed to a guardian of the class who chose paper (audited)."""
    row = next((r for r in due_list(school_class)["rows"]
                if r["pupil_id"] == pupil_id and r["guardian_id"] == guardian_id), None)
    if row is None:
        raise Refused.on("guardian_id", _("This guardian of the class did not choose paper printouts."))
    today = tenants.local_today(roster.school_of_row(school_class))
    if handed_on > today:
        raise Refused.on("handed_on", _("The day it was handed over cannot be in the future."))
    handover = PaperHandover(pupil_id=pupil_id, guardian_id=guardian_id, since=since, until=until,
                             handed_on=handed_on, handed_by=current_user.id, recorded_at=utcnow(),
                             tenant_id=school_class.tenant_id, region_id=school_class.region_id)
    db.session.add(handover)
    db.session.flush()
    record(tenant_id=school_class.tenant_id, action="diary.paper_handed_over", obj_type="pupil", obj_id=pupil_id,
           after={"guardian_id": guardian_id, "since": since.isoformat(), "until": until.isoformat(),
                  "handed_on": handed_on.isoformat()})
    return handover
