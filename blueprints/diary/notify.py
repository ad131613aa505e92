"""Notifications to guardians of new grades, homework, remarks and final marks (IN-1).

The journal tells what it wrote through ``core.signals.journal_written``; :func:`record`
answers in the same transaction by adding one outbox row (``Notification``) per guardian
who chose e-mail or SMS, child, event and channel. Nothing is sent in the request: once the
transaction has committed, the request starts a ``diary_notify`` job for the rows to send at
once, and the periodic ``diary_notify_due`` job sends the daily digests at each guardian's
local hour and whatever was left behind (a job that never started, a server that was down).

Never twice: a row is unique per guardian, event and channel (an event names the entry and
its version), and a send first claims its rows with a conditional ``UPDATE`` (only rows not
sent, not given up and not claimed by a live send), then sets ``sent_at`` only on the rows
it claimed. A retried job finds the rows it sent marked and sends nothing again. A send
that succeeded but never reported back (the worker died between the two updates) is tried
again after ``NOTIFY_CLAIM_SECONDS``: at least once, with the same Message-ID.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, event, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.extensions import db
from core.orm import utcnow
from blueprints.diary import delivery, labels
from blueprints.roster.models import Guardian, GuardianLink, Lesson, Pupil, SchoolOwned, Subject
from tenants import service as tenants

log = logging.getLogger("tabel.diary.notify")

KINDS = ("grade", "homework", "remark", "final_mark", "message")
PENDING, COMMITTED = "diary.notify.pending", "diary.notify.committed"


class Notification(SchoolOwned, db.Model):
    """One message owed to a guardian about one entry, on one channel: the outbox row."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("guardian_id", "event", "channel"),
                      Index("ix_notification_pending", "sent_at", "failed_at", "due_at"),
                      {"info": {"unstamped": True}})  # no page is kept from it (core.changes)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    event: Mapped[str] = mapped_column(String(80))  # "grade:17:2": the entry and its version
    kind: Mapped[str] = mapped_column(String(12))  # grade | homework | remark | final_mark
    payload: Mapped[dict] = mapped_column(JSON)  # what the message says, as written when entered
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)  # now, or the digest's hour
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # given up after the last attempt
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


# Recording (in the journal's transaction) -------------------------------------------------

def record(app, kind: str, rows: list):
    """The receiver of ``journal_written``: outbox rows for every guardian of the pupils
    concerned who chose e-mail or SMS (IN-1). Two or three statements and the inserts; none
    at all beyond the first when nobody chose them."""
    if kind not in KINDS or not rows:
        return
    if kind == "homework":
        rows = [r for r in rows if r.homework and not r.no_homework]
        if not rows:
            return
    lesson_ids = {r.lesson_id for r in rows if getattr(r, "lesson_id", None)}
    lessons = {}
    if lesson_ids:
        lessons = {lid: (held_on, subject, class_id) for lid, held_on, subject, class_id in db.session.execute(
            select(Lesson.id, Lesson.held_on, Subject.name, Lesson.class_id).join(Subject, Subject.id == Lesson.subject_id)
            .where(Lesson.id.in_(lesson_ids)))}
    per_pupil = _events(kind, rows, lessons)
    if not per_pupil:
        return
    guardians = db.session.execute(
        select(GuardianLink.pupil_id, Pupil.last_name, Pupil.first_name, Guardian)
        .join(Guardian, Guardian.id == GuardianLink.guardian_id).join(Pupil, Pupil.id == GuardianLink.pupil_id)
        .where(GuardianLink.pupil_id.in_(list(per_pupil)), or_(Guardian.by_email.is_(True), Guardian.by_sms.is_(True)))
    ).all()
    if not guardians:
        return
    now = utcnow()
    seen = db.session.info.setdefault("diary.notify.seen", set())
    zones = {}
    for pupil_id, last_name, first_name, guardian in guardians:
        digest = guardian.notify_mode == "digest"
        if digest and guardian.tenant_id not in zones:
            zones[guardian.tenant_id] = ZoneInfo(tenants.inherited(tenants.load(guardian.tenant_id))["timezone"])
        due = _digest_due(guardian.digest_hour, zones[guardian.tenant_id]) if digest else now
        for event_key, payload in per_pupil[pupil_id]:
            for channel in ("email", "sms"):
                if not getattr(guardian, f"by_{channel}") or (guardian.id, event_key, channel) in seen:
                    continue
                seen.add((guardian.id, event_key, channel))
                row = Notification(guardian_id=guardian.id, pupil_id=pupil_id, channel=channel, event=event_key,
                                   kind=kind, due_at=due, attempts=0, tenant_id=guardian.tenant_id,
                                   region_id=guardian.region_id,
                                   payload={**payload, "pupil": f"{last_name} {first_name}", "digest": digest})
                db.session.add(row)
                if not digest:
                    db.session.info.setdefault(PENDING, []).append(row)


def _events(kind, rows, lessons) -> dict[int, list[tuple[str, dict]]]:
    """Pupil id to the (event key, payload) pairs the rows make."""
    out: dict[int, list] = {}
    if kind == "grade":
        for r in rows:
            held_on, subject, _class = lessons[r.lesson_id]
            out.setdefault(r.pupil_id, []).append((f"grade:{r.id}:{r.version}", {
                "subject": subject, "date": held_on.isoformat(), "value": r.value, "work_type": r.work_type,
                "comment": r.comment}))
    elif kind == "remark":
        for r in rows:
            held_on, subject, _class = lessons[r.lesson_id]
            out.setdefault(r.pupil_id, []).append((f"remark:{r.id}", {
                "subject": subject, "date": held_on.isoformat(), "remark_kind": r.kind, "text": r.text}))
    elif kind == "homework":
        from blueprints.journal.entries import pupils_of

        for r in rows:
            held_on, subject, class_id = lessons[r.lesson_id]
            lesson = db.session.execute(select(Lesson).where(Lesson.id == r.lesson_id)).scalar_one()
            for pupil in pupils_of(lesson):
                out.setdefault(pupil.id, []).append((f"homework:{r.lesson_id}:{r.version}", {
                    "subject": subject, "date": held_on.isoformat(), "text": r.homework}))
    elif kind == "message":  # a teacher's message in a thread about the pupil (issue #14, item 6)
        from blueprints.diary.messages import Thread
        from blueprints.roster.models import Staff

        for m in rows:
            pupil_id, last, first, middle = db.session.execute(
                select(Thread.pupil_id, Staff.last_name, Staff.first_name, Staff.middle_name)
                .join(Staff, Staff.id == Thread.staff_id).where(Thread.id == m.thread_id)).one()
            teacher = f"{last} {' '.join(f'{p[0]}.' for p in (first, middle) if p)}".strip()  # Морозова А. С.
            out.setdefault(pupil_id, []).append((f"message:{m.id}", {
                "teacher": teacher, "text": m.text[:300], "thread_id": m.thread_id}))
    elif kind == "final_mark":
        subjects = dict(db.session.execute(select(Subject.id, Subject.name).where(
            Subject.id.in_({r.subject_id for r in rows}))).all())
        for r in rows:
            out.setdefault(r.pupil_id, []).append((f"mark:{r.id}:{r.version}", {
                "subject": subjects.get(r.subject_id, ""), "value": r.value, "mark_kind": r.kind}))
    return out


def _digest_due(hour: int, zone: ZoneInfo) -> dt.datetime:
    """The next time the school's clocks show ``hour`` o'clock, as naive UTC."""
    local = clock.now().astimezone(zone)
    target = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= local:
        target = (local + dt.timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return target.astimezone(dt.timezone.utc).replace(tzinfo=None)


# After the commit: start the job that sends ----------------------------------------------

def _committed(session, *_args):
    pending = session.info.pop(PENDING, None)
    session.info.pop("diary.notify.seen", None)
    if pending:
        committed = session.info.setdefault(COMMITTED, {})
        for row in pending:
            if row.id is not None:
                committed.setdefault(row.tenant_id, []).append(row.id)


def _rolled_back(session, *_args):
    session.info.pop(PENDING, None)
    session.info.pop("diary.notify.seen", None)


def install_session_events():
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_rollback", _rolled_back)


def start_jobs(response=None):
    """Flask's ``after_request``: the request has committed its notifications; a job per
    school sends them (a failure to start one leaves them to the periodic job)."""
    committed = db.session.info.pop(COMMITTED, None)
    if not committed or (response is not None and response.status_code >= 400):
        return response
    from core.jobs import enqueue

    for tenant_id, ids in committed.items():
        try:
            enqueue("diary_notify", tenant=tenants.load(tenant_id), params={"ids": sorted(ids)})
        except Exception:  # noqa: BLE001 - the periodic job sends what is left
            log.exception("could not start the notification job of tenant %s", tenant_id)
            db.session.rollback()
    return response


# Sending (in a job) --------------------------------------------------------------------

class SendFailed(Exception):
    """Some notifications could not be sent; they stay pending and are tried again."""


def send_due(ids=None) -> dict:
    """Send the notifications that are due (among ``ids`` if given): each instant one on its
    own, each guardian's due digest rows of a channel as one message. Returns the counts."""
    now = utcnow()
    stmt = (select(Notification).where(Notification.sent_at.is_(None), Notification.failed_at.is_(None),
                                       Notification.due_at <= now)
            .order_by(Notification.guardian_id, Notification.channel, Notification.id))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    rows = db.session.execute(stmt).scalars().all()
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    if not rows:
        return counts
    guardians = {g.id: g for g in db.session.execute(select(Guardian).where(
        Guardian.id.in_({r.guardian_id for r in rows}))).scalars()}
    groups: dict[tuple, list] = {}
    for row in rows:
        key = (row.guardian_id, row.channel, "digest") if row.payload.get("digest") else (row.id,)
        groups.setdefault(key, []).append(row)
    context = _Context()
    for group in groups.values():
        outcome = _send_group(group, guardians[group[0].guardian_id], context)
        counts[outcome] += 1
    return counts


class _Context:
    """What the messages of one run share: schools and their work type names."""

    def __init__(self):
        self.schools, self.work_types = {}, {}

    def school(self, tenant_id):
        if tenant_id not in self.schools:
            self.schools[tenant_id] = tenants.load(tenant_id)
        return self.schools[tenant_id]

    def work_type_names(self, tenant_id, day: str) -> dict:
        key = (tenant_id, day)
        if key not in self.work_types:
            document = tenants.effective(self.school(tenant_id), dt.date.fromisoformat(day)).document
            self.work_types[key] = labels.work_type_names(document["grading"])
        return self.work_types[key]


def _table():
    return Notification.__table__


def _claim(group) -> tuple[str, list[int]]:
    """Claim the rows nobody has sent, given up or is sending (a claim older than
    NOTIFY_CLAIM_SECONDS is taken to be dead). Committed at once, on its own connection."""
    table, token, now = _table(), uuid.uuid4().hex, utcnow()
    stale = now - dt.timedelta(seconds=current_app.config["NOTIFY_CLAIM_SECONDS"])
    ids = [r.id for r in group]
    with db.engine.begin() as conn:
        conn.execute(table.update().where(
            table.c.id.in_(ids), table.c.sent_at.is_(None), table.c.failed_at.is_(None),
            or_(table.c.claim.is_(None), table.c.claimed_at < stale)).values(
            claim=token, claimed_at=now, attempts=table.c.attempts + 1))
        won = [row.id for row in conn.execute(select(table.c.id).where(table.c.claim == token, table.c.id.in_(ids)))]
    return token, won


def _send_group(group, guardian, context) -> str:
    token, won = _claim(group)
    if not won:
        return "skipped"  # sent, given up or being sent by another run
    group = [r for r in group if r.id in won]
    table = _table()
    channel = group[0].channel
    address = guardian.email if channel == "email" else guardian.phone
    try:
        if not getattr(guardian, f"by_{channel}") or not address:
            raise delivery.Withdrawn(f"the guardian no longer chose {channel}")
        with force_locale(guardian.language or "ru"):
            message = compose(guardian, group, context)
        if channel == "email":
            delivery.send_email(address, message["subject"], message["body"], message_id=_message_id(group))
        else:
            delivery.send_sms(address, message["sms"], key=_message_id(group))
    except Exception as error:  # noqa: BLE001 - any failure leaves the rows to be tried again
        attempts = max(r.attempts for r in group) + 1
        give_up = isinstance(error, delivery.Withdrawn) or attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]
        log.warning("notification %s to guardian %s failed (attempt %s): %s", won, guardian.id, attempts, error)
        with db.engine.begin() as conn:
            conn.execute(table.update().where(table.c.claim == token).values(
                claim=None, claimed_at=None, last_error=str(error)[:500], failed_at=utcnow() if give_up else None))
        return "skipped" if isinstance(error, delivery.Withdrawn) else "failed"
    with db.engine.begin() as conn:
        conn.execute(table.update().where(table.c.claim == token, table.c.sent_at.is_(None)).values(
            sent_at=utcnow(), claim=None, last_error=None))
    return "sent"


def _message_id(group) -> str:
    digest = hashlib.sha256(",".join(str(r.id) for r in group).encode()).hexdigest()[:24]
    return f"<notify-{group[0].guardian_id}-{group[0].channel}-{digest}@tabel>"


# The words of the messages (in the guardian's language: called under force_locale) --------

def _day(iso: str | None) -> str:
    return format_date(dt.date.fromisoformat(iso), "d MMMM") if iso else ""


def line(row: Notification, context: _Context) -> str:
    """One entry as a sentence (IN-1): the child, what, the subject, the day."""
    p = row.payload
    if row.kind == "grade":
        work = context.work_type_names(row.tenant_id, p["date"]).get(p["work_type"], p["work_type"])
        text = _("%(pupil)s: grade %(mark)s in %(subject)s on %(date)s (%(work)s).", pupil=p["pupil"],
                 mark=labels.mark_in_words(p["value"]), subject=p["subject"], date=_day(p["date"]), work=work.lower())
        if p.get("comment"):
            text += " " + _("The teacher's comment: %(comment)s", comment=p["comment"])
        return text
    if row.kind == "homework":
        return _("%(pupil)s: homework in %(subject)s given on %(date)s: %(text)s", pupil=p["pupil"],
                 subject=p["subject"], date=_day(p["date"]), text=p["text"])
    if row.kind == "remark":
        kind = labels.REMARK_KINDS.get(p["remark_kind"], p["remark_kind"])
        return _("%(pupil)s: %(kind)s in %(subject)s on %(date)s: %(text)s", pupil=p["pupil"], kind=str(kind).lower(),
                 subject=p["subject"], date=_day(p["date"]), text=p["text"])
    if row.kind == "message":
        return _("%(pupil)s: a message from %(teacher)s: %(text)s", pupil=p["pupil"], teacher=p["teacher"],
                 text=p["text"])
    kind = labels.FINAL_KINDS.get(p["mark_kind"], p["mark_kind"])
    return _("%(pupil)s: %(kind)s in %(subject)s: %(mark)s.", pupil=p["pupil"], kind=str(kind).lower(),
             subject=p["subject"], mark=labels.mark_in_words(p["value"]))


def _subject(row: Notification) -> str:
    p = row.payload
    if row.kind == "grade":
        return _("New grade: %(pupil)s, %(mark)s in %(subject)s", pupil=p["pupil"],
                 mark=labels.mark_in_words(p["value"]), subject=p["subject"])
    if row.kind == "homework":
        return _("Homework: %(pupil)s, %(subject)s", pupil=p["pupil"], subject=p["subject"])
    if row.kind == "remark":
        return _("%(kind)s: %(pupil)s, %(subject)s", kind=labels.REMARK_KINDS.get(p["remark_kind"], ""),
                 pupil=p["pupil"], subject=p["subject"])
    if row.kind == "message":
        return _("A message from the teacher %(teacher)s: %(pupil)s", teacher=p["teacher"], pupil=p["pupil"])
    return _("%(kind)s: %(pupil)s, %(mark)s in %(subject)s", kind=labels.FINAL_KINDS.get(p["mark_kind"], ""),
             pupil=p["pupil"], mark=labels.mark_in_words(p["value"]), subject=p["subject"])


def compose(guardian: Guardian, group: list, context: _Context) -> dict:
    """The e-mail's subject and body and the SMS text of one instant notification or one
    digest (several rows), in the current locale."""
    school = context.school(group[0].tenant_id)
    lines = [line(row, context) for row in group]
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    link = f"{base}/diary/{group[0].pupil_id}" if len({r.pupil_id for r in group}) == 1 else f"{base}/diary"
    if len(group) == 1 and not group[0].payload.get("digest"):
        subject = _subject(group[0])
        sms = lines[0]
    else:
        today = format_date(clock.now().astimezone(ZoneInfo(tenants.inherited(school)["timezone"])).date(), "d MMMM")
        subject = _("The diary on %(date)s: %(count)s new entries", date=today, count=len(group))
        sms = _("The diary on %(date)s: %(count)s new entries. %(link)s", date=today, count=len(group), link=link)
    greeting = _("Hello, %(name)s!", name=" ".join(p for p in (guardian.first_name, guardian.middle_name) if p))
    reason = _("You receive this because you chose to be informed by %(channel)s (application No. %(number)s of "
               "%(date)s). To change that, apply to the school.",
               channel=_("e-mail") if group[0].channel == "email" else _("SMS"),
               number=guardian.application_number or "—",
               date=format_date(guardian.application_date, "dd.MM.yyyy") if guardian.application_date else "—")
    body = "\n\n".join([greeting, "\n".join(lines), _("The diary: %(link)s", link=link),
                        f"{reason}\n{school.display_name}"])
    if len(sms) > 300:
        sms = sms[:297] + "…"
    return {"subject": subject, "body": body + "\n", "sms": sms}



# What the school sees: notifications not delivered ---------------------------------------

def undelivered(school, limit=100) -> dict:
    """The school's notifications still waiting (after a failed attempt) or given up, newest
    first, with their guardians and children; and how many went out today. Two statements (and the
    school's zone, usually known already)."""
    rows = db.session.execute(
        select(Notification, Guardian).join(Guardian, Guardian.id == Notification.guardian_id)
        .where(Notification.tenant_id == school.id, Notification.sent_at.is_(None),
               or_(Notification.failed_at.is_not(None), Notification.attempts > 0))
        .order_by(Notification.id.desc()).limit(limit)).all()
    zone = ZoneInfo(tenants.inherited(school)["timezone"])
    midnight = dt.datetime.combine(clock.now().astimezone(zone).date(), dt.time(), zone)
    sent_today = db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.tenant_id == school.id,
        Notification.sent_at >= midnight.astimezone(dt.timezone.utc).replace(tzinfo=None))).scalar_one()
    return {"rows": rows, "sent_today": sent_today}


def problem_words(row: Notification) -> str:
    """Why a notification has not gone, in words (the server's own answer is kept for the
    platform's operators in the log and the row)."""
    if row.failed_at is not None and row.last_error and "no longer chose" in row.last_error:
        return _("The guardian no longer chose this way of informing.")
    if row.failed_at is not None:
        return _("Not delivered after %(n)s attempts: check the address, or the mail or SMS settings.",
                 n=row.attempts)
    return _("The mail or SMS server did not accept it; tried %(n)s times, trying again.", n=row.attempts)
