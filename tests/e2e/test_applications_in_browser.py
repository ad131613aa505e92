"""SV-3 in the browser: a parent arrives from the school's public service page, applies for
the diary choosing e-mail and paper, and the school's administrator finds the application
in the register and provides the service; on a laptop and a phone, in Russian and English."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import shoot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


@pytest.mark.parametrize("locale,width", [("ru-RU", 1366), ("ru-RU", 390), ("en-GB", 1366), ("en-GB", 390)])
def test_a_parent_applies_and_the_school_provides(new_page, live_server, family, as_platform, locale, width):
    from blueprints.services import catalogue
    from core.extensions import db
    from tenants.models import Tenant

    a = family["a"]
    with as_platform():
        catalogue.preload(db.session.get(Tenant, a["region"]["id"]), portal="https://www.gosuslugi.ru/education")
        db.session.commit()
    page = new_page(live_server, locale=locale)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/services/diary?school={a['school']['id']}")
    page.get_by_test_id("apply-link").click()
    page.locator("input[name=login]").fill(family["guardian"]["login"])
    page.locator("input[name=password]").fill(family["guardian"]["password"])
    page.locator("form button[type=submit]").last.click()
    form = page.get_by_test_id("apply-form")
    expect(form).to_be_visible()
    form.locator("input[value=email]").check()
    form.locator("input[value=paper]").check()
    form.locator("input[name=email]").fill("novikov@example.ru")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shoot(page, f"apply-{locale[:2]}-{width}")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("mine")).to_contain_text("1/2026")
    shoot(page, f"applied-{locale[:2]}-{width}")

    admin = new_page(live_server, locale=locale)
    admin.set_viewport_size({"width": width, "height": 900})
    sign_in(admin, a["school_admin"]["login"], a["school_admin"]["password"])
    admin.goto(f"/schools/{a['school']['id']}/applications")
    row = admin.locator("#applications tbody tr").first
    expect(row).to_contain_text("Родитель000 Ольга")
    assert admin.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shoot(admin, f"applications-{locale[:2]}-{width}")
    row.get_by_role("button").first.click()  # provide
    expect(admin.locator("#applications tbody tr[data-status=provided]")).to_have_count(1)
