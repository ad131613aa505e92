"""The lesson page's form (issue #13): grades entered beside attendance and saved with it in
one transaction (GR-1), attendance recorded only when the teacher says it was taken or marks
someone (DL-1), and the grid's names and dates as data the status line is built from."""
import datetime as dt
import json
import re

import pytest
from werkzeug.datastructures import MultiDict

from core import clock
from blueprints.journal import grid, lesson_form


def _lesson_held(raw_sql, roster):
    """The timetabled teacher's latest maths lesson held up to today."""
    return raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on <= :d "
                   "ORDER BY held_on DESC LIMIT 1", c=roster["class_id"], t=roster["teacher_id"],
                   d=clock.today())[0].id


@pytest.fixture
def lesson(client, login, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=3, lessons=True, teacher_user=a["teacher"])
    login(client, a["teacher"])
    return {"id": _lesson_held(raw_sql, roster), "pupils": roster["pupil_ids"], "a": a, "roster": roster}


def _version(client, lesson_id):
    return re.search(r'name="version" value="(\d+)"', client.get(f"/lessons/{lesson_id}").get_data(as_text=True)).group(1)


def _record(raw_sql, lesson_id):
    rows = raw_sql("SELECT topic, attendance_at FROM lesson_record WHERE lesson_id = :l", l=lesson_id)
    return rows[0] if rows else None


def test_saving_only_a_topic_leaves_attendance_not_taken(client, lesson, raw_sql):
    """DL-1: a topic saved alone is not "attendance taken, everyone present"; the lesson still
    counts as missing its attendance."""
    response = client.post(f"/lessons/{lesson['id']}", data={"topic": "Дроби", "version": "0"})
    assert response.status_code == 302
    record = _record(raw_sql, lesson["id"])
    assert record.topic == "Дроби" and record.attendance_at is None
    assert not raw_sql("SELECT 1 FROM attendance WHERE lesson_id = :l", l=lesson["id"])
    page = client.get(f"/lessons/{lesson['id']}").get_data(as_text=True)
    box = re.search(r'<input type="checkbox" name="attendance_taken"[^>]*>', page).group(0)
    assert "checked" not in box


def test_ticking_attendance_taken_records_everyone_present(client, lesson, raw_sql):
    client.post(f"/lessons/{lesson['id']}", data={"topic": "Дроби", "attendance_taken": "1", "version": "0"})
    assert _record(raw_sql, lesson["id"]).attendance_at is not None
    assert not raw_sql("SELECT 1 FROM attendance WHERE lesson_id = :l", l=lesson["id"])
    page = client.get(f"/lessons/{lesson['id']}").get_data(as_text=True)
    box = re.search(r'<input type="checkbox" name="attendance_taken"[^>]*>', page).group(0)
    assert "checked" in box  # shown as taken
    assert "Посещаемость отмечена: присутствуют все, кроме отмеченных" in page


def test_marking_an_absence_takes_attendance_without_the_tick(client, lesson, raw_sql):
    pupil = lesson["pupils"][1]
    client.post(f"/lessons/{lesson['id']}", data={f"status:{pupil}": "absent", "version": "0"})
    assert _record(raw_sql, lesson["id"]).attendance_at is not None
    assert [r.pupil_id for r in raw_sql("SELECT pupil_id FROM attendance WHERE lesson_id = :l", l=lesson["id"])] == [pupil]
    # Taken once, an absence cleared later is saved as the form stands (the tick is shown, disabled).
    client.post(f"/lessons/{lesson['id']}", data={f"status:{pupil}": "", "version": _version(client, lesson["id"])})
    assert not raw_sql("SELECT 1 FROM attendance WHERE lesson_id = :l", l=lesson["id"])
    assert _record(raw_sql, lesson["id"]).attendance_at is not None


def test_grades_are_saved_with_the_attendance_in_one_save(client, lesson, raw_sql):
    """GR-1: a grade per pupil with its work type, entered on the lesson page, saved with the
    topic and the attendance."""
    first, second, third = lesson["pupils"]
    response = client.post(f"/lessons/{lesson['id']}", data={
        "topic": "Дроби", "attendance_taken": "1", f"status:{third}": "ill",
        f"grade:{first}": "5", f"work:{first}": "КР", f"grade:{second}": "4", f"work:{second}": "У",
        f"grade:{third}": "", f"work:{third}": "У", "version": "0"}, follow_redirects=True)
    assert "Сохранено." in response.get_data(as_text=True)
    stored = raw_sql("SELECT pupil_id, value, work_type, version FROM grade WHERE lesson_id = :l ORDER BY pupil_id",
                     l=lesson["id"])
    assert [(r.pupil_id, r.value, r.work_type) for r in stored] == [(first, "5", "КР"), (second, "4", "У")]
    assert raw_sql("SELECT status FROM attendance WHERE lesson_id = :l", l=lesson["id"])[0].status == "ill"
    audited = raw_sql("SELECT action FROM audit_entry WHERE object_type = 'lesson' AND object_id = :l ORDER BY seq",
                      l=str(lesson["id"]))
    assert [r.action for r in audited] == ["journal.topic", "journal.attendance", "journal.grade", "journal.grade"]
    page = client.get(f"/lessons/{lesson['id']}").get_data(as_text=True)
    assert f'name="grade:{first}:КР"' in page and f'name="version:grade:{first}:КР" value="1"' in page


def test_a_refused_grade_saves_nothing_of_the_form(client, lesson, raw_sql):
    """One transaction: a grade off the scale refuses the whole save, topic and attendance too."""
    first = lesson["pupils"][0]
    response = client.post(f"/lessons/{lesson['id']}", data={
        "topic": "Дроби", "attendance_taken": "1", f"grade:{first}": "7", f"work:{first}": "У", "version": "0"},
        follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Ученик000 Иван, Устный ответ: Используйте отметку из шкалы" in html  # the pupil named, not grades.0.value
    record = _record(raw_sql, lesson["id"])
    assert record is None or (record.topic, record.attendance_at) == (None, None)
    assert not raw_sql("SELECT 1 FROM grade WHERE lesson_id = :l", l=lesson["id"])


def test_a_grade_shown_is_changed_or_cleared_at_its_version_and_keeps_its_comment(client, lesson, raw_sql, token):
    first, second = lesson["pupils"][:2]
    a = lesson["a"]
    for pupil, value in ((first, "3"), (second, "4")):
        response = client.put(f"/api/v1/lessons/{lesson['id']}/grades/{pupil}", headers=token(a["teacher"]),
                              json={"value": value, "work_type": "У", "version": None, "comment": "у доски"})
        assert response.status_code == 200, response.json
    page = client.get(f"/lessons/{lesson['id']}").get_data(as_text=True)
    assert f'name="was:grade:{first}:У" value="3"' in page
    client.post(f"/lessons/{lesson['id']}", data={
        f"grade:{first}:У": "5", f"was:grade:{first}:У": "3", f"version:grade:{first}:У": "1",
        f"grade:{second}:У": "", f"was:grade:{second}:У": "4", f"version:grade:{second}:У": "1",
        "version": _version(client, lesson["id"])})
    stored = raw_sql("SELECT pupil_id, value, comment, version FROM grade WHERE lesson_id = :l", l=lesson["id"])
    assert [(r.pupil_id, r.value, r.comment, r.version) for r in stored] == [(first, "5", "у доски", 2)]
    assert _record(raw_sql, lesson["id"]) is None or _record(raw_sql, lesson["id"]).attendance_at is None


def test_a_grade_changed_meanwhile_is_a_conflict_and_nothing_is_saved(client, lesson, raw_sql, token):
    """Security item 11: the form's grade names the version it showed; a grade saved
    meanwhile by someone else is not overwritten, and the topic typed with it is given back."""
    first = lesson["pupils"][0]
    a = lesson["a"]
    url = f"/api/v1/lessons/{lesson['id']}/grades/{first}"
    assert client.put(url, headers=token(a["teacher"]), json={"value": "3", "work_type": "У", "version": None}).status_code == 200
    assert client.put(url, headers=token(a["teacher"]), json={"value": "2", "work_type": "У", "version": 1}).status_code == 200
    response = client.post(f"/lessons/{lesson['id']}", data={
        "topic": "Дроби", f"grade:{first}:У": "5", f"was:grade:{first}:У": "3", f"version:grade:{first}:У": "1",
        "version": "0"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "изменение здесь сохранил другой пользователь" in html and "Дроби" in html
    assert raw_sql("SELECT value FROM grade WHERE lesson_id = :l", l=lesson["id"])[0].value == "2"
    assert _record(raw_sql, lesson["id"]) is None or _record(raw_sql, lesson["id"]).topic is None


def test_an_ungraded_class_shows_no_grade_choice(client, login, region_tree, make_roster, raw_sql):
    """GR-2: grade 1 gets no marks, so its lesson page offers none."""
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=2, lessons=True, teacher_user=a["teacher"], grade=1)
    login(client, a["teacher"])
    page = client.get(f"/lessons/{_lesson_held(raw_sql, roster)}").get_data(as_text=True)
    assert 'name="attendance_taken"' in page and f'name="grade:{roster["pupil_ids"][0]}"' not in page


def test_the_form_reads_new_changed_and_cleared_grades():
    form = MultiDict({"grade:1": "5", "work:1": "КР", "grade:2": "", "work:2": "У",
                      "grade:3:У": "4", "was:grade:3:У": "4", "version:grade:3:У": "2",
                      "grade:4:У": "", "was:grade:4:У": "3", "version:grade:4:У": "5",
                      "grade:5:У": "3", "was:grade:5:У": "4", "version:grade:5:У": "1",
                      "grade:6": "2", "work:6": "У", "grade:6:У": "4", "was:grade:6:У": "4", "version:grade:6:У": "3",
                      "grade:7": "4"})
    changes = lesson_form.grade_changes(form, ["У", "КР"])
    assert changes == [
        lesson_form.GradeChange(4, "У", None, 5),  # cleared, at the version shown
        lesson_form.GradeChange(5, "У", "3", 1),  # changed
        lesson_form.GradeChange(1, "КР", "5", None),  # new: "I saw none"
        lesson_form.GradeChange(6, "У", "2", 3),  # new in a column the pupil has: that grade, at its version
        lesson_form.GradeChange(7, "У", "4", None),  # no work type chosen: the regulation's first
    ]


def test_attendance_is_taken_only_when_ticked_or_someone_is_marked():
    class Record:
        attendance_at = None

    taken = Record()
    taken.attendance_at = dt.datetime(2026, 11, 18, 7)
    assert lesson_form.attendance_to_take(MultiDict({"topic": "Дроби"}), None, set()) is None
    assert lesson_form.attendance_to_take(MultiDict({"attendance_taken": "1"}), None, set()) == []
    assert lesson_form.attendance_to_take(MultiDict({"status:4": "late"}), Record(), set()) == [
        {"pupil_id": 4, "status": "late", "reason": None}]
    assert lesson_form.attendance_to_take(MultiDict({"status:4": "late"}), taken, {(4, "late", None)}) is None
    assert lesson_form.attendance_to_take(MultiDict({"status:4": ""}), taken, {(4, "late", None)}) == []
    # DL-2: before the lesson's day the tick says nothing; a mark goes to the rule, which refuses it.
    assert lesson_form.attendance_to_take(MultiDict({"attendance_taken": "1"}), None, set(), waits=True) is None
    assert lesson_form.attendance_to_take(MultiDict({"status:4": "ill"}), None, set(), waits=True) == [
        {"pupil_id": 4, "status": "ill", "reason": None}]


# The grid's data for its status line ------------------------------------------------------------

def test_namesakes_are_told_apart_by_birth_date_then_by_number():
    born, other = dt.date(2015, 3, 1), dt.date(2015, 4, 2)
    labels = grid.pupil_labels([(1, "Зайцев", "Егор", born), (2, "Зайцев", "Егор", other), (3, "Белов", "Илья", born),
                                (4, "Орлов", "Иван", born), (5, "Орлов", "Иван", born)])
    assert labels == {1: ("Зайцев Егор", "01.03.2015"), 2: ("Зайцев Егор", "02.04.2015"), 3: ("Белов Илья", ""),
                      4: ("Орлов Иван", "01.03.2015, 1"), 5: ("Орлов Иван", "01.03.2015, 2")}


def test_the_grid_names_its_dates_pupils_work_types_and_absences_as_data(app, client, login, region_tree,
                                                                         make_roster, raw_sql):
    """The status line reads «Зайцев Егор (01.03.2015) · 18.11 · устный ответ: 5» from data
    attributes: the column's date, a namesake's row as shown (told apart by birth date), the
    work types' names, the absence marks; never from the text of a header holding choices."""
    from blueprints.roster import school_classes
    from blueprints.roster.models import Pupil, SchoolClass
    from core.extensions import db
    from core.tenancy import unscoped

    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=1, lessons=True, teacher_user=a["teacher"])
    with app.test_request_context(), unscoped("test: namesakes", platform=True):
        school_class = db.session.get(SchoolClass, roster["class_id"])
        for n, born in enumerate((dt.date(2015, 3, 1), dt.date(2015, 4, 2))):
            pupil = Pupil(last_name="Зайцев", first_name="Егор", birth_date=born, file_number=f"Z-{n}",
                          tenant_id=school_class.tenant_id, region_id=school_class.region_id)
            db.session.add(pupil)
            db.session.flush()
            school_classes.enrol(pupil, school_class, roster["year_start"])
        db.session.commit()
    lesson_id = _lesson_held(raw_sql, roster)
    pupil = roster["pupil_ids"][0]
    login(client, a["teacher"])
    client.post(f"/lessons/{lesson_id}", data={f"status:{pupil}": "ill", "version": "0"})
    html = client.get(f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}").get_data(as_text=True)
    assert f'data-l="{lesson_id}" data-d="18.11" data-w="1" data-now="1"' in html  # today's, opened on
    assert 'data-n="Зайцев Егор (01.03.2015)">Зайцев Егор <small>01.03.2015</small></th>' in html
    assert 'data-n="Зайцев Егор (02.04.2015)">' in html
    assert '<th scope="row">Ученик000 Иван</th>' in html  # no namesake: the name alone
    assert f'<tr data-p="{pupil}"><th scope="row">Ученик000 Иван</th>' in html and "<td>б</td>" in html  # ill
    names = json.loads(re.search(r"data-type-names='([^']*)'", html).group(1))
    assert names["У"] == "Устный ответ" and names["КР"] == "Контрольная работа"
    absences = json.loads(re.search(r"data-absences='([^']*)'", html).group(1))
    assert absences["ill"] == {"mark": "б", "label": "болел"}
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    assert "<select" not in head  # the work-type choices are the script's, outside the data it reads


def test_the_work_types_read_in_the_readers_language(client, lesson):
    """Issue #13, item 9: the platform's default work types in words of the reader's
    language, on the lesson page and in the grid's status line."""
    russian = client.get(f"/lessons/{lesson['id']}").get_data(as_text=True)
    assert ">Устный ответ</option>" in russian
    client.post("/language", data={"lang": "en"})
    english = client.get(f"/lessons/{lesson['id']}").get_data(as_text=True)
    assert ">Oral answer</option>" in english and ">Устный ответ</option>" not in english
    grid_page = client.get(f"/classes/{lesson['roster']['class_id']}/journal?subject_id={lesson['roster']['subject_id']}")
    assert "Oral answer" in grid_page.get_data(as_text=True)
