"""The e-services catalogue (SV-1, SV-2) and the public pages a school's website links to
(WD-4): no sign-in, light, with how to get each service at this school and whom to ask at
the school and at the education office; the portal's deep link; editing by the region's
and the school's admins."""
import pytest

pytestmark = pytest.mark.usefixtures("school_day")


@pytest.fixture
def catalogue_of(as_platform):
    def preload(region, portal="https://www.gosuslugi.ru/education"):
        from blueprints.services import catalogue
        from core.extensions import db
        from tenants.models import Tenant

        with as_platform():
            made = catalogue.preload(db.session.get(Tenant, region["id"]), portal=portal)
            db.session.commit()
            return {s.code: s.id for s in made}
    return preload


def test_a_region_gets_the_five_services_of_sv1_once(region_tree, catalogue_of):
    """SV-1: five e-services, in the regional list's order."""
    made = catalogue_of(region_tree["a"]["region"])
    assert list(made) == ["info", "enrolment", "exams", "diary", "programmes"]
    assert catalogue_of(region_tree["a"]["region"]) == {}  # preloading again adds nothing


def test_the_public_catalogue_and_school_page_need_no_sign_in_and_are_light(
        app, region_tree, catalogue_of, count_queries):
    """WD-4: the school page states how to get the service here, the responsible persons of
    the school and of the office, and links to the portal and to the journal system."""
    a = region_tree["a"]
    catalogue_of(a["region"])
    anonymous = app.test_client()
    page = anonymous.get(f"/public/regions/{a['region']['id']}/services")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and len(page.data) < 50_000
    assert "ведение электронного дневника и электронного журнала успеваемости" in text
    assert "Школа A № 1" in text and "https://www.gosuslugi.ru/education/diary" in text

    with count_queries() as counter:
        school = anonymous.get(f"/public/schools/{a['school']['id']}/services")
    body = school.get_data(as_text=True)
    assert school.status_code == 200 and len(school.data) < 50_000
    assert "Как получить услугу в этой школе" in body and "выбирает способ информирования" in body
    assert "Ответственный в органе управления образованием" in body and "Город A" in body
    assert "Ещё не назначен." in body  # nobody named yet: said, not hidden
    assert 'href="/login?next=' in body and "/services/diary" in body
    few = counter.count
    with count_queries() as counter:
        anonymous.get(f"/public/schools/{a['school']['id']}/services")
    assert counter.count == few  # the same statements each time, whatever was read before
    assert anonymous.get(f"/public/schools/{a['region']['id']}/services").status_code == 404  # not a school
    assert anonymous.get(f"/public/regions/{a['school']['id']}/services").status_code == 404


def test_the_portals_deep_link_lands_on_the_schools_service_and_after_sign_in_in_the_diary(
        app, region_tree, catalogue_of, login, make_user):
    a = region_tree["a"]
    catalogue_of(a["region"])
    anonymous = app.test_client()
    landed = anonymous.get(f"/services/diary?school={a['school']['id']}")
    assert landed.status_code == 302
    assert landed.headers["Location"].endswith(f"/public/schools/{a['school']['id']}/services?service=diary#diary")
    assert anonymous.get(f"/services/nonsense?school={a['school']['id']}").status_code == 404
    assert anonymous.get("/services/diary?school=999999").status_code == 404
    assert anonymous.get(f"/services/diary?school={region_tree['b']['school']['id']}").status_code == 404  # no catalogue
    parent = login(app.test_client(), make_user("parent-x", "guardian", a["school"]))
    assert parent.get(f"/services/diary?school={a['school']['id']}").headers["Location"].endswith("/")


def test_the_region_admin_edits_a_service_card_and_a_bad_link_is_refused_by_name(
        app, region_tree, catalogue_of, login, raw_sql):
    a = region_tree["a"]
    made = catalogue_of(a["region"])
    admin = login(app.test_client(), a["region_admin"])
    url = f"/tenants/{a['region']['id']}/services"
    assert admin.get(url).status_code == 200
    fields = {"service_id": made["diary"], "version": 1, "name": "Электронный дневник", "regulation": "Регламент",
              "acts": "Приказ № 1", "procedure": "Заявление в школе", "portal_url": "gosuslugi.ru",
              "office_name": "Петрова Анна", "office_room": "12", "office_hours": "9-18",
              "office_phone": "+7 815 200-00-00", "office_email": "edu@example.ru"}
    refused = admin.post(url, data=fields)
    assert refused.status_code == 422 and "Веб-адрес, начинающийся с https://" in refused.get_data(as_text=True)
    saved = admin.post(url, data={**fields, "portal_url": "https://www.gosuslugi.ru/600"})
    assert saved.status_code == 302
    page = app.test_client().get(f"/public/schools/{a['school']['id']}/services").get_data(as_text=True)
    assert "Электронный дневник" in page and "Петрова Анна" in page and "https://www.gosuslugi.ru/600" in page
    assert raw_sql("SELECT count(*) AS n FROM audit_entry WHERE action = 'service.update'")[0].n == 1
    # A school's admin does not edit the region's catalogue; another region's admin finds nothing.
    assert login(app.test_client(), a["school_admin"]).get(url).status_code == 403
    assert login(app.test_client(), region_tree["b"]["region_admin"]).get(url).status_code == 404


def test_the_school_admin_names_the_responsible_person_and_the_api_follows_versions(
        app, region_tree, catalogue_of, login, api):
    a = region_tree["a"]
    made = catalogue_of(a["region"])
    admin = login(app.test_client(), a["school_admin"])
    url = f"/schools/{a['school']['id']}/services"
    bad = admin.post(url, data={"service_id": made["diary"], "name": "Соколова И. В.", "email": "нет"})
    assert bad.status_code == 422 and "Адрес электронной почты" in bad.get_data(as_text=True)
    assert admin.post(url, data={"service_id": made["diary"], "name": "Соколова И. В.", "room": "204",
                                 "hours": "пн–пт 9–17", "phone": "+7 815 255-12-12"}).status_code == 302
    page = app.test_client().get(f"/public/schools/{a['school']['id']}/services").get_data(as_text=True)
    assert "Соколова И. В." in page and "tel:+7815255-12-12" in page

    contacts = api(a["school_admin"], "GET", f"/api/v1/schools/{a['school']['id']}/service-contacts").get_json()
    assert [(c["service_id"], c["name"]) for c in contacts] == [(made["diary"], "Соколова И. В.")]
    cleared = api(a["school_admin"], "PUT", f"/api/v1/schools/{a['school']['id']}/service-contacts/{made['diary']}",
                  json={"name": ""})
    assert cleared.status_code == 204
    assert api(a["teacher"], "PUT", f"/api/v1/schools/{a['school']['id']}/service-contacts/{made['diary']}",
               json={"name": "X"}).status_code == 403

    card = api(a["region_admin"], "GET", f"/api/v1/tenants/{a['region']['id']}/services").get_json()[3]
    assert card["code"] == "diary" and card["version"] == 1
    ok = api(a["region_admin"], "PATCH", f"/api/v1/services/{card['id']}", json={"version": 1, "office_name": "Иванова"})
    assert ok.status_code == 200 and ok.get_json()["version"] == 2
    stale = api(a["region_admin"], "PATCH", f"/api/v1/services/{card['id']}", json={"version": 1, "office_name": "X"})
    assert stale.status_code == 409 and stale.get_json()["current"]["office_name"] == "Иванова"
    assert api(a["school_admin"], "PATCH", f"/api/v1/services/{card['id']}",
               json={"version": 2, "name": "X"}).status_code == 403
    assert api(region_tree["b"]["region_admin"], "PATCH", f"/api/v1/services/{card['id']}",
               json={"version": 2, "name": "X"}).status_code == 404
