"""Security item 11: a racing write names its version. Topic, homework, attendance, the
substitute, grades and marks are refused without one (422), with a version that is not an
integer (422, never truncated), and with a stale one (409 with the current object)."""
import re

import pytest

from tests.journal.test_lessons import at_once, journal  # noqa: F401 - fixtures and helpers


def test_a_topic_without_a_version_is_refused_every_time_and_changes_nothing(api, journal, raw_sql):
    """Security item 11: a racing write names its version; two blind PUTs are not two 200s."""
    a = journal["a"]
    lesson_id = journal["lesson"]("future")
    url = f"/api/v1/lessons/{lesson_id}/topic"
    for topic in ("Первая тема", "Вторая тема"):
        response = api(a["teacher"], "PUT", url, json={"topic": topic})
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        assert list(response.json["errors"]) == ["version"]
        assert response.json["errors"]["version"] == ["Обязательное поле."]  # translated, as other fields are
    assert raw_sql("SELECT count(*) AS n FROM lesson_record WHERE lesson_id = :l", l=lesson_id)[0].n == 0
    assert api(a["teacher"], "GET", f"/api/v1/lessons/{lesson_id}").json["record"] is None


@pytest.mark.parametrize("component, body", [
    ("topic", {"topic": "Тема"}),
    ("homework", {"homework": "№ 1"}),
    ("attendance", {"absences": []}),
    ("substitute", {"substitute_id": None}),
])
def test_every_write_of_a_lesson_names_its_version_and_never_null(api, journal, component, body):
    """Security item 11: the lesson's record always has a version to name (0 before any
    entry), so null is no answer."""
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    url = f"/api/v1/lessons/{lesson_id}/{component}"
    missing = api(a["teacher"], "PUT", url, json=body)
    null = api(a["teacher"], "PUT", url, json={**body, "version": None})
    assert (missing.status_code, list(missing.json["errors"])) == (422, ["version"])
    assert (null.status_code, list(null.json["errors"])) == (422, ["version"])
    assert null.json["errors"]["version"] == ["Поле не может быть пустым."]
    assert api(a["teacher"], "PUT", url, json={**body, "version": 0}).status_code == 200


def test_a_stale_lesson_version_gets_409_with_the_current_record(api, journal):
    """Security item 11: a write based on an older copy, or on none, does not overwrite."""
    a = journal["a"]
    lesson_id = journal["lesson"]("future")
    url = f"/api/v1/lessons/{lesson_id}"
    first = api(a["teacher"], "PUT", f"{url}/topic", json={"topic": "Дроби", "version": 0})
    assert first.status_code == 200 and first.json["version"] > 0
    second = api(a["teacher"], "PUT", f"{url}/topic", json={"topic": "Десятичные дроби", "version": first.json["version"]})
    assert second.status_code == 200 and second.json["version"] > first.json["version"]
    assert api(a["teacher"], "GET", url).json["version"] == second.json["version"]

    for stale in ({"topic": "Проценты", "version": first.json["version"]}, {"topic": "Проценты", "version": 0}):
        refused = api(a["teacher"], "PUT", f"{url}/topic", json=stale)
        assert refused.status_code == 409, refused.json
        assert refused.json["current"]["topic"] == "Десятичные дроби"
        assert refused.json["current"]["version"] == second.json["version"]
        assert list(refused.json["errors"]) == ["version"]
    homework = api(a["teacher"], "PUT", f"{url}/homework", json={"homework": "№ 7", "version": first.json["version"]})
    assert homework.status_code == 409 and homework.json["current"]["homework"] is None
    assert api(a["teacher"], "GET", url).json["record"]["topic"] == "Десятичные дроби"


def test_two_first_entries_on_a_lesson_at_once_do_not_overwrite_each_other(app, journal, token, raw_sql, db_kind):
    """Security item 11: both saw no record (version 0); the one that makes it wins, the
    other gets 409 with the winner's record instead of writing over it."""
    a = journal["a"]
    lesson_id = journal["lesson"]("future")
    url = f"/api/v1/lessons/{lesson_id}/topic"
    topics = ("Дроби", "Проценты")
    results = dict(zip(topics, at_once(app, token(a["teacher"]), [(url, {"topic": t, "version": 0}) for t in topics])))
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {t: (r.status_code, r.json) for t, r in results.items()}
    winner = next(t for t, r in results.items() if r.status_code == 200)
    loser = next(r for r in results.values() if r.status_code == 409)
    # PostgreSQL holds the loser's insert until the winner commits, so it answers with the
    # winner's whole entry; SQLite (tests only) commits the new row at its savepoint, and
    # the loser may see it before the winner's topic is in it.
    assert loser.json["current"]["topic"] in ((winner,) if db_kind == "postgresql" else (winner, None))
    assert [r.topic for r in raw_sql("SELECT topic FROM lesson_record WHERE lesson_id = :l", l=lesson_id)] == [winner]


def test_two_writers_on_one_version_of_a_lesson_lose_no_update(app, api, journal, token, raw_sql):
    """Security item 11: both read version N and send homework with it at once: one lands,
    the other gets 409 with the winner's homework."""
    a = journal["a"]
    lesson_id = journal["lesson"]("future")
    seen = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/topic", json={"topic": "Дроби", "version": 0}).json
    url = f"/api/v1/lessons/{lesson_id}/homework"
    texts = ("№ 1", "№ 2")
    results = dict(zip(texts, at_once(app, token(a["teacher"]), [(url, {"homework": t, "version": seen["version"]})
                                                                 for t in texts])))
    assert sorted(r.status_code for r in results.values()) == [200, 409], {t: r.json for t, r in results.items()}
    winner = next(t for t, r in results.items() if r.status_code == 200)
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.json["current"]["homework"] == winner
    assert [r.homework for r in raw_sql("SELECT homework FROM lesson_record WHERE lesson_id = :l", l=lesson_id)] == [winner]


@pytest.mark.parametrize("version", [1.5, "1", True, 1.0])
@pytest.mark.parametrize("component, body", [
    ("topic", {"topic": "Тема"}),
    ("homework", {"homework": "№ 1"}),
    ("grade", {"value": "5", "work_type": "У"}),
])
def test_a_version_that_is_not_an_integer_is_refused_not_truncated(api, journal, raw_sql, component, body, version):
    """Security item 11: 1.5 is not version 1 (nor is "1", true or 1.0): 422 naming the field."""
    a = journal["a"]
    lesson_id = journal["lesson"]("future")
    pupil = journal["roster"]["pupil_ids"][0]
    if component == "grade":
        url = f"/api/v1/lessons/{lesson_id}/grades/{pupil}"
        api(a["teacher"], "PUT", url, json={**body, "version": None})  # version 1 exists
        before = raw_sql("SELECT value, version FROM grade WHERE lesson_id = :l", l=lesson_id)
    else:
        url = f"/api/v1/lessons/{lesson_id}/{component}"
        api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/topic", json={"topic": "Было", "version": 0})
        before = raw_sql("SELECT topic, homework, version FROM lesson_record WHERE lesson_id = :l", l=lesson_id)
    response = api(a["teacher"], "PUT", url, json={**body, "version": version})
    assert response.status_code == 422 and list(response.json["errors"]) == ["version"]
    assert response.json["errors"]["version"] == ["Нужно целое число."]
    after = raw_sql("SELECT value, version FROM grade WHERE lesson_id = :l" if component == "grade" else
                    "SELECT topic, homework, version FROM lesson_record WHERE lesson_id = :l", l=lesson_id)
    assert after == before


def test_a_column_entry_names_its_version_too(api, journal):
    """Security item 11: in a column each entry names its version (null: a new grade)."""
    a = journal["a"]
    lesson_id = journal["lesson"]("future")
    pupils = journal["roster"]["pupil_ids"]
    url = f"/api/v1/lessons/{lesson_id}/grades"
    refused = api(a["teacher"], "PUT", url, json={"grades": [
        {"pupil_id": pupils[0], "value": "5", "work_type": "КР", "version": None},
        {"pupil_id": pupils[1], "value": "4", "work_type": "КР"},
        {"pupil_id": pupils[2], "value": "3", "work_type": "КР", "version": 1.5}]})
    assert refused.status_code == 422 and set(refused.json["errors"]) == {"grades.1.version", "grades.2.version"}
    assert api(a["teacher"], "GET", f"/api/v1/lessons/{lesson_id}").json["grades"] == []


def test_a_grade_with_a_version_where_none_is_left_is_a_conflict(api, journal):
    """Security item 11: a number says "the grade I saw": if it was cleared meanwhile, 409
    with ``current`` null, not a new grade the writer did not mean to make."""
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    pupil = journal["roster"]["pupil_ids"][0]
    url = f"/api/v1/lessons/{lesson_id}/grades/{pupil}"
    saved = api(a["teacher"], "PUT", url, json={"value": "5", "work_type": "У", "version": None}).json
    assert api(a["teacher"], "DELETE", f"{url}?work_type=У&version={saved['version']}").status_code == 204
    again = api(a["teacher"], "PUT", url, json={"value": "4", "work_type": "У", "version": saved["version"]})
    assert again.status_code == 409 and again.json["current"] is None
    assert api(a["teacher"], "GET", f"/api/v1/lessons/{lesson_id}").json["grades"] == []


def test_clearing_a_grade_names_its_version(api, journal):
    """Security item 11: DELETE takes the version in its query; without it, or not an
    integer, 422; stale, 409 with the current grade; the one read, 204."""
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    pupil = journal["roster"]["pupil_ids"][0]
    url = f"/api/v1/lessons/{lesson_id}/grades/{pupil}"
    first = api(a["teacher"], "PUT", url, json={"value": "5", "work_type": "У", "version": None}).json
    second = api(a["teacher"], "PUT", url, json={"value": "4", "work_type": "У", "version": first["version"]}).json
    for query in ("work_type=У", "work_type=У&version=1.5", "work_type=У&version="):
        response = api(a["teacher"], "DELETE", f"{url}?{query}")
        assert response.status_code == 422 and list(response.json["errors"]) == ["version"], (query, response.json)
    stale = api(a["teacher"], "DELETE", f"{url}?work_type=У&version={first['version']}")
    assert stale.status_code == 409 and stale.json["current"]["value"] == "4"
    assert api(a["teacher"], "DELETE", f"{url}?work_type=У&version={second['version']}").status_code == 204
    assert api(a["teacher"], "GET", f"/api/v1/lessons/{lesson_id}").json["grades"] == []


@pytest.mark.parametrize("version", [1.5, "1", None])
def test_a_tenant_patch_with_a_version_that_is_not_an_integer_is_refused(api, region_tree, version):
    """Security item 11: the tenant's version is strict too; 1.5 is not truncated to 1."""
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['school']['id']}"
    current = api(a["school_admin"], "GET", url).json
    response = api(a["school_admin"], "PATCH", url, json={"version": version, "short_name": "Новое"})
    assert response.status_code == 422 and list(response.json["errors"]) == ["version"]
    assert api(a["school_admin"], "GET", url).json == current
    assert api(a["school_admin"], "PATCH", url, json={"short_name": "Новое"}).status_code == 422
    assert api(a["school_admin"], "PATCH", url, json={"version": current["version"], "short_name": "Новое"}
               ).status_code == 200


def _version_on_page(html):
    return re.search(r'<input type="hidden" name="version" value="(\d+)">', html)[1]


def test_two_browsers_editing_homework_the_second_is_told_and_the_first_survives(app, login, journal, raw_sql):
    """Security item 11 on the lesson page: the form sends the version it showed. Two
    teachers' browsers open the lesson; the first saves its homework; the second's save
    is refused with a clear message, the page shows the first's text, and the second's
    text is given back, not written over the first's."""
    a = journal["a"]
    lesson_id = journal["lesson"]("future")
    first, second = app.test_client(), app.test_client()
    login(first, a["teacher"])
    login(second, a["teacher"])
    page = f"/lessons/{lesson_id}"
    shown_first = _version_on_page(first.get(page).get_data(as_text=True))
    shown_second = _version_on_page(second.get(page).get_data(as_text=True))
    assert shown_first == shown_second == "0"

    saved = first.post(page, data={"homework": "№ 12, 14", "version": shown_first}, follow_redirects=True)
    assert "Сохранено" in saved.get_data(as_text=True) or "Saved" in saved.get_data(as_text=True)
    refused = second.post(page, data={"homework": "Параграф 5", "version": shown_second}, follow_redirects=True)
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert "изменение здесь сохранил другой пользователь" in html
    assert "Не сохранено, домашнее задание: Параграф 5" in html  # what they typed, given back
    assert ">№ 12, 14</textarea>" in html  # the current value, in the form
    assert _version_on_page(html) != "0"  # the next save is based on what is shown now
    assert [r.homework for r in raw_sql("SELECT homework FROM lesson_record WHERE lesson_id = :l",
                                        l=lesson_id)] == ["№ 12, 14"]

    again = second.post(page, data={"homework": "Параграф 5", "version": _version_on_page(html)},
                        follow_redirects=True)
    assert "изменение здесь сохранил другой пользователь" not in again.get_data(as_text=True)
    assert [r.homework for r in raw_sql("SELECT homework FROM lesson_record WHERE lesson_id = :l",
                                        l=lesson_id)] == ["Параграф 5"]


def test_one_save_of_the_lesson_page_writes_topic_homework_and_attendance_on_one_version(client, login, journal,
                                                                                        raw_sql):
    """Security item 11: the form names the version it showed once; its writes follow each
    other (each names the version the one before left), and a stale form writes nothing."""
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    pupil = journal["roster"]["pupil_ids"][0]
    login(client, a["teacher"])
    page = f"/lessons/{lesson_id}"
    form = {"topic": "Дроби", "homework": "№ 3", "attendance_taken": "1", f"status:{pupil}": "ill"}
    client.post(page, data={**form, "version": _version_on_page(client.get(page).get_data(as_text=True))})
    row = raw_sql("SELECT topic, homework, attendance_at, version FROM lesson_record WHERE lesson_id = :l",
                  l=lesson_id)[0]
    assert (row.topic, row.homework, row.attendance_at is not None) == ("Дроби", "№ 3", True)

    stale = client.post(page, data={**form, "topic": "Проценты", f"status:{pupil}": "", "version": row.version - 1},
                        follow_redirects=True)
    assert "изменение здесь сохранил другой пользователь" in stale.get_data(as_text=True)
    assert raw_sql("SELECT topic, version FROM lesson_record WHERE lesson_id = :l", l=lesson_id)[0].topic == "Дроби"
    assert raw_sql("SELECT status FROM attendance WHERE lesson_id = :l", l=lesson_id)[0].status == "ill"


def test_the_substitute_form_sends_the_version_it_showed(client, login, journal, raw_sql):
    """Security item 11: the substitute, too, is written on the version the page showed."""
    a = journal["a"]
    roster = journal["roster"]
    lesson_id = journal["lesson"]("future")
    login(client, a["school_admin"])
    page = f"/lessons/{lesson_id}"
    html = client.get(page).get_data(as_text=True)
    form = html[html.index('value="substitute"'):]
    assert '<input type="hidden" name="version" value="0">' in form[:form.index("</form>")]
    client.post(page, data={"action": "substitute", "substitute_id": roster["other_teacher_id"], "version": "0"})
    assert raw_sql("SELECT substitute_id FROM lesson_record WHERE lesson_id = :l",
                   l=lesson_id)[0].substitute_id == roster["other_teacher_id"]
    stale = client.post(page, data={"action": "substitute", "substitute_id": "", "version": "0"},
                        follow_redirects=True)
    assert "изменение здесь сохранил другой пользователь" in stale.get_data(as_text=True)
    assert raw_sql("SELECT substitute_id FROM lesson_record WHERE lesson_id = :l",
                   l=lesson_id)[0].substitute_id == roster["other_teacher_id"]
