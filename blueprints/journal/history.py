"""A lesson's audited history as a person reads it: each entry one sentence in the reader's
language, «Оценка 5 (устный ответ), Зайцев Егор; 02.12 в 14:05 (местное время), учитель
Морозова А. С.; в срок». Names come in one statement for the page (pupils and the school's
staff together; accounts without a staff record through ``core.accounts``), work types in
the school's words (as the diary shows them), times in the school's zone (DL-5). Never a
code, an id or UTC."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import literal, or_, select, union_all

from core import clock, localtime
from core.accounts import service as accounts
from core.extensions import db
from blueprints.journal.labels import REMARK_KINDS, attendance_label, work_type_names
from blueprints.roster.models import Pupil, Staff


@dataclass(frozen=True)
class Line:
    """One entry of the history: when (the stored instant), the sentence, and whether it was
    a correction (made after the period locked, with a reason)."""

    at: dt.datetime
    text: str
    correction: bool


def _pupil_ids(entry) -> set[int]:
    out = set()
    for side in (entry.before, entry.after):
        if not isinstance(side, dict):
            continue
        if isinstance(side.get("pupil_id"), int):
            out.add(side["pupil_id"])
        if entry.action == "journal.attendance" and "pupil_id" not in side:
            out.update(int(key) for key in side if str(key).isdigit())
    return out


def _names(entries, school_id) -> tuple[dict, dict, dict]:
    """Pupils' names, staff names by staff id, and the writers' names by account id: the
    pupils and staff in one statement, the accounts with no staff record in the school in
    one more (only when there are any)."""
    pupil_ids, staff_ids, user_ids = set(), set(), set()
    for entry in entries:
        pupil_ids |= _pupil_ids(entry)
        for side in (entry.before, entry.after):
            if isinstance(side, dict) and isinstance(side.get("substitute_id"), int):
                staff_ids.add(side["substitute_id"])
        if entry.actor_id:
            user_ids.add(entry.actor_id)
    pupils, staff, writers = {}, {}, {}
    if pupil_ids or staff_ids or user_ids:
        rows = db.session.execute(union_all(
            select(literal(0).label("kind"), Pupil.id, Pupil.last_name, Pupil.first_name, Pupil.middle_name,
                   Pupil.user_id).where(Pupil.id.in_(pupil_ids or [-1])),
            select(literal(1), Staff.id, Staff.last_name, Staff.first_name, Staff.middle_name, Staff.user_id)
            .where(Staff.tenant_id == school_id,
                   or_(Staff.id.in_(staff_ids or [-1]), Staff.user_id.in_(user_ids or [-1]))))).all()
        for kind, row_id, last, first, middle, user_id in rows:
            if kind == 0:
                pupils[row_id] = " ".join(p for p in (last, first) if p)
            else:
                short = " ".join([last] + [f"{p[0]}." for p in (first, middle) if p])  # «Морозова А. С.»
                staff[row_id] = short.strip()
                if user_id in user_ids:
                    writers[user_id] = _("teacher %(name)s", name=short.strip())
    others = user_ids - set(writers)
    if others:
        writers.update(accounts.full_names(others, reason="journal: who made the changes of a lesson's history"))
    return pupils, staff, writers


def _lowered(name: str) -> str:
    """A work type's name inside a sentence: «Устный ответ» reads «устный ответ»; a name in
    capitals (an abbreviation a school chose) stays as written."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _quoted(text) -> str:
    return f"«{text}»" if text else "—"


def _what(entry, pupils, staff, works) -> str:
    """The change itself, in words."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    pupil = lambda side: pupils.get(side.get("pupil_id"), _("a pupil who left the class"))  # noqa: E731
    action = entry.action
    if action == "journal.grade":
        work = _lowered(works.get(after.get("work_type"), after.get("work_type") or ""))
        if before.get("value") and before.get("value") != after.get("value"):
            return _("Grade changed from %(before)s to %(value)s (%(work)s), %(pupil)s",
                     before=before["value"], value=after.get("value"), work=work, pupil=pupil(after))
        return _("Grade %(value)s (%(work)s), %(pupil)s", value=after.get("value"), work=work, pupil=pupil(after))
    if action == "journal.grade.delete":
        work = _lowered(works.get(before.get("work_type"), before.get("work_type") or ""))
        return _("Grade %(value)s (%(work)s) removed, %(pupil)s", value=before.get("value"), work=work,
                 pupil=pupil(before))
    if action == "journal.attendance" and "pupil_id" in after:  # one pupil's mark from the grid
        if after.get("status") is None:
            return _("Absence mark removed, %(pupil)s", pupil=pupil(after))
        if after["status"] == "late":
            return _("Came late, %(pupil)s", pupil=pupil(after))
        return _("Absence (%(status)s), %(pupil)s", status=attendance_label(after["status"]), pupil=pupil(after))
    if action == "journal.attendance":  # the lesson's whole list
        absent = [(pupils.get(int(key), _("a pupil who left the class")), attendance_label(status))
                  for key, status in after.items() if str(key).isdigit()]
        if not absent:
            return _("Attendance taken: everyone present")
        return _("Attendance taken, absent: %(list)s",
                 list=", ".join(f"{name} ({status})" for name, status in sorted(absent)))
    if action == "journal.topic":
        if not before.get("topic"):
            return _("Topic entered: %(topic)s", topic=_quoted(after.get("topic")))
        if not after.get("topic"):
            return _("Topic removed: %(topic)s", topic=_quoted(before.get("topic")))
        return _("Topic changed: %(before)s → %(after)s", before=_quoted(before["topic"]), after=_quoted(after["topic"]))
    if action == "journal.homework":
        if after.get("no_homework"):
            return _("Homework: none set")
        if not before.get("homework"):
            return _("Homework entered: %(homework)s", homework=_quoted(after.get("homework")))
        return _("Homework changed: %(before)s → %(after)s", before=_quoted(before["homework"]),
                 after=_quoted(after.get("homework")))
    if action == "journal.remark":
        kind = REMARK_KINDS.get(after.get("kind"))
        return _("%(kind)s for %(pupil)s: %(text)s", kind=kind or _("Remark"), pupil=pupil(after),
                 text=_quoted(after.get("text")))
    if action == "journal.substitute":
        if after.get("substitute_id") is None:
            return _("Substitute removed: the timetabled teacher taught")
        return _("Substitute: %(name)s", name=staff.get(after["substitute_id"], _("a former teacher")))
    return _("A change to the lesson")


def _when(moment, school) -> str:
    """«02.12 в 14:05 (местное время)»: the school's local time; the zone named instead when
    the reader could take it for their own (a platform admin, who acts in no tenant)."""
    local = localtime.in_zone(moment, school)
    this_year = localtime.in_zone(clock.now(), school).year
    day = local.strftime("%d.%m") if local.year == this_year else local.strftime("%d.%m.%Y")
    zone = localtime.zone_label(local.tzinfo.key, local) if localtime.zone_is_named() else _("local time")
    return _("%(date)s at %(time)s (%(zone)s)", date=day, time=local.strftime("%H:%M"), zone=zone)


def describe(entries, school, grading: dict) -> list[Line]:
    """The entries (``core.audit.AuditEntry`` of one lesson) as sentences, in their order."""
    pupils, staff, writers = _names(entries, school.id)
    works = work_type_names(grading)
    lines = []
    for entry in entries:
        parts = [_what(entry, pupils, staff, works),
                 ", ".join(p for p in (_when(entry.at, school), writers.get(entry.actor_id)) if p)]
        after = entry.after if isinstance(entry.after, dict) else {}
        if isinstance(after.get("late"), bool):
            parts.append(_("late") if after["late"] else _("on time"))
        if entry.reason:
            parts.append(_("correction: %(reason)s", reason=entry.reason))
        lines.append(Line(entry.at, "; ".join(parts), bool(entry.reason)))
    return lines
