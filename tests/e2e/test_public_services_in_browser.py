"""The public e-services pages at phone width (issue #15): a parent arriving from the public
services portal's link reads the school's diary service, whom to ask, and signs in to the
diary; the region's catalogue lists the schools. Nothing scrolls sideways; no sign-in needed."""
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


@pytest.mark.parametrize("locale,width", [("ru-RU", 390), ("en-GB", 390), ("ru-RU", 1366), ("en-GB", 1366)])
def test_a_parent_from_the_portal_reads_the_schools_service_page(new_page, live_server, region_tree, as_platform,
                                                                 make_user, locale, width):
    from blueprints.services import catalogue
    from core.extensions import db
    from tenants.models import Tenant
    from tests.e2e.browser import shoot

    a = region_tree["a"]
    with as_platform():
        region, school = db.session.get(Tenant, a["region"]["id"]), db.session.get(Tenant, a["school"]["id"])
        diary = {s.code: s for s in catalogue.preload(region, portal="https://www.gosuslugi.ru/education")}["diary"]
        catalogue.set_contact(school, diary, {"name": "Соколова Ирина Викторовна", "room": "каб. 204",
                                              "hours": "пн–пт 9:00–17:00", "phone": "+7 815 255-12-12"})
        db.session.commit()
    parent = make_user("parent-portal", "guardian", a["school"])
    page = new_page(live_server, locale=locale)
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"/services/diary?school={a['school']['id']}")
    service = page.get_by_test_id("service-diary")
    expect(service).to_contain_text("Соколова Ирина Викторовна")
    expect(service).to_contain_text("+7 815 255-12-12")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shoot(page, f"public-school-{locale[:2]}-{width}")

    page.get_by_role("link", name=a["region"]["name"]).click()
    expect(page.get_by_test_id("schools")).to_contain_text(a["school"]["name"])
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shoot(page, f"public-catalogue-{locale[:2]}-{width}")

    page.goto(f"/services/diary?school={a['school']['id']}")
    page.get_by_test_id("service-diary").get_by_role("button").first.click()  # «Войти в дневник»
    page.locator("input[name=login]").fill(parent["login"])
    page.locator("input[name=password]").fill(parent["password"])
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/diary")
