"""When each journal entry is due (DL-1..DL-5), in the school's own time zone.

Rules come from the regulation version in force on the lesson's date:

- ``end_of_lesson_day``: due at the end of the lesson's date (23:59:59 local);
- ``after_last_lesson`` with ``hours: H``: H hours after the end of that class's last lesson
  on that date;
- grades, ``days: N`` for the kind of work (oral or written): the end of the N-th calendar
  day after the lesson's date, only for grade levels inside ``levels`` (outside them a
  grade has no deadline);

An entry made before its due time (planned ahead included) is on time; a late one is
accepted and marked, never refused (``is_late``). Only topics and homework may be planned
ahead (DL-2): grades and absences wait for the lesson's local day (``before_lesson_day``)
unless the regulation allows them earlier (``grades_and_absences_ahead``)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

END_OF_DAY = dt.time(23, 59, 59, 999999)


def _utc(local: dt.datetime) -> dt.datetime:
    return local.astimezone(dt.timezone.utc)


def component_due(rule: dict, lesson_on: dt.date, zone: ZoneInfo, last_lesson_end: dt.time | None) -> dt.datetime:
    """Due time (UTC) of a topic, attendance or homework entry under ``rule``."""
    if rule.get("rule") == "after_last_lesson" and last_lesson_end is not None:
        end = dt.datetime.combine(lesson_on, last_lesson_end, tzinfo=zone)
        return _utc(end + dt.timedelta(hours=int(rule.get("hours") or 0)))
    return _utc(dt.datetime.combine(lesson_on, END_OF_DAY, tzinfo=zone))


def grade_due(grade_rules: dict, kind: str, grade_level: int, lesson_on: dt.date, zone: ZoneInfo) -> dt.datetime | None:
    """DL-3: the due time (UTC) of a grade of ``kind`` (oral or written: ``days`` after the
    lesson for the levels of the rule), or None when the grade level is not bound."""
    rule = grade_rules.get(kind)
    if not rule:
        return None
    low, high = rule.get("levels", [1, 11])
    if not low <= grade_level <= high:
        return None
    return _utc(dt.datetime.combine(lesson_on + dt.timedelta(days=int(rule["days"])), END_OF_DAY, tzinfo=zone))


def is_late(entered_at: dt.datetime, due: dt.datetime | None) -> bool:
    """DL-6: whether an entry made at ``entered_at`` is past ``due`` (None: no deadline).
    Every write stamps its entry with this: a late entry is accepted and marked so, never
    refused, and counts against the on-time rate."""
    if due is None:
        return False
    if entered_at.tzinfo is None:
        entered_at = entered_at.replace(tzinfo=dt.timezone.utc)
    return entered_at > due


def before_lesson_day(now: dt.datetime, lesson_on: dt.date, zone: ZoneInfo) -> bool:
    """DL-2, DL-5: whether ``now`` falls before the lesson's date in the school's zone
    (grades and absences are then not accepted unless the regulation allows them ahead)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return now.astimezone(zone).date() < lesson_on
