"""Input the database cannot hold (NUL, lone surrogates, integers beyond their column, text
longer than its column) is a 422 naming the field, decided before anything is written;
requests and imports have size limits."""
import io
import zipfile

import pytest
from openpyxl import Workbook

from blueprints.roster.imports import PUPIL_COLUMNS
from core.errors import Refused
from core import tabular


@pytest.fixture
def school(region_tree, make_roster, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], lessons=True, teacher_user=a["teacher"])
    lesson_id = raw_sql("SELECT id FROM lesson WHERE class_id = :c AND teacher_id = :t ORDER BY held_on",
                        c=roster["class_id"], t=roster["teacher_id"])[0].id
    return {"a": a, "roster": roster, "lesson_id": lesson_id}


def records(raw_sql):
    return raw_sql("SELECT count(*) AS n FROM lesson_record")[0].n


def xlsx(columns, rows):
    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in columns])
    for row in rows:
        sheet.append([row.get(c.key) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def pupil(n, year_start, **fields):
    return {"last_name": f"Фамилия{n}", "first_name": "Анна", "birth_date": f"01.03.{year_start - 11}",
            "file_number": f"ЛД-{n}", "class_name": "5а", **fields}


def upload(client, headers, school_id, data, commit, filename="pupils.xlsx"):
    return client.post(f"/api/v1/schools/{school_id}/imports/pupils?commit={'true' if commit else 'false'}",
                       headers=headers, data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("body", ['{"topic": "a\\u0000b", "version": 0}', '{"topic": "a\\ud800b", "version": 0}'])
def test_nul_and_lone_surrogates_in_json_are_refused_by_field(client, token, school, raw_sql, body):
    response = client.put(f"/api/v1/lessons/{school['lesson_id']}/topic", data=body,
                          headers={**token(school["a"]["teacher"]), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert list(response.json["errors"]) == ["topic"]
    assert "недопустимый символ" in response.json["errors"]["topic"][0]
    assert records(raw_sql) == 0


def test_nul_in_a_query_string_is_refused_by_name(client, token, school):
    response = client.get(f"/api/v1/schools/{school['a']['school']['id']}/pupils?q=%00",
                          headers=token(school["a"]["school_admin"]))
    assert response.status_code == 422 and list(response.json["errors"]) == ["q"]


def test_a_login_form_with_nul_is_a_translated_page_not_a_crash(client, region_tree):
    response = client.post("/login", data={"login": "school-a\x00", "password": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "login" in page and "недопустимый символ" in page


def test_integers_beyond_the_column_are_422_in_queries_and_bodies_and_404_in_paths(client, token, school):
    headers = token(school["a"]["school_admin"])
    school_id = school["a"]["school"]["id"]
    listed = client.get(f"/api/v1/schools/{school_id}/pupils?page=100000000000000000000", headers=headers)
    assert listed.status_code == 422 and list(listed.json["errors"]) == ["page"]
    by_class = client.get(f"/api/v1/schools/{school_id}/pupils?class_id={2 ** 31}", headers=headers)
    assert by_class.status_code == 422 and list(by_class.json["errors"]) == ["class_id"]
    created = client.post(f"/api/v1/schools/{school_id}/classes", headers=headers,
                          json={"year_id": 2 ** 40, "grade": 6, "letter": "б"})
    assert created.status_code == 422 and list(created.json["errors"]) == ["year_id"]
    assert client.get(f"/api/v1/pupils/{2 ** 31}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/pupils/{10 ** 20}", headers=headers).status_code == 404


def test_json_nested_ten_thousand_deep_is_a_bad_request(client, token, school):
    body = "[" * 10000 + "]" * 10000
    response = client.put(f"/api/v1/lessons/{school['lesson_id']}/topic", data=body,
                          headers={**token(school["a"]["teacher"]), "Content-Type": "application/json"})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_a_grade_comment_longer_than_its_column_is_a_named_422(client, token, school, raw_sql):
    pupil_id = school["roster"]["pupil_ids"][0]
    response = client.put(f"/api/v1/lessons/{school['lesson_id']}/grades/{pupil_id}",
                          headers=token(school["a"]["teacher"]),
                          json={"work_type": "oral", "value": "5", "comment": "к" * 300, "version": None})
    assert response.status_code == 422 and list(response.json["errors"]) == ["comment"]
    assert "255" in response.json["errors"]["comment"][0]
    assert raw_sql("SELECT count(*) AS n FROM grade")[0].n == 0


def test_a_topic_longer_than_a_journal_line_is_a_named_422(client, token, school, raw_sql):
    response = client.put(f"/api/v1/lessons/{school['lesson_id']}/topic", headers=token(school["a"]["teacher"]),
                          json={"topic": "т" * 1001, "version": 0})
    assert response.status_code == 422 and list(response.json["errors"]) == ["topic"]
    assert records(raw_sql) == 0


def test_a_name_longer_than_its_column_written_without_a_length_in_the_schema_is_a_named_422(client, token, school):
    headers = token(school["a"]["school_admin"])
    response = client.post(f"/api/v1/schools/{school['a']['school']['id']}/subjects", headers=headers,
                           json={"name": "М" * 121})
    assert response.status_code == 422 and list(response.json["errors"]) == ["name"]
    listed = client.get(f"/api/v1/schools/{school['a']['school']['id']}/subjects", headers=headers).json
    assert all(len(s["name"]) <= 120 for s in listed)


def test_a_request_body_over_its_limit_is_413(app, client, token, school, monkeypatch, raw_sql):
    headers = token(school["a"]["teacher"])
    monkeypatch.setitem(app.config, "MAX_BODY_BYTES", 64 * 1024)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 256 * 1024)
    # 40 MB of topic in the field: refused as a request, before any field is read
    response = client.put(f"/api/v1/lessons/{school['lesson_id']}/topic", headers=headers,
                          json={"topic": "т" * (40 * 1024), "version": 0})
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert records(raw_sql) == 0
    big_file = upload(client, token(school["a"]["school_admin"]), school["a"]["school"]["id"],
                      b"x" * (300 * 1024), commit=True, filename="pupils.csv")
    assert big_file.status_code == 413


def test_an_import_names_the_row_and_column_of_a_too_long_surname_and_of_a_nul(client, token, school):
    headers = token(school["a"]["school_admin"])
    year = school["roster"]["year_start"].year
    rows = [pupil(1, year), pupil(2, year, last_name="Ф" * 100)]
    data = xlsx(PUPIL_COLUMNS, rows)
    preview = upload(client, headers, school["a"]["school"]["id"], data, commit=False)
    assert preview.status_code == 200
    assert [(e["row"], e["column"]) for e in preview.json["errors"]] == [(3, "Фамилия")]
    assert "80" in preview.json["errors"][0]["message"]
    refused = upload(client, headers, school["a"]["school"]["id"], data, commit=True)
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["rows.3.last_name"]
    header = ";".join(c.header for c in PUPIL_COLUMNS)
    line = f"Пет\x00ров;Пётр;;05.05.{year - 11};П-1;5а" + ";" * (len(PUPIL_COLUMNS) - 6)
    csv = upload(client, headers, school["a"]["school"]["id"], (header + "\r\n" + line + "\r\n").encode(),
                 commit=True, filename="pupils.csv")
    assert csv.status_code == 422 and list(csv.json["errors"]) == ["rows.2.last_name"]
    pupils = client.get(f"/api/v1/schools/{school['a']['school']['id']}/pupils", headers=headers).json
    assert not any(p["last_name"].startswith(("Фамилия", "Ф" * 10, "Пет")) for p in pupils)


def test_a_zip_bomb_is_refused_by_its_unpacked_size(client, token, school):
    headers = token(school["a"]["school_admin"])
    year = school["roster"]["year_start"].year
    source = zipfile.ZipFile(io.BytesIO(xlsx(PUPIL_COLUMNS, [pupil(1, year)])))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, source.read(member))
        target.writestr("xl/media/padding.bin", b"\x00" * (50 * 1024 * 1024))
    assert len(bomb.getvalue()) < 200 * 1024
    response = upload(client, headers, school["a"]["school"]["id"], bomb.getvalue(), commit=True)
    assert response.status_code == 422
    assert "40 МБ" in response.json["errors"]["file"][0]
    pupils = client.get(f"/api/v1/schools/{school['a']['school']['id']}/pupils", headers=headers).json
    assert not any(p["last_name"] == "Фамилия1" for p in pupils)


def test_a_zip_that_understates_its_sizes_is_refused_before_the_workbook_is_opened(monkeypatch):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("xl/worksheets/sheet1.xml", b" " * (3 * 1024 * 1024))
    lying = bytearray(bomb.getvalue())
    directory = lying.rfind(b"PK\x01\x02")
    lying[directory + 24:directory + 28] = (100).to_bytes(4, "little")  # declared: 100 bytes
    opened = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: opened.append(a))
    with pytest.raises(Refused):
        tabular.read_table("x.xlsx", bytes(lying))
    assert opened == []


def test_an_over_long_sheet_is_refused_after_reading_one_row_past_the_limit(client, token, school, monkeypatch):
    headers = token(school["a"]["school_admin"])
    year = school["roster"]["year_start"].year
    data = xlsx(PUPIL_COLUMNS, [pupil(n, year) for n in range(1000)])
    monkeypatch.setattr(tabular, "MAX_ROWS", 50)
    pulled = []
    stream = tabular._xlsx_rows

    def counting(raw):
        for row in stream(raw):
            pulled.append(row)
            yield row

    monkeypatch.setattr(tabular, "_xlsx_rows", counting)
    response = upload(client, headers, school["a"]["school"]["id"], data, commit=True)
    assert response.status_code == 422
    assert "50" in response.json["errors"]["file"][0]
    assert len(pulled) <= 52  # the header, the limit, and the one row that broke it
    pupils = client.get(f"/api/v1/schools/{school['a']['school']['id']}/pupils", headers=headers).json
    assert not any(p["last_name"].startswith("Фамилия") for p in pupils)
