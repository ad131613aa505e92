"""A school admin reads what is missing, grouped, a lesson's history in sentences and the
change log in words, on a desktop and on a phone (390 px), in Russian and English; nothing
scrolls sideways.
``TABEL_SHOTS=<dir>`` also saves a screenshot of each."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("school_day")]

SIZES = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}


def _overflow(page):
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _look(page, name):
    shots = os.environ.get("TABEL_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)


def test_the_missing_page_and_a_lessons_history_read_on_a_desktop_and_a_phone(page, api, region_tree, make_roster,
                                                                            raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t AND held_on = '2026-11-18'",
                     c=roster["class_id"], t=roster["teacher_id"])[0].id
    first, second = roster["pupil_ids"][:2]
    url = f"/api/v1/lessons/{lesson}"
    version = api(a["teacher"], "PUT", f"{url}/topic", json={"topic": "Дроби", "version": 0}).json["version"]
    api(a["teacher"], "PUT", f"{url}/topic", json={"topic": "Десятичные дроби", "version": version})
    grade = api(a["teacher"], "PUT", f"{url}/grades/{first}", json={"value": "4", "work_type": "У", "version": None}).json
    api(a["teacher"], "PUT", f"{url}/grades/{first}", json={"value": "5", "work_type": "У", "version": grade["version"]})
    api(a["teacher"], "PUT", f"{url}/attendance/{second}", json={"status": "ill"})

    sign_in(page, a["school_admin"]["login"], a["school_admin"]["password"])
    for lang, words in (("ru", ("Уроков с незаполненными записями", "Оценка изменена с 4 на 5 (устный ответ)", "Оценка")),
                        ("en", ("Lessons with something missing", "Grade changed from 4 to 5 (oral answer)", "Grade"))):
        if lang == "en":
            page.set_viewport_size(SIZES["1366"])
            page.locator("button[name=lang]:visible").first.click()
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"/schools/{a['school']['id']}/missing")
            expect(page.locator("#summary")).to_contain_text(words[0])
            expect(page.locator("#missing-groups tbody tr")).to_have_count(2)
            assert _overflow(page) <= 0
            _look(page, f"missing-{lang}-{size}")
            page.goto(f"/lessons/{lesson}#history")
            expect(page.locator("#history")).to_contain_text(words[1])
            expect(page.locator("#history")).not_to_contain_text("journal.")
            assert _overflow(page) <= 0
            page.locator("#history").scroll_into_view_if_needed()
            _look(page, f"history-{lang}-{size}")
            page.goto(f"/tenants/{a['school']['id']}/audit")
            expect(page.locator("main table")).to_contain_text(words[2])
            expect(page.locator("main table")).not_to_contain_text("journal.grade")
            expect(page.locator("main table")).to_contain_text("Десятичные дроби")  # as written, not \u0414…
            assert _overflow(page) <= 0
            _look(page, f"audit-{lang}-{size}")
