"""The register of applications for the diary service (issue #15, item 3; SV-3, IN-1): a
guardian applies in Tabel or the school records a paper application, numbered per school
and year; provided, the ways of informing chosen are written to the guardian's record."""
import io

import pytest


@pytest.fixture
def school_class(region_tree, make_roster, make_user, raw_sql):
    a = region_tree["a"]
    roster = make_roster(a["school"], pupils=2)
    parent = make_user("parent-apply", "guardian", a["school"], full_name="Родитель000 Ольга")
    raw_sql("UPDATE guardian SET user_id = :u WHERE id = :g", u=parent["id"], g=roster["guardian_ids"][0])
    return {**roster, "parent": parent}


def test_a_guardian_applies_the_school_provides_and_the_choice_reaches_the_guardians_record(
        app, region_tree, school_class, login, api, raw_sql):
    a = region_tree["a"]
    school = a["school"]["id"]
    parent = login(app.test_client(), school_class["parent"])
    form = parent.get(f"/schools/{school}/apply").get_data(as_text=True)
    assert "Ученик000 Иван" in form and "Ученик001" not in form  # only the guardian's own child
    refused = parent.post(f"/schools/{school}/apply", data={"pupil_id": school_class["pupil_ids"][0],
                                                            "channels": ["email", "paper"]})
    assert refused.status_code == 422 and "Электронная почта: родитель выбрал электронную почту" in \
        refused.get_data(as_text=True)
    filed = parent.post(f"/schools/{school}/apply", data={"pupil_id": school_class["pupil_ids"][0],
                                                          "channels": ["email", "paper"], "email": "olga@example.ru"},
                         follow_redirects=True)
    text = filed.get_data(as_text=True)
    assert "Ваше заявление № 1/2026 от 18.11.2026" in text and "ожидает решения" in text

    register = api(a["school_admin"], "GET", f"/api/v1/schools/{school}/applications").json
    [entry] = register["rows"]
    assert (entry["number"], entry["guardian"], entry["pupil"], entry["channels"], entry["status"]) == (
        "1/2026", "Родитель000 Ольга", "Ученик000 Иван", ["email", "paper"], "pending")
    decided = api(a["school_admin"], "POST", f"/api/v1/applications/{entry['id']}/decision",
                  json={"decision": "provided"})
    assert decided.status_code == 200 and decided.json["status"] == "provided"
    guardian = raw_sql("SELECT by_web, by_email, by_paper, email, application_number, application_date FROM guardian "
                       "WHERE id = :g", g=school_class["guardian_ids"][0])[0]
    assert (guardian.by_web, guardian.by_email, guardian.by_paper, guardian.email, guardian.application_number) == (
        False, True, True, "olga@example.ru", "1/2026")
    again = api(a["school_admin"], "POST", f"/api/v1/applications/{entry['id']}/decision", json={"decision": "refused",
                                                                                                  "reason": "нет"})
    assert again.status_code == 409 and "уже рассмотрено" in str(again.json)
    actions = [r.action for r in raw_sql("SELECT action FROM audit_entry WHERE chain = :s ORDER BY seq", s=school)]
    assert actions[-3:] == ["application.file", "guardian.informing", "application.decide"]


def test_the_school_records_paper_applications_numbered_searchable_and_exported(
        app, region_tree, school_class, login, api):
    from openpyxl import load_workbook

    a = region_tree["a"]
    school = a["school"]["id"]
    url = f"/api/v1/schools/{school}/applications"
    base = {"filed_on": "2026-11-16", "channels": ["web", "sms"], "phone": "8 912 345-67-89"}
    first = api(a["school_admin"], "POST", url, json={**base, "guardian_id": school_class["guardian_ids"][0],
                                                      "pupil_id": school_class["pupil_ids"][0]})
    second = api(a["school_admin"], "POST", url, json={**base, "guardian_id": school_class["guardian_ids"][1],
                                                       "pupil_id": school_class["pupil_ids"][1]})
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json["number"], second.json["number"], second.json["phone"]) == ("1/2026", "2/2026", "+79123456789")
    wrong = api(a["school_admin"], "POST", url, json={**base, "guardian_id": school_class["guardian_ids"][1],
                                                      "pupil_id": school_class["pupil_ids"][0]})
    assert wrong.status_code == 422 and "не является родителем или законным представителем" in str(wrong.json["errors"]
                                                                                                ["guardian_id"])
    future = api(a["school_admin"], "POST", url, json={**base, "filed_on": "2026-12-01",
                                                       "guardian_id": school_class["guardian_ids"][0],
                                                       "pupil_id": school_class["pupil_ids"][0]})
    assert future.status_code == 422 and "filed_on" in future.json["errors"]
    no_reason = api(a["school_admin"], "POST", f"/api/v1/applications/{second.json['id']}/decision",
                    json={"decision": "refused"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    assert api(a["school_admin"], "GET", f"{url}?q=2/2026").json["total"] == 1
    assert api(a["school_admin"], "GET", f"{url}?q=родитель001").json["rows"][0]["number"] == "2/2026"

    admin = login(app.test_client(), a["school_admin"])
    page = admin.get(f"/schools/{school}/applications").get_data(as_text=True)
    assert "2 заявления" in page and "ожидает решения" in page and "Родитель001 Ольга" in page
    sheet = admin.get(f"/schools/{school}/applications.xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[1][:4] == ("№", "Дата", "Заявитель", "Обучающийся")
    assert rows[2][0] == "2/2026" and rows[2][3] == "Ученик001 Иван" and "SMS" in rows[2][4]
    assert login(app.test_client(), a["teacher"]).get(f"/schools/{school}/applications").status_code == 403
    assert api(region_tree["b"]["school_admin"], "GET", url).status_code == 404
    assert api(region_tree["b"]["school_admin"], "POST", f"/api/v1/applications/{first.json['id']}/decision",
               json={"decision": "provided"}).status_code == 404
