"""The journal page: pupils by lessons, in a fixed number of queries whatever the size."""
import pytest

from core import clock


def test_the_page_shows_pupils_lessons_and_marks(client, login, token, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    login(client, a["teacher"])
    page = client.get(f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown_lessons = html.count('<th scope="col" data-l=')
    assert shown_lessons > 0
    assert html.count("<td") == 3 * shown_lessons  # three pupils, every lesson of the term
    assert "Ученик000" in html and "Ученик002" in html


def test_page_queries_do_not_grow_with_pupils_or_lessons(app, client, login, region_tree, make_roster, make_tenant,
                                                         count_queries):
    """A page built anew (the first load after a write in its school) costs at most eight
    statements, for the municipality's inspector as for the teacher, whatever its size."""
    a = region_tree["a"]
    small = make_roster(a["school"], pupils=3, lessons=True)
    big_school = make_tenant("Большая школа", parent=a["municipality"])
    big = make_roster(big_school, pupils=30, lessons=True)
    login(client, a["municipality_admin"])
    counts = []
    for roster in (small, big):
        page = f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}"
        assert client.get(page).status_code == 200  # a worker resolves each regulation once
        app.config["JOURNAL_GRID_CACHE_SIZE"] = 0  # built anew, not kept from the load above
        try:
            with count_queries() as counter:
                response = client.get(page)
        finally:
            app.config["JOURNAL_GRID_CACHE_SIZE"] = 512
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 8, counts


def test_the_lesson_page_saves_topic_homework_and_attendance(client, login, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson_id = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on <= :d "
                        "ORDER BY held_on DESC LIMIT 1", c=roster["class_id"], t=roster["teacher_id"],
                        d=clock.today().isoformat())[0].id  # held by now: absences wait for the day (DL-2)
    login(client, a["teacher"])
    pupil = roster["pupil_ids"][1]
    shown = client.get(f"/lessons/{lesson_id}").get_data(as_text=True)
    assert '<input type="hidden" name="version" value="0">' in shown  # nothing written yet
    response = client.post(f"/lessons/{lesson_id}", data={"topic": "Десятичные дроби", "homework": "№ 12, 14",
                                                          "attendance_taken": "1", f"status:{pupil}": "ill",
                                                          "version": "0"})
    assert response.status_code == 302
    page = client.get(f"/lessons/{lesson_id}").get_data(as_text=True)
    assert "Десятичные дроби" in page and "№ 12, 14" in page
    assert raw_sql("SELECT status FROM attendance WHERE lesson_id = :l AND pupil_id = :p", l=lesson_id, p=pupil)[0].status == "ill"


def test_a_teacher_finds_their_classes_in_my_journal(client, login, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    login(client, a["teacher"])
    page = client.get(f"/schools/{a['school']['id']}/my-journal").get_data(as_text=True)
    assert f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}" in page
    assert "Русский язык" not in page  # taught by someone else


def test_the_marks_page_shows_the_forecast_and_saves_a_term_mark(client, login, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    login(client, a["teacher"])
    page = client.get(f"/classes/{roster['class_id']}/marks?subject_id={roster['subject_id']}")
    assert page.status_code == 200 and "Ученик000" in page.get_data(as_text=True)
    term_id = int(page.get_data(as_text=True).split('name="term_id" value="')[1].split('"')[0])
    pupil = roster["pupil_ids"][0]
    import datetime as dt

    ends = raw_sql("SELECT ends_on FROM term WHERE id = :t", t=term_id)[0].ends_on
    ends = ends if isinstance(ends, dt.date) else dt.date.fromisoformat(str(ends))
    closed = clock.today() > ends + dt.timedelta(days=5)
    saved = client.post(f"/classes/{roster['class_id']}/marks", data={
        "subject_id": roster["subject_id"], "term_id": term_id, f"mark:{pupil}": "4"})
    stored = [(r.value, r.kind) for r in raw_sql("SELECT value, kind FROM final_mark WHERE pupil_id = :p", p=pupil)]
    if closed:  # in summer the page opens on a closed term: the teacher may not set marks
        assert saved.status_code == 403 and stored == []
    else:
        assert saved.status_code == 302 and stored == [("4", "term")]
