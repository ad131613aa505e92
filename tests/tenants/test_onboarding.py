"""Region onboarding: municipalities, schools and their admins from one spreadsheet (AC-3 codes)."""
import io

from openpyxl import Workbook

from tenants.onboarding import COLUMNS


def workbook(rows):
    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in COLUMNS])
    for row in rows:
        sheet.append([row.get(c.key) for c in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ROWS = [
    {"kind": "муниципалитет", "name": "г. Оленегорск", "admin_name": "Сидорова Мария Петровна",
     "admin_email": "sidorova@olenegorsk.example"},
    {"kind": "муниципалитет", "name": "г. Полярные Зори"},
    {"kind": "школа", "municipality": "г. Оленегорск", "name": "МБОУ «СОШ № 4 г. Оленегорска»", "short_name": "СОШ № 4",
     "website_url": "https://school4.olenegorsk.example", "admin_name": "Орлов Игорь Павлович",
     "admin_email": "orlov@school4.example"},
    {"kind": "школа", "municipality": "г. Оленегорск", "name": "МБОУ «ООШ № 21»", "short_name": "ООШ № 21"},
    {"kind": "школа", "municipality": "г. Полярные Зори", "name": "МБОУ «СОШ № 1 г. Полярные Зори»",
     "timezone": "Europe/Moscow", "admin_name": "Белова Нина", "admin_email": "belova@zori.example"},
]


def send(client, token, user, region_id, data, commit):
    return client.post(f"/api/v1/tenants/{region_id}/onboarding?commit={'true' if commit else 'false'}",
                       headers=token(user), data={"file": (io.BytesIO(data), "onboarding.xlsx")},
                       content_type="multipart/form-data")


def test_onboarding_creates_tenants_and_admins_once(client, token, region_tree):
    a = region_tree["a"]
    first = send(client, token, a["region_admin"], a["region"]["id"], workbook(ROWS), commit=True)
    assert first.status_code == 200, first.json
    report = first.json["report"]
    assert sorted(item["name"] for item in report["created"]) == sorted(r["name"] for r in ROWS)
    codes = {admin["login"]: admin["code"] for admin in report["admins"]}
    assert set(codes) == {"sidorova@olenegorsk.example", "orlov@school4.example", "belova@zori.example"}
    # A new school admin signs in with the code and lands on their school.
    signed = client.post("/login/code", data={"login": "orlov@school4.example", "code": codes["orlov@school4.example"],
                                              "password": "school-four-1"})
    assert signed.status_code == 302
    assert "СОШ № 4" in client.get("/", follow_redirects=True).get_data(as_text=True)
    again = send(client, token, a["region_admin"], a["region"]["id"], workbook(ROWS), commit=True).json["report"]
    assert again["created"] == [] and again["admins"] == [] and len(again["existing"]) == 5


def test_rejected_rows_name_row_and_column_and_nothing_is_created(client, token, region_tree):
    a = region_tree["a"]
    rows = [dict(r) for r in ROWS]
    rows[2]["website_url"] = "school4"  # row 4
    rows[3]["municipality"] = "г. Нигде"  # row 5
    rows[4]["admin_email"] = None  # row 6: a name without an e-mail
    response = send(client, token, a["region_admin"], a["region"]["id"], workbook(rows), commit=True)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"rows.4.website_url", "rows.5.municipality", "rows.6.admin_email"}
    children = client.get(f"/api/v1/tenants/{a['region']['id']}/children", headers=token(a["region_admin"])).json
    assert [c["name"] for c in children] == [a["municipality"]["name"]]


def test_only_the_regions_admins_onboard(client, token, region_tree):
    a = region_tree["a"]
    assert send(client, token, a["municipality_admin"], a["region"]["id"], workbook(ROWS), commit=True).status_code == 403


def test_the_onboarding_page_previews_then_creates_and_shows_codes(client, login, region_tree):
    a = region_tree["a"]
    login(client, a["region_admin"])
    template = client.get(f"/tenants/{a['region']['id']}/onboarding/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    preview = client.post(f"/tenants/{a['region']['id']}/onboarding",
                          data={"action": "preview", "file": (io.BytesIO(workbook(ROWS)), "o.xlsx")},
                          content_type="multipart/form-data")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Создать всё" in page
    upload = page.split('name="upload" value="')[1].split('"')[0]
    done = client.post(f"/tenants/{a['region']['id']}/onboarding", data={"action": "commit", "upload": upload})
    assert done.status_code == 200
    assert 'id="codes"' in done.get_data(as_text=True) and "orlov@school4.example" in done.get_data(as_text=True)


def test_an_admin_e_mail_of_another_regions_account_is_refused(client, token, region_tree, make_user):
    """A region admin cannot give a role (or a code) to an account of another region."""
    a, b = region_tree["a"], region_tree["b"]
    other = make_user("chief@tomsk.example", "municipality_admin", b["municipality"])
    rows = [{"kind": "муниципалитет", "name": "г. Ловозеро", "admin_name": "Чужой", "admin_email": other["login"]}]
    response = send(client, token, a["region_admin"], a["region"]["id"], workbook(rows), commit=True)
    assert response.status_code == 422 and "rows.2.admin_email" in response.json["errors"]
    # The refusal says only that the login is taken, not that an account exists elsewhere.
    assert response.json["errors"]["rows.2.admin_email"] == ["Этот логин уже занят."]


def test_a_login_of_another_region_is_only_taken(client, token, region_tree):
    """Creating an account answers alike for a login held in one's own region and in another."""
    a, b = region_tree["a"], region_tree["b"]
    answers = []
    for login in (a["teacher"]["login"], b["teacher"]["login"]):
        response = client.post(f"/api/v1/tenants/{a['school']['id']}/users", headers=token(a["school_admin"]),
                               json={"login": login, "full_name": "Новый", "password": "long-enough-1", "role": "pupil"})
        answers.append((response.status_code, response.json["errors"]))
    assert answers[0] == answers[1] == (409, {"login": ["Этот логин уже занят."]})


def test_an_existing_account_of_the_region_gets_the_role_but_no_code(client, token, region_tree, make_user):
    a = region_tree["a"]
    make_user("ivanova@region-a.example", "school_admin", a["school"])
    rows = [{"kind": "муниципалитет", "name": "г. Ковдор", "admin_name": "Иванова", "admin_email": "ivanova@region-a.example"}]
    report = send(client, token, a["region_admin"], a["region"]["id"], workbook(rows), commit=True).json["report"]
    assert report["admins"][0]["code"] is None  # the account keeps its password
