"""The tenant tree: who creates what, inheritance of time zone and locale, versions, pages."""
import pytest


def test_each_level_creates_the_level_below(api, region_tree):
    root, a = region_tree["platform_admin"], region_tree["a"]
    region = api(root, "POST", "/api/v1/tenants", json={"kind": "region", "name": "Пермский край", "timezone": "Asia/Yekaterinburg"})
    assert region.status_code == 201, region.json
    assert region.json["path"] == f"/{region.json['id']}/"
    municipality = api(a["region_admin"], "POST", "/api/v1/tenants",
                       json={"kind": "municipality", "name": "г. Апатиты", "parent_id": a["region"]["id"]})
    assert municipality.status_code == 201
    school = api(a["municipality_admin"], "POST", "/api/v1/tenants",
                 json={"kind": "school", "name": "МБОУ «СОШ № 3»", "short_name": "СОШ № 3",
                       "parent_id": a["municipality"]["id"], "website_url": "https://school3.example"})
    assert school.status_code == 201, school.json
    assert school.json["slug"] == "sosh-3"
    assert school.json["path"] == f"{a['municipality']['path']}{school.json['id']}/"


@pytest.mark.parametrize("who, body, status", [
    ("region_admin", {"kind": "region", "name": "Ещё регион"}, 403),
    ("municipality_admin", {"kind": "municipality", "name": "Ещё город", "parent": "region"}, 403),
    ("school_admin", {"kind": "school", "name": "Ещё школа", "parent": "municipality"}, 403),
    ("teacher", {"kind": "school", "name": "Ещё школа", "parent": "municipality"}, 403),
    ("region_admin", {"kind": "municipality", "name": "Город в школе", "parent": "school"}, 422),
])
def test_nobody_creates_beyond_their_level(api, region_tree, who, body, status):
    a = region_tree["a"]
    body = dict(body)
    if "parent" in body:
        body["parent_id"] = a[body.pop("parent")]["id"]
    assert api(a[who], "POST", "/api/v1/tenants", json=body).status_code == status


def test_time_zone_and_locale_are_inherited_unless_set(api, region_tree):
    a = region_tree["a"]
    school = api(a["school_admin"], "GET", f"/api/v1/tenants/{a['school']['id']}").json
    assert (school["timezone"], school["timezone_set"]) == ("Europe/Moscow", None)
    assert school["locale"] == "ru"
    changed = api(a["school_admin"], "PATCH", f"/api/v1/tenants/{a['school']['id']}",
                  json={"version": school["version"], "timezone": "Europe/Samara", "locale": "en"})
    assert changed.status_code == 200, changed.json
    assert (changed.json["timezone"], changed.json["timezone_set"], changed.json["locale"]) == ("Europe/Samara", "Europe/Samara", "en")


def test_a_stale_version_gets_409_with_the_current_object(api, region_tree):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['school']['id']}"
    current = api(a["school_admin"], "GET", url).json
    first = api(a["school_admin"], "PATCH", url, json={"version": current["version"], "short_name": "Первая"})
    assert first.status_code == 200
    second = api(a["municipality_admin"], "PATCH", url, json={"version": current["version"], "short_name": "Вторая"})
    assert second.status_code == 409
    assert second.json["current"]["short_name"] == "Первая"
    assert api(a["school_admin"], "GET", url).json["short_name"] == "Первая"


@pytest.mark.parametrize("field, value", [("timezone", "Mars/Olympus"), ("locale", "de"), ("website_url", "school.example")])
def test_invalid_fields_get_422_naming_them(api, region_tree, field, value):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['school']['id']}"
    version = api(a["school_admin"], "GET", url).json["version"]
    response = api(a["school_admin"], "PATCH", url, json={"version": version, field: value})
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]


def test_tenants_are_deactivated_by_the_level_above_never_deleted(api, region_tree):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['school']['id']}"
    version = api(a["school_admin"], "GET", url).json["version"]
    assert api(a["school_admin"], "PATCH", url, json={"version": version, "is_active": False}).status_code == 403
    off = api(a["municipality_admin"], "PATCH", url, json={"version": version, "is_active": False})
    assert off.status_code == 200 and off.json["is_active"] is False
    assert api(a["municipality_admin"], "DELETE", url).status_code == 405
    assert api(a["municipality_admin"], "GET", url).status_code == 200


def test_duplicate_slug_under_one_parent_is_a_conflict(api, region_tree):
    a = region_tree["a"]
    body = {"kind": "school", "name": "Школа", "slug": "same", "parent_id": a["municipality"]["id"]}
    assert api(a["municipality_admin"], "POST", "/api/v1/tenants", json=body).status_code == 201
    again = api(a["municipality_admin"], "POST", "/api/v1/tenants", json=body)
    assert again.status_code == 409 and "slug" in again.json["errors"]


def test_lists_are_paginated_and_filterable(api, region_tree, make_tenant):
    a = region_tree["a"]
    for n in range(7):
        make_tenant(f"Школа № {n + 10}", parent=a["municipality"])
    page = api(a["region_admin"], "GET", f"/api/v1/tenants/{a['municipality']['id']}/children?page=2&page_size=3")
    assert page.status_code == 200
    assert len(page.json) == 3
    assert '"total": 8' in page.headers["X-Pagination"]
    found = api(a["region_admin"], "GET", "/api/v1/tenants?kind=school&q=№ 15").json
    assert [t["name"] for t in found] == ["Школа № 15"]


def test_changes_to_tenants_are_audited(api, region_tree, as_platform):
    from sqlalchemy import select

    from core.audit import AuditEntry
    from core.extensions import db

    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['school']['id']}"
    version = api(a["school_admin"], "GET", url).json["version"]
    api(a["school_admin"], "PATCH", url, json={"version": version, "short_name": "Новое имя", "reason": "устав"})
    with as_platform():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.tenant_id == a["school"]["id"])
                                   .order_by(AuditEntry.seq.desc())).scalars().first()
        assert entry.action == "tenant.update"
        assert entry.after["short_name"] == "Новое имя" and entry.before["short_name"] is None
        assert entry.actor_id == a["school_admin"]["id"] and entry.reason == "устав"


def test_admin_pages_create_a_municipality_and_a_school(client, login, region_tree):
    a = region_tree["a"]
    login(client, a["region_admin"])
    created = client.post(f"/tenants/{a['region']['id']}/children",
                          data={"kind": "municipality", "name": "г. Мончегорск", "short_name": "Мончегорск"})
    assert created.status_code == 302
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "г. Мончегорск" in page and "Создано" in page
    bad = client.post(f"/tenants/{a['region']['id']}/children", data={"kind": "municipality", "name": "X", "timezone": "Nowhere/City"})
    assert bad.status_code == 422
    assert 'id="timezone-error"' in bad.get_data(as_text=True)


def test_account_pages_list_create_and_reset(client, login, region_tree):
    a = region_tree["a"]
    login(client, a["school_admin"])
    page = client.get(f"/tenants/{a['school']['id']}/users")
    assert page.status_code == 200 and "teacher-a" in page.get_data(as_text=True)
    created = client.post(f"/tenants/{a['school']['id']}/users",
                          data={"login": "pupil1", "full_name": "Петров Пётр", "password": "pupil-pass-1", "role": "pupil"})
    assert created.status_code == 302
    reset = client.post(f"/tenants/{a['school']['id']}/users/{a['teacher']['id']}/password", data={"password": "teacher-new-1"})
    assert reset.status_code == 302
    other = client.application.test_client()
    assert other.post("/login", data={"login": "teacher-a", "password": "teacher-new-1"}).status_code == 302
    login(client, a["teacher"], password="teacher-new-1")
    assert client.get(f"/tenants/{a['school']['id']}/users").status_code == 403


def test_tenant_page_query_count_does_not_grow_with_children(client, login, region_tree, make_tenant, count_queries):
    a = region_tree["a"]
    login(client, a["region_admin"])
    client.get(f"/tenants/{a['municipality']['id']}")  # the worker keeps the signed-in identity (core.accounts.kept)
    with count_queries() as small:
        assert client.get(f"/tenants/{a['municipality']['id']}").status_code == 200
    for n in range(30):
        make_tenant(f"Школа {n}", parent=a["municipality"])
    client.get(f"/tenants/{a['municipality']['id']}")  # new schools moved the keys the identity was kept under
    with count_queries() as large:
        assert client.get(f"/tenants/{a['municipality']['id']}").status_code == 200
    assert small.count == large.count


def test_people_of_a_deactivated_school_lose_access(api, region_tree):
    a = region_tree["a"]
    url = f"/api/v1/tenants/{a['school']['id']}"
    version = api(a["municipality_admin"], "GET", url).json["version"]
    assert api(a["municipality_admin"], "PATCH", url, json={"version": version, "is_active": False}).status_code == 200
    assert api(a["school_admin"], "GET", url).status_code == 404
    refused = api(a["school_admin"], "POST", f"{url}/regulation-versions",
                  json={"effective_from": "2021-09-01", "act": "Приказ", "values": {}})
    assert refused.status_code == 404
    assert api(a["municipality_admin"], "GET", url).json["is_active"] is False  # still managed from above
