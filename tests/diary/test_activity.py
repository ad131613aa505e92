"""IN-4: parents should check the diary at least ``informing.parent_checks_per_week`` times a
week; the class teacher and the administration see, at the end of each period (or while it
runs), who checks less. A guardian's reading is recorded once per child and local day, by
page or API (a 304 too); it changes no ETag, and the report costs the same statements
whatever the class size."""
import pytest

from tests.fixtures.diary import WEEK

pytestmark = pytest.mark.usefixtures("school_day")


def report_of(api, user, class_id, **query):
    response = api(user, "GET", f"/api/v1/classes/{class_id}/diary-activity", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def row(report, pupil_id, guardian_name=None):
    return next(r for r in report["rows"] if r["pupil_id"] == pupil_id
                and (guardian_name is None or r["guardian"] == guardian_name))


def test_a_guardians_days_of_reading_are_counted_once_a_day_and_a_pupils_own_not_at_all(
        app, family, login, token, api, app_clock):
    """IN-4: the page, the term page and the API on one day make one day; the next day another."""
    guardian = login(app.test_client(), family["guardian"])
    assert guardian.get(f"/diary/{family['child']}?week={WEEK}").status_code == 200
    assert guardian.get(f"/diary/{family['child']}/term").status_code == 200
    headers = token(family["guardian"])
    http = app.test_client()
    first = http.get(f"/api/v1/pupils/{family['child']}/diary?week={WEEK}", headers=headers)
    assert http.get(f"/api/v1/pupils/{family['child']}/diary?week={WEEK}",
                    headers={**headers, "If-None-Match": first.headers["ETag"]}).status_code == 304
    pupil = login(app.test_client(), family["pupil"])
    assert pupil.get("/diary").status_code == 200

    report = report_of(api, family["teacher"], family["first"]["class_id"])
    mine = row(report, family["child"])
    assert mine["guardian"] == "Родитель000 Ольга" and mine["days"] == 1
    assert row(report, family["own"])["days"] == 0  # the pupil read their own diary: not a parent's check

    app_clock.advance(days=1)
    guardian = login(app.test_client(), family["guardian"])  # a new day, a new sign-in
    assert guardian.get("/diary").status_code == 200  # the first child's week
    assert report_of(api, family["teacher"], family["first"]["class_id"])["rows"][0]["days"] == 2


def test_who_checks_less_than_the_regulation_asks_is_flagged(app, family, login, api, make_user):
    """IN-4 with the default of twice a week: one day in the seven weeks of the term so far
    is below; a guardian with no account has no access; the summary counts both."""
    login(app.test_client(), family["guardian"]).get("/diary")
    report = report_of(api, family["a"]["school_admin"], family["first"]["class_id"])
    assert report["wanted_per_week"] == 2 and not report["ended"]
    assert report["term"] == "2-я четверть" or report["term"]
    reading = row(report, family["child"])
    assert reading["status"] == "below" and reading["per_week"] < 2
    assert reading["status_label"] == "проверяет реже, чем требует регламент"
    assert row(report, family["stranger"])["status"] == "below"  # linked, never read
    assert report["below"] == 3

    page = login(app.test_client(), family["a"]["school_admin"]).get(
        f"/classes/{family['first']['class_id']}/diary-activity")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "не реже 2 раз в неделю" in text and "3 родителя проверяют реже или не имеют доступа" in text
    assert "проверяет реже, чем требует регламент" in text


def test_a_region_asking_for_fewer_checks_changes_the_verdict(app, family, login, api, app_clock, as_platform):
    """IN-4: the threshold is the regulation's ``informing.parent_checks_per_week``."""
    import datetime as dt

    from core.extensions import db
    from tenants import service as tenants
    from tenants.models import Tenant

    for _ in range(7):
        assert login(app.test_client(), family["guardian"]).get("/diary").status_code == 200
        app_clock.advance(days=1)
    with as_platform():
        region = db.session.get(Tenant, family["a"]["region"]["id"])
        tenants.add_version(region, effective_from=dt.date(2026, 9, 1), act="Приказ об информировании",
                            values={"informing": {"parent_checks_per_week": 1}})
        db.session.commit()
    report = report_of(api, family["a"]["school_admin"], family["first"]["class_id"])
    # Seven days of reading over the term's weeks so far: under two a week, over one.
    assert report["wanted_per_week"] == 1 and row(report, family["child"])["status"] == "ok"
    assert row(report, family["stranger"])["status"] == "below"


def test_only_the_class_teacher_and_the_administration_see_the_report(app, family, api, make_user, region_tree):
    class_id = family["first"]["class_id"]
    url = f"/api/v1/classes/{class_id}/diary-activity"
    other_teacher = make_user("teacher-a2", "teacher", family["a"]["school"])
    assert api(family["teacher"], "GET", url).status_code == 200  # Морозова: the class teacher
    assert api(family["a"]["school_admin"], "GET", url).status_code == 200
    assert api(family["a"]["municipality_admin"], "GET", url).status_code == 200
    assert api(other_teacher, "GET", url).status_code == 403
    assert api(family["guardian"], "GET", url).status_code == 403
    assert api(family["pupil"], "GET", url).status_code == 403
    # Another region's administration: no such class.
    assert api(region_tree["b"]["school_admin"], "GET", url).status_code == 404
    assert api(region_tree["b"]["region_admin"], "GET", url).status_code == 404


def test_the_page_is_404_to_another_tenant_and_names_a_wrong_term(app, family, login, region_tree, api):
    class_id = family["first"]["class_id"]
    stranger = login(app.test_client(), region_tree["b"]["school_admin"])
    assert stranger.get(f"/classes/{class_id}/diary-activity").status_code == 404
    wrong = api(family["a"]["school_admin"], "GET", f"/api/v1/classes/{class_id}/diary-activity",
                query_string={"term_id": 999999})
    assert wrong.status_code == 422 and "term_id" in wrong.get_json()["errors"]


def test_a_visit_changes_no_etag_and_the_report_costs_the_same_whatever_the_class(
        app, family, token, api, login, make_roster, make_tenant, count_queries):
    """The visits log is unstamped: a parent's reading leaves the week's tag as it was."""
    headers = token(family["guardian"])
    http = app.test_client()
    url = f"/api/v1/pupils/{family['child']}/diary?week={WEEK}"
    tag = http.get(url, headers=headers).headers["ETag"]
    login(app.test_client(), family["other_guardian"]).get(f"/diary/{family['stranger']}")
    assert http.get(url, headers={**headers, "If-None-Match": tag}).status_code == 304

    admin = family["a"]["municipality_admin"]

    def statements(class_id):
        report_of(api, admin, class_id)  # a worker resolves each regulation once
        with count_queries() as counter:
            report = report_of(api, admin, class_id)
        return counter.count, len(report["rows"])

    small = statements(family["first"]["class_id"])
    big = make_roster(make_tenant("Школа А № 3", parent=family["a"]["municipality"]), pupils=25, grade=6)
    large = statements(big["class_id"])
    assert large[1] == 25 and small[1] == 3
    assert large[0] == small[0], (small, large)
