"""School structure: years and terms from the regulation, classes, timetable rules,
lesson generation and the year rollover (MO-5)."""
import datetime as dt

from core import clock


def test_a_year_gets_its_terms_from_the_calendar_regulation(api, region_tree):
    """Default calendar: quarters for grades 1-9, half-years for 10-11 (REGULATIONS.md)."""
    a = region_tree["a"]
    school = a["school"]["id"]
    year = api(a["school_admin"], "POST", f"/api/v1/schools/{school}/years", json={"start_year": 2026})
    assert year.status_code == 201, year.json
    assert (year.json["name"], year.json["starts_on"], year.json["ends_on"]) == ("2026/2027", "2026-09-01", "2027-08-31")
    terms = api(a["school_admin"], "GET", f"/api/v1/years/{year.json['id']}/terms").json
    assert [(t["kind"], t["number"], t["level_from"], t["level_to"]) for t in terms] == [
        ("quarter", 1, 1, 9), ("quarter", 2, 1, 9), ("quarter", 3, 1, 9), ("quarter", 4, 1, 9),
        ("half_year", 1, 10, 11), ("half_year", 2, 10, 11)]
    assert terms[0]["starts_on"] == "2026-09-01" and terms[3]["ends_on"] == "2027-05-31"
    assert all(terms[i]["ends_on"] < terms[i + 1]["starts_on"] for i in range(3))
    again = api(a["school_admin"], "POST", f"/api/v1/schools/{school}/years", json={"start_year": 2026})
    assert again.status_code == 409 and list(again.json["errors"]) == ["start_year"]
    # Not a version conflict: the answer says nothing of a "current" object (API.md's 409).
    assert "current" not in again.json


def test_a_regions_trimesters_shape_its_schools_terms(api, region_tree):
    a = region_tree["a"]
    api(a["region_admin"], "POST", f"/api/v1/tenants/{a['region']['id']}/regulation-versions", json={
        "effective_from": "2020-09-01", "act": "Приказ о триместрах",
        "values": {"calendar": {"periods": [{"levels": [1, 11], "kind": "trimester"}]}}})
    year = api(a["school_admin"], "POST", f"/api/v1/schools/{a['school']['id']}/years", json={"start_year": 2026}).json
    terms = api(a["school_admin"], "GET", f"/api/v1/years/{year['id']}/terms").json
    assert [(t["kind"], t["number"]) for t in terms] == [("trimester", 1), ("trimester", 2), ("trimester", 3)]


def test_term_dates_stay_inside_the_year(api, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], year=clock.today().year + 1)  # its first term is not closed
    url = f"/api/v1/terms/{roster['term_id']}"
    start = roster["year_start"]
    ok = api(a["school_admin"], "PATCH", url, json={"starts_on": str(start), "ends_on": str(start + dt.timedelta(days=60))})
    assert ok.status_code == 200
    bad = api(a["school_admin"], "PATCH", url, json={"starts_on": str(start - dt.timedelta(days=1)),
                                                     "ends_on": str(start + dt.timedelta(days=60))})
    assert bad.status_code == 422 and "starts_on" in bad.json["errors"]
    overlapping = api(a["school_admin"], "PATCH", url, json={"starts_on": str(start),
                                                             "ends_on": str(start + dt.timedelta(days=120))})
    assert overlapping.status_code == 422 and "starts_on" in overlapping.json["errors"]  # runs into the 2nd quarter


def test_timetable_refuses_a_double_booked_teacher_and_lessons_outside_the_bells(api, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"])
    url = f"/api/v1/schools/{a['school']['id']}/timetable"
    new_class = api(a["school_admin"], "POST", f"/api/v1/schools/{a['school']['id']}/classes",
                    json={"year_id": roster["year_id"], "grade": 6, "letter": "б"}).json
    base = {"class_id": new_class["id"], "subject_id": roster["subject_id"], "teacher_id": roster["teacher_id"]}
    twice = api(a["school_admin"], "POST", url, json={**base, "weekday": 1, "period": 1})
    assert twice.status_code == 409 and "teacher" in twice.json["errors"]
    outside = api(a["school_admin"], "POST", url, json={**base, "weekday": 1, "period": 7})
    assert outside.status_code == 422 and "period" in outside.json["errors"]
    fine = api(a["school_admin"], "POST", url, json={**base, "weekday": 1, "period": 3, "room": "21"})
    assert fine.status_code == 201
    class_busy = api(a["school_admin"], "POST", url, json={**base, "teacher_id": roster["other_teacher_id"],
                                                           "weekday": 1, "period": 3})
    assert class_busy.status_code == 409 and "class" in class_busy.json["errors"]


def test_lessons_are_generated_for_the_term_skipping_holidays_and_only_once(api, region_tree, make_roster, as_platform):
    from blueprints.roster import academic_years
    from blueprints.roster.models import AcademicYear, Term
    from core.extensions import db

    a = region_tree["a"]
    roster = make_roster(a["school"])
    with as_platform():
        term = db.session.get(Term, roster["term_id"])
        year = db.session.get(AcademicYear, roster["year_id"])
        academic_years.add_holiday(year, "Осенние каникулы", term.ends_on - dt.timedelta(days=6), term.ends_on)
        db.session.commit()
        first, last = term.starts_on, term.ends_on - dt.timedelta(days=7)
    weekdays = sum(1 for n in range((last - first).days + 1) if (first + dt.timedelta(days=n)).isoweekday() <= 5)
    response = api(a["school_admin"], "POST", f"/api/v1/terms/{roster['term_id']}/lessons")
    assert response.status_code == 201
    assert int(response.headers["X-Lessons-Added"]) == weekdays * 2  # two lessons a day, Monday to Friday
    again = api(a["school_admin"], "POST", f"/api/v1/terms/{roster['term_id']}/lessons")
    assert again.headers["X-Lessons-Added"] == "0"
    lessons = api(a["school_admin"], "GET", f"/api/v1/schools/{a['school']['id']}/lessons?class_id={roster['class_id']}&page_size=3").json
    assert [(l["on"], l["period"], l["starts_at"]) for l in lessons[:2]][0][2] == "09:00:00"
    assert api(a["teacher"], "POST", f"/api/v1/terms/{roster['term_id']}/lessons").status_code == 403


def test_class_list_and_pupils_api_make_a_fixed_number_of_queries(client, login, token, region_tree, make_roster,
                                                                    make_tenant, count_queries):
    a = region_tree["a"]
    small = make_roster(a["school"], pupils=3)
    big_school = make_tenant("Большая школа", parent=a["municipality"])
    big = make_roster(big_school, pupils=30)
    login(client, a["municipality_admin"])
    counts = {}
    for name, roster in (("small", small), ("big", big)):
        client.get(f"/classes/{roster['class_id']}/list")  # the worker keeps the identity and the class's chain
        with count_queries() as page:
            assert client.get(f"/classes/{roster['class_id']}/list").status_code == 200
        with count_queries() as api_call:
            assert len(client.get(f"/api/v1/classes/{roster['class_id']}/pupils").json) == len(roster["pupil_ids"])
        counts[name] = (page.count, api_call.count)
    assert counts["small"] == counts["big"], counts


def test_pupils_and_guardians_cannot_read_the_school_lists(client, token, region_tree, make_roster, make_user):
    a = region_tree["a"]
    roster = make_roster(a["school"])
    parent = make_user("parent-a", "guardian", a["school"])
    headers = token(parent)
    assert client.get(f"/api/v1/classes/{roster['class_id']}/pupils", headers=headers).status_code == 403
    assert client.get(f"/api/v1/schools/{a['school']['id']}/pupils", headers=headers).status_code == 403


def test_rollover_promotes_graduates_and_drafts_next_year(api, region_tree, make_roster, as_platform):
    from blueprints.roster import school_classes
    from blueprints.roster.models import AcademicYear, Pupil
    from core.extensions import db
    from tenants.models import Tenant

    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=4)
    with as_platform():
        school = db.session.get(Tenant, a["school"]["id"])
        year = db.session.get(AcademicYear, roster["year_id"])
        senior = school_classes.create_class(year, 11, "а")
        pupil = Pupil(last_name="Выпускник", first_name="Олег", birth_date=dt.date(year.starts_on.year - 17, 1, 1),
                      file_number="G-1", tenant_id=school.id, region_id=school.path_ids[0])
        db.session.add(pupil)
        db.session.flush()
        school_classes.enrol(pupil, senior, year.starts_on)
        db.session.commit()
    first = api(a["school_admin"], "POST", f"/api/v1/schools/{a['school']['id']}/rollover", json={})
    assert first.status_code == 200, first.json
    summary = first.json["summary"]
    assert (summary["classes"], summary["promoted"], summary["graduated"]) == (1, 4, 1)
    assert summary["assignments"] == 2  # maths and Russian move with 5а to 6а, as drafts
    again = api(a["school_admin"], "POST", f"/api/v1/schools/{a['school']['id']}/rollover", json={}).json["summary"]
    assert (again["classes"], again["promoted"], again["assignments"]) == (0, 0, 0)
    new_classes = api(a["school_admin"], "GET",
                      f"/api/v1/schools/{a['school']['id']}/classes?year_id={summary['year_id']}").json
    assert [(c["name"], c["is_draft"]) for c in new_classes] == [("6а", True)]
    assert len(api(a["school_admin"], "GET", f"/api/v1/classes/{new_classes[0]['id']}/pupils").json) == 4
    confirmed = api(a["school_admin"], "POST", f"/api/v1/years/{summary['year_id']}/confirm")
    assert confirmed.json["status"] == "active"
    classes = api(a["school_admin"], "GET", f"/api/v1/schools/{a['school']['id']}/classes?year_id={summary['year_id']}").json
    assert classes[0]["is_draft"] is False


def test_school_panel_pages(client, login, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"])
    login(client, a["school_admin"])
    panel = client.get(f"/schools/{a['school']['id']}/panel").get_data(as_text=True)
    assert "5а" in panel and "Морозова" not in panel
    assert "Ученик000" in client.get(f"/classes/{roster['class_id']}/list").get_data(as_text=True)
    assert "Ученик001" in client.get(f"/schools/{a['school']['id']}/pupils?q=ученик001").get_data(as_text=True)
    assert "Математика" in client.get(f"/schools/{a['school']['id']}/timetable").get_data(as_text=True)
    generated = client.post(f"/terms/{roster['term_id']}/generate")
    assert generated.status_code == 302
    assert "Морозова" in client.get(f"/schools/{a['school']['id']}/staff").get_data(as_text=True)


def test_one_off_changes_cancel_move_and_substitute(api, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"])
    api(a["school_admin"], "POST", f"/api/v1/terms/{roster['term_id']}/lessons")
    lessons = api(a["school_admin"], "GET",
                  f"/api/v1/schools/{a['school']['id']}/lessons?class_id={roster['class_id']}&page_size=10").json
    maths = next(l for l in lessons if l["teacher_id"] == roster["teacher_id"])
    url = f"/api/v1/lessons/{maths['id']}"
    substitute = api(a["school_admin"], "PATCH", url, json={"teacher_id": roster["other_teacher_id"], "reason": "болезнь"})
    assert substitute.status_code == 200 and substitute.json["teacher_id"] == roster["other_teacher_id"]
    moved = api(a["school_admin"], "PATCH", url, json={"period": 4, "room": "12"})
    assert moved.status_code == 200 and (moved.json["period"], moved.json["starts_at"], moved.json["room"]) == (4, "12:00:00", "12")
    taken = api(a["school_admin"], "PATCH", url, json={"period": 2})
    assert taken.status_code == 409  # the class has Russian in period 2 that day
    cancelled = api(a["school_admin"], "PATCH", url, json={"is_cancelled": True})
    assert cancelled.json["is_cancelled"] is True
    assert api(a["teacher"], "PATCH", url, json={"is_cancelled": False}).status_code == 403


def test_classes_are_created_in_a_batch(api, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"])
    made = api(a["school_admin"], "POST", f"/api/v1/schools/{a['school']['id']}/class-batches",
               json={"year_id": roster["year_id"], "grade_from": 5, "grade_to": 6, "letters": "а, б"})
    assert made.status_code == 201
    assert [c["name"] for c in made.json] == ["5б", "6а", "6б"]  # 5а already existed


def test_drafting_next_year_leaves_this_years_lists_alone_until_confirmed(api, region_tree, make_roster):
    """MO-5: the running year's journal keeps its pupils while next year is only a draft."""
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=3)
    api(a["school_admin"], "POST", f"/api/v1/schools/{a['school']['id']}/rollover", json={})
    assert len(api(a["school_admin"], "GET", f"/api/v1/classes/{roster['class_id']}/pupils").json) == 3
    year_id = api(a["school_admin"], "GET", f"/api/v1/schools/{a['school']['id']}/years").json[0]["id"]
    api(a["school_admin"], "POST", f"/api/v1/years/{year_id}/confirm")
    assert api(a["school_admin"], "GET", f"/api/v1/classes/{roster['class_id']}/pupils").json == []


def test_a_moved_lesson_is_not_generated_again(api, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"])
    api(a["school_admin"], "POST", f"/api/v1/terms/{roster['term_id']}/lessons")
    lesson = api(a["school_admin"], "GET",
                 f"/api/v1/schools/{a['school']['id']}/lessons?class_id={roster['class_id']}&page_size=1").json[0]
    assert api(a["school_admin"], "PATCH", f"/api/v1/lessons/{lesson['id']}", json={"period": 4}).status_code == 200
    again = api(a["school_admin"], "POST", f"/api/v1/terms/{roster['term_id']}/lessons")
    assert again.headers["X-Lessons-Added"] == "0"


def test_moving_a_term_boundary_refiles_the_lessons_to_the_term_that_holds_their_date(api, region_tree,
                                                                                      make_roster, raw_sql):
    """A journal page shows one term's lessons: after the dates move, each lesson is shown
    in the term its date now falls in (shrink one term, then stretch the next)."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, year=clock.today().year + 1)  # no term closed yet
    first, second = raw_sql("SELECT id, starts_on, ends_on FROM term WHERE year_id = :y AND level_from <= 5 "
                            "AND level_to >= 5 ORDER BY starts_on LIMIT 2", y=roster["year_id"])
    as_date = lambda v: v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))  # noqa: E731
    first_end, second_start = as_date(first.ends_on), as_date(second.starts_on)
    new_end = first_end - dt.timedelta(days=14)
    in_gap = raw_sql("SELECT count(*) AS n FROM lesson WHERE class_id = :c AND term_id = :t AND held_on > :d",
                     c=roster["class_id"], t=first.id, d=new_end)[0].n
    assert in_gap > 0
    cancelled = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND term_id = :t AND held_on > :d ORDER BY held_on "
                        "LIMIT 1", c=roster["class_id"], t=first.id, d=new_end)[0].id
    assert api(a["school_admin"], "PATCH", f"/api/v1/lessons/{cancelled}", json={"is_cancelled": True}).status_code == 200

    shrunk = api(a["school_admin"], "PATCH", f"/api/v1/terms/{first.id}",
                 json={"starts_on": str(as_date(first.starts_on)), "ends_on": str(new_end)})
    assert shrunk.status_code == 200, shrunk.json
    stretched = api(a["school_admin"], "PATCH", f"/api/v1/terms/{second.id}",
                    json={"starts_on": str(new_end + dt.timedelta(days=1)), "ends_on": str(as_date(second.ends_on))})
    assert stretched.status_code == 200, stretched.json

    left = raw_sql("SELECT count(*) AS n FROM lesson WHERE class_id = :c AND term_id = :t AND held_on > :d",
                   c=roster["class_id"], t=first.id, d=new_end)[0].n
    moved = raw_sql("SELECT count(*) AS n FROM lesson WHERE class_id = :c AND term_id = :t AND held_on > :d "
                    "AND held_on < :s", c=roster["class_id"], t=second.id, d=new_end, s=second_start)[0].n
    assert (left, moved) == (0, in_gap)  # the cancelled lesson moved too: its slot is the second term's
    generated = api(a["school_admin"], "POST", f"/api/v1/terms/{second.id}/lessons")
    assert generated.status_code in (200, 201), generated.json  # no slot is made twice


def test_lessons_of_a_closed_period_do_not_move(api, region_tree, make_roster, raw_sql):
    """A locked journal stays locked: a term's boundary that would move lessons out of (or
    into) a closed period is refused."""
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, year=clock.today().year - 2)
    first = raw_sql("SELECT id, starts_on, ends_on FROM term WHERE year_id = :y AND level_from <= 5 AND level_to >= 5 "
                    "ORDER BY starts_on LIMIT 1", y=roster["year_id"])[0]
    ends = first.ends_on if isinstance(first.ends_on, dt.date) else dt.date.fromisoformat(str(first.ends_on))
    starts = first.starts_on if isinstance(first.starts_on, dt.date) else dt.date.fromisoformat(str(first.starts_on))
    before = raw_sql("SELECT count(*) AS n FROM lesson WHERE term_id = :t", t=first.id)[0].n
    refused = api(a["school_admin"], "PATCH", f"/api/v1/terms/{first.id}",
                  json={"starts_on": str(starts), "ends_on": str(ends - dt.timedelta(days=14))})
    assert refused.status_code == 422 and "starts_on" in refused.json["errors"]
    assert raw_sql("SELECT count(*) AS n FROM lesson WHERE term_id = :t", t=first.id)[0].n == before
    assert str(raw_sql("SELECT ends_on FROM term WHERE id = :t", t=first.id)[0].ends_on) == str(first.ends_on)


def test_a_lesson_moves_to_the_zero_period(api, region_tree, make_roster):
    """Schools ring a zero period before the first: «period: 0» is a move, not a missing value."""
    a = region_tree["a"]
    roster = make_roster(a["school"])
    bells = f"/api/v1/schools/{a['school']['id']}/bell-schedule"
    periods = api(a["school_admin"], "GET", bells).json["periods"]
    zero = {"number": 0, "starts_at": "08:00:00", "ends_at": "08:40:00"}
    assert api(a["school_admin"], "PUT", bells, json={"periods": [zero] + periods}).status_code == 200
    api(a["school_admin"], "POST", f"/api/v1/terms/{roster['term_id']}/lessons")
    lesson = api(a["school_admin"], "GET",
                 f"/api/v1/schools/{a['school']['id']}/lessons?class_id={roster['class_id']}&page_size=1").json[0]
    moved = api(a["school_admin"], "PATCH", f"/api/v1/lessons/{lesson['id']}", json={"period": 0})
    assert moved.status_code == 200 and (moved.json["period"], moved.json["starts_at"]) == (0, "08:00:00")


def test_a_lesson_moves_into_the_slot_of_a_cancelled_one(api, region_tree, make_roster):
    """A cancelled lesson frees its slot for a replacement; a slot held by a lesson that is
    still on is refused naming the clash, not as a concurrent edit."""
    a = region_tree["a"]
    roster = make_roster(a["school"])
    api(a["school_admin"], "POST", f"/api/v1/terms/{roster['term_id']}/lessons")
    day = api(a["school_admin"], "GET",
              f"/api/v1/schools/{a['school']['id']}/lessons?class_id={roster['class_id']}&page_size=10").json
    first, second = sorted((l for l in day if l["on"] == day[0]["on"]), key=lambda l: l["period"])[:2]
    refused = api(a["school_admin"], "PATCH", f"/api/v1/lessons/{second['id']}", json={"period": first["period"]})
    assert refused.status_code == 409 and "same moment" not in refused.get_data(as_text=True)
    assert f"{first['period']}-м уроком у 5а уже стоит" in refused.json["errors"]["period"][0]
    api(a["school_admin"], "PATCH", f"/api/v1/lessons/{first['id']}", json={"is_cancelled": True})
    moved = api(a["school_admin"], "PATCH", f"/api/v1/lessons/{second['id']}", json={"period": first["period"]})
    assert moved.status_code == 200 and moved.json["period"] == first["period"]
    restored = api(a["school_admin"], "PATCH", f"/api/v1/lessons/{first['id']}", json={"is_cancelled": False})
    assert restored.status_code == 409 and "period" in restored.json["errors"]
