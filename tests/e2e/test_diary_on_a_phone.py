"""A guardian of two children reads the diary on a phone (390 px): the week, the term,
the other child; nothing on the page scrolls sideways."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


def page_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_a_guardian_reads_the_week_and_the_term_and_switches_child_on_a_phone(page, family, api, week_lessons):
    lesson = week_lessons(family["first"], family["first"]["teacher_id"])[0]
    saved = api(family["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades/{family['child']}",
                json={"value": "5", "work_type": "У", "version": None, "comment": "Решил задачу у доски"})
    assert saved.status_code == 200
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, family["guardian"]["login"], family["guardian"]["password"])
    page.wait_for_url("**/diary")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ученик000")
    expect(page.locator(".grade-line").first).to_contain_text("Устный ответ — Решил задачу у доски")
    expect(page.get_by_text("Понедельник, 16 ноября")).to_be_visible()
    assert page_overflow(page) <= 0

    page.get_by_test_id("term-link").click()
    maths = page.get_by_test_id("subject").filter(has_text="Математика")
    expect(maths.locator(".grade")).to_have_text(["5"])
    expect(maths).to_contain_text("Прогноз оценки за период")
    assert page_overflow(page) <= 0

    page.get_by_test_id("week-link").click()
    page.get_by_test_id(f"child-{family['child2']}").click()
    expect(page.locator(".diary-head")).to_contain_text("Школа А № 2")
    expect(page.locator(".diary-head")).to_contain_text("7а")
    assert page_overflow(page) <= 0


def test_the_week_reads_with_scripts_off(browser, live_server, family, api, week_lessons):
    """Slow links: the week is server-rendered HTML, whole without a script."""
    lesson = week_lessons(family["first"], family["first"]["teacher_id"])[0]
    api(family["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades/{family['child']}",
        json={"value": "4", "work_type": "КР", "version": None})
    context = browser.new_context(base_url=live_server, locale="ru-RU", java_script_enabled=False,
                                  viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, family["guardian"]["login"], family["guardian"]["password"])
        page.wait_for_url("**/diary")
        expect(page.locator(".grade-line").first).to_contain_text("Контрольная работа")
        page.get_by_role("link", name="Следующая неделя").click()
        expect(page.locator(".diary-weeks")).to_contain_text("23.11.2026")
    finally:
        context.close()


def test_the_last_week_stays_readable_offline_and_leaves_with_the_sign_out(page, family, api, week_lessons):
    """Rural links drop (issue #14, item 8): once opened, the week is kept by the diary's
    service worker and shown, marked as the kept copy, when the network is gone. Signing out
    clears the copies (Clear-Site-Data), so the next person on the phone finds none."""
    lesson = week_lessons(family["first"], family["first"]["teacher_id"])[0]
    api(family["teacher"], "PUT", f"/api/v1/lessons/{lesson}/grades/{family['child']}",
        json={"value": "4", "work_type": "КР", "version": None})
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, family["guardian"]["login"], family["guardian"]["password"])
    page.wait_for_url("**/diary")
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "1")
    expect(page.locator("#diary-offline")).to_be_hidden()
    week_url = page.url

    page.context.set_offline(True)
    try:
        page.reload()
        expect(page.locator(".grade-line").first).to_contain_text("Контрольная работа")
        expect(page.locator("#diary-offline")).to_be_visible()
        expect(page.locator("#diary-offline")).to_contain_text("Нет связи")
        assert page_overflow(page) <= 0
    finally:
        page.context.set_offline(False)

    page.reload()
    page.locator("header details.site-menu summary").click()  # the menu folded on a phone
    page.locator("form[action$='/logout'] button").first.click()
    page.wait_for_url("**/login")
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0
