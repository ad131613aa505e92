"""Messages between a pupil's guardians and the pupil's teachers (issue #14, item 6).

A thread is one pupil and one teacher: every guardian linked to the pupil reads and writes
it, and so does the teacher; the school's administration reads every thread of the school
(it is the school's correspondence) but does not write in them. A guardian writes only to
a teacher who teaches the pupil's class this year or is its class teacher (else 422).
Messages are never edited or deleted. Unread counts come from each reader's last read
message (``message_read``, unstamped: reading changes no page).

``posted`` is sent after a message is added (sender, thread, message), for notifications."""
from __future__ import annotations

from datetime import datetime

from blinker import Namespace
from flask import abort, g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ForeignKey, Text, UniqueConstraint, and_, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from core.errors import NotAllowed, Refused
from core.extensions import db
from core.orm import get_or_404, utcnow, valid_id
from blueprints.diary import service
from blueprints.diary.service import Child, reading
from blueprints.roster import service as roster
from blueprints.roster.models import Enrolment, Pupil, SchoolClass, SchoolOwned, Staff, Subject, TimetableEntry

TEXT_MAX = 4000
posted = Namespace().signal("diary.message_posted")


class Thread(SchoolOwned, db.Model):
    __tablename__ = "message_thread"
    __table_args__ = (UniqueConstraint("pupil_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    started_at: Mapped[datetime]
    last_at: Mapped[datetime]


class Message(SchoolOwned, db.Model):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_thread.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text, info={"max_length": TEXT_MAX})
    sent_at: Mapped[datetime]


class MessageRead(SchoolOwned, db.Model):
    """How far a reader has read a thread."""

    __tablename__ = "message_read"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"), {"info": {"unstamped": True}})

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_thread.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    last_message_id: Mapped[int]


# Who ------------------------------------------------------------------------------------

def teachers_of(child: Child) -> list[dict]:
    """The pupil's teachers this year: the class teacher and whoever the class's timetable
    names, with their subjects (two statements)."""
    today = child.today()
    with reading(child):
        classes = db.session.execute(
            select(SchoolClass).join(Enrolment, Enrolment.class_id == SchoolClass.id)
            .where(Enrolment.pupil_id == child.id, Enrolment.from_on <= today,
                   or_(Enrolment.to_on.is_(None), Enrolment.to_on >= today))).scalars().all()
        if not classes:
            return []
        class_ids = [c.id for c in classes]
        head_ids = {c.class_teacher_id for c in classes if c.class_teacher_id}
        rows = db.session.execute(
            select(Staff, Subject.name).outerjoin(TimetableEntry, and_(
                TimetableEntry.teacher_id == Staff.id, TimetableEntry.class_id.in_(class_ids)))
            .outerjoin(Subject, Subject.id == TimetableEntry.subject_id)
            .where(Staff.tenant_id == child.school.id,
                   or_(TimetableEntry.id.is_not(None), Staff.id.in_(head_ids or {0})))
            .order_by(Staff.last_name, Staff.first_name)).all()
    out: dict[int, dict] = {}
    for staff, subject in rows:
        entry = out.setdefault(staff.id, {"id": staff.id, "name": staff.full_name, "subjects": [],
                                          "is_class_teacher": staff.id in head_ids})
        if subject and subject not in entry["subjects"]:
            entry["subjects"].append(subject)
    return list(out.values())


def _acting_staff(school_id) -> Staff | None:
    return db.session.execute(select(Staff).where(Staff.tenant_id == school_id,
                                                  Staff.user_id == current_user.id)).scalar_one_or_none()


def load_thread(thread_id) -> Thread:
    """The URL's ``thread_id``: a thread of one of the user's children (a guardian), of the
    teacher's own, or of the school the admin manages; 404 otherwise."""
    if not valid_id(thread_id):
        abort(404)
    membership = g.get("membership")
    if not _is_staff(membership):  # a guardian or a pupil: among the user's children
        for child in service.children():
            with reading(child):
                thread = db.session.execute(select(Thread).where(
                    Thread.id == int(thread_id), Thread.pupil_id == child.id)).scalar_one_or_none()
            if thread is not None:
                g.message_child = child
                return thread
        abort(404)
    thread = get_or_404(Thread, thread_id)
    school = roster.school_of_row(thread)
    if not roster.can_manage(school):
        staff = _acting_staff(thread.tenant_id)
        if staff is None or staff.id != thread.staff_id:
            abort(404)  # another teacher's correspondence: as if there were none
    return thread


def _is_staff(membership) -> bool:
    return membership is not None and membership.role in roster.STAFF_ROLES


def may_write(thread: Thread) -> bool:
    """The pupil's guardians and the thread's teacher; the administration only reads."""
    if g.get("message_child") is not None:
        return True
    staff = _acting_staff(thread.tenant_id) if g.get("membership") and g.membership.role == "teacher" else None
    return staff is not None and staff.id == thread.staff_id


# Writing --------------------------------------------------------------------------------

def _clean(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise Refused.on("text", _("Write the message."))
    if len(text) > TEXT_MAX:
        raise Refused.on("text", _("The message is too long: at most %(n)s characters.", n=TEXT_MAX))
    return text


def write_to_teacher(child: Child, teacher_id, text: str | None) -> tuple[Thread, Message]:
    """A guardian's message to one of the child's teachers: the thread is made on the first."""
    text = _clean(text)
    teachers = {t["id"] for t in teachers_of(child)}
    if not valid_id(teacher_id) or int(teacher_id) not in teachers:
        raise Refused.on("teacher_id", _("This teacher does not teach %(name)s: choose one of the pupil's teachers.",
                                         name=child.pupil.full_name))
    with reading(child):
        thread = db.session.execute(select(Thread).where(
            Thread.pupil_id == child.id, Thread.staff_id == int(teacher_id))).scalar_one_or_none()
        if thread is None:
            now = utcnow()
            thread = Thread(pupil_id=child.id, staff_id=int(teacher_id), started_at=now, last_at=now,
                            tenant_id=child.school.id, region_id=child.pupil.region_id)
            db.session.add(thread)
            db.session.flush()
        message = _add(thread, text)
    return thread, message


def reply(thread: Thread, text: str | None) -> Message:
    if not may_write(thread):
        raise NotAllowed()
    text = _clean(text)
    child = g.get("message_child")
    if child is not None:
        with reading(child):
            return _add(thread, text)
    return _add(thread, text)


def _add(thread: Thread, text: str) -> Message:
    now = utcnow()
    message = Message(thread_id=thread.id, author_id=current_user.id, text=text, sent_at=now,
                      tenant_id=thread.tenant_id, region_id=thread.region_id)
    db.session.add(message)
    thread.last_at = now
    db.session.flush()
    _mark_read(thread, message.id)
    posted.send(current_user._get_current_object(), thread=thread, message=message)
    return message


def _mark_read(thread: Thread, message_id: int) -> None:
    read = db.session.execute(select(MessageRead).where(
        MessageRead.thread_id == thread.id, MessageRead.user_id == current_user.id)).scalar_one_or_none()
    if read is None:
        db.session.add(MessageRead(thread_id=thread.id, user_id=current_user.id, last_message_id=message_id,
                                   tenant_id=thread.tenant_id, region_id=thread.region_id))
    elif read.last_message_id < message_id:
        read.last_message_id = message_id
    db.session.flush()  # a page read on a GET: flushed, so the request commits it


# Reading --------------------------------------------------------------------------------

def thread_view(thread: Thread) -> dict:
    """The thread's messages, oldest first, with their authors' names; marks it read."""
    child = g.get("message_child")

    def load():
        from core.accounts.models import User

        rows = db.session.execute(select(Message, User.full_name).join(User, User.id == Message.author_id)
                                  .where(Message.thread_id == thread.id).order_by(Message.id)).all()
        pupil = db.session.execute(select(Pupil).where(Pupil.id == thread.pupil_id)).scalar_one()
        staff = db.session.execute(select(Staff).where(Staff.id == thread.staff_id)).scalar_one()
        if rows:
            _mark_read(thread, rows[-1][0].id)
        return rows, pupil, staff

    if child is not None:
        with reading(child):
            rows, pupil, staff = load()
    else:
        rows, pupil, staff = load()
    return {"id": thread.id, "pupil_id": pupil.id, "pupil": pupil.full_name, "teacher_id": staff.id,
            "teacher": staff.full_name, "school_id": thread.tenant_id, "may_write": may_write(thread),
            "messages": [{"id": m.id, "author": name, "mine": m.author_id == current_user.id, "text": m.text,
                          "sent_at": m.sent_at} for m, name in rows]}


def _listing(criteria) -> list[dict]:
    """Threads with the pupil, the teacher, the last message and the reader's unread count:
    one statement whatever the number of threads."""
    read = select(MessageRead.thread_id, MessageRead.last_message_id).where(
        MessageRead.user_id == current_user.id).subquery()
    unread = (select(func.count(Message.id)).where(
        Message.thread_id == Thread.id, Message.author_id != current_user.id,
        Message.id > func.coalesce(read.c.last_message_id, 0)).correlate(Thread, read).scalar_subquery())
    last = (select(Message.text).where(Message.thread_id == Thread.id).order_by(Message.id.desc()).limit(1)
            .correlate(Thread).scalar_subquery())
    rows = db.session.execute(
        select(Thread, Pupil.last_name, Pupil.first_name, Staff.last_name, Staff.first_name, Staff.middle_name,
               unread.label("unread"), last.label("last"))
        .join(Pupil, Pupil.id == Thread.pupil_id).join(Staff, Staff.id == Thread.staff_id)
        .outerjoin(read, read.c.thread_id == Thread.id)
        .where(*criteria).order_by(Thread.last_at.desc())).all()
    return [{"id": t.id, "pupil_id": t.pupil_id, "pupil": f"{pl} {pf}", "teacher_id": t.staff_id,
             "teacher": " ".join(p for p in (sl, sf, sm) if p), "last_at": t.last_at, "unread": n or 0,
             "last": (text or "")[:140]} for t, pl, pf, sl, sf, sm, n, text in rows]


def threads_of_child(child: Child) -> list[dict]:
    with reading(child):
        return _listing([Thread.pupil_id == child.id])


def inbox() -> tuple[list[dict], str]:
    """A teacher's threads (``"teacher"``), or every thread of the school for its
    administration (``"school"``)."""
    membership = g.get("membership")
    if membership is None or membership.tenant_id is None or not _is_staff(membership):
        raise NotAllowed()
    from tenants import service as tenants

    school = tenants.load(membership.tenant_id)
    if membership.role == "school_admin" and roster.can_manage(school):
        return _listing([Thread.tenant_id == school.id]), "school"
    staff = _acting_staff(membership.tenant_id)
    if staff is None:
        return [], "teacher"
    return _listing([Thread.staff_id == staff.id]), "teacher"
