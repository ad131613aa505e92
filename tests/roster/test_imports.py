"""Imports of pupils with guardians, staff and the timetable: a preview naming each rejected
row and column, then all-or-nothing; the same file twice changes nothing."""
import io

import pytest
from openpyxl import Workbook

from blueprints.roster.imports import PUPIL_COLUMNS, STAFF_COLUMNS, TIMETABLE_COLUMNS


def xlsx(columns, rows):
    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in columns])
    for row in rows:
        sheet.append([row.get(c.key) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def pupil_rows(count, year_start, class_name="5а"):
    return [{"last_name": f"Фамилия{n:04d}", "first_name": "Анна", "middle_name": "Петровна",
             "birth_date": f"01.03.{year_start - 11}", "file_number": f"ЛД-{n:04d}", "class_name": class_name,
             "g1_name": f"Родитель{n:04d} Ольга Ивановна", "g1_phone": "8 (912) 345-67-89", "g1_relation": "мать",
             "g2_name": "Отец Пётр" if n % 2 else None, "g2_email": "father@example.ru" if n % 2 else None}
            for n in range(count)]


@pytest.fixture
def upload(client, token):
    def send(user, school, kind, data, commit, filename="file.xlsx"):
        return client.post(f"/api/v1/schools/{school}/imports/{kind}?commit={'true' if commit else 'false'}",
                           headers=token(user), data={"file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")

    return send


def test_bad_rows_are_reported_with_row_and_column_and_nothing_is_written(upload, region_tree, make_roster, client, token):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    rows = pupil_rows(20, roster["year_start"].year)
    rows[4]["birth_date"] = "31.02.2015"  # row 6: not a date
    rows[9]["class_name"] = "5я"  # row 11: no such class
    rows[12]["g1_phone"] = None  # row 14: a guardian nobody can reach
    rows[15]["file_number"] = rows[14]["file_number"]  # row 17: the same pupil twice
    data = xlsx(PUPIL_COLUMNS, rows)
    preview = upload(a["school_admin"], a["school"]["id"], "pupils", data, commit=False)
    assert preview.status_code == 200
    found = {(e["row"], e["column"]) for e in preview.json["errors"]}
    assert found == {(6, "Дата рождения"), (11, "Класс"), (14, "Представитель 1: телефон"), (17, "Номер личного дела")}
    assert preview.json["rejected"] == 4 and preview.json["committed"] is False
    refused = upload(a["school_admin"], a["school"]["id"], "pupils", data, commit=True)
    assert refused.status_code == 422
    assert "rows.6.birth_date" in refused.json["errors"]
    pupils = client.get(f"/api/v1/schools/{a['school']['id']}/pupils", headers=token(a["school_admin"]))
    assert pupils.json == []


def test_a_clean_file_imports_everything_and_again_changes_nothing(upload, region_tree, make_roster, client, token):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    data = xlsx(PUPIL_COLUMNS, pupil_rows(30, roster["year_start"].year))
    first = upload(a["school_admin"], a["school"]["id"], "pupils", data, commit=True)
    assert first.status_code == 200, first.json
    assert first.json["summary"] == {"created": 30, "updated": 0, "unchanged": 0, "guardians_created": 45}
    second = upload(a["school_admin"], a["school"]["id"], "pupils", data, commit=True)
    assert second.json["summary"] == {"created": 0, "updated": 0, "unchanged": 30, "guardians_created": 0}
    listed = client.get(f"/api/v1/classes/{roster['class_id']}/pupils", headers=token(a["school_admin"])).json
    assert len(listed) == 30
    guardians = {g["full_name"]: g for g in listed[1]["guardians"]}
    assert set(guardians) == {"Родитель0001 Ольга Ивановна", "Отец Пётр"}
    assert guardians["Родитель0001 Ольга Ивановна"]["phone"] == "+79123456789"  # normalised from 8 (912) ...
    assert guardians["Отец Пётр"]["email"] == "father@example.ru"


def test_a_pupil_in_two_classes_of_one_year_is_refused(upload, region_tree, make_roster, client, token):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    client.post(f"/api/v1/schools/{a['school']['id']}/classes", headers=token(a["school_admin"]),
                json={"year_id": roster["year_id"], "grade": 5, "letter": "б"})
    year = roster["year_start"].year
    upload(a["school_admin"], a["school"]["id"], "pupils", xlsx(PUPIL_COLUMNS, pupil_rows(2, year)), commit=True)
    moved = upload(a["school_admin"], a["school"]["id"], "pupils",
                   xlsx(PUPIL_COLUMNS, pupil_rows(2, year, class_name="5б")), commit=False)
    assert {(e["row"], e["column"]) for e in moved.json["errors"]} == {(2, "Класс"), (3, "Класс")}


def test_csv_in_windows_1251_with_semicolons(upload, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    header = ";".join(c.header for c in PUPIL_COLUMNS)
    line = f"Петров;Пётр;;05.05.{roster['year_start'].year - 11};П-1;5А;Петрова Анна;+79001112233;;мать;;;;"
    data = (header + "\r\n" + line + "\r\n").encode("cp1251")
    response = upload(a["school_admin"], a["school"]["id"], "pupils", data, commit=True, filename="pupils.csv")
    assert response.status_code == 200, response.json
    assert response.json["summary"]["created"] == 1


@pytest.mark.parametrize("data, message", [(b"", "empty"), (b"\x00\x01garbage\xff", "column")])
def test_unreadable_files_are_a_clear_error(upload, region_tree, make_roster, data, message):
    a = region_tree["a"]
    make_roster(a["school"], pupils=0)
    response = upload(a["school_admin"], a["school"]["id"], "pupils", data, commit=False, filename="x.csv")
    assert response.status_code == 422 and "file" in response.json["errors"]


def test_staff_import_creates_teachers_with_one_time_codes(upload, region_tree, make_roster, client):
    a = region_tree["a"]
    make_roster(a["school"], pupils=0)
    rows = [{"last_name": "Смирнова", "first_name": "Ольга", "position": "учитель химии", "login": "smirnova"},
            {"last_name": "Кузнецов", "first_name": "Иван", "position": "учитель физики", "login": "kuznetsov",
             "email": "kuz@example.ru"}]
    response = upload(a["school_admin"], a["school"]["id"], "staff", xlsx(STAFF_COLUMNS, rows), commit=True)
    assert response.status_code == 200, response.json
    codes = {c["login"]: c["code"] for c in response.json["summary"]["codes"]}
    assert set(codes) == {"smirnova", "kuznetsov"}
    wrong = client.post("/login/code", data={"login": "smirnova", "code": "AAAA-BBBB-CCCC", "password": "chemistry-1"})
    assert wrong.status_code == 422
    signed = client.post("/login/code", data={"login": "smirnova", "code": codes["smirnova"], "password": "chemistry-1"})
    assert signed.status_code == 302
    reused = client.application.test_client().post(
        "/login/code", data={"login": "smirnova", "code": codes["smirnova"], "password": "chemistry-2"})
    assert reused.status_code == 422
    again = upload(a["school_admin"], a["school"]["id"], "staff", xlsx(STAFF_COLUMNS, rows), commit=True)
    assert again.json["summary"]["created"] == 0 and again.json["summary"]["codes"] == []


def test_timetable_import_checks_slots_and_the_bell_schedule(upload, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    teacher = f"morozova-{a['school']['id']}"
    rows = [{"class_name": "5а", "weekday": "Сб", "period": 1, "subject": "Математика", "teacher": teacher},
            {"class_name": "5а", "weekday": "Пн", "period": 1, "subject": "Русский язык", "teacher": f"ivanov-{a['school']['id']}"},
            {"class_name": "5а", "weekday": "вторник", "period": 9, "subject": "Математика", "teacher": teacher},
            {"class_name": "5а", "weekday": "Ср", "period": 4, "subject": "Астрология", "teacher": teacher},
            {"class_name": "5а", "weekday": "Чт", "period": 4, "subject": "Математика", "teacher": "nobody"}]
    preview = upload(a["school_admin"], a["school"]["id"], "timetable", xlsx(TIMETABLE_COLUMNS, rows), commit=False)
    found = {(e["row"], e["column"]) for e in preview.json["errors"]}
    assert found == {(3, "Класс"), (4, "Урок"), (5, "Предмет"), (6, "Учитель (логин)")}, preview.json["errors"]
    good = [rows[0], {**rows[0], "weekday": "Сб", "period": 2}]
    first = upload(a["school_admin"], a["school"]["id"], "timetable", xlsx(TIMETABLE_COLUMNS, good), commit=True)
    assert first.json["summary"] == {"entries": 2}
    again = upload(a["school_admin"], a["school"]["id"], "timetable", xlsx(TIMETABLE_COLUMNS, good), commit=True)
    assert again.status_code == 200 and again.json["committed"] is True


def test_import_pages_preview_then_commit(client, login, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    login(client, a["school_admin"])
    template = client.get(f"/schools/{a['school']['id']}/imports/pupils/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    rows = pupil_rows(3, roster["year_start"].year)
    rows[1]["class_name"] = "9я"
    bad = client.post(f"/schools/{a['school']['id']}/imports/pupils",
                      data={"action": "preview", "file": (io.BytesIO(xlsx(PUPIL_COLUMNS, rows)), "p.xlsx")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "9я" in bad.get_data(as_text=True)
    rows[1]["class_name"] = "5а"
    good = client.post(f"/schools/{a['school']['id']}/imports/pupils",
                       data={"action": "preview", "file": (io.BytesIO(xlsx(PUPIL_COLUMNS, rows)), "p.xlsx")},
                       content_type="multipart/form-data")
    token = good.get_data(as_text=True).split('name="upload" value="')[1].split('"')[0]
    done = client.post(f"/schools/{a['school']['id']}/imports/pupils", data={"action": "commit", "upload": token})
    assert done.status_code == 200 and 'data-testid="import-done"' in done.get_data(as_text=True)
    # what was done, in words (not the summary's keys «created», «guardians_created»)
    assert "создано: 3, обновлено: 0, без изменений: 0, добавлено родителей: " in done.get_data(as_text=True)
    other_school = region_tree["b"]["school"]["id"]
    login(client, region_tree["b"]["school_admin"])
    stolen = client.post(f"/schools/{other_school}/imports/pupils", data={"action": "commit", "upload": token})
    assert stolen.status_code in (404, 422)


def test_a_long_import_runs_as_a_job(app, upload, region_tree, make_roster, client, token, monkeypatch):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    monkeypatch.setitem(app.config, "IMPORT_JOB_ROWS", 10)
    response = upload(a["school_admin"], a["school"]["id"], "pupils", xlsx(PUPIL_COLUMNS, pupil_rows(25, roster["year_start"].year)),
                      commit=True)
    assert response.status_code == 202, response.json
    job = client.get(response.headers["Location"], headers=token(a["school_admin"])).json
    assert (job["kind"], job["status"]) == ("roster_import", "succeeded")
    assert job["result"]["created"] == 25
    pupils = client.get(f"/api/v1/classes/{roster['class_id']}/pupils", headers=token(a["school_admin"])).json
    assert len(pupils) == 25


def test_holidays_are_added_inside_the_year(client, token, region_tree, make_roster):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    start = roster["year_start"]
    ok = client.post(f"/api/v1/years/{roster['year_id']}/holidays", headers=token(a["school_admin"]),
                     json={"name": "Осенние каникулы", "starts_on": str(start.replace(month=10, day=27)),
                           "ends_on": str(start.replace(month=11, day=4))})
    assert ok.status_code == 201
    outside = client.post(f"/api/v1/years/{roster['year_id']}/holidays", headers=token(a["school_admin"]),
                          json={"name": "Лето", "starts_on": str(start.replace(year=start.year + 2)),
                                "ends_on": str(start.replace(year=start.year + 2, day=5))})
    assert outside.status_code == 422 and "starts_on" in outside.json["errors"]


@pytest.mark.parametrize("period", ["inf", "1e400", "nan"])
def test_absurd_numbers_are_a_rejected_cell_not_an_error(upload, region_tree, make_roster, period):
    a = region_tree["a"]
    make_roster(a["school"], pupils=0)
    rows = [{"class_name": "5а", "weekday": "Пн", "period": period, "subject": "Математика", "teacher": "x"}]
    response = upload(a["school_admin"], a["school"]["id"], "timetable", xlsx(TIMETABLE_COLUMNS, rows), commit=False)
    assert response.status_code == 200 and any(e["column"] == "Урок" for e in response.json["errors"])


def test_a_truncated_workbook_is_a_clear_error(upload, region_tree, make_roster):
    a = region_tree["a"]
    make_roster(a["school"], pupils=0)
    data = xlsx(PUPIL_COLUMNS, pupil_rows(3, 2026))
    response = upload(a["school_admin"], a["school"]["id"], "pupils", data[: len(data) // 2], commit=False)
    assert response.status_code == 422 and "file" in response.json["errors"]


def test_a_utf8_file_with_a_row_in_windows_1251_names_the_row(upload, region_tree, make_roster, client, login):
    """A row pasted in from an old Windows-1251 file is named: the rest of the file is not
    read as Windows-1251 and imported garbled, and nothing is imported."""
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=0)
    header = ";".join(c.header for c in PUPIL_COLUMNS)
    year = roster["year_start"].year - 11
    good = f"Иванов;Иван;;05.05.{year};П-1;5А;Иванова Анна;+79001112233;;мать;;;;"
    pasted = f"Петров;Пётр;;06.06.{year};П-2;5А;Петрова Анна;+79001112234;;мать;;;;"
    data = (header + "\r\n" + good + "\r\n").encode("utf-8") + (pasted + "\r\n").encode("cp1251")
    response = upload(a["school_admin"], a["school"]["id"], "pupils", data, commit=True, filename="pupils.csv")
    assert response.status_code == 422 and list(response.json["errors"]) == ["rows.3"]
    assert "Строка 3" in response.json["errors"]["rows.3"][0]
    login(client, a["school_admin"])
    page = client.post(f"/schools/{a['school']['id']}/imports/pupils",
                       data={"action": "preview", "file": (io.BytesIO(data), "pupils.csv")},
                       content_type="multipart/form-data")
    assert page.status_code == 422 and "Строка 3" in page.get_data(as_text=True)
