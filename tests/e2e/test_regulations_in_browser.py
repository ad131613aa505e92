"""A region admin in a real browser: tree, regulations with provenance, a lock, a refused
loosening, and the switch to English (the foundation's acceptance walk)."""
import pytest

from tests.e2e import browser

pytestmark = pytest.mark.e2e


def sign_in(page, user):
    browser.sign_in(page, user["login"], user["password"])


def test_region_admin_sees_a_schools_effective_regulations(page, region_tree):
    a = region_tree["a"]
    sign_in(page, a["region_admin"])
    assert page.locator("h1").inner_text() == a["region"]["name"]
    page.get_by_role("link", name=a["municipality"]["name"]).click()
    page.get_by_role("link", name=a["school"]["name"]).click()
    page.get_by_role("link", name="Регламенты").click()
    row = page.locator('tr[data-path="deadlines.grade.oral.days"]')
    assert row.locator("td.value").inner_text() == "1"
    assert "значение платформы по умолчанию" in row.locator("td.provenance").inner_text()


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
    page.fill('input[name="v:deadlines.grade.oral.days"]', "1")
    page.check('input[name="lock:deadlines.grade.oral.days"]')
    page.fill('input[name="v:deadlines.grade.written.days"]', "2")
    page.fill("#effective_from", "2020-09-01")
    page.fill("#act", "Приказ Минобрнауки Мурманской области № 42 от 01.08.2020")
    page.get_by_role("button", name="Сохранить как новую версию").click()
    assert page.get_by_role("status").first.is_visible()

    # At the new school: inherited, with its act and the lock.
    page.goto(school_url + "/regulations")
    oral = page.locator('tr[data-path="deadlines.grade.oral.days"]')
    assert oral.locator("td.value").inner_text() == "1"
    provenance = oral.locator("td.provenance").inner_text()
    assert a["region"]["name"] in provenance and "№ 42 от 01.08.2020" in provenance and "01.09.2020" in provenance
    assert "закреплено" in provenance.lower()
    assert oral.locator('input[name="v:deadlines.grade.oral.days"]').is_disabled()

    # Loosening the written deadline at the school is refused with a clear error.
    page.fill('input[name="v:deadlines.grade.written.days"]', "5")
    page.fill("#effective_from", "2021-09-01")
    page.fill("#act", "Приказ школы № 7")
    page.get_by_role("button", name="Сохранить как новую версию").click()
    error = page.locator('[id="deadlines.grade.written.days-error"]')
    assert "2" in error.inner_text() and a["region"]["name"] in error.inner_text()
    assert page.locator('tr[data-path="deadlines.grade.written.days"] td.value').inner_text() == "2"

    # Switch to English.
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Regulations of" in page.locator("h1").inner_text()
