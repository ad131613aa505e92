"""IN-1 in a browser on a phone: the school admin records a guardian's ways of informing from
their application; a missing address is named under its field, then the choice is saved and
the guardian appears in the school's paper list."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


def test_the_admin_records_the_ways_of_informing_on_a_phone(new_page, live_server, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=1)
    page = new_page(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, a["school_admin"]["login"], a["school_admin"]["password"])
    page.goto(f"/schools/{a['school']['id']}/pupils")
    page.get_by_role("link", name="Родитель000 Ольга").click()
    expect(page.get_by_role("heading", name="Способы информирования")).to_be_visible()
    page.get_by_role("checkbox", name="Эл. почта").check()
    page.get_by_role("checkbox", name="Бумажная выписка").check()
    page.get_by_role("button", name="Сохранить").click()
    expect(page.locator("#email-error")).to_have_text("Электронная почта: родитель выбрал электронную почту, укажите адрес.")
    expect(page.locator("#application_number-error")).to_contain_text("Номер заявления")
    page.locator("#email").fill("olga@example.ru")
    page.locator("#application_number").fill("17")
    page.locator("#application_date").fill("2026-09-01")
    page.get_by_label("Раз в день, сводкой").check()
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_text("Способы информирования родителя сохранены.")).to_be_visible()
    expect(page.locator("#email")).to_have_value("olga@example.ru")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"/schools/{a['school']['id']}/guardians?channel=paper")
    expect(page.locator("#guardians")).to_contain_text("Родитель000 Ольга")
    expect(page.locator("#guardians")).to_contain_text("№ 17")
    assert roster["guardian_ids"]
