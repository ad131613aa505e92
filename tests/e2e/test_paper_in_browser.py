"""IN-2 in the browser: the class teacher opens «Бумажные выписки» from the class page, sees
the overdue ones, records one handed over; on a laptop and a phone, in Russian and English."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import shoot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


@pytest.mark.parametrize("locale,width", [("ru-RU", 1366), ("ru-RU", 390), ("en-GB", 1366), ("en-GB", 390)])
def test_the_class_teacher_hands_over_a_printout(new_page, live_server, family, api, locale, width):
    for index in (0, 2):
        assert api(family["a"]["school_admin"], "PATCH", f"/api/v1/guardians/{family['first']['guardian_ids'][index]}",
                   json={"channels": ["paper"], "application_number": "21", "application_date": "2026-09-01",
                         "notify_mode": "instant", "language": "ru"}).status_code == 200
    page = new_page(live_server, locale=locale)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, family["teacher"]["login"], family["teacher"]["password"])
    page.goto(f"/classes/{family['first']['class_id']}/list")
    page.get_by_role("button", name="Бумажные выписки" if locale == "ru-RU" else "Paper printouts").click()
    rows = page.locator("#paper tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#paper tbody tr[data-overdue='1']")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    shoot(page, f"paper-{locale[:2]}-{width}")
    rows.first.get_by_role("button").click()
    expect(page.locator("#paper tbody tr[data-overdue='1']")).to_have_count(1)
