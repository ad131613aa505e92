"""The journal page's table is kept per worker and served again while nothing it shows has
changed: every committed write that could change it, made by anyone, anywhere, shows on the
next load, and each reader still sees their own writable columns."""
import datetime as dt

import pytest

from core import clock


def _lesson_held(raw_sql, roster):
    """The timetabled teacher's latest lesson held up to today (the page shows its column)."""
    return raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on <= :d "
                   "ORDER BY held_on DESC LIMIT 1", c=roster["class_id"], t=roster["teacher_id"],
                   d=clock.today())[0].id


@pytest.fixture
def journal(client, login, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    roster["page"] = f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}"
    roster["lesson"] = _lesson_held(raw_sql, roster)
    return roster


def _cell(html, lesson_id, pupil_id):
    """The text of one cell of the grid: the row of the pupil, the column of the lesson."""
    import re

    columns = re.findall(r'data-l="(\d+)"', html)
    row = re.search(rf'<tr data-p="{pupil_id}">(.*?)</tr>', html).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    return cells[columns.index(str(lesson_id))]


def test_a_grade_saved_after_the_page_was_kept_shows_on_the_next_load(client, login, token, region_tree, journal,
                                                                       count_queries):
    a = region_tree["a"]
    login(client, a["teacher"])
    pupil = journal["pupil_ids"][0]
    assert _cell(client.get(journal["page"]).get_data(as_text=True), journal["lesson"], pupil) == ""
    with count_queries() as kept:
        again = client.get(journal["page"])
    assert again.status_code == 200 and _cell(again.get_data(as_text=True), journal["lesson"], pupil) == ""
    response = client.put(f"/api/v1/lessons/{journal['lesson']}/grades/{pupil}", headers=token(a["teacher"]),
                          json={"value": "4", "work_type": "У", "version": None})
    assert response.status_code == 200, response.json
    with count_queries() as rebuilt:
        html = client.get(journal["page"]).get_data(as_text=True)
    assert _cell(html, journal["lesson"], pupil) == "4"
    assert len(kept.statements) < len(rebuilt.statements)  # the kept page was served without its data


def test_the_kept_page_costs_three_statements_whatever_its_size(client, login, region_tree, make_roster, make_tenant,
                                                               make_user, count_queries):
    a = region_tree["a"]
    small = make_roster(a["school"], pupils=2, lessons=True, teacher_user=a["teacher"])
    big_school = make_tenant("Большая школа", parent=a["municipality"])
    big_teacher = make_user("teacher-big", "teacher", big_school)
    big = make_roster(big_school, pupils=30, lessons=True, teacher_user=big_teacher)
    counts = []
    for roster, teacher in ((small, a["teacher"]), (big, big_teacher)):
        login(client, teacher)
        page = f"/classes/{roster['class_id']}/journal?subject_id={roster['subject_id']}"
        assert client.get(page).status_code == 200
        with count_queries() as counter:
            response = client.get(page)
        assert 'data-w="1"' in response.get_data(as_text=True)
        counts.append(len(counter.statements))
        client.get("/logout")
    assert counts == [3, 3], counts  # the kept identity, the stamps and the reader, the kept table


def test_each_reader_sees_their_own_writable_columns(client, login, region_tree, journal):
    a = region_tree["a"]
    login(client, a["teacher"])
    assert 'data-w="1"' in client.get(journal["page"]).get_data(as_text=True)
    client.get("/logout")
    login(client, a["school_admin"])
    html = client.get(journal["page"]).get_data(as_text=True)
    assert 'data-l="' in html and 'data-w="1"' not in html  # the admin reads; the teacher's page is not theirs
    client.get("/logout")
    login(client, a["teacher"])
    assert 'data-w="1"' in client.get(journal["page"]).get_data(as_text=True)


def test_a_cancelled_lesson_leaves_the_page_at_once(client, login, token, region_tree, journal):
    a = region_tree["a"]
    login(client, a["teacher"])
    assert f'data-l="{journal["lesson"]}"' in client.get(journal["page"]).get_data(as_text=True)
    response = client.patch(f"/api/v1/lessons/{journal['lesson']}", headers=token(a["school_admin"]),
                            json={"is_cancelled": True, "reason": "карантин"})
    assert response.status_code == 200, response.json
    assert f'data-l="{journal["lesson"]}"' not in client.get(journal["page"]).get_data(as_text=True)


def test_a_new_regulation_above_the_school_shows_at_once(client, login, token, region_tree, journal):
    """GR-1: the region's scale, set after the page was kept, is the scale the page offers."""
    a = region_tree["a"]
    login(client, a["teacher"])
    assert 'data-scale="1,2,3,4,5"' in client.get(journal["page"]).get_data(as_text=True)
    response = client.post(f"/api/v1/tenants/{a['region']['id']}/regulation-versions", headers=token(a["region_admin"]),
                           json={"effective_from": "2000-01-01", "act": "Приказ № 9", "locked": [],
                                 "values": {"grading": {"scale": ["2", "3", "4", "5"], "passing": ["3", "4", "5"]}}})
    assert response.status_code == 201, response.json
    assert 'data-scale="2,3,4,5"' in client.get(journal["page"]).get_data(as_text=True)


def test_a_write_made_outside_any_request_shows_on_the_next_load(app, client, login, region_tree, journal):
    """A job or a CLI command writes through its own session: the stamp it advances is in the
    database, where every web worker reads it."""
    from blueprints.journal.models import Grade
    from blueprints.roster.models import Pupil
    from core.tenancy import unscoped
    from core.extensions import db
    from core.orm import utcnow

    a = region_tree["a"]
    login(client, a["teacher"])
    pupil = journal["pupil_ids"][1]
    client.get(journal["page"])
    with app.app_context(), unscoped("a job writing a grade", platform=True):
        school = a["school"]["id"]
        db.session.add(Grade(lesson_id=journal["lesson"], pupil_id=pupil, work_type="КР", value="5",
                             entered_at=utcnow(), tenant_id=school, region_id=a["region"]["id"]))
        db.session.get(Pupil, journal["pupil_ids"][0]).last_name = "Переименованный"
        db.session.commit()
        db.session.remove()
    html = client.get(journal["page"]).get_data(as_text=True)
    assert _cell(html, journal["lesson"], pupil) == "5"
    assert "Переименованный Иван" in html and "Ученик000 Иван" not in html


def test_without_a_kept_table_the_page_is_the_same(app, client, login, region_tree, journal):
    """``JOURNAL_GRID_CACHE_SIZE = 0`` turns keeping off: the page is built each time, alike."""
    a = region_tree["a"]
    login(client, a["teacher"])
    kept = client.get(journal["page"]).get_data(as_text=True)
    app.config["JOURNAL_GRID_CACHE_SIZE"] = 0
    try:
        built = client.get(journal["page"]).get_data(as_text=True)
    finally:
        app.config["JOURNAL_GRID_CACHE_SIZE"] = 512
    strip = lambda html: html.split('<table class="journal"', 1)[1].split("</table>", 1)[0]  # noqa: E731
    assert strip(kept) == strip(built)
