"""What every journal rule starts from: the error the rules raise, who acts (the routes
pass an :class:`Actor` in; the rules read no request), one lesson's context (its school,
class, term, the regulation in force on its date and the school's time zone), the lesson's
record, and the version checks that keep racing writes from losing updates (409 with what
is there now)."""
from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import Refused
from core.extensions import db
from blueprints.journal.models import LessonRecord
from blueprints.roster.models import Lesson, SchoolClass, Staff, Term
from tenants import service as tenants


@dataclass(eq=False)
class Actor:
    """Who acts on the journal: the signed-in user's id (None: nobody is signed in) and the
    membership they act under (None: none). A request's routes make one and pass it to every
    call, so that the user's staff record in a school is looked up once (``staff``, filled
    by :func:`context` and :func:`blueprints.journal.permissions.acting_staff`)."""

    user_id: int | None
    membership: object = None
    staff: dict = field(default_factory=dict)  # school id -> Staff, or None where the user has none

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership is not None else None

    @property
    def is_teacher(self) -> bool:
        """Acts as a teacher (whose staff record may name their lessons)."""
        return self.role == "teacher" and self.user_id is not None


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


def context(lesson: Lesson, actor: Actor | None = None) -> Context:
    """The lesson's context; a teacher's (``actor``) staff record in the school, when not
    known yet, is read in the same statement. No ``actor``: nobody in particular (a job)."""
    school = tenants.load(lesson.tenant_id)
    chain = tenants.chain_of(school)
    stmt = (select(SchoolClass, Term).join(Term, Term.year_id == SchoolClass.year_id)
            .where(SchoolClass.id == lesson.class_id, Term.id == lesson.term_id))
    reader_is_teacher = actor is not None and actor.is_teacher and school.id not in actor.staff
    if reader_is_teacher:  # the teacher's staff record rides along (see acting_staff)
        stmt = stmt.add_columns(Staff).outerjoin(Staff, (Staff.tenant_id == school.id)
                                                 & (Staff.user_id == actor.user_id))
    row = db.session.execute(stmt).one()
    school_class, term = row[0], row[1]
    if reader_is_teacher:
        actor.staff[school.id] = row[2]
    regulation = tenants.effective(school, lesson.held_on).document  # the version in force on the lesson's date
    zone = ZoneInfo(tenants.inherited(school, chain)["timezone"])
    return Context(lesson, school, school_class, term, regulation, zone)


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
        raise conflict(row)
    if row is None and create:
        try:
            with db.session.begin_nested():
                row = LessonRecord(lesson_id=lesson.id, tenant_id=lesson.tenant_id, region_id=lesson.region_id)
                db.session.add(row)
        except IntegrityError:
            row = db.session.execute(query.execution_options(populate_existing=True)).scalar_one()
            if saw_none:
                raise conflict(row) from None
    return row


def flush_or_conflict(current_query):
    """Two writers passed the version check at the same moment: the database lets one
    UPDATE through (the version column) and the other gets 409 with the winner's row."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    try:
        db.session.flush()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise conflict(db.session.execute(current_query()).scalar_one_or_none()) from None


def conflict(current) -> Refused:
    """409 with what is there now (``None``: nothing is)."""
    return Refused({"version": _("The entry was changed by someone else. Reload it and try again.")},
                        status=409, current=current)


#: The version a lesson's record has before it exists: topic, homework, attendance and the
#: substitute always name one, so a first entry says "I saw nothing written" with 0.
NO_RECORD = 0


def check_version(obj, version, *, absent=None):
    """Every racing write names the version it was based on, and it must be the version
    there now: a number matches the row's, and the version of no row is ``absent`` (None for
    grades and marks: the writer saw none; ``NO_RECORD`` for a lesson's record). So a stale
    copy, a write that saw nothing over a row that exists, and a write over a row deleted
    meanwhile are all refused with 409 and what is there now."""
    if version != (obj.version if obj is not None else absent):
        raise conflict(obj)
