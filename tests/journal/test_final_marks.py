"""Final marks with a suggested value and a forecast (GR-1, IN-6), remarks (IN-5), cell
history, and the regulation version in force on the lesson's date (DL-3)."""
import datetime as dt
from types import SimpleNamespace

import pytest

from blueprints.journal.marks import suggested_mark
from core import clock
from tenants import sections

GRADING = sections.GRADING.defaults


def grades(*pairs):
    return [SimpleNamespace(value=v, work_type=w) for v, w in pairs]


@pytest.mark.parametrize("pairs, expected", [
    ((("5", "У"), ("4", "У")), "5"),  # 4.5 rounds half up
    ((("3", "У"), ("4", "У"), ("4", "КР")), "4"),
    ((("2", "У"), ("3", "У")), "3"),
    ((), None),
])
def test_the_suggested_mark_is_the_mean_rounded_half_up(pairs, expected):
    assert suggested_mark(grades(*pairs), GRADING) == expected


def test_a_weighted_rule_counts_written_work_more():
    weighted = {**GRADING, "final_mark_rule": "weighted",
                "work_types": [{"code": "У", "name": "У", "kind": "oral", "weight": 1},
                               {"code": "КР", "name": "КР", "kind": "written", "weight": 3}]}
    marks = grades(("5", "У"), ("5", "У"), ("3", "КР"))
    assert suggested_mark(marks, GRADING) == "4"  # (5 + 5 + 3) / 3 = 4.33
    assert suggested_mark(marks, weighted) == "4"  # (5 + 5 + 9) / 5 = 3.8 -> 4
    assert suggested_mark(grades(("5", "У"), ("2", "КР")), weighted) == "3"  # (5 + 6) / 4 = 2.75 -> 3


def current_term(api, user, roster):
    terms = api(user, "GET", f"/api/v1/years/{roster['year_id']}/terms").json
    today = clock.today().isoformat()
    return next((t for t in terms if t["starts_on"] <= today <= t["ends_on"] and t["level_from"] <= 5 <= t["level_to"]), None)


def test_term_marks_show_grades_forecast_and_the_mark_set(api, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    term = current_term(api, a["teacher"], roster)
    assert term is not None, "SCHOOL_DAY falls in a term"
    # The term's last two lessons held so far: grades wait for the lesson's day (DL-2).
    lessons = raw_sql("SELECT id FROM lesson WHERE term_id = :t AND teacher_id = :s AND held_on <= :d "
                      "ORDER BY held_on DESC LIMIT 2", t=term["id"], s=roster["teacher_id"], d=clock.today().isoformat())
    pupil = roster["pupil_ids"][0]
    for lesson, value in zip(lessons, ("5", "4")):
        assert api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson.id}/grades/{pupil}",
                   json={"value": value, "work_type": "У", "version": None}).status_code == 200
    url = f"/api/v1/classes/{roster['class_id']}/final-marks"
    rows = api(a["teacher"], "GET", f"{url}?subject_id={roster['subject_id']}&term_id={term['id']}").json
    row = next(r for r in rows if r["pupil_id"] == pupil)
    assert sorted(row["grades"]) == ["4", "5"] and row["suggested"] == "5"
    assert row["is_forecast"] is True and row["below_norm"] is True and row["mark"] is None
    body = {"subject_id": roster["subject_id"], "term_id": term["id"], "value": "5"}
    set_mark = api(a["teacher"], "PUT", f"{url}/{pupil}", json={**body, "version": row["version"]})
    assert set_mark.status_code == 200 and set_mark.json["value"] == "5"
    stale = api(a["teacher"], "PUT", f"{url}/{pupil}", json={**body, "value": "4", "version": set_mark.json["version"] - 1})
    assert stale.status_code == 409
    other_subject = api(a["teacher"], "PUT", f"{url}/{pupil}",
                        json={**body, "subject_id": roster["subject_id"] + 1, "version": None})
    assert other_subject.status_code == 403  # not this teacher's subject


def test_remarks_and_cell_history(api, region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on <= :d "
                     "ORDER BY held_on DESC LIMIT 1", c=roster["class_id"], t=roster["teacher_id"],
                     d=clock.today().isoformat())[0].id
    pupil, other = roster["pupil_ids"][:2]
    remark = api(a["teacher"], "POST", f"/api/v1/lessons/{lesson}/remarks",
                 json={"pupil_id": pupil, "kind": "praise", "text": "Отлично решил задачу у доски"})
    assert remark.status_code == 201
    first = api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades/{pupil}",
                json={"value": "4", "work_type": "У", "version": None}).json
    api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades/{pupil}",
        json={"value": "5", "work_type": "У", "version": first["version"]})
    api(a["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades/{other}", json={"value": "3", "work_type": "У", "version": None})
    cell = api(a["school_admin"], "GET", f"/api/v1/lessons/{lesson}/history?pupil_id={pupil}").json
    assert [(e["action"], (e["after"] or {}).get("value")) for e in cell] == [
        ("journal.remark", None), ("journal.grade", "4"), ("journal.grade", "5")]
    assert cell[2]["before"] == {"value": "4", "comment": None}


def test_a_lesson_is_judged_by_the_version_in_force_on_its_date(app, region_tree, make_roster, as_platform, raw_sql):
    """DL-3: a region's new oral-grade deadline applies to lessons from its date on."""
    from blueprints.journal.context import context
    from blueprints.journal.entries import due_times
    from blueprints.roster.models import Lesson
    from core.extensions import db
    from tenants import service as tenants
    from tenants.models import Tenant

    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True)
    rows = raw_sql("SELECT id, held_on FROM lesson WHERE class_id = :c ORDER BY held_on", c=roster["class_id"])
    early, late = rows[0], rows[-1]
    held = lambda r: r.held_on if isinstance(r.held_on, dt.date) else dt.date.fromisoformat(str(r.held_on))  # noqa: E731
    switch = held(early) + (held(late) - held(early)) / 2
    with as_platform():
        region = db.session.get(Tenant, a["region"]["id"])
        tenants.add_version(region, effective_from=switch, act="Приказ о сроках", values={
            "deadlines": {"grade": {"oral": {"days": 4}}}})
        db.session.commit()
        for row, days in ((early, 1), (late, 4)):
            lesson = db.session.execute(db.select(Lesson).where(Lesson.id == row.id)).scalar_one()
            due = due_times(context(lesson))["grade:У"]
            local = due.astimezone(dt.timezone(dt.timedelta(hours=3))).date()
            assert local == held(row) + dt.timedelta(days=days)


def test_year_marks_follow_the_term_marks(api, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    term = current_term(api, a["teacher"], roster)
    assert term is not None, "SCHOOL_DAY falls in a term"
    pupil = roster["pupil_ids"][0]
    marks_url = f"/api/v1/classes/{roster['class_id']}/final-marks/{pupil}"
    assert api(a["teacher"], "PUT", marks_url, json={"subject_id": roster["subject_id"], "term_id": term["id"],
                                                      "value": "4", "version": None}).status_code == 200
    rows = api(a["teacher"], "GET", f"/api/v1/classes/{roster['class_id']}/year-marks?subject_id={roster['subject_id']}").json
    row = next(r for r in rows if r["pupil_id"] == pupil)
    assert (row["terms"], row["suggested"], row["year"]) == (["4"], "4", None)
    assert row["versions"] == {"year": None, "exam": None, "final": None}
    year_url = f"/api/v1/classes/{roster['class_id']}/year-marks/{pupil}"
    body = {"subject_id": roster["subject_id"], "kind": "year", "value": "4", "version": None}
    assert api(a["teacher"], "PUT", year_url, json=body).status_code == 200
    assert api(a["teacher"], "PUT", year_url, json={**body, "kind": "final", "value": "5"}).status_code == 200
    assert api(a["teacher"], "PUT", year_url, json={**body, "kind": "term"}).status_code == 422
    row = next(r for r in api(a["teacher"], "GET", f"/api/v1/classes/{roster['class_id']}/year-marks?subject_id={roster['subject_id']}").json
               if r["pupil_id"] == pupil)
    assert (row["year"], row["final"]) == ("4", "5")
    # No lost update: changing a mark that exists names the version read; "I saw none" is a conflict
    blind = api(a["teacher"], "PUT", year_url, json={**body, "value": "3"})
    assert blind.status_code == 409 and blind.json["current"]["value"] == "4"
    assert blind.json["current"]["version"] == row["versions"]["year"]
    seen = api(a["teacher"], "PUT", year_url, json={**body, "value": "3", "version": row["versions"]["year"]})
    assert seen.status_code == 200 and seen.json["value"] == "3"
