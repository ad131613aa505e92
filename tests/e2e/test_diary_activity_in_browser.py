"""IN-4 in the browser: the class teacher opens «Родители в дневнике» from the class page and
reads who checks the diary less often than the regulation asks, on a laptop and a phone,
in Russian and English."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import shoot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


@pytest.mark.parametrize("locale,width", [("ru-RU", 1366), ("ru-RU", 390), ("en-GB", 1366), ("en-GB", 390)])
def test_the_class_teacher_reads_who_checks_the_diary_too_rarely(new_page, live_server, family, locale, width):
    guardian = new_page(live_server)
    sign_in(guardian, family["guardian"]["login"], family["guardian"]["password"])
    guardian.wait_for_url("**/diary")
    guardian.context.close()

    page = new_page(live_server, locale=locale)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, family["teacher"]["login"], family["teacher"]["password"])
    page.goto(f"/classes/{family['first']['class_id']}/list")
    page.get_by_role("button", name="Родители в дневнике" if locale == "ru-RU" else "Parents in the diary").click()
    rows = page.locator("#activity tbody tr")
    expect(rows).to_have_count(3)
    mine = rows.filter(has_text="Родитель000")
    expect(mine).to_have_attribute("data-status", "below")
    expect(page.get_by_test_id("activity-summary")).to_contain_text("2")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shoot(page, f"diary-activity-{locale[:2]}-{width}")
