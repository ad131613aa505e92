"""DL-1..DL-5: due times in the school's local time (Murmansk UTC+3, Perm UTC+5, Tomsk UTC+7)."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from blueprints.journal import deadlines

MONDAY = dt.date(2026, 10, 5)
UTC = dt.timezone.utc
ZONES = {"Мурманск": "Europe/Moscow", "Пермь": "Asia/Yekaterinburg", "Томск": "Asia/Tomsk"}
GRADES = {"oral": {"days": 1, "levels": [2, 9]}, "written": {"days": 3, "levels": [2, 9]}}


@pytest.mark.parametrize("city, due_utc", [("Мурманск", "20:59:59"), ("Пермь", "18:59:59"), ("Томск", "16:59:59")])
def test_topic_and_attendance_are_due_at_the_end_of_the_local_lesson_day(city, due_utc):
    """DL-1, DL-5: the same rule ends the day at different instants across Russia."""
    due = deadlines.component_due({"rule": "end_of_lesson_day"}, MONDAY, ZoneInfo(ZONES[city]), None)
    assert due.date() == MONDAY and due.strftime("%H:%M:%S") == due_utc


@pytest.mark.parametrize("city, late", [("Мурманск", False), ("Пермь", False), ("Томск", True)])
def test_an_entry_at_17_30_utc_is_late_only_where_the_day_is_already_over(city, late):
    due = deadlines.component_due({"rule": "end_of_lesson_day"}, MONDAY, ZoneInfo(ZONES[city]), None)
    assert deadlines.is_late(dt.datetime(2026, 10, 5, 17, 30, tzinfo=UTC), due) is late


def test_homework_is_due_an_hour_after_the_class_s_last_lesson():
    """DL-2: last lesson ends 14:10 in Perm, so homework is due at 15:10 local (10:10 UTC)."""
    due = deadlines.component_due({"rule": "after_last_lesson", "hours": 1}, MONDAY, ZoneInfo("Asia/Yekaterinburg"),
                                  dt.time(14, 10))
    assert due == dt.datetime(2026, 10, 5, 10, 10, tzinfo=UTC)
    planned_ahead = dt.datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    assert not deadlines.is_late(planned_ahead, due)  # entered before the lesson: on time


def test_oral_grades_are_due_the_next_day_and_written_three_days_later():
    """DL-3: a Monday lesson's oral grade is on time until Tuesday 23:59:59 local."""
    zone = ZoneInfo("Asia/Yekaterinburg")
    oral = deadlines.grade_due(GRADES, "oral", 5, MONDAY, zone)
    written = deadlines.grade_due(GRADES, "written", 5, MONDAY, zone)
    assert oral.astimezone(zone) == dt.datetime(2026, 10, 6, 23, 59, 59, 999999, tzinfo=zone)
    assert written.astimezone(zone).date() == dt.date(2026, 10, 8)
    wednesday_morning = dt.datetime(2026, 10, 7, 4, 0, tzinfo=UTC)  # 09:00 in Perm
    assert deadlines.is_late(wednesday_morning, oral) and not deadlines.is_late(wednesday_morning, written)


@pytest.mark.parametrize("grade_level, bound", [(1, False), (2, True), (9, True), (10, False), (11, False)])
def test_grade_deadlines_bind_only_the_configured_levels(grade_level, bound):
    """DL-3 binds grades 2-9; outside them a grade has no deadline (GR-2 exempts grade 1)."""
    due = deadlines.grade_due(GRADES, "oral", grade_level, MONDAY, ZoneInfo("Europe/Moscow"))
    assert (due is not None) is bound
