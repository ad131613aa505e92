"""What a teacher records on a dated lesson: topic, homework, attendance, grades.

Each component keeps when and by whom it was entered and whether that was after its due
time (``deadlines.is_late``), so fill rates and on-time rates can be computed exactly;
"attendance taken, all present" and "no homework set" are explicit entries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from blueprints.roster.models import SchoolOwned

from flask_babel import lazy_gettext as _l

ATTENDANCE_STATUSES = ("absent", "late", "ill", "excused")
ATTENDANCE_LABELS = {"absent": _l("absent"), "late": _l("came late"), "ill": _l("ill"), "excused": _l("excused")}


# Lengths that fit the use: a topic is a line of the printed journal, homework a few
# paragraphs with links; Text columns carry theirs in ``info`` for core.inputs' flush check.
TOPIC_MAX = 1000
HOMEWORK_MAX = 4000
REMARK_MAX = 2000
COMMENT_MAX = 255

#: A pupil's own rows: a write moves that pupil's change key, not the school's shared one
#: (core.changes), so one pupil's grade leaves the diary kept for the pupil beside them.
PUPIL_KEYED = {"stamp_keys": ("pupil_id",)}


class LessonRecord(SchoolOwned, db.Model):
    __tablename__ = "lesson_record"
    __table_args__ = (UniqueConstraint("lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    topic: Mapped[str | None] = mapped_column(Text, info={"max_length": TOPIC_MAX})
    topic_at: Mapped[datetime | None]
    topic_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    topic_late: Mapped[bool] = mapped_column(Boolean, default=False)
    homework: Mapped[str | None] = mapped_column(Text, info={"max_length": HOMEWORK_MAX})
    no_homework: Mapped[bool] = mapped_column(Boolean, default=False)
    homework_at: Mapped[datetime | None]
    homework_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    homework_late: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance_at: Mapped[datetime | None]
    attendance_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    attendance_late: Mapped[bool] = mapped_column(Boolean, default=False)
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Attendance(SchoolOwned, db.Model):
    """A pupil who was not simply present; no row means present once attendance is taken."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("lesson_id", "pupil_id"), {"info": PUPIL_KEYED})

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(255))


class Grade(SchoolOwned, db.Model):
    """A grade in one column (the lesson's work type) for one pupil."""

    __tablename__ = "grade"
    __table_args__ = (UniqueConstraint("lesson_id", "pupil_id", "work_type"), {"info": PUPIL_KEYED})

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    work_type: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(String(COMMENT_MAX))
    entered_at: Mapped[datetime]
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


FINAL_KINDS = ("term", "year", "exam", "final")


class FinalMark(SchoolOwned, db.Model):
    """A pupil's mark for a period (term, half-year: ``kind`` term with its term), the year,
    an exam or the final mark of a subject."""

    __tablename__ = "final_mark"
    __table_args__ = (UniqueConstraint("pupil_id", "subject_id", "kind", "period_key"), {"info": PUPIL_KEYED})

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    term_id: Mapped[int | None] = mapped_column(ForeignKey("term.id"))
    period_key: Mapped[str] = mapped_column(String(20))  # "term:<id>" or "year:<id>": one mark per period
    value: Mapped[str] = mapped_column(String(8))
    entered_at: Mapped[datetime]
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Remark(SchoolOwned, db.Model):
    """A remark, praise or note to parents against a pupil on a lesson (IN-5)."""

    __tablename__ = "remark"
    __table_args__ = ({"info": PUPIL_KEYED},)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # remark | praise | note
    text: Mapped[str] = mapped_column(Text, info={"max_length": REMARK_MAX})
    entered_at: Mapped[datetime]
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
