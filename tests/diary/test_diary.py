"""The diary of pupils and guardians (issue #14): the landing, the week, the term, own data
only (IN-3), ETags, and a fixed number of statements."""
import pytest

from tests.fixtures.diary import WEEK


def grade(api, teacher, lesson, pupil, value, work_type="У", comment=None):
    response = api(teacher, "PUT", f"/api/v1/lessons/{lesson}/grades/{pupil}",
                   json={"value": value, "work_type": work_type, "version": None, "comment": comment})
    assert response.status_code == 200, response.json
    return response.json


def test_a_guardian_and_a_pupil_land_on_the_diary_a_teacher_does_not(app, family, login):
    for who in ("guardian", "pupil"):
        http = login(app.test_client(), family[who])
        assert http.get("/").headers["Location"].endswith("/diary")
    teacher = login(app.test_client(), family["teacher"])
    assert "/diary" not in teacher.get("/").headers["Location"]
    assert teacher.get("/diary").status_code == 200  # no child: says why, lists nobody
    assert 'href="/diary"' not in teacher.get("/account").get_data(as_text=True)


def test_a_teacher_who_is_also_a_parent_finds_the_diary_in_the_menu(app, family, add_role, login, raw_sql):
    from tests.fixtures.diary import link_guardian

    teacher = family["teacher"]
    add_role(teacher, "guardian", family["a"]["school"])
    link_guardian(raw_sql, teacher, family["stranger"])
    http = login(app.test_client(), teacher)
    assert "/diary" not in http.get("/").headers["Location"]  # acting as a teacher: the teacher's landing
    assert 'href="/diary"' in http.get("/account").get_data(as_text=True)
    assert http.get(f"/diary/{family['stranger']}").status_code == 200


def test_the_week_shows_topic_homework_grade_comment_attendance_and_remark(app, family, login, api, week_lessons):
    teacher, child = family["teacher"], family["child"]
    lesson = week_lessons(family["first"], family["first"]["teacher_id"])[0]
    version = api(teacher, "PUT", f"/api/v1/lessons/{lesson}/topic", json={"topic": "Десятичные дроби", "version": 0}).json["version"]
    version = api(teacher, "PUT", f"/api/v1/lessons/{lesson}/homework", json={"homework": "№ 12, 14", "version": version}).json["version"]
    api(teacher, "PUT", f"/api/v1/lessons/{lesson}/attendance",
        json={"absences": [{"pupil_id": child, "status": "late"}], "version": version})
    grade(api, teacher, lesson, child, "5", comment="Решил у доски")
    api(teacher, "POST", f"/api/v1/lessons/{lesson}/remarks", json={"pupil_id": child, "kind": "praise", "text": "Молодец"})
    grade(api, teacher, lesson, family["stranger"], "2")  # another pupil's grade: never in this diary
    http = login(app.test_client(), family["guardian"])
    page = http.get(f"/diary/{child}?week={WEEK}").get_data(as_text=True)
    for text in ("Десятичные дроби", "№ 12, 14", "Устный ответ", "Решил у доски", "опоздал", "Молодец", "Похвала",
                 "Математика", "Морозова А.С."):
        assert text in page, text
    assert page.count('class="grade"') == 2  # the one grade, in the heading and in its line
    assert "Ученик002" not in page and ">2<" not in page
    english = http.post("/language", data={"lang": "en", "next": f"/diary/{child}?week={WEEK}"})
    assert english.status_code == 302
    page = http.get(f"/diary/{child}?week={WEEK}").get_data(as_text=True)
    assert "Oral answer" in page and "Praise" in page and "Wednesday" in page


def test_a_guardian_switches_to_a_child_in_another_school(app, family, login):
    http = login(app.test_client(), family["guardian"])
    page = http.get("/diary").get_data(as_text=True)
    assert f'/diary/{family["child2"]}?week=' in page  # the switch
    other = http.get(f"/diary/{family['child2']}?week={WEEK}")
    assert other.status_code == 200
    text = other.get_data(as_text=True)
    assert "Школа А № 2" in text and "7а" in text
    children = http.get("/api/v1/me/children").json
    assert sorted(c["id"] for c in children) == sorted([family["child"], family["child2"]])
    assert {c["school"]["name"] for c in children} == {"Школа A № 1", "Школа А № 2"}


@pytest.mark.parametrize("path", ["/diary/{id}?week=" + WEEK, "/diary/{id}/term", "/api/v1/pupils/{id}/diary",
                                  "/api/v1/pupils/{id}/marks"])
def test_own_data_only_for_every_route_and_role(app, family, login, token, region_tree, make_roster, path):
    """IN-3: a guardian reads their linked children, a pupil themself; anyone else's pupil
    is 404 by session and by token: a stranger of the same class, a pupil of another
    region, a guardian's child asked by the other guardian, a teacher of another school."""
    b = region_tree["b"]
    far = make_roster(b["school"], pupils=1)["pupil_ids"][0]
    cases = [
        (family["guardian"], family["child"], 200), (family["guardian"], family["child2"], 200),
        (family["guardian"], family["own"], 404), (family["guardian"], family["stranger"], 404),
        (family["guardian"], far, 404),
        (family["pupil"], family["own"], 200), (family["pupil"], family["child"], 404),
        (family["other_guardian"], family["stranger"], 200), (family["other_guardian"], family["child"], 404),
        (b["teacher"], family["child"], 404), (family["teacher"], family["child"], 404),
        (b["teacher"], far, 404),
    ]
    failures = []
    for user, pupil_id, expected in cases:
        url = path.format(id=pupil_id)
        session = login(app.test_client(), user)
        for how, response in (("session", session.get(url)),
                              ("token", app.test_client().get(url, headers=token(user)))):
            if response.status_code != expected:
                failures.append(f"{user['login']} {how} {url}: {response.status_code} != {expected}")
            elif expected == 404 and "Ученик0" in response.get_data(as_text=True):
                failures.append(f"{user['login']} {how} {url}: a pupil's name in a 404")
    assert not failures, "\n".join(failures)


def test_the_children_list_is_each_callers_own(app, family, token, region_tree):
    def ids(user):
        return sorted(c["id"] for c in app.test_client().get("/api/v1/me/children", headers=token(user)).json)

    assert ids(family["guardian"]) == sorted([family["child"], family["child2"]])
    assert ids(family["pupil"]) == [family["own"]]
    assert ids(family["other_guardian"]) == [family["stranger"]]
    assert ids(family["teacher"]) == [] and ids(region_tree["b"]["teacher"]) == []


def test_an_unlinked_guardian_loses_access_at_once(app, family, login, token, raw_sql):
    http = login(app.test_client(), family["guardian"])
    headers = token(family["guardian"])
    url = f"/api/v1/pupils/{family['child']}/diary"
    assert http.get(f"/diary/{family['child']}").status_code == 200
    assert app.test_client().get(url, headers=headers).status_code == 200
    # Unlinked through the ORM, as the roster's import does (a write past the ORM, in psql,
    # moves no change key: kept copies would outlive it until the school's next write).
    from sqlalchemy import select

    from blueprints.roster.models import Guardian, GuardianLink
    from core.extensions import db
    from core.tenancy import unscoped

    with app.app_context(), unscoped("test: the school unlinks a guardian", platform=True):
        for link in db.session.execute(select(GuardianLink).join(Guardian, Guardian.id == GuardianLink.guardian_id).where(
                GuardianLink.pupil_id == family["child"], Guardian.user_id == family["guardian"]["id"])).scalars():
            db.session.delete(link)
        db.session.commit()
        db.session.remove()
    assert http.get(f"/diary/{family['child']}").status_code == 404  # the same session, the next request
    assert app.test_client().get(url, headers=headers).status_code == 404
    assert http.get(f"/diary/{family['child2']}").status_code == 200  # the other child stays


def test_an_account_not_linked_to_a_pupil_is_told_so(app, family, make_user, login):
    lonely = make_user("parent-c", "guardian", family["a"]["school"])
    page = login(app.test_client(), lonely).get("/diary").get_data(as_text=True)
    assert "не привязана к ученику" in page


def test_empty_weeks_say_why(app, family, login, api, make_tenant, make_user, raw_sql):
    http = login(app.test_client(), family["guardian"])
    untouched = http.get(f"/diary/{family['child']}?week={WEEK}").get_data(as_text=True)
    assert "ещё не записан" in untouched  # lessons in the timetable, none recorded yet
    summer = http.get(f"/api/v1/pupils/{family['child']}/diary?week=2027-W30").json
    assert summer["empty"] == "no_lessons" and summer["empty_reason"]
    # A school that has no school year in the system yet.
    new_school = make_tenant("Новая школа", parent=family["a"]["municipality"])
    parent = make_user("parent-new", "guardian", new_school)
    raw_sql("INSERT INTO pupil (last_name, first_name, birth_date, file_number, is_active, tenant_id, region_id, user_id) "
            "VALUES ('Петров', 'Пётр', '2015-01-01', 'N-1', TRUE, :t, :r, :u)", t=new_school["id"],
            r=family["a"]["region"]["id"], u=parent["id"])
    page = login(app.test_client(), parent).get("/diary").get_data(as_text=True)
    assert "ещё не начала учебный год" in page
    assert api(family["guardian"], "GET", f"/api/v1/pupils/{family['child']}/diary?week=2026-47").status_code == 422


def test_the_term_shows_grades_average_forecast_then_the_mark_once_set(app, family, api, week_lessons):
    """IN-6: a forecast by the regulation's final_mark_rule (mean) while the term runs;
    DL-4: the period mark the teacher sets is visible at once (within results_visible_days)."""
    teacher, child = family["teacher"], family["child"]
    lessons = week_lessons(family["first"], family["first"]["teacher_id"])
    grade(api, teacher, lessons[0], child, "5")
    grade(api, teacher, lessons[1], child, "4", work_type="КР")
    url = f"/api/v1/pupils/{child}/marks"
    data = api(family["guardian"], "GET", url).json
    maths = next(s for s in data["subjects"] if s["subject"] == "Математика")
    assert [g["value"] for g in maths["grades"]] == ["5", "4"]
    assert maths["average"] == "4.50" and maths["forecast"] == "5" and maths["mark"] is None
    assert {g["work_type_name"] for g in maths["grades"]} == {"Устный ответ", "Контрольная работа"}
    assert data["is_forecast"] is True and data["term"]["name"]
    russian = next(s for s in data["subjects"] if s["subject"] == "Русский язык")
    assert russian["grades"] == [] and russian["forecast"] is None
    set_mark = api(teacher, "PUT", f"/api/v1/classes/{family['first']['class_id']}/final-marks/{child}",
                   json={"subject_id": family["first"]["subject_id"], "term_id": data["term"]["id"], "value": "4",
                         "version": None})
    assert set_mark.status_code == 200, set_mark.json
    maths = next(s for s in api(family["guardian"], "GET", url).json["subjects"] if s["subject"] == "Математика")
    assert maths["mark"] == "4" and maths["forecast"] is None
    page = api(family["guardian"], "GET", f"/diary/{child}/term").get_data(as_text=True)
    assert "Оценка за период" in page and "4,50" in page
    other_term = next(t for t in data["terms"] if t["id"] != data["term"]["id"])
    assert api(family["guardian"], "GET", f"{url}?term_id={other_term['id']}").status_code == 200
    assert api(family["guardian"], "GET", f"{url}?term_id={family['second']['term_id']}").status_code == 404


def test_year_exam_and_final_marks_show_once_set(app, family, api):
    url = f"/api/v1/pupils/{family['child']}/marks"
    assert api(family["guardian"], "GET", url).json["year_marks"] == []
    saved = api(family["teacher"], "PUT", f"/api/v1/classes/{family['first']['class_id']}/year-marks/{family['child']}",
                json={"subject_id": family["first"]["subject_id"], "kind": "year", "value": "5", "version": None})
    assert saved.status_code == 200, saved.json
    rows = api(family["guardian"], "GET", url).json["year_marks"]
    assert rows == [{"subject_id": family["first"]["subject_id"], "subject": "Математика", "year": "5",
                     "exam": None, "final": None}]
    page = api(family["guardian"], "GET", f"/diary/{family['child']}/term").get_data(as_text=True)
    assert "Годовые и итоговые оценки" in page
    assert api(family["other_guardian"], "GET", url).status_code == 404


def test_a_mark_is_visible_no_later_than_results_visible_days_after_entry():
    """DL-4 as the diary reads it: the journal publishes on entry, the limit caps it."""
    import datetime as dt
    from types import SimpleNamespace

    from blueprints.diary.marks import is_visible, visible_from

    entered = dt.datetime(2026, 11, 18, 7, 0, tzinfo=dt.timezone.utc)
    mark = SimpleNamespace(entered_at=entered)
    assert visible_from(mark, {"results_visible_days": 3}) <= entered + dt.timedelta(days=3)
    assert is_visible(mark, {"results_visible_days": 3}, entered)
    assert not is_visible(mark, {"results_visible_days": 3}, entered - dt.timedelta(seconds=1))


def test_an_unchanged_week_is_304_and_a_new_grade_gives_a_new_etag(app, family, token, api, week_lessons):
    headers = token(family["guardian"])
    http = app.test_client()
    url = f"/api/v1/pupils/{family['child']}/diary?week={WEEK}"
    first = http.get(url, headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    again = http.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    lesson = week_lessons(family["first"], family["first"]["teacher_id"])[0]
    grade(api, family["teacher"], lesson, family["child"], "3")
    changed = http.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert any(g["value"] == "3" for d in changed.json["days"] for l in d["lessons"] for g in l["grades"])
    marks = f"/api/v1/pupils/{family['child']}/marks"
    tag = http.get(marks, headers=headers).headers["ETag"]
    assert http.get(marks, headers={**headers, "If-None-Match": tag}).status_code == 304


def test_a_grade_of_the_pupil_beside_keeps_the_week_and_a_topic_renews_it(app, family, token, api, week_lessons,
                                                                           count_queries):
    """The tag follows the child's own rows and the school's shared ones (core.changes keys):
    a teacher grading a classmate leaves the child's week as it was (304, the kept answer,
    nothing read again); a topic set on a lesson of the week gives a new tag with the topic."""
    headers = token(family["guardian"])
    http = app.test_client()
    url = f"/api/v1/pupils/{family['child']}/diary?week={WEEK}"
    first = http.get(url, headers=headers)
    lesson = week_lessons(family["first"], family["first"]["teacher_id"])[0]
    grade(api, family["teacher"], lesson, family["stranger"], "2")
    assert http.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]}).status_code == 304
    with count_queries() as counter:
        again = http.get(url, headers=headers)
    assert again.data == first.data and not any("FROM grade" in s for s in counter.statements)
    response = api(family["teacher"], "PUT", f"/api/v1/lessons/{lesson}/topic", json={"topic": "Проценты", "version": 0})
    assert response.status_code == 200, response.json
    renewed = http.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert renewed.status_code == 200 and renewed.headers["ETag"] != first.headers["ETag"]
    assert any(l["topic"] == "Проценты" for d in renewed.json["days"] for l in d["lessons"])


def test_a_gzipped_week_carries_a_weak_tag_that_still_gives_304(app, family, token, week_lessons):
    """A phone taking gzip gets the week compressed (issue #14, item 8) and, sending the
    weak tag back, a 304: If-None-Match compares weakly."""
    import gzip
    import json

    headers = {**token(family["guardian"]), "Accept-Encoding": "gzip"}
    http = app.test_client()
    url = f"/api/v1/pupils/{family['child']}/diary?week={WEEK}"
    first = http.get(url, headers=headers)
    assert first.headers["Content-Encoding"] == "gzip" and first.headers["ETag"].startswith('W/"')
    assert json.loads(gzip.decompress(first.data))["days"]
    again = http.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_the_week_costs_the_same_statements_whatever_its_lessons_and_grades(app, family, login, token, api,
                                                                             week_lessons, count_queries):
    http = login(app.test_client(), family["guardian"])
    headers = token(family["guardian"])
    page, json_url = f"/diary/{family['child']}?week={WEEK}", f"/api/v1/pupils/{family['child']}/diary?week={WEEK}"

    def counts():
        out = []
        for get in (lambda: http.get(page), lambda: app.test_client().get(json_url, headers=headers)):
            get()  # a worker resolves each regulation once
            with count_queries() as counter:
                assert get().status_code == 200
            out.append(counter.count)
        return out

    empty = counts()
    teacher = family["teacher"]
    for lesson in week_lessons(family["first"], family["first"]["teacher_id"]):
        grade(api, teacher, lesson, family["child"], "4")
        grade(api, teacher, lesson, family["child"], "5", work_type="КР", comment="Контрольная")
        api(teacher, "POST", f"/api/v1/lessons/{lesson}/remarks", json={"pupil_id": family["child"], "kind": "note",
                                                                         "text": "Принести циркуль"})
    full = counts()
    assert full == empty, (empty, full)
    assert full[0] <= 16 and full[1] <= 14, full
    print(f"week page {full[0]} statements, week JSON {full[1]}")


def test_a_week_fetched_again_is_sent_as_kept_until_the_school_writes(app, family, token, api, week_lessons,
                                                                      count_queries):
    """A second phone (no If-None-Match) gets the kept answer without the week being read
    again; a grade moves the school's chain, so the next answer is read anew and shows it."""
    headers = token(family["guardian"])
    http = app.test_client()
    url = f"/api/v1/pupils/{family['child']}/diary?week={WEEK}"
    first = http.get(url, headers=headers)
    with count_queries() as counter:
        again = http.get(url, headers=headers)
    assert again.status_code == 200 and again.data == first.data
    assert not any("FROM grade" in s for s in counter.statements)  # not read again
    lesson = week_lessons(family["first"], family["first"]["teacher_id"])[0]
    grade(api, family["teacher"], lesson, family["child"], "4")
    fresh = http.get(url, headers=headers).json
    assert any(g["value"] == "4" for d in fresh["days"] for l in d["lessons"] for g in l["grades"])
