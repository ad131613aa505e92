"""The roster issue's walk, as a new user would do it, in a real browser: the Perm region
admin onboards two municipalities with three schools, a new school admin signs in with the
one-time code, imports 300 pupils (two bad rows reported, then fixed), builds the timetable
and sees the term's lessons generated."""
import io

import pytest
from openpyxl import Workbook

from blueprints.roster.imports import PUPIL_COLUMNS, STAFF_COLUMNS, TIMETABLE_COLUMNS
from tenants.onboarding import COLUMNS as ONBOARDING_COLUMNS
from tests.e2e.browser import sign_in

pytestmark = pytest.mark.e2e


def xlsx(columns, rows):
    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in columns])
    for row in rows:
        sheet.append([row.get(c.key) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_payload(name, data):
    return {"name": name, "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": data}


@pytest.fixture
def perm(make_tenant, make_user):
    region = make_tenant("Пермский край", timezone="Asia/Yekaterinburg")
    return {"region": region, "admin": make_user("perm", "region_admin", region)}


def test_perm_onboards_schools_and_a_school_fills_its_roster(page, perm, as_platform):
    from core.extensions import db
    from blueprints.roster.generator import regional_subjects
    from tenants.models import Tenant

    with as_platform():  # the region's subject list
        regional_subjects(db.session.get(Tenant, perm["region"]["id"]))
        db.session.commit()

    sign_in(page, "perm", perm["admin"]["password"])
    page.get_by_role("link", name="Подключение").click()

    rows = [{"kind": "муниципалитет", "name": "г. Пермь"},
            {"kind": "муниципалитет", "name": "г. Березники"},
            {"kind": "школа", "municipality": "г. Пермь", "name": "МАОУ «СОШ № 12»", "short_name": "СОШ № 12",
             "admin_name": "Васильева Наталья Юрьевна", "admin_email": "vasilieva@school12.example"},
            {"kind": "школа", "municipality": "г. Пермь", "name": "МАОУ «СОШ № 7»"},
            {"kind": "школа", "municipality": "г. Березники", "name": "МАОУ «Лицей № 1»", "timezone": "Asia/Yekaterinburg"}]
    page.set_input_files("#file", file_payload("onboarding.xlsx", xlsx(ONBOARDING_COLUMNS, rows)))
    page.get_by_role("button", name="Проверить файл").click()
    page.get_by_role("button", name="Создать всё").click()
    codes = page.locator("#codes tbody tr")
    assert codes.count() == 1
    code = codes.locator("td").nth(3).inner_text().strip()
    page.get_by_role("button", name="Выйти").click()

    # The new school admin: first sign-in with the one-time code.
    page.get_by_role("link", name="У меня есть одноразовый код").click()
    page.get_by_label("Логин").fill("vasilieva@school12.example")
    page.get_by_label("Одноразовый код").fill(code)
    page.get_by_label("Новый пароль").fill("school-twelve-1")
    page.get_by_role("button", name="Установить пароль и войти").click()
    assert "МАОУ «СОШ № 12»" in page.locator("h1").inner_text()

    # The school panel: an academic year, classes, the bell schedule.
    page.get_by_role("link", name="Школа").click()
    year_start = 2026
    page.get_by_label("Первый календарный год (2026 для 2026/2027)").fill(str(year_start))
    page.get_by_role("button", name="Создать учебный год").click()
    page.get_by_label("Буквы").fill("а")
    page.get_by_role("button", name="Добавить классы").click()
    assert page.locator("#classes tbody tr").count() == 11
    page.get_by_role("link", name="Расписание звонков").click()
    for n, (start, end) in enumerate([("08:30", "09:15"), ("09:25", "10:10"), ("10:30", "11:15")], start=1):
        page.fill(f"input[name=start{n}]", start)
        page.fill(f"input[name=end{n}]", end)
    page.get_by_role("button", name="Сохранить").click()

    # 300 pupils with guardians; two bad rows are reported, then fixed.
    def pupils(bad):
        out = []
        for n in range(300):
            grade = n % 11 + 1
            out.append({"last_name": f"Фамилия{n:03d}", "first_name": "Анна", "birth_date": f"01.03.{year_start - grade - 6}",
                        "file_number": f"ЛД-{n:03d}", "class_name": f"{grade}а",
                        "g1_name": f"Родитель{n:03d} Ольга", "g1_phone": "+7 912 345-67-89"})
        if bad:
            out[10]["birth_date"] = "32.01.2015"
            out[20]["g1_phone"] = None
        return out

    page.get_by_role("link", name="Учебные годы и классы").click()
    page.get_by_role("link", name="Обучающиеся").last.click()
    page.set_input_files("#file", file_payload("pupils.xlsx", xlsx(PUPIL_COLUMNS, pupils(bad=True))))
    page.get_by_role("button", name="Проверить файл").click()
    rejected = page.locator("#rejected tbody tr")
    assert rejected.count() == 2
    assert {rejected.nth(i).locator("td").first.inner_text() for i in range(2)} == {"12", "22"}
    page.set_input_files("#file", file_payload("pupils.xlsx", xlsx(PUPIL_COLUMNS, pupils(bad=False))))
    page.get_by_role("button", name="Проверить файл").click()
    page.get_by_role("button", name="Импортировать все строки").click()
    assert "создано: 300" in page.get_by_test_id("import-done").inner_text()

    # Staff, then the timetable of 5а, then the first term's lessons.
    page.get_by_role("link", name="Учебные годы и классы").click()
    page.get_by_role("link", name="Сотрудники").last.click()
    staff = [{"last_name": "Морозова", "first_name": "Анна", "position": "учитель математики", "login": "morozova"},
             {"last_name": "Лебедев", "first_name": "Олег", "position": "учитель русского языка", "login": "lebedev"}]
    page.set_input_files("#file", file_payload("staff.xlsx", xlsx(STAFF_COLUMNS, staff)))
    page.get_by_role("button", name="Проверить файл").click()
    page.get_by_role("button", name="Импортировать все строки").click()
    page.get_by_role("link", name="Учебные годы и классы").click()
    page.get_by_role("link", name="Расписание").last.click()
    timetable = [{"class_name": "5а", "weekday": day, "period": 1, "subject": "Математика", "teacher": "morozova"}
                 for day in ("Пн", "Вт", "Ср", "Чт", "Пт")]
    timetable += [{"class_name": "5а", "weekday": day, "period": 2, "subject": "Русский язык", "teacher": "lebedev"}
                  for day in ("Пн", "Ср", "Пт")]
    page.set_input_files("#file", file_payload("timetable.xlsx", xlsx(TIMETABLE_COLUMNS, timetable)))
    page.get_by_role("button", name="Проверить файл").click()
    page.get_by_role("button", name="Импортировать все строки").click()
    page.get_by_role("link", name="Учебные годы и классы").click()
    first_term = page.locator("#terms tbody tr").first
    first_term.get_by_role("button", name="Создать уроки").click()
    lessons = int(page.locator("#terms tbody tr").first.locator("td").nth(3).inner_text())
    assert lessons > 8 * 8  # about eight weeks of eight lessons a week
    page.get_by_role("link", name="Расписание", exact=True).first.click()
    page.get_by_label("Класс").select_option(label="5а")
    page.get_by_role("button", name="Показать").click()
    assert page.locator("#timetable").inner_text().count("Математика") == 5
