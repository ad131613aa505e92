"""IN-1: each guardian's ways of informing (web, e-mail, SMS, paper), recorded by the school
from the guardian's written application, on the guardian's page and through the API; the
school's list of those who chose paper (IN-2)."""
import pytest

VALID = {"channels": ["web", "email"], "email": "olga@example.ru", "application_number": "17",
         "application_date": "2026-09-01", "notify_mode": "instant", "digest_hour": 18, "language": "ru"}


@pytest.fixture
def school(region_tree, make_roster):
    a = region_tree["a"]
    return {**a, "roster": make_roster(a["school"], pupils=2)}


def test_the_admin_records_the_choice_on_the_guardian_page_and_bad_input_names_the_field(app, school, login):
    http = login(app.test_client(), school["school_admin"])
    guardian = school["roster"]["guardian_ids"][0]
    page = http.get(f"/guardians/{guardian}").get_data(as_text=True)
    assert "Родитель000 Ольга" in page and "Способы информирования" in page and "Ученик000 Иван" in page
    refused = http.post(f"/guardians/{guardian}/informing", data={"channels": ["web", "email"], "email": "",
                                                                   "application_number": "", "application_date": ""})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    for message in ("Электронная почта: родитель выбрал электронную почту, укажите адрес.",
                    "Номер заявления: укажите номер письменного заявления родителя.",
                    "Дата заявления: укажите дату письменного заявления родителя."):
        assert message in text
    assert 'value="email" checked' in text  # the form keeps what was typed
    assert http.get(f"/api/v1/guardians/{guardian}").json["channels"] == ["web"]  # nothing saved
    saved = http.post(f"/guardians/{guardian}/informing", data={
        "channels": ["web", "email", "paper"], "email": " olga@example.ru ", "phone": "8 (912) 345-67-89",
        "application_number": "17", "application_date": "2026-09-01", "notify_mode": "digest", "digest_hour": "19",
        "language": "ru"})
    assert saved.status_code == 302
    page = http.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Способы информирования родителя сохранены." in page
    data = http.get(f"/api/v1/guardians/{guardian}").json
    assert data["channels"] == ["web", "email", "paper"] and data["email"] == "olga@example.ru"
    assert data["phone"] == "+79123456789" and data["notify_mode"] == "digest" and data["digest_hour"] == 19
    assert data["application_number"] == "17" and data["application_date"] == "2026-09-01"


def test_in_english_the_errors_are_english(app, school, login):
    http = login(app.test_client(), school["school_admin"])
    http.post("/language", data={"lang": "en", "next": "/"})
    guardian = school["roster"]["guardian_ids"][0]
    text = http.post(f"/guardians/{guardian}/informing", data={"channels": ["sms"], "phone": "",
                                                               "application_number": "5",
                                                               "application_date": "2099-01-01"}).get_data(as_text=True)
    assert "Phone: the guardian chose SMS, write their mobile number." in text
    assert "Application date: the application cannot be dated in the future." in text


def test_the_api_patch_checks_the_whole_choice_and_keeps_what_it_does_not_name(school, api):
    admin, guardian = school["school_admin"], school["roster"]["guardian_ids"][0]
    url = f"/api/v1/guardians/{guardian}"
    refused = api(admin, "PATCH", url, json={"channels": ["email"]})
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"email", "application_number", "application_date"}
    assert "укажите адрес" in refused.json["errors"]["email"][0]
    assert api(admin, "PATCH", url, json={"channels": ["fax"]}).status_code == 422
    assert api(admin, "PATCH", url, json={**VALID, "digest_hour": 24}).status_code == 422
    saved = api(admin, "PATCH", url, json=VALID)
    assert saved.status_code == 200, saved.json
    assert saved.json["channels"] == ["web", "email"] and saved.json["pupil_ids"] == [school["roster"]["pupil_ids"][0]]
    again = api(admin, "PATCH", url, json={"notify_mode": "digest", "digest_hour": 7})
    assert again.status_code == 200
    assert again.json["channels"] == ["web", "email"] and again.json["email"] == "olga@example.ru"
    assert again.json["digest_hour"] == 7
    # SMS chosen without a mobile number the school has: refused, the e-mail choice stays.
    bad = api(admin, "PATCH", url, json={"channels": ["sms"], "phone": "12"})
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["phone"]
    assert api(admin, "GET", url).json["channels"] == ["web", "email"]


def test_a_teacher_reads_the_choice_but_cannot_change_it(app, school, api, login):
    teacher, guardian = school["teacher"], school["roster"]["guardian_ids"][0]
    assert api(teacher, "GET", f"/api/v1/guardians/{guardian}").status_code == 200
    assert api(teacher, "PATCH", f"/api/v1/guardians/{guardian}", json=VALID).status_code == 403
    http = login(app.test_client(), teacher)
    page = http.get(f"/guardians/{guardian}").get_data(as_text=True)
    assert "disabled" in page and "Сохранить" not in page
    assert http.post(f"/guardians/{guardian}/informing", data={"channels": ["web"]}).status_code == 403


def test_the_school_lists_the_guardians_who_chose_paper(app, school, api, login):
    """IN-2: those who opted for paper are the school's printouts' list."""
    admin = school["school_admin"]
    first, second = school["roster"]["guardian_ids"]
    assert api(admin, "PATCH", f"/api/v1/guardians/{second}",
               json={**VALID, "channels": ["paper"], "email": None}).status_code == 200
    listed = api(admin, "GET", f"/api/v1/schools/{school['school']['id']}/guardians?channel=paper").json
    assert [g["id"] for g in listed] == [second]
    everyone = api(admin, "GET", f"/api/v1/schools/{school['school']['id']}/guardians").json
    assert {g["id"] for g in everyone} == {first, second}
    http = login(app.test_client(), admin)
    page = http.get(f"/schools/{school['school']['id']}/guardians?channel=paper").get_data(as_text=True)
    assert "Родители, выбравшие бумажные выписки" in page and "Родитель001" in page and "Родитель000" not in page
    assert "Бумажная выписка" in page and "№ 17" in page
    assert f'href="/guardians/{first}"' in http.get(f"/classes/{school['roster']['class_id']}/list").get_data(as_text=True)


def test_another_tenants_guardian_is_404_on_every_new_route(app, region_tree, school, make_roster, api, login):
    b = make_roster(region_tree["b"]["school"], pupils=1)
    far = b["guardian_ids"][0]
    admin = school["school_admin"]
    assert api(admin, "GET", f"/api/v1/guardians/{far}").status_code == 404
    assert api(admin, "PATCH", f"/api/v1/guardians/{far}", json=VALID).status_code == 404
    assert api(admin, "GET", f"/api/v1/schools/{region_tree['b']['school']['id']}/guardians").status_code == 404
    http = login(app.test_client(), admin)
    assert http.get(f"/guardians/{far}").status_code == 404
    assert http.post(f"/guardians/{far}/informing", data={"channels": ["web"]}).status_code == 404
    assert http.get(f"/schools/{region_tree['b']['school']['id']}/guardians").status_code == 404
    owner = region_tree["b"]["school_admin"]
    assert api(owner, "GET", f"/api/v1/guardians/{far}").json["channels"] == ["web"]  # untouched
