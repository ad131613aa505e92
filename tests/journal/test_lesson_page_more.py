"""The lesson page's remarks (IN-5), history and substitute teacher (DL-1), and the journal
page's query budget."""
from core import clock


def _maths_lesson(raw_sql, roster):
    return raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on <= :d "
                   "ORDER BY held_on DESC LIMIT 1", c=roster["class_id"], t=roster["teacher_id"],
                   d=clock.today().isoformat())[0].id  # held by now: grades and absences wait for the day (DL-2)


def test_the_journal_page_makes_at_most_eight_queries(client, login, region_tree, make_roster, count_queries):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=12, lessons=True, teacher_user=a["teacher"])
    login(client, a["teacher"])
    page = f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}"
    assert client.get(page).status_code == 200  # a worker resolves the regulation once
    with count_queries() as counter:
        response = client.get(page)
    assert response.status_code == 200
    assert 'data-w="1"' in response.get_data(as_text=True)  # the teacher's own columns are writable
    assert counter.count <= 8, counter.statements


def test_a_substitute_set_by_the_school_admin_writes_the_lesson(client, app, region_tree, make_roster, make_user,
                                                                token, raw_sql):
    """DL-1: the teacher who taught instead is recorded, and may then enter the lesson."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson_id = _maths_lesson(raw_sql, roster)
    substitute = make_user("substitute-a", "teacher", a["school"])
    raw_sql("UPDATE staff SET user_id = :u WHERE id = :s", u=substitute["id"], s=roster["other_teacher_id"])
    as_substitute = token(substitute)

    refused = client.put(f"/api/v1/lessons/{lesson_id}/topic", headers=as_substitute,
                         json={"topic": "Дроби", "version": 0})
    assert refused.status_code == 403
    by_other_teacher = client.put(f"/api/v1/lessons/{lesson_id}/substitute", headers=as_substitute,
                                  json={"substitute_id": roster["other_teacher_id"], "version": 0})
    assert by_other_teacher.status_code == 403  # nobody names themselves the substitute

    set_ = client.put(f"/api/v1/lessons/{lesson_id}/substitute", headers=token(a["school_admin"]),
                      json={"substitute_id": roster["other_teacher_id"], "version": 0})
    assert set_.status_code == 200, set_.json
    assert set_.json["substitute_id"] == roster["other_teacher_id"]
    written = client.put(f"/api/v1/lessons/{lesson_id}/topic", headers=as_substitute,
                         json={"topic": "Дроби", "version": set_.json["version"]})
    assert written.status_code == 200, written.json

    history = client.get(f"/api/v1/lessons/{lesson_id}/history", headers=token(a["school_admin"])).json
    assert [h["action"] for h in history][-2:] == ["journal.substitute", "journal.topic"]
    assert history[-1]["actor_id"] == substitute["id"]


def test_a_substitute_must_be_a_teacher_of_the_school(client, region_tree, make_roster, token, raw_sql):
    a, b = region_tree["a"], region_tree["b"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    other_school = make_roster(b["school"], lessons=True)
    lesson_id = _maths_lesson(raw_sql, roster)
    response = client.put(f"/api/v1/lessons/{lesson_id}/substitute", headers=token(a["school_admin"]),
                          json={"substitute_id": other_school["teacher_id"], "version": 0})
    assert response.status_code == 422
    assert "substitute_id" in response.json["errors"]


def test_the_lesson_page_adds_remarks_and_shows_who_changed_what(client, login, region_tree, make_roster, raw_sql):
    """IN-5 remarks to parents; every change shows in the lesson's history with its author."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson_id = _maths_lesson(raw_sql, roster)
    pupil = roster["pupil_ids"][0]
    login(client, a["teacher"])
    client.post(f"/lessons/{lesson_id}", data={"topic": "Проценты", "attendance_taken": "1", "version": "0"})

    empty = client.post(f"/lessons/{lesson_id}", data={"action": "remark", "pupil_id": pupil, "kind": "remark",
                                                       "text": "  "}, follow_redirects=True)
    assert '<p class="flash error" role="alert">Напишите текст записи.' in empty.get_data(as_text=True)
    assert raw_sql("SELECT count(*) AS n FROM remark")[0].n == 0

    added = client.post(f"/lessons/{lesson_id}", data={"action": "remark", "pupil_id": pupil, "kind": "praise",
                                                       "text": "Отлично решил задачу у доски"}, follow_redirects=True)
    html = added.get_data(as_text=True)
    assert "Отлично решил задачу у доски" in html
    history = html[html.index('id="history"'):]
    assert "Тема внесена: «Проценты»" in history and "Похвала, Ученик000 Иван: «Отлично решил задачу у доски»" in history
    assert "journal." not in history and "pupil_id" not in history  # words, never codes
    assert "учитель Морозова А. С." in history  # who made the change


def test_the_year_marks_page_sets_year_exam_and_final_marks(client, login, region_tree, make_roster, raw_sql):
    """GR-1 on the year's page: marks of the scale only; an unchanged mark is not re-stamped."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    pupil, other = roster["pupil_ids"][0], roster["pupil_ids"][1]
    login(client, a["teacher"])
    url = f"/classes/{roster['class_id']}/year-marks?subject_id={roster['subject_id']}"
    saved = client.post(url, data={f"year:{pupil}": "4", f"exam:{pupil}": "5", f"final:{other}": "3"},
                        follow_redirects=True)
    assert saved.status_code == 200
    marks = {(r.pupil_id, r.kind): r.value for r in raw_sql("SELECT pupil_id, kind, value FROM final_mark")}
    assert marks == {(pupil, "year"): "4", (pupil, "exam"): "5", (other, "final"): "3"}
    html = saved.get_data(as_text=True)
    year_cell = html[html.index(f'name="year:{pupil}"'):]
    assert year_cell[:year_cell.index("</select>")].count("selected") == 1
    assert '<option value="4" selected>' in year_cell[:year_cell.index("</select>")]

    stamped = raw_sql("SELECT entered_at FROM final_mark WHERE pupil_id = :p AND kind = 'year'", p=pupil)[0].entered_at
    resaved = client.post(url, data=_form_as_shown(client.get(url).get_data(as_text=True)), follow_redirects=True)
    assert 'class="flash error"' not in resaved.get_data(as_text=True)
    assert raw_sql("SELECT entered_at FROM final_mark WHERE pupil_id = :p AND kind = 'year'", p=pupil)[0].entered_at == stamped

    refused = client.post(url, data={f"year:{other}": "7"}, follow_redirects=True)
    assert '<p class="flash error" role="alert">Используйте отметку из шкалы' in refused.get_data(as_text=True)
    assert not raw_sql("SELECT 1 FROM final_mark WHERE pupil_id = :p AND kind = 'year'", p=other)


def test_a_cells_history_lists_only_that_pupils_changes(client, login, token, region_tree, make_roster, raw_sql):
    """Each cell shows its history: the lesson page filtered to one pupil (H in the grid)."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson_id = _maths_lesson(raw_sql, roster)
    first, second = roster["pupil_ids"][0], roster["pupil_ids"][1]
    headers = token(a["teacher"])
    for pupil, value in ((first, "5"), (second, "3")):
        assert client.put(f"/api/v1/lessons/{lesson_id}/grades/{pupil}", headers=headers,
                          json={"value": value, "work_type": "У", "version": None}).status_code == 200
    login(client, a["teacher"])
    html = client.get(f"/lessons/{lesson_id}?pupil_id={first}").get_data(as_text=True)
    history = html[html.index('id="history"'):]
    assert "Оценка 5 (устный ответ), Ученик000 Иван" in history
    assert "Ученик001" not in history and "Оценка 3" not in history


def _form_as_shown(html):
    """The year marks form as the browser would send it untouched: hidden fields and the
    selected option of each select."""
    import re

    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, flags=re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        data[name] = chosen.group(1) if chosen else ""
    return data


def test_a_stale_year_marks_page_does_not_overwrite_a_newer_mark(client, login, token, region_tree, make_roster,
                                                                raw_sql):
    """No lost update on the marks pages: the page sends the marks it showed; a mark changed
    since by someone else is a conflict, and nothing of that save is written."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    pupil, other = roster["pupil_ids"][0], roster["pupil_ids"][1]
    login(client, a["teacher"])
    url = f"/classes/{roster['class_id']}/year-marks?subject_id={roster['subject_id']}"
    client.post(url, data={f"year:{pupil}": "4"})
    shown = _form_as_shown(client.get(url).get_data(as_text=True))
    assert shown[f"year:{pupil}"] == "4" and shown[f"version:year:{pupil}"]

    meanwhile = client.put(f"/api/v1/classes/{roster['class_id']}/year-marks/{pupil}", headers=token(a["teacher"]),
                           json={"subject_id": roster["subject_id"], "kind": "year", "value": "5",
                                 "version": int(shown[f"version:year:{pupil}"])})
    assert meanwhile.status_code == 200

    stale = client.post(url, data={**shown, f"year:{pupil}": "3", f"final:{other}": "4"}, follow_redirects=True)
    assert "изменение здесь сохранил другой пользователь" in stale.get_data(as_text=True)
    marks = {(r.pupil_id, r.kind): r.value for r in raw_sql("SELECT pupil_id, kind, value FROM final_mark")}
    assert marks == {(pupil, "year"): "5"}  # the newer mark stands, and the save wrote nothing else

    untouched = client.post(url, data={**_form_as_shown(client.get(url).get_data(as_text=True)),
                                       f"final:{other}": "4"}, follow_redirects=True)
    assert 'class="flash error"' not in untouched.get_data(as_text=True)
    marks = {(r.pupil_id, r.kind): r.value for r in raw_sql("SELECT pupil_id, kind, value FROM final_mark")}
    assert marks == {(pupil, "year"): "5", (other, "final"): "4"}


def test_pupils_guardians_and_other_teachers_cannot_name_a_substitute(client, region_tree, make_roster, make_user,
                                                                       token, raw_sql):
    """AC-2 and DL-1: only the school's admin or the timetabled teacher records who taught."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson_id = _maths_lesson(raw_sql, roster)
    other_teacher = make_user("other-teacher-a", "teacher", a["school"])
    raw_sql("UPDATE staff SET user_id = :u WHERE id = :s", u=other_teacher["id"], s=roster["other_teacher_id"])
    for who in (make_user("pupil-a", "pupil", a["school"]), make_user("parent-a", "guardian", a["school"]),
                other_teacher, a["municipality_admin"]):
        response = client.put(f"/api/v1/lessons/{lesson_id}/substitute", headers=token(who),
                              json={"substitute_id": roster["other_teacher_id"], "version": 0})
        assert response.status_code in (403, 404), (who["login"], response.status_code)
    assert not raw_sql("SELECT substitute_id FROM lesson_record WHERE lesson_id = :l AND substitute_id IS NOT NULL",
                       l=lesson_id)


def test_names_and_topics_are_escaped_in_the_grid(client, login, token, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson_id = _maths_lesson(raw_sql, roster)
    raw_sql("UPDATE pupil SET last_name = :n WHERE id = :p", n='<script>alert("x")</script>', p=roster["pupil_ids"][0])
    assert client.put(f"/api/v1/lessons/{lesson_id}/topic", headers=token(a["teacher"]),
                      json={"topic": '"><img src=x onerror=alert(1)>', "version": 0}).status_code == 200
    login(client, a["teacher"])
    term_id = raw_sql("SELECT term_id FROM lesson WHERE id = :l", l=lesson_id)[0].term_id
    html = client.get(f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}&term_id={term_id}"
                      ).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x" not in html and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
