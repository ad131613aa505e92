"""School structure: years and terms, classes, pupils and guardians, staff, subjects,
teaching assignments, the bell schedule, the weekly timetable and its dated lessons.

Every row belongs to a school (``tenant_id``) and carries its region (``region_id``, the
future shard key). Subjects may also belong to a region (the regional list, visible to
the schools below it).
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (Boolean, Date, ForeignKey, Index, Integer, String, Time, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.extensions import db
from core.orm import utcnow
from core.tenancy import TenantOwned


class SchoolOwned(TenantOwned):
    @declared_attr
    def region_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("tenant.id"), index=True, nullable=False)


class AcademicYear(SchoolOwned, db.Model):
    __tablename__ = "academic_year"
    __table_args__ = (UniqueConstraint("tenant_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))  # «2026/2027»
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")  # draft | active | closed


class Term(SchoolOwned, db.Model):
    """A reporting period (quarter, trimester, half-year) for a range of grade levels."""

    __tablename__ = "term"
    __table_args__ = (UniqueConstraint("year_id", "kind", "number", "level_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    number: Mapped[int] = mapped_column(Integer)
    level_from: Mapped[int] = mapped_column(Integer)
    level_to: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Holiday(SchoolOwned, db.Model):
    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Staff(SchoolOwned, db.Model):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("tenant_id", "login"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    middle_name: Mapped[str | None] = mapped_column(String(80))
    position: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(255))
    login: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def full_name(self):
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def short_name(self):
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.middle_name) if p)
        return f"{self.last_name} {initials}".strip()


class SchoolClass(SchoolOwned, db.Model):
    """A class of one academic year, e.g. 5а. Drafts come from the year rollover."""

    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("year_id", "grade", "letter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    grade: Mapped[int] = mapped_column(Integer)
    letter: Mapped[str] = mapped_column(String(4))
    class_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    is_draft: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def name(self):
        return f"{self.grade}{self.letter}"


class Pupil(SchoolOwned, db.Model):
    __tablename__ = "pupil"
    __table_args__ = (UniqueConstraint("tenant_id", "file_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    middle_name: Mapped[str | None] = mapped_column(String(80))
    birth_date: Mapped[date] = mapped_column(Date)
    file_number: Mapped[str] = mapped_column(String(40))  # номер личного дела
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def full_name(self):
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class Enrolment(SchoolOwned, db.Model):
    """A pupil in a class from a date (until a date). The history of a pupil's classes,
    across years and, through ``from_school``/``to_school`` notes, schools."""

    __tablename__ = "enrolment"
    __table_args__ = (UniqueConstraint("pupil_id", "year_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"), index=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    from_on: Mapped[date] = mapped_column(Date)
    to_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(120))  # enrolled, promoted, transferred, graduated


class Guardian(SchoolOwned, db.Model):
    __tablename__ = "guardian"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    middle_name: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # IN-1: how the guardian chose to be informed, from their written application (its
    # number and date). The school admin records it today; an applications register will.
    by_web: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    by_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    by_sms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    by_paper: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    application_number: Mapped[str | None] = mapped_column(String(40))
    application_date: Mapped[date | None] = mapped_column(Date)
    # E-mail and SMS: each event at once, or one digest a day at the guardian's local hour.
    notify_mode: Mapped[str] = mapped_column(String(10), default="instant", server_default="instant")
    digest_hour: Mapped[int] = mapped_column(Integer, default=18, server_default=text("18"))
    language: Mapped[str] = mapped_column(String(5), default="ru", server_default="ru")

    @property
    def full_name(self):
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def channels(self) -> list[str]:
        return [name for name in CHANNELS if getattr(self, f"by_{name}")]


CHANNELS = ("web", "email", "sms", "paper")  # IN-1, in the order the forms list them


class GuardianLink(SchoolOwned, db.Model):
    __tablename__ = "guardian_link"
    __table_args__ = (UniqueConstraint("pupil_id", "guardian_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), index=True)
    relation: Mapped[str | None] = mapped_column(String(40))  # мать, отец, опекун


class Subject(TenantOwned, db.Model):
    """A subject of the regional list (owned by the region, visible to its schools) or a
    school's own addition."""

    __tablename__ = "subject"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    __visible_below__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str | None] = mapped_column(String(40))


class Assignment(SchoolOwned, db.Model):
    """Who teaches which subject to which class (optionally one subgroup of it)."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("class_id", "subject_id", "subgroup", "teacher_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    subgroup: Mapped[str] = mapped_column(String(20), default="")
    is_draft: Mapped[bool] = mapped_column(Boolean, default=False)


class BellPeriod(SchoolOwned, db.Model):
    """One lesson of the bell schedule: the N-th lesson runs from ``starts_at`` to ``ends_at``
    (local time of the school)."""

    __tablename__ = "bell_period"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)


class TimetableEntry(SchoolOwned, db.Model):
    """A weekly slot: on ``weekday`` (1 = Monday), lesson ``period``, this assignment."""

    __tablename__ = "timetable_entry"
    __table_args__ = (UniqueConstraint("year_id", "weekday", "period", "class_id", "subgroup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    period: Mapped[int] = mapped_column(Integer)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    subgroup: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str | None] = mapped_column(String(20))


class Lesson(SchoolOwned, db.Model):
    """A dated lesson generated from the timetable (or added as a one-off change)."""

    __tablename__ = "lesson"
    # One lesson held in a class's slot; a cancelled one leaves its slot free, so that a lesson
    # moved into it (a replacement) is not refused as a duplicate.
    __table_args__ = (Index("uq_lesson_slot", "class_id", "held_on", "period", "subgroup", unique=True,
                            sqlite_where=text("NOT is_cancelled"), postgresql_where=text("NOT is_cancelled")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    timetable_entry_id: Mapped[int | None] = mapped_column(ForeignKey("timetable_entry.id"))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    # The date the timetable gave the lesson; a one-off move changes held_on, not this, so
    # generating the term's lessons again does not put the moved lesson back.
    origin_on: Mapped[date | None] = mapped_column(Date)
    period: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    subgroup: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str | None] = mapped_column(String(20))
    is_cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_one_off: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
