"""Admins in a real browser: the regulation form with provenance, a change reviewed as its
diff and confirmed, a lock at the region seen below, a refused loosening, and the switch to
English (the foundation's acceptance walk)."""
import pytest
from playwright.sync_api import expect

from tests.e2e import browser

pytestmark = pytest.mark.e2e


def sign_in(page, user):
    browser.sign_in(page, user["login"], user["password"])


def row(page, path):
    return page.locator(f'.reg-row[data-path="{path}"]')


def test_region_admin_sees_a_schools_effective_regulations(page, region_tree):
    a = region_tree["a"]
    sign_in(page, a["region_admin"])
    assert page.locator("h1").inner_text() == a["region"]["name"]
    page.get_by_role("link", name=a["municipality"]["name"]).click()
    page.get_by_role("link", name=a["school"]["name"]).click()
    page.get_by_role("link", name="Регламенты").click()
    oral = row(page, "deadlines.grade.oral.days")
    expect(oral.locator(".value")).to_have_text("1 день")
    expect(oral.locator(".provenance")).to_contain_text("Значение платформы по умолчанию")


def test_a_school_admin_changes_a_value_reviews_the_diff_and_confirms(page, region_tree):
    """The form, not JSON: a number typed with its unit beside it, an item added to the
    work types with the page's script; the review lists both changes in words; once
    confirmed the page shows the new value set here, with its act."""
    a = region_tree["a"]
    sign_in(page, a["school_admin"])
    page.goto(f"/tenants/{a['school']['id']}/regulations")
    written = row(page, "deadlines.grade.written.days")
    expect(written.locator(".value")).to_have_text("3 дня")
    written.get_by_label("Отметки за письменные работы: срок выставления (дней)").fill("2")
    expect(written.get_by_label("Задано здесь")).to_be_checked()  # ticked as the value changed

    work_types = row(page, "grading.work_types")
    work_types.get_by_role("button", name="Добавить пункт").click()
    added = work_types.locator(".reg-item:not([hidden])").last
    added.get_by_label("Виды работ: Код").fill("Т")
    added.get_by_label("Виды работ: Название").fill("Тест")
    added.get_by_label("Виды работ: Вид работы").select_option(label="письменная")

    page.fill("#effective_from", "2026-12-01")
    page.fill("#act", "Приказ школы № 12 от 20.11.2026")
    page.get_by_role("button", name="Проверить изменения").click()

    expect(page.locator("h1")).to_have_text("Проверка новой версии")
    expect(page.locator(".reg-change-list > li")).to_have_count(2)
    browser.shoot(page, "regulations-review-ru-1280")
    change = page.locator('.reg-change-list > li[data-path="deadlines.grade.written.days"]')
    expect(change.locator(".old")).to_contain_text("3 дня")
    expect(change.locator(".new")).to_contain_text("2 дня")
    expect(page.locator('.reg-change-list > li[data-path="grading.work_types"] .new')).to_contain_text("Т · Тест · письменная")
    page.get_by_role("button", name="Подтвердить и сохранить").click()

    expect(page.get_by_role("status").first).to_contain_text("сохранена")
    written = row(page, "deadlines.grade.written.days")
    expect(written.locator(".value")).to_have_text("2 дня")
    expect(written.locator(".provenance")).to_contain_text("Задано здесь")
    expect(written.locator(".provenance")).to_contain_text("Приказ школы № 12 от 20.11.2026, действует с 01.12.2026")
    browser.shoot(page, "regulations-ru-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    browser.shoot(page, "regulations-ru-390")


def test_cancel_on_the_review_keeps_nothing(page, region_tree):
    a = region_tree["a"]
    sign_in(page, a["school_admin"])
    page.goto(f"/tenants/{a['school']['id']}/regulations")
    row(page, "retention.journal_years").get_by_label("Хранить данные журнала").fill("9")
    page.fill("#effective_from", "2026-12-01")
    page.fill("#act", "Приказ школы № 13")
    page.get_by_role("button", name="Проверить изменения").click()
    page.get_by_role("button", name="Отмена").click()
    expect(row(page, "retention.journal_years").locator(".value")).to_have_text("5 лет")
    expect(page.locator(".reg-version-list")).to_have_count(0)


def test_lock_at_the_region_is_inherited_and_cannot_be_loosened_at_the_school(page, region_tree):
    a = region_tree["a"]
    sign_in(page, a["region_admin"])

    # Add a municipality and a school through the panels.
    page.get_by_text("Добавить").click()
    add = page.locator("form[action$='/children']")
    add.get_by_label("Полное наименование").fill("г. Апатиты")
    add.get_by_role("button", name="Создать").click()
    assert page.locator("h1").inner_text() == "г. Апатиты"
    page.get_by_text("Добавить").click()
    add = page.locator("form[action$='/children']")
    add.get_by_label("Полное наименование").fill("МБОУ СОШ № 4 г. Апатиты")
    add.get_by_label("Сайт", exact=False).fill("https://school4.apatity.example")
    add.get_by_role("button", name="Создать").click()
    assert page.locator("h1").inner_text() == "МБОУ СОШ № 4 г. Апатиты"
    school_url = page.url

    # At the region: written grades within 2 days, oral within 1 day and locked.
    page.goto(f"/tenants/{a['region']['id']}/regulations")
    oral = row(page, "deadlines.grade.oral.days")
    oral.get_by_label("Задано здесь").check()
    oral.get_by_label("Закрепить для нижестоящих").check()
    row(page, "deadlines.grade.written.days").get_by_label("Отметки за письменные работы: срок выставления (дней)").fill("2")
    page.fill("#effective_from", "2020-09-01")
    page.fill("#act", "Приказ Минобрнауки Мурманской области № 42 от 01.08.2020")
    page.get_by_role("button", name="Проверить изменения").click()
    expect(page.locator(".reg-change-list > li")).to_have_count(2)
    browser.shoot(page, "regulations-review-ru-1280")
    page.get_by_role("button", name="Подтвердить и сохранить").click()
    expect(page.get_by_role("status").first).to_be_visible()

    # At the new school: inherited, with its act and the lock.
    page.goto(school_url + "/regulations")
    oral = row(page, "deadlines.grade.oral.days")
    expect(oral.locator(".value")).to_have_text("1 день")
    provenance = oral.locator(".provenance").inner_text()
    assert a["region"]["name"] in provenance and "№ 42 от 01.08.2020" in provenance and "01.09.2020" in provenance
    expect(oral.locator(".locked")).to_contain_text("Закреплено: " + a["region"]["name"])
    expect(oral.locator('input[name="v:deadlines.grade.oral.days"]')).to_be_disabled()
    written = row(page, "deadlines.grade.written.days")
    expect(written).to_contain_text("Здесь не больше чем 2 дня")

    # Loosening the written deadline at the school is refused with a clear error.
    written.get_by_label("Отметки за письменные работы: срок выставления (дней)").fill("5")
    page.fill("#effective_from", "2021-09-01")
    page.fill("#act", "Приказ школы № 7")
    page.get_by_role("button", name="Проверить изменения").click()
    error = page.locator('[id="deadlines.grade.written.days-error"]')
    assert "2" in error.inner_text() and a["region"]["name"] in error.inner_text()
    expect(page.locator(".reg-errors")).to_contain_text("Отметки за письменные работы")
    expect(row(page, "deadlines.grade.written.days").locator(".value")).to_have_text("2 дня")

    # Switch to English.
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Regulations of" in page.locator("h1").inner_text()
    expect(row(page, "deadlines.grade.oral.days").locator(".value")).to_have_text("1 day")
