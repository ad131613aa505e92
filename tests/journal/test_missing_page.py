"""The missing-entries page (MO-1 inputs, DL-1, DL-2, DL-6): a summary, then one row per
teacher, class and subject with its counts, 50 a page, each linking to the first lesson to
fill; a chosen group lists its lessons. A fixed number of statements whatever the data."""
import re
from html import unescape

import pytest

from core import clock


def _text(html):
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def school(region_tree, make_roster, raw_sql):
    """School A's 5а: maths (Морозова) and Russian (Иванов) every weekday since 1 September."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    held = raw_sql("SELECT teacher_id, count(*) AS n FROM lesson WHERE class_id = :c AND held_on <= :d "
                   "AND NOT is_cancelled GROUP BY teacher_id", c=roster["class_id"], d=clock.today().isoformat())
    return {"a": a, "roster": roster, "url": f"/schools/{a['school']['id']}/missing",
            "held": {r.teacher_id: r.n for r in held}}


def _first_maths(raw_sql, roster):
    return raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t ORDER BY held_on, period LIMIT 1",
                   c=roster["class_id"], t=roster["teacher_id"])[0].id


def test_an_admin_sees_a_summary_and_a_row_per_teacher_class_and_subject(client, login, api, school, raw_sql):
    roster, a = school["roster"], school["a"]
    maths, russian = school["held"][roster["teacher_id"]], school["held"][roster["other_teacher_id"]]
    first = _first_maths(raw_sql, roster)
    yesterday = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on < :d "
                        "ORDER BY held_on DESC LIMIT 1", c=roster["class_id"], t=roster["teacher_id"],
                        d=clock.today().isoformat())[0].id
    assert api(a["teacher"], "PUT", f"/api/v1/lessons/{yesterday}/topic",
               json={"topic": "Повторение", "version": 0}).status_code == 200
    login(client, a["school_admin"])
    html = client.get(school["url"]).get_data(as_text=True)
    summary = _text(html[html.index('id="summary"'):html.index("</section>", html.index('id="summary"'))])
    total = maths + russian
    # Everything held so far is overdue except today's lessons (due by the day's end, DL-1).
    assert f"Уроков с незаполненными записями: {total}, из них просрочено: {total - 2}." in summary
    assert "Учителей: 2, классов: 1." in summary
    assert f"Не внесены, тема: {total - 1}" in summary and f"Не внесены, посещаемость: {total}" in summary

    rows = re.findall(r"<tr><td>.*?</tr>", html[html.index('id="missing-groups"'):], re.S)
    assert len(rows) == 2
    cells = [_text(re.sub(r"</td>", "|", row)).split("|") for row in rows]
    # As many overdue lessons each: by the teacher's name.
    assert [c.strip() for c in cells[0][:4]] == ["Иванов П.", "5а", "Русский язык", str(russian)]
    assert [c.strip() for c in cells[1][:4]] == ["Морозова А.С.", "5а", "Математика", str(maths)]
    assert cells[1][4].strip() == f"{maths - 1} ({maths - 2} просрочено)"  # one topic entered
    assert f'href="/lessons/{first}"' in rows[1]  # the first lesson to fill
    assert f'/classes/{roster["class_id"]}/journal?subject_id={roster["subject_id"]}' in rows[1]


def test_a_group_lists_its_lessons_fifty_a_page(client, login, school, raw_sql):
    roster = school["roster"]
    maths = school["held"][roster["teacher_id"]]
    assert maths > 50, "the term has more than 50 maths lessons held by SCHOOL_DAY"
    login(client, school["a"]["school_admin"])
    group = f"{school['url']}?teacher_id={roster['teacher_id']}&class_id={roster['class_id']}&subject_id={roster['subject_id']}"
    html = client.get(group).get_data(as_text=True)
    lessons = re.findall(r'<td><a href="/lessons/(\d+)">', html)
    assert len(lessons) == 50 and int(lessons[0]) == _first_maths(raw_sql, roster)
    assert 'aria-current="page">1<' in html and "page=2" in html and "Далее" in html
    second = client.get(f"{group}&page=2").get_data(as_text=True)
    assert len(re.findall(r'<td><a href="/lessons/(\d+)">', second)) == maths - 50
    assert 'aria-current="page">2<' in second and "Назад" in second


def test_groups_are_paginated_too(client, login, school, monkeypatch):
    from blueprints.journal import missing

    monkeypatch.setattr(missing, "PER_PAGE", 1)
    login(client, school["a"]["school_admin"])
    first = client.get(school["url"]).get_data(as_text=True)
    second = client.get(f"{school['url']}?page=2").get_data(as_text=True)
    assert "Иванов П." in first[first.index('id="missing-groups"'):] and "page=2" in first
    assert "Морозова А.С." in second[second.index('id="missing-groups"'):]
    assert "Иванов П." not in second[second.index('id="missing-groups"'):]


def test_a_teacher_sees_their_own_lessons_first(client, login, school):
    login(client, school["a"]["teacher"])
    html = client.get(school["url"]).get_data(as_text=True)
    groups = html[html.index('id="missing-groups"'):]
    assert "Морозова А.С." in groups and "Иванов П." not in groups


def test_the_page_in_english(client, login, school):
    login(client, school["a"]["school_admin"])
    client.post("/language", data={"lang": "en"})
    page = _text(client.get(school["url"]).get_data(as_text=True))
    assert "Lessons with something missing:" in page and "Teachers: 2, classes: 1." in page
    assert "overdue" in page


def test_the_page_makes_a_fixed_number_of_queries(client, login, school, count_queries, raw_sql):
    """Statements do not grow with the lessons: half of them cancelled, the same count."""
    login(client, school["a"]["school_admin"])
    client.get(school["url"])  # warm: the worker resolves the regulation once
    with count_queries() as full:
        assert client.get(school["url"]).status_code == 200
    raw_sql("UPDATE lesson SET is_cancelled = true WHERE id % 2 = 0")
    with count_queries() as half:
        assert client.get(school["url"]).status_code == 200
    assert full.count == half.count <= 14, full.statements


def test_another_schools_page_is_not_found(client, login, region_tree, school):
    login(client, region_tree["b"]["school_admin"])
    assert client.get(school["url"]).status_code == 404
