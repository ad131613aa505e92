"""The lesson's record through the API: who writes, lateness by the regulation in force on
the lesson's date, period locks and corrections, no lost updates, the audit trail."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core import clock


def at_once(app, headers, requests):
    """Send PUT requests (url, json) from one thread each, released together; the responses
    in the order given."""
    import threading

    responses = [None] * len(requests)
    barrier = threading.Barrier(len(requests))

    def send(index, url, body):
        client = app.test_client()
        barrier.wait()
        responses[index] = client.put(url, headers=headers, json=body)

    threads = [threading.Thread(target=send, args=(i, url, body)) for i, (url, body) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def page_version(client, lesson_id):
    """The lesson's version as its page holds it (the form's hidden field)."""
    import re

    return re.search(r'name="version" value="(\d+)"', client.get(f"/lessons/{lesson_id}").get_data(as_text=True))[1]


@pytest.fixture
def journal(region_tree, make_roster, raw_sql):
    """School A's 5а with lessons for the whole year; its maths teacher is teacher-a."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    today = clock.today(ZoneInfo("Europe/Moscow"))

    def lesson(when, teacher_id=roster["teacher_id"]):
        """A maths lesson of the class: 'past' (long ago, in a locked term), 'recent' (2-6 days
        ago in an open term), 'today' (this morning: grades and absences are taken from the
        lesson's day, DL-2), 'future'."""
        rows = raw_sql("SELECT l.id, l.held_on AS on_date, t.ends_on FROM lesson l JOIN term t ON t.id = l.term_id "
                       "WHERE l.class_id = :c AND l.teacher_id = :t ORDER BY l.held_on", c=roster["class_id"], t=teacher_id)
        on = lambda r: r.on_date if isinstance(r.on_date, dt.date) else dt.date.fromisoformat(str(r.on_date))  # noqa: E731
        ends = lambda r: r.ends_on if isinstance(r.ends_on, dt.date) else dt.date.fromisoformat(str(r.ends_on))  # noqa: E731
        pick = {
            "past": [r for r in rows if ends(r) + dt.timedelta(days=5) < today],
            "recent": [r for r in rows if today - dt.timedelta(days=6) <= on(r) <= today - dt.timedelta(days=2)
                       and ends(r) + dt.timedelta(days=5) >= today],
            "today": [r for r in rows if on(r) == today],
            "future": [r for r in rows if on(r) > today + dt.timedelta(days=1)],
        }[when]
        assert pick, f"no {when} lesson in this school year around {today}"
        return pick[-1].id if when != "future" else pick[0].id

    return {"roster": roster, "lesson": lesson, "a": a}


def test_the_teacher_enters_topic_homework_and_attendance(api, journal):
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    url = f"/api/v1/lessons/{lesson_id}"
    assert api(a["teacher"], "GET", url).json["version"] == 0  # nothing written yet
    topic = api(a["teacher"], "PUT", f"{url}/topic", json={"topic": "Сложение дробей", "version": 0})
    assert topic.status_code == 200, topic.json
    assert topic.json["topic_late"] is False  # before the end of the lesson day: on time (DL-1)
    homework = api(a["teacher"], "PUT", f"{url}/homework", json={"no_homework": True, "version": topic.json["version"]})
    assert homework.json["no_homework"] is True
    pupils = journal["roster"]["pupil_ids"]
    attendance = api(a["teacher"], "PUT", f"{url}/attendance", json={
        "absences": [{"pupil_id": pupils[0], "status": "ill"}], "version": homework.json["version"]})
    assert attendance.status_code == 200
    view = api(a["teacher"], "GET", url).json
    assert view["record"]["topic"] == "Сложение дробей" and view["timezone"] == "Europe/Moscow"
    assert view["attendance"] == [{"pupil_id": pupils[0], "status": "ill", "reason": None}]
    assert view["due"]["topic"].endswith("+00:00")


def test_entries_after_the_lesson_day_are_accepted_and_marked_late(api, journal):
    """DL-1, DL-6: never refused, always marked."""
    a = journal["a"]
    lesson_id = journal["lesson"]("recent")
    response = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/topic", json={"topic": "Проценты", "version": 0})
    assert response.status_code == 200 and response.json["topic_late"] is True


def test_an_oral_grade_two_days_late_is_late_unless_the_region_allows_three(api, journal):
    """DL-3 with the regulation version in force on the lesson's date."""
    a = journal["a"]
    lesson_id = journal["lesson"]("recent")
    pupil = journal["roster"]["pupil_ids"][0]
    url = f"/api/v1/lessons/{lesson_id}/grades/{pupil}"
    late = api(a["teacher"], "PUT", url, json={"value": "5", "work_type": "У", "version": None})
    assert late.status_code == 200 and late.json["is_late"] is True
    written = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/grades/{journal['roster']['pupil_ids'][1]}",
                  json={"value": "4", "work_type": "КР", "version": None})
    lesson_on = dt.date.fromisoformat(api(a["teacher"], "GET", f"/api/v1/lessons/{lesson_id}").json["on"])
    assert written.json["is_late"] is ((clock.today(ZoneInfo("Europe/Moscow")) - lesson_on).days > 3)
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions", json={
        "effective_from": "2020-09-01", "act": "Приказ о трёх днях", "values": {"deadlines": {"grade": {"oral": {"days": 7}}}}})
    again = api(a["teacher"], "PUT", url, json={"value": "4", "work_type": "У", "version": late.json["version"]})
    assert again.status_code == 200 and again.json["is_late"] is False


def test_a_stale_version_gets_409_with_the_current_value(api, journal):
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    url = f"/api/v1/lessons/{lesson_id}/grades/{journal['roster']['pupil_ids'][0]}"
    first = api(a["teacher"], "PUT", url, json={"value": "5", "work_type": "У", "version": None})
    second = api(a["teacher"], "PUT", url, json={"value": "3", "work_type": "У", "version": first.json["version"]})
    assert second.status_code == 200
    stale = api(a["teacher"], "PUT", url, json={"value": "2", "work_type": "У", "version": first.json["version"]})
    assert stale.status_code == 409 and stale.json["current"]["value"] == "3"
    assert stale.json["detail"].startswith("Пока вы работали")  # Russian first, not the framework's English


@pytest.mark.parametrize("body, field", [({"value": "6", "work_type": "У", "version": None}, "value"),
                                         ({"value": "5", "work_type": "XX", "version": None}, "work_type")])
def test_grades_follow_the_scale_and_work_types(api, journal, body, field):
    """GR-1: the effective scale and work types."""
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    response = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/grades/{journal['roster']['pupil_ids'][0]}", json=body)
    assert response.status_code == 422 and field in response.json["errors"]


def test_only_the_lessons_teacher_writes(api, journal, make_user):
    a = journal["a"]
    lesson_id = journal["lesson"]("future")
    url = f"/api/v1/lessons/{lesson_id}/topic"
    pupil = make_user("pupil-j", "pupil", a["school"])
    other_teacher = make_user("teacher-j", "teacher", a["school"])
    for user in (pupil, other_teacher, a["school_admin"]):
        assert api(user, "PUT", url, json={"topic": "Не мой урок", "version": 0}).status_code == 403
    assert api(pupil, "GET", f"/api/v1/lessons/{lesson_id}").status_code == 403  # AC-2, IN-3: the diary, not the journal


def test_a_closed_period_needs_a_school_admins_correction_with_a_reason(api, journal, raw_sql):
    a = journal["a"]
    lesson_id = journal["lesson"]("past")
    url = f"/api/v1/lessons/{lesson_id}/topic"
    assert api(a["teacher"], "PUT", url, json={"topic": "Поздно", "version": 0}).status_code == 403
    assert "reason" in api(a["school_admin"], "PUT", url, json={"topic": "Исправлено", "version": 0}).json["errors"]
    fixed = api(a["school_admin"], "PUT", url, json={"topic": "Исправлено", "version": 0,
                                                     "reason": "ошибка в теме, служебная записка № 3"})
    assert fixed.status_code == 200
    entry = raw_sql("SELECT action, reason FROM audit_entry WHERE action = 'journal.topic' ORDER BY id DESC")[0]
    assert entry.reason == "ошибка в теме, служебная записка № 3"


def test_grade_one_is_not_graded(api, region_tree, make_roster, raw_sql):
    """GR-2: no grades in grade 1, and no grade deadlines there."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"], grade=1)
    lesson_id = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t ORDER BY held_on DESC LIMIT 1",
                        c=roster["class_id"], t=roster["teacher_id"])[0].id
    view = api(a["teacher"], "GET", f"/api/v1/lessons/{lesson_id}").json
    assert view["due"]["grade:У"] is None
    refused = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/grades/{roster['pupil_ids'][0]}",
                  json={"value": "5", "work_type": "У", "version": None})
    if view["locked"]:  # in summer the whole year is closed: only corrections, by an admin
        assert refused.status_code == 403
    else:
        assert refused.status_code == 422 and "value" in refused.json["errors"]


def test_every_change_is_in_the_schools_audit_chain(api, journal, app, raw_sql):
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/topic", json={"topic": "Тема", "version": 0})
    api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/grades/{journal['roster']['pupil_ids'][0]}",
        json={"value": "5", "work_type": "У", "version": None})
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    actions = [r.action for r in raw_sql("SELECT action FROM audit_entry WHERE tenant_id = :t ORDER BY seq",
                                         t=a["school"]["id"])]
    assert actions[-2:] == ["journal.topic", "journal.grade"]


def test_two_teachers_saving_one_cell_at_once_lose_no_update(app, journal, token):
    """Both read version N; both send a new value with it at the same moment: one wins, the
    other gets 409 with the winner's value, and the cell holds the winner's value."""
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    url = f"/api/v1/lessons/{lesson_id}/grades/{journal['roster']['pupil_ids'][0]}"
    headers = token(a["teacher"])
    first = app.test_client().put(url, headers=headers, json={"value": "3", "work_type": "У", "version": None}).json
    values = ("4", "5")
    results = dict(zip(values, at_once(app, headers, [(url, {"value": v, "work_type": "У", "version": first["version"]})
                                                       for v in values])))
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {v: (r.status_code, r.json) for v, r in results.items()}
    winner = next(v for v, r in results.items() if r.status_code == 200)
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.json["current"]["value"] == winner
    stored = app.test_client().get(f"/api/v1/lessons/{lesson_id}", headers=headers).json["grades"]
    assert [g["value"] for g in stored] == [winner]


def test_missing_and_overdue_entries_per_teacher_and_class(api, journal, count_queries, client):
    a = journal["a"]
    lesson_id = journal["lesson"]("recent")
    school = a["school"]["id"]
    before = api(a["school_admin"], "GET", f"/api/v1/schools/{school}/missing-entries?teacher_id={journal['roster']['teacher_id']}").json
    target = next(i for i in before if i["lesson_id"] == lesson_id)
    assert target["missing"] == ["topic", "attendance", "homework"]
    assert target["overdue"] == ["topic", "attendance", "homework"]  # held days ago
    assert target["url"] == f"/lessons/{lesson_id}"
    topic = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/topic", json={"topic": "Тема", "version": 0})
    api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/attendance",
        json={"absences": [], "version": topic.json["version"]})  # all present
    after = api(a["school_admin"], "GET", f"/api/v1/schools/{school}/missing-entries?class_id={journal['roster']['class_id']}").json
    assert next(i for i in after if i["lesson_id"] == lesson_id)["missing"] == ["homework"]
    future = journal["lesson"]("future")
    assert future not in {i["lesson_id"] for i in after}  # not held yet: nothing is missing


def test_the_missing_list_makes_a_fixed_number_of_queries(client, login, journal, count_queries):
    a = journal["a"]
    login(client, a["school_admin"])
    url = f"/api/v1/schools/{a['school']['id']}/missing-entries"
    start = journal["roster"]["year_start"]
    client.get(url)  # the worker keeps the signed-in identity (core.accounts.kept)
    with count_queries() as week:
        few = client.get(f"{url}?from={start}&to={start + dt.timedelta(days=7)}").json
    with count_queries() as everything:
        many = client.get(url).json
    assert 0 < len(few) < len(many)
    assert week.count == everything.count


def test_a_column_is_saved_whole_or_not_at_all(api, journal):
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    pupils = journal["roster"]["pupil_ids"]
    bad = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/grades", json={"grades": [
        {"pupil_id": pupils[0], "value": "5", "work_type": "КР", "version": None},
        {"pupil_id": pupils[1], "value": "7", "work_type": "КР", "version": None}]})
    assert bad.status_code == 422 and "grades.1.value" in bad.json["errors"]
    assert api(a["teacher"], "GET", f"/api/v1/lessons/{lesson_id}").json["grades"] == []
    good = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/grades", json={"grades": [
        {"pupil_id": p, "value": v, "work_type": "КР", "version": None} for p, v in zip(pupils, ("5", "4", "3"))]})
    assert good.status_code == 200 and [g["value"] for g in good.json] == ["5", "4", "3"]


def test_a_column_names_the_entry_that_conflicts(api, app, journal, token):
    """No lost update in a column either: two columns over the same saved grades sent at
    once — one lands, the other is refused whole, naming its first stale entry (409)."""
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    pupils = journal["roster"]["pupil_ids"]
    url = f"/api/v1/lessons/{lesson_id}/grades"
    saved = api(a["teacher"], "PUT", url, json={"grades": [
        {"pupil_id": p, "value": "3", "work_type": "КР", "version": None} for p in pupils]}).json
    versions = {g["pupil_id"]: g["version"] for g in saved}
    twice = api(a["teacher"], "PUT", url, json={"grades": [
        {"pupil_id": pupils[0], "value": "4", "work_type": "КР", "version": versions[pupils[0]]},
        {"pupil_id": pupils[0], "value": "5", "work_type": "КР", "version": versions[pupils[0]]}]})
    assert twice.status_code == 422 and list(twice.json["errors"]) == ["grades.1.pupil_id"]

    columns = [{"grades": [{"pupil_id": p, "value": v, "work_type": "КР", "version": versions[p]} for p in pupils]}
               for v in ("4", "5")]
    first, second = at_once(app, token(a["teacher"]), [(url, body) for body in columns])
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    refused = first if first.status_code == 409 else second
    landed = second if refused is first else first
    assert list(refused.json["errors"]) == ["grades.0.version"]
    assert refused.json["current"]["value"] == landed.json[0]["value"]
    shown = {g["pupil_id"]: g["value"] for g in api(a["teacher"], "GET", f"/api/v1/lessons/{lesson_id}").json["grades"]}
    assert set(shown.values()) == {landed.json[0]["value"]}  # the winner's column, whole
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_concurrent_saves_in_one_school_all_land(app, journal, token):
    """Teachers of one school saving at once append to the school's audit chain in turn;
    none of their entries is refused."""
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    pupils = journal["roster"]["pupil_ids"]
    requests = [(f"/api/v1/lessons/{lesson_id}/grades/{p}", {"value": "4", "work_type": w, "version": None})
                for p in pupils for w in ("У", "КР")]
    results = [r.status_code for r in at_once(app, token(a["teacher"]), requests)]
    assert results == [200] * len(requests)
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_first_absences_on_a_lesson_typed_at_once_all_land(app, journal, token, raw_sql):
    """The first marks of a lesson create its record; simultaneous ones must not collide."""

    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    pupils = journal["roster"]["pupil_ids"]
    responses = at_once(app, token(a["teacher"]), [(f"/api/v1/lessons/{lesson_id}/attendance/{p}", {"status": "absent"})
                                                   for p in pupils])
    assert [r.status_code for r in responses] == [200] * len(pupils)
    assert raw_sql("SELECT COUNT(*) AS n FROM attendance WHERE lesson_id = :l", l=lesson_id)[0].n == len(pupils)
    assert raw_sql("SELECT COUNT(*) AS n FROM lesson_record WHERE lesson_id = :l", l=lesson_id)[0].n == 1


def test_absences_after_a_topic_all_land(app, journal, token, raw_sql, api):
    """Marks typed at once after the topic exists must not conflict over the record."""

    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson_id}/topic", json={"topic": "Дроби", "version": 0})
    pupils = journal["roster"]["pupil_ids"]
    responses = at_once(app, token(a["teacher"]), [(f"/api/v1/lessons/{lesson_id}/attendance/{p}", {"status": "ill"})
                                                   for p in pupils])
    assert [r.status_code for r in responses] == [200] * len(pupils)
    assert raw_sql("SELECT COUNT(*) AS n FROM attendance WHERE lesson_id = :l", l=lesson_id)[0].n == len(pupils)


def test_a_write_that_saw_no_grade_does_not_overwrite_an_existing_one(api, journal):
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    url = f"/api/v1/lessons/{lesson_id}/grades/{journal['roster']['pupil_ids'][0]}"
    first = api(a["teacher"], "PUT", url, json={"value": "5", "work_type": "У", "version": None})
    blind = api(a["teacher"], "PUT", url, json={"value": "2", "work_type": "У", "version": None})
    assert blind.status_code == 409 and blind.json["current"]["value"] == "5"
    assert first.status_code == 200


def test_saving_the_lesson_page_again_does_not_turn_on_time_entries_late(client, login, journal, raw_sql):
    a = journal["a"]
    lesson_id = journal["lesson"]("today")
    login(client, a["teacher"])
    form = {"topic": "Проценты", "homework": "№ 5", "attendance_taken": "1"}
    client.post(f"/lessons/{lesson_id}", data={**form, "version": page_version(client, lesson_id)})
    stamp = raw_sql("SELECT topic_at, homework_at FROM lesson_record WHERE lesson_id = :l", l=lesson_id)[0]
    client.post(f"/lessons/{lesson_id}", data={**form, f"status:{journal['roster']['pupil_ids'][0]}": "ill",
                                               "version": page_version(client, lesson_id)})
    again = raw_sql("SELECT topic_at, homework_at FROM lesson_record WHERE lesson_id = :l", l=lesson_id)[0]
    assert (again.topic_at, again.homework_at) == (stamp.topic_at, stamp.homework_at)
    assert raw_sql("SELECT status FROM attendance WHERE lesson_id = :l", l=lesson_id)[0].status == "ill"
