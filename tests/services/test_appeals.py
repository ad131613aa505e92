"""The register of complaints, requests and information requests (issue #15, item 3; SV-3):
numbered per school and year, due by the regulation's answer days, overdue flagged, the
answer recorded once; searchable and exported."""
import io


def test_appeals_are_due_by_the_regulation_flagged_overdue_and_answered_once(app, region_tree, api, login,
                                                                            raw_sql, app_clock):
    from openpyxl import load_workbook

    a = region_tree["a"]
    school = a["school"]["id"]
    url = f"/api/v1/schools/{school}/appeals"
    complaint = api(a["school_admin"], "POST", url, json={
        "kind": "complaint", "received_on": "2026-11-02", "applicant": "Новикова Ольга", "contact": "olga@example.ru",
        "text": "Оценки за контрольную не выставлены неделю", "responsible": "Соколова И. В."})
    request = api(a["school_admin"], "POST", url, json={
        "kind": "information", "received_on": "2026-11-16", "applicant": "Петров Иван",
        "text": "Прошу выписку успеваемости сына", "responsible": "Соколова И. В."})
    assert (complaint.status_code, request.status_code) == (201, 201)
    # SV-3 (services.complaint_answer_days = 15, services.request_answer_days = 30): due from the day received.
    assert (complaint.json["number"], complaint.json["due_on"]) == ("1/2026", "2026-11-17")
    assert (request.json["number"], request.json["due_on"]) == ("2/2026", "2026-12-16")
    # The fixed clock reads 18.11.2026: the complaint is overdue, the request open.
    register = api(a["school_admin"], "GET", url).json
    assert {r["number"]: r["status"] for r in register["rows"]} == {"1/2026": "overdue", "2/2026": "open"}
    assert [r["number"] for r in api(a["school_admin"], "GET", f"{url}?status=overdue").json["rows"]] == ["1/2026"]
    assert api(a["school_admin"], "GET", f"{url}?q=петров").json["total"] == 1

    answered = api(a["school_admin"], "POST", f"/api/v1/appeals/{complaint.json['id']}/answer",
                   json={"answer": "Оценки выставлены, учителю сделано замечание", "answered_on": "2026-11-18"})
    assert answered.status_code == 200 and answered.json["status"] == "answered" and answered.json["late"] is True
    twice = api(a["school_admin"], "POST", f"/api/v1/appeals/{complaint.json['id']}/answer",
                json={"answer": "ещё раз", "answered_on": "2026-11-18"})
    assert twice.status_code == 409 and "уже дан ответ" in str(twice.json)
    early = api(a["school_admin"], "POST", f"/api/v1/appeals/{request.json['id']}/answer",
                json={"answer": "Выписка готова", "answered_on": "2026-11-10"})
    assert early.status_code == 422 and "answered_on" in early.json["errors"]
    actions = [r.action for r in raw_sql("SELECT action FROM audit_entry WHERE chain = :s ORDER BY seq", s=school)]
    assert actions[-3:] == ["appeal.record", "appeal.record", "appeal.answer"]

    admin = login(app.test_client(), a["school_admin"])
    page = admin.get(f"/schools/{school}/appeals").get_data(as_text=True)
    assert "2 обращения" in page and "жалоба" in page and "ожидает ответа" in page and "с опозданием" in page
    sheet = load_workbook(io.BytesIO(admin.get(f"/schools/{school}/appeals.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][:4] == ("2/2026", "запрос информации", "16.11.2026", "16.12.2026")


def test_an_appeal_with_missing_fields_names_each_and_writes_nothing(app, region_tree, api, login, raw_sql):
    a = region_tree["a"]
    school = a["school"]["id"]
    bad = api(a["school_admin"], "POST", f"/api/v1/schools/{school}/appeals", json={
        "kind": "praise", "received_on": "2026-12-01", "applicant": " ", "text": "", "responsible": "x" * 300})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"kind", "received_on", "applicant", "text", "responsible"}
    assert raw_sql("SELECT count(*) AS n FROM service_appeal")[0].n == 0
    page = login(app.test_client(), a["school_admin"]).post(f"/schools/{school}/appeals", data={
        "kind": "request", "received_on": "2026-11-17", "applicant": "", "text": "Вопрос", "responsible": "Директор"})
    assert page.status_code == 422 and "Заявитель: укажите, от кого обращение." in page.get_data(as_text=True)
    assert login(app.test_client(), a["teacher"]).get(f"/schools/{school}/appeals").status_code == 403
    assert api(region_tree["b"]["school_admin"], "GET", f"/api/v1/schools/{school}/appeals").status_code == 404
