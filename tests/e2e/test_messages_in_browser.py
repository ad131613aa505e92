"""Messages in the browser (issue #14, item 6): a guardian on a phone writes to the class
teacher from the diary; the teacher, on a laptop, finds it unread in «Сообщения» and answers;
the guardian reads the answer. Nothing scrolls sideways at 390 px."""
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import shoot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]


def overflow(page):
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("locale", ["ru-RU", "en-GB"])
def test_a_guardian_writes_from_a_phone_and_the_teacher_answers(new_page, live_server, family, locale):
    ru = locale == "ru-RU"
    phone = new_page(live_server, locale=locale)
    phone.set_viewport_size({"width": 390, "height": 844})
    sign_in(phone, family["guardian"]["login"], family["guardian"]["password"])
    phone.wait_for_url("**/diary")
    phone.get_by_test_id("messages-link").click()
    phone.get_by_label("Учитель" if ru else "Teacher").select_option(str(family["first"]["teacher_id"]))
    phone.get_by_label("Сообщение" if ru else "Message", exact=True).fill("Сын болеет, придёт в понедельник.")
    phone.get_by_role("button", name="Отправить" if ru else "Send").click()
    expect(phone.get_by_test_id("messages")).to_contain_text("Сын болеет")
    assert overflow(phone) <= 0
    shoot(phone, f"thread-guardian-{locale[:2]}-390")

    laptop = new_page(live_server, locale=locale)
    laptop.set_viewport_size({"width": 1366, "height": 800})
    sign_in(laptop, family["teacher"]["login"], family["teacher"]["password"])
    laptop.get_by_role("link", name="Сообщения" if ru else "Messages").first.click()
    expect(laptop.get_by_test_id("unread-total")).to_contain_text("1")
    shoot(laptop, f"inbox-teacher-{locale[:2]}-1366")
    laptop.locator("#inbox a").first.click()
    laptop.get_by_label("Ответ" if ru else "Reply").fill("Выздоравливайте! Задания пришлю сюда.")
    laptop.get_by_role("button", name="Отправить" if ru else "Send").click()
    expect(laptop.get_by_test_id("messages")).to_contain_text("Выздоравливайте")
    shoot(laptop, f"thread-teacher-{locale[:2]}-1366")

    phone.reload()
    expect(phone.get_by_test_id("messages")).to_contain_text("Выздоравливайте")
    phone.get_by_role("link", name="Все сообщения" if ru else "All messages").click()
    expect(phone.get_by_test_id("threads")).to_contain_text("Выздоравливайте")
    expect(phone.locator(".unread")).to_have_count(0)  # the answer was read on the thread's page
    shoot(phone, f"messages-guardian-{locale[:2]}-390")
    assert overflow(phone) <= 0
