"""/api/v1/disclosure: starting a check (202 with the job), the rating (WD-5), a school's
findings and history, false alarms; problem+json errors naming the field."""
from sqlalchemy import select

from core.extensions import db
from blueprints.disclosure.models import Finding
from tests.disclosure.helpers import checked, fake_crawler, kirovsk, REPORTS  # noqa: F401 - fixtures


def fault_id(as_platform, school_id, key="service_regulation"):
    with as_platform():
        return db.session.execute(select(Finding.id).where(Finding.tenant_id == school_id, Finding.key == key)
                                  .order_by(Finding.id.desc())).scalars().first()


def test_starting_a_check_answers_202_with_the_job(client, kirovsk, token, monkeypatch):
    fake_crawler(monkeypatch, REPORTS)
    response = client.post("/api/v1/disclosure/checks", json={"tenant_id": kirovsk["municipality"]["id"]},
                           headers=token(kirovsk["admin"]))
    assert response.status_code == 202, response.json
    body = response.json
    assert body["run"]["schools_total"] == 3 and body["job"]["status"] == "succeeded"
    assert body["job"]["result_url"].endswith(f"/disclosure/tenants/{kirovsk['municipality']['id']}")
    job = client.get(f"/api/v1/jobs/{body['job']['id']}", headers=token(kirovsk["admin"]))
    assert job.json["progress"] == 100


def test_invalid_and_forbidden_starts(client, kirovsk, token):
    headers = token(kirovsk["teacher"])
    missing = client.post("/api/v1/disclosure/checks", json={}, headers=token(kirovsk["admin"]))
    assert missing.status_code == 422 and missing.mimetype == "application/problem+json"
    assert "tenant_id" in missing.json["errors"]
    assert client.post("/api/v1/disclosure/checks", json={"tenant_id": kirovsk["schools"][2]["id"]},
                       headers=headers).status_code == 403
    assert client.post("/api/v1/disclosure/checks", json={"tenant_id": 999999},
                       headers=token(kirovsk["admin"])).status_code == 404


def test_the_rating(client, checked, token):
    response = client.get(f"/api/v1/disclosure/rating?tenant_id={checked['municipality']['id']}",
                          headers=token(checked["admin"]))
    assert response.status_code == 200
    rows = response.json["rows"]
    assert [(r["place"], r["school_name"], r["check"]["score"]) for r in rows] == [
        (1, "СОШ № 2", 100.0), (2, "СОШ № 5", 85.2), (3, "СОШ № 10", 83.9)]
    assert rows[1]["check"]["broken_links"] == 1 and rows[1]["check"]["checked_at"].endswith("+00:00")
    own = client.get("/api/v1/disclosure/rating", headers=token(checked["admin"]))
    assert own.json["tenant_id"] == checked["municipality"]["id"]
    assert client.get(f"/api/v1/disclosure/rating?tenant_id={checked['municipality']['id']}",
                      headers=token(checked["teacher"])).status_code == 403


def test_findings_history_and_a_false_alarm(client, checked, token, as_platform, monkeypatch):
    """WD-1..WD-4 and the dismissal that a later run respects."""
    school = checked["schools"][2]
    headers = token(checked["school_admin"])
    latest = client.get(f"/api/v1/schools/{school['id']}/disclosure", headers=headers).json
    assert latest["check"]["score"] == 83.9
    missing = [f for f in latest["findings"] if f["kind"] == "item" and not f["ok"]]
    assert [f["key"] for f in missing] == ["service_regulation"] and missing[0]["dismissal"] is None

    finding_id = fault_id(as_platform, school["id"])
    own = client.post(f"/api/v1/disclosure/findings/{finding_id}/dismissal", json={"reason": "Всё в порядке"},
                      headers=headers)
    assert own.status_code == 403  # a school does not clear its own faults: its inspectors do
    inspector = token(checked["admin"])
    refused = client.post(f"/api/v1/disclosure/findings/{finding_id}/dismissal", json={"reason": " "},
                          headers={**inspector, "Accept-Language": "en"})
    assert refused.status_code == 422 and refused.json["errors"] == {
        "reason": ["Give the reason why this is a false alarm."]}
    assert client.post(f"/api/v1/disclosure/findings/{finding_id}/dismissal", json={},
                       headers=inspector).json["errors"]["reason"]
    made = client.post(f"/api/v1/disclosure/findings/{finding_id}/dismissal",
                       json={"reason": "Регламент опубликован картинкой"}, headers=inspector)
    assert made.status_code == 201 and made.json["kind"] == "item" and made.json["key"] == "service_regulation"

    fake_crawler(monkeypatch, REPORTS)
    assert client.post("/api/v1/disclosure/checks", json={"tenant_id": school["id"]},
                       headers=headers).status_code == 202
    latest = client.get(f"/api/v1/schools/{school['id']}/disclosure", headers=headers).json
    again = next(f for f in latest["findings"] if f["key"] == "service_regulation")
    assert again["ok"] is False and again["dismissal"]["id"] == made.json["id"]
    assert latest["check"]["score"] > latest["check"]["raw_score"]

    history = client.get(f"/api/v1/schools/{school['id']}/disclosure/history?page_size=1", headers=headers)
    assert history.status_code == 200 and len(history.json) == 1 and "X-Pagination" in history.headers
    assert history.json[0]["fixed"] == [] and history.json[0]["new"] == []
    listed = client.get(f"/api/v1/schools/{school['id']}/disclosure/dismissals", headers=headers).json
    assert [d["id"] for d in listed] == [made.json["id"]]

    assert client.delete(f"/api/v1/disclosure/dismissals/{made.json['id']}", headers=headers).status_code == 403
    assert client.delete(f"/api/v1/disclosure/dismissals/{made.json['id']}", headers=inspector).status_code == 204
    assert client.get(f"/api/v1/schools/{school['id']}/disclosure/dismissals", headers=headers).json == []
    teacher = token(checked["teacher"])
    assert client.get(f"/api/v1/schools/{school['id']}/disclosure", headers=teacher).status_code == 403
    assert client.post(f"/api/v1/disclosure/findings/{finding_id}/dismissal", json={"reason": "x"},
                       headers=teacher).status_code == 403


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/disclosure/checks", "/api/v1/disclosure/rating", "/api/v1/schools/{school_id}/disclosure",
                 "/api/v1/schools/{school_id}/disclosure/history",
                 "/api/v1/disclosure/findings/{finding_id}/dismissal",
                 "/api/v1/disclosure/dismissals/{dismissal_id}"):
        assert path in paths, path
