"""Who may read and write a lesson's entries: the lesson's teacher or its substitute while
the period is open, a school admin correcting with a reason once it locks, never a pupil or
a guardian (AC-2); and who may name a substitute."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from core import clock
from core.errors import NotAllowed, Refused
from core.extensions import db
from blueprints.journal.context import Actor, Context, record_of
from blueprints.journal.models import LessonRecord
from blueprints.roster import academic_years, service as roster
from blueprints.roster.models import Staff


def acting_staff(school, actor: Actor) -> Staff | None:
    """The actor's staff record in this school (looked up once per actor)."""
    if actor.user_id is None:
        return None
    if school.id not in actor.staff:
        actor.staff[school.id] = db.session.execute(select(Staff).where(
            Staff.tenant_id == school.id, Staff.user_id == actor.user_id)).scalar_one_or_none()
    return actor.staff[school.id]


def can_read(ctx: Context) -> bool:
    return roster.can_read(ctx.school)


def is_teacher_of(ctx: Context, actor: Actor, record: LessonRecord | None = None, *, load_record=False) -> bool:
    """The actor is the lesson's teacher, or the substitute who taught it."""
    if actor.role != "teacher":
        return False
    staff = acting_staff(ctx.school, actor)
    if staff is None:
        return False
    if staff.id == ctx.lesson.teacher_id:
        return True
    if record is None and load_record:
        record = record_of(ctx.lesson)
    return record is not None and staff.id == record.substitute_id


def is_locked(ctx: Context, today: dt.date | None = None) -> bool:
    """A term locks ``lock_after_period_days`` after it ends (in the school's local date)."""
    return academic_years.period_closed(ctx.term.ends_on, ctx.regulation, today or clock.today(ctx.zone))


def authorise_write(ctx: Context, actor: Actor, record, reason: str | None, *, load_record=False):
    """Teachers write their lessons until the period locks; afterwards only a school admin
    corrects, with a reason (pupils and guardians never write: AC-2)."""
    locked = is_locked(ctx)
    if locked:
        if actor.role not in ("school_admin",):
            raise NotAllowed()
        if not (reason or "").strip():
            raise Refused({"reason": _("The period is closed: a correction needs a reason.")})
        return "correction"
    if not is_teacher_of(ctx, actor, record, load_record=load_record):
        raise NotAllowed()
    return "entry"


def may_name_substitute(ctx: Context, actor: Actor) -> bool:
    """Before the period locks: the school's admin, or the lesson's timetabled teacher."""
    if actor.membership is None:
        return False
    if actor.role == "school_admin":
        return roster.can_manage(ctx.school)
    own = acting_staff(ctx.school, actor)
    return actor.role == "teacher" and own is not None and own.id == ctx.lesson.teacher_id
