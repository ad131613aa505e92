"""SV-3 in the browser: the school's administrator registers a complaint and sees it due by
the regulation, then an overdue one flagged; on a laptop and a phone, in Russian and English."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import shoot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


@pytest.mark.parametrize("locale,width", [("ru-RU", 1366), ("ru-RU", 390), ("en-GB", 1366), ("en-GB", 390)])
def test_the_administrator_registers_appeals_and_sees_the_overdue_one(new_page, live_server, region_tree, api,
                                                                      locale, width):
    a = region_tree["a"]
    school = a["school"]["id"]
    api(a["school_admin"], "POST", f"/api/v1/schools/{school}/appeals", json={
        "kind": "complaint", "received_on": "2026-11-02", "applicant": "Новикова Ольга", "contact": "+7 912 000-00-00",
        "text": "Оценки за контрольную не выставлены неделю", "responsible": "Соколова И. В."})
    page = new_page(live_server, locale=locale)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, a["school_admin"]["login"], a["school_admin"]["password"])
    page.goto(f"/schools/{school}/appeals")
    page.locator("main details summary").click()
    form = page.get_by_test_id("new-appeal")
    form.locator("select[name=kind]").select_option("information")
    form.locator("input[name=applicant]").fill("Петров Иван")
    form.locator("input[name=responsible]").fill("Соколова И. В.")
    form.locator("textarea[name=text]").fill("Прошу выписку успеваемости сына за четверть")
    form.locator("button[type=submit]").click()
    expect(page.locator("#appeals tbody tr")).to_have_count(2)
    expect(page.locator("#appeals tbody tr[data-status=overdue]")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shoot(page, f"appeals-{locale[:2]}-{width}")
