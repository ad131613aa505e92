"""DL-2: topics and homework may be planned ahead; grades and absence marks wait for the
lesson's day in the school's time zone (DL-5), unless the regulation allows them earlier
(``deadlines.grades_and_absences_ahead``). Every write path refuses them: one grade, a
column of grades, one absence, the attendance list, the lesson page."""
import datetime as dt

import pytest

from core import clock
from tests.conftest import SCHOOL_DAY

TOMORROW = (SCHOOL_DAY + dt.timedelta(days=1)).date()  # Thursday 19.11.2026
AHEAD_RU = "Оценки и отметки об отсутствии ставятся не раньше дня урока (19.11.2026)."
AHEAD_EN = "Grades and absence marks are entered no earlier than the lesson's day (19.11.2026)."


def _lesson_on(raw_sql, roster, day):
    """The maths lesson (period 1) of the class on ``day``."""
    rows = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on = :d",
                   c=roster["class_id"], t=roster["teacher_id"], d=day.isoformat())
    assert rows, f"no maths lesson on {day}"
    return rows[0].id


@pytest.fixture
def ahead(region_tree, make_roster, raw_sql):
    """School A (Moscow) with its maths lessons; tomorrow's lesson is ahead of the school's day."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    return {"a": a, "roster": roster, "tomorrow": _lesson_on(raw_sql, roster, TOMORROW),
            "today": _lesson_on(raw_sql, roster, SCHOOL_DAY.date()), "pupils": roster["pupil_ids"]}


def _allow_ahead(as_platform, region):
    """The region allows grades and absences before the lesson's day."""
    from core.extensions import db
    from tenants import service as tenants
    from tenants.models import Tenant

    with as_platform():
        tenants.add_version(db.session.get(Tenant, region["id"]), effective_from=dt.date(2026, 9, 1),
                            act="Приказ об отметках заранее", values={"deadlines": {"grades_and_absences_ahead": True}})
        db.session.commit()


def test_a_grade_on_tomorrows_lesson_is_refused_naming_the_date(api, ahead, raw_sql):
    """A «2» a day ahead was answered 200; now 422 with the lesson's date, and nothing is stored."""
    url = f"/api/v1/lessons/{ahead['tomorrow']}/grades/{ahead['pupils'][0]}"
    refused = api(ahead["a"]["teacher"], "PUT", url, json={"value": "2", "work_type": "У", "version": None})
    assert refused.status_code == 422
    assert refused.json["errors"] == {"value": [AHEAD_RU]}
    english = api(ahead["a"]["teacher"], "PUT", url, json={"value": "2", "work_type": "У", "version": None},
                  headers={"Accept-Language": "en"})
    assert english.json["errors"] == {"value": [AHEAD_EN]}
    assert raw_sql("SELECT count(*) AS n FROM grade")[0].n == 0


def test_every_write_path_refuses_marks_ahead(api, ahead, raw_sql):
    """A column of grades, one absence from the grid, the attendance list (even «all present»)."""
    teacher, lesson, pupil = ahead["a"]["teacher"], ahead["tomorrow"], ahead["pupils"][0]
    column = api(teacher, "PUT", f"/api/v1/lessons/{lesson}/grades", json={
        "grades": [{"pupil_id": pupil, "value": "5", "work_type": "У", "version": None}]})
    assert (column.status_code, column.json["errors"]) == (422, {"value": [AHEAD_RU]})
    absence = api(teacher, "PUT", f"/api/v1/lessons/{lesson}/attendance/{pupil}", json={"status": "ill"})
    assert (absence.status_code, absence.json["errors"]) == (422, {"status": [AHEAD_RU]})
    for absences in ([{"pupil_id": pupil, "status": "absent"}], []):
        listed = api(teacher, "PUT", f"/api/v1/lessons/{lesson}/attendance", json={"absences": absences, "version": 0})
        assert (listed.status_code, listed.json["errors"]) == (422, {"absences": [AHEAD_RU]})
    assert raw_sql("SELECT count(*) AS n FROM grade")[0].n == 0
    assert raw_sql("SELECT count(*) AS n FROM attendance")[0].n == 0
    assert api(teacher, "GET", f"/api/v1/lessons/{lesson}").json["record"] is None  # attendance not "taken"


def test_topic_and_homework_may_still_be_planned_ahead(api, ahead):
    """DL-2: planned ahead, on time."""
    teacher, url = ahead["a"]["teacher"], f"/api/v1/lessons/{ahead['tomorrow']}"
    topic = api(teacher, "PUT", f"{url}/topic", json={"topic": "Сравнение дробей", "version": 0})
    assert topic.status_code == 200 and topic.json["topic_late"] is False
    homework = api(teacher, "PUT", f"{url}/homework", json={"homework": "№ 214", "version": topic.json["version"]})
    assert homework.status_code == 200 and homework.json["homework_late"] is False


def test_todays_lesson_takes_grades_and_absences(api, ahead):
    teacher, lesson, pupil = ahead["a"]["teacher"], ahead["today"], ahead["pupils"][0]
    assert api(teacher, "PUT", f"/api/v1/lessons/{lesson}/grades/{pupil}",
               json={"value": "5", "work_type": "У", "version": None}).status_code == 200
    assert api(teacher, "PUT", f"/api/v1/lessons/{lesson}/attendance/{ahead['pupils'][1]}",
               json={"status": "ill"}).status_code == 200


def test_the_lesson_page_saves_a_planned_topic_and_refuses_absences_ahead(client, login, ahead, raw_sql):
    teacher, lesson, pupil = ahead["a"]["teacher"], ahead["tomorrow"], ahead["pupils"][0]
    login(client, teacher)
    planned = client.post(f"/lessons/{lesson}", data={"topic": "Сравнение дробей", "homework": "№ 214",
                                                      "attendance_taken": "1", "version": "0"}, follow_redirects=True)
    html = planned.get_data(as_text=True)
    assert "Сохранено." in html and 'class="flash error"' not in html
    record = raw_sql("SELECT topic, homework, attendance_at FROM lesson_record WHERE lesson_id = :l", l=lesson)[0]
    assert (record.topic, record.homework, record.attendance_at) == ("Сравнение дробей", "№ 214", None)

    version = raw_sql("SELECT version FROM lesson_record WHERE lesson_id = :l", l=lesson)[0].version
    marked = client.post(f"/lessons/{lesson}", data={"topic": "Сравнение дробей", "homework": "№ 214",
                                                     "attendance_taken": "1", f"status:{pupil}": "ill",
                                                     "version": str(version)}, follow_redirects=True)
    assert f'<p class="flash error" role="alert">{AHEAD_RU}</p>' in marked.get_data(as_text=True)
    assert raw_sql("SELECT count(*) AS n FROM attendance")[0].n == 0


def test_a_region_may_allow_grades_and_absences_ahead(api, ahead, as_platform):
    _allow_ahead(as_platform, ahead["a"]["region"])
    teacher, lesson, pupil = ahead["a"]["teacher"], ahead["tomorrow"], ahead["pupils"][0]
    grade = api(teacher, "PUT", f"/api/v1/lessons/{lesson}/grades/{pupil}",
                json={"value": "2", "work_type": "У", "version": None})
    assert grade.status_code == 200 and grade.json["is_late"] is False
    assert api(teacher, "PUT", f"/api/v1/lessons/{lesson}/attendance/{ahead['pupils'][1]}",
               json={"status": "ill"}).status_code == 200


def test_the_lesson_day_begins_at_midnight_in_the_schools_zone(api, region_tree, make_roster, raw_sql):
    """DL-5: school B is in Tomsk (UTC+7): Thursday's lesson takes grades from 17:00 UTC on
    Wednesday, when it is midnight there, though it is still Wednesday in UTC and Moscow."""
    b = region_tree["b"]
    roster = make_roster(b["school"], lessons=True, teacher_user=b["teacher"])
    lesson, pupil = _lesson_on(raw_sql, roster, TOMORROW), roster["pupil_ids"][0]
    url = f"/api/v1/lessons/{lesson}/grades/{pupil}"
    with clock.fixed(dt.datetime(2026, 11, 18, 16, 59, 59, tzinfo=dt.timezone.utc)):
        before = api(b["teacher"], "PUT", url, json={"value": "4", "work_type": "У", "version": None})
    assert (before.status_code, before.json["errors"]) == (422, {"value": [AHEAD_RU]})
    with clock.fixed(dt.datetime(2026, 11, 18, 17, 0, tzinfo=dt.timezone.utc)):
        after = api(b["teacher"], "PUT", url, json={"value": "4", "work_type": "У", "version": None})
    assert after.status_code == 200, after.json


def test_the_grid_marks_lessons_ahead_as_not_markable(client, login, ahead, as_platform):
    """The journal page's cells of lessons after the school's today carry ``data-ahead="1"``
    (the page's script leaves them alone); today's do not; a region allowing marks ahead has none."""
    import re

    login(client, ahead["a"]["teacher"])
    url = f"/classes/{ahead['roster']['class_id']}/journal?subject_id={ahead['roster']['subject_id']}"
    html = client.get(url).get_data(as_text=True)
    assert re.search(rf'<th scope="col" data-l="{ahead["tomorrow"]}"[^>]*data-ahead="1"', html)
    assert not re.search(rf'<th scope="col" data-l="{ahead["today"]}"[^>]*data-ahead', html)
    row = re.search(rf'<tr data-p="{ahead["pupils"][0]}">.*?</tr>', html).group(0)
    header = re.findall(r'<th scope="col" data-l="(\d+)"', html)
    cells = re.findall(r"<td[^>]*>", row)
    assert len(cells) == len(header)
    marked = {int(lesson): 'data-ahead="1"' in cell for lesson, cell in zip(header, cells)}
    assert marked[ahead["tomorrow"]] and not marked[ahead["today"]]

    _allow_ahead(as_platform, ahead["a"]["region"])
    assert "data-ahead" not in client.get(url).get_data(as_text=True)
