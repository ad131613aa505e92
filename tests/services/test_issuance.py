"""The register of issued credentials (SV-3, AC-3): every one-time code a tenant issued, to
whom, by whom, when, until when, and whether it was used; never the code itself."""
import pytest

pytestmark = pytest.mark.usefixtures("school_day")


@pytest.fixture
def issued(region_tree, as_platform, make_user):
    """Two codes in school A: one by its admin to a teacher, one by an import (no issuer)."""
    from core.accounts import service as accounts
    from core.accounts.models import User
    from core.extensions import db

    a = region_tree["a"]
    newcomer = make_user("newcomer-a", "teacher", a["school"], full_name="Новикова Мария Петровна")
    with as_platform():
        codes = {
            "teacher": accounts.issue_code(db.session.get(User, newcomer["id"]), tenant_id=a["school"]["id"],
                                           issued_by_id=a["school_admin"]["id"]),
            "import": accounts.issue_code(db.session.get(User, a["teacher"]["id"]), tenant_id=a["school"]["id"]),
        }
        db.session.commit()
    return {"a": a, "newcomer": newcomer, "codes": codes}


def test_the_school_admin_sees_who_was_issued_a_code_and_whether_it_was_used(app, issued, api, login, client):
    a = issued["a"]
    first = api(a["school_admin"], "GET", f"/api/v1/tenants/{a['school']['id']}/codes").get_json()
    assert first["total"] == 2
    by_login = {r["login"]: r for r in first["rows"]}
    assert by_login["newcomer-a"]["issued_by"] == "School-A" and by_login["newcomer-a"]["status"] == "open"
    assert by_login["teacher-a"]["issued_by"] is None
    assert issued["codes"]["teacher"] not in str(first)  # the code itself is nowhere

    used = client.post("/login/code", data={"login": "newcomer-a", "code": issued["codes"]["teacher"],
                                            "password": "a-new-password-1", "password2": "a-new-password-1"})
    assert used.status_code in (200, 302)
    row = {r["login"]: r for r in api(a["school_admin"], "GET",
                                      f"/api/v1/tenants/{a['school']['id']}/codes").get_json()["rows"]}["newcomer-a"]
    assert row["status"] == "used" and row["status_label"] == "использован"

    page = login(app.test_client(), a["school_admin"]).get(f"/tenants/{a['school']['id']}/codes?q=Новикова")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Новикова Мария Петровна" in text and "teacher-a" not in text
    assert "импорт или система" not in text and "1 код" in text


def test_only_the_tenants_administration_reads_the_register(app, issued, api, region_tree):
    a = issued["a"]
    url = f"/api/v1/tenants/{a['school']['id']}/codes"
    assert api(a["municipality_admin"], "GET", url).status_code == 200
    assert api(a["teacher"], "GET", url).status_code == 403
    assert api(region_tree["b"]["region_admin"], "GET", url).status_code == 404
