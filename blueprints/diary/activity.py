"""How often guardians read the diary (IN-4, MO-3): one row per guardian, child and local
day they opened it (a page or the API), and the class report the class teacher and the
school's administration read at the end of each period: who checked fewer than
``informing.parent_checks_per_week`` times a week.

Recording costs one statement (``INSERT ... ON CONFLICT DO NOTHING``) the first time a
worker sees a guardian read a child on a day, none afterwards; and the table is ``unstamped`` (core.changes): a parent's visit changes nothing that pages
are built from, so it throws away no kept grid and no ETag."""
from __future__ import annotations

import datetime as dt

from flask import after_this_request, current_app, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Date, ForeignKey, UniqueConstraint, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from core import transaction
from core.extensions import db
from blueprints.diary.service import Child, reading
from blueprints.roster import academic_years, school_classes, service as roster
from blueprints.roster.models import SchoolClass, SchoolOwned, Term
from tenants import service as tenants


STATUS_LABELS = {
    "ok": _l("checks often enough"),
    "below": _l("checks less often than the regulation asks"),
    "no_account": _l("has no access to the diary"),
    "none": _l("no parent or guardian recorded"),
}


#: The days a worker remembers having recorded, (user, pupil, day): 50,000 is a few MB.
VISITS_KEPT = 50_000


class DiaryVisit(SchoolOwned, db.Model):
    """A guardian read a child's diary on a day (the school's local date)."""

    __tablename__ = "diary_visit"
    __table_args__ = (UniqueConstraint("user_id", "pupil_id", "visited_on"), {"info": {"unstamped": True}})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)


def record(child: Child) -> None:
    """Note that the signed-in guardian read ``child``'s diary today (a pupil's own reading
    is not what IN-4 counts)."""
    if child.relation == "self" or not current_user.is_authenticated:
        return
    key = (current_user.id, child.id, child.today())
    seen = current_app.extensions.setdefault("tabel.diary.visits", {})
    if key in seen:
        return  # this worker recorded it today: no statement (another worker's insert is a no-op)
    if len(seen) > VISITS_KEPT:
        seen.clear()
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DiaryVisit).values(
        tenant_id=child.school.id, region_id=child.pupil.region_id, user_id=current_user.id, pupil_id=child.id,
        visited_on=child.today()).on_conflict_do_nothing(index_elements=["user_id", "pupil_id", "visited_on"])
    with reading(child):
        db.session.execute(statement)
    transaction.wrote()
    # Kept once the request commits; a rolled-back request records again next time.
    after_this_request(lambda response: seen.__setitem__(key, True) or response)


def may_see(school_class: SchoolClass) -> bool:
    """The school's administration (and the admins above it), or the class's own teacher."""
    return school_classes.may_look_after(school_class)


def period_of(school_class: SchoolClass, term_id: int | None, today: dt.date) -> tuple[Term | None, list[Term]]:
    """The term asked for, else the one running today, else the last that ended; and the
    year's terms."""
    from blueprints.roster.models import AcademicYear

    year = db.session.get(AcademicYear, school_class.year_id)
    terms = [t for t in (academic_years.terms_of(year) if year else [])
             if t.level_from <= school_class.grade <= t.level_to]
    if term_id is not None:
        return next((t for t in terms if t.id == term_id), None), terms
    running = [t for t in terms if t.starts_on <= today <= t.ends_on]
    ended = [t for t in terms if t.ends_on < today]
    return (running or ended[-1:] or terms[:1] or [None])[0], terms


def class_report(school_class: SchoolClass, term: Term) -> dict:
    """Each pupil's guardians with their days of reading in the term (so far, while it
    runs), per week, and whether that is fewer than the regulation asks. Three statements
    whatever the class size: the roster, the guardians, the visits."""
    school = roster.school_of_row(school_class)
    today = tenants.local_today(school)
    until = min(today, term.ends_on)
    weeks = max(((until - term.starts_on).days + 1) / 7, 1)
    wanted = tenants.effective(school, until).document["informing"]["parent_checks_per_week"]
    pupils = school_classes.class_roster(school_class)
    guardians = school_classes.guardians_by_pupil([p.id for p in pupils])
    visits = dict(((user, pupil), days) for user, pupil, days in db.session.execute(
        select(DiaryVisit.user_id, DiaryVisit.pupil_id, func.count()).where(
            DiaryVisit.pupil_id.in_([p.id for p in pupils]),
            DiaryVisit.visited_on.between(term.starts_on, until)).group_by(DiaryVisit.user_id, DiaryVisit.pupil_id)))
    rows, below = [], 0
    for pupil in pupils:
        for guardian in guardians.get(pupil.id, []) or [None]:
            days = visits.get((guardian.user_id, pupil.id), 0) if guardian and guardian.user_id else 0
            per_week = round(days / weeks, 1)
            status = ("none" if guardian is None else "no_account" if not guardian.user_id
                      else "below" if per_week < wanted else "ok")
            below += status in ("below", "no_account")
            rows.append({"pupil_id": pupil.id, "pupil": pupil.full_name, "guardian_id": guardian.id if guardian else None,
                         "guardian": guardian.full_name if guardian else None, "days": days, "per_week": per_week,
                         "status": status, "status_label": str(STATUS_LABELS[status])})
    return {"class_id": school_class.id, "class_name": school_class.name, "term_id": term.id,
            "term": academic_years.term_name(term), "starts_on": term.starts_on, "until": until,
            "ended": today > term.ends_on, "weeks": round(weeks, 1), "wanted_per_week": wanted,
            "below": below, "rows": rows}

