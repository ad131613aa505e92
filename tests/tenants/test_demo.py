"""`flask demo load`: the demo tenants from the seeds, one account per role."""


def test_demo_loads_the_seeded_tree_once(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "murmansk" in first.output and "demo12345" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "nothing loaded" in second.output

    token = client.post("/api/v1/auth/token", json={"login": "kirovsk", "password": "demo12345"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    schools = client.get("/api/v1/tenants?kind=school", headers=headers).json
    assert sorted(s["short_name"] for s in schools) == sorted(
        ["СОШ № 2", "СОШ № 5", "СОШ № 7", "ООШ № 8", "СОШ № 10", "Хибинская гимназия"])
    assert {s["timezone"] for s in schools} == {"Europe/Moscow"}


def test_perm_school_12_carries_its_order_189(app, client):
    """Seed 003: DL-1..3 and quarterly printing (PR-1) by order No. 189 of 05.06.2017; Perm is UTC+5 (DL-5)."""
    app.test_cli_runner().invoke(args=["demo", "load"])
    token = client.post("/api/v1/auth/token", json={"login": "school12", "password": "demo12345"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers).json
    school_id = me["memberships"][0]["tenant_id"]
    school = client.get(f"/api/v1/tenants/{school_id}", headers=headers).json
    assert school["timezone"] == "Asia/Yekaterinburg"
    body = client.get(f"/api/v1/tenants/{school_id}/regulations?on=2018-10-01", headers=headers).json
    oral = body["provenance"]["deadlines.grade.oral.days"]
    assert oral["value"] == 1 and "№ 189 от 05.06.2017" in oral["act"]
    assert body["document"]["printing"]["periods"] == [{"levels": [1, 9], "every": "quarter"}]
    assert body["document"]["printing"]["summary_level_groups"] == [[1, 4], [5, 9]]
    before = client.get(f"/api/v1/tenants/{school_id}/regulations?on=2017-06-01", headers=headers).json
    assert before["provenance"]["deadlines.grade.oral.days"]["act"] is None


def test_school_31_prints_at_year_end(app, client):
    """Seed 001: Kamensk-Uralsky school No. 31 prints the whole journal at year end."""
    app.test_cli_runner().invoke(args=["demo", "load"])
    token = client.post("/api/v1/auth/token", json={"login": "admin", "password": "demo12345"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    school = client.get("/api/v1/tenants?q=№ 31", headers=headers).json[0]
    body = client.get(f"/api/v1/tenants/{school['id']}/regulations", headers=headers).json
    assert body["document"]["printing"]["periods"] == [{"levels": [1, 11], "every": "year"}]
