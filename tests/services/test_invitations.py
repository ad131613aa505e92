"""Invitation slips (issue #15, item 4; AC-3): the class teacher issues one-time codes to a
class's pupils and guardians, the slips print as a PDF with a QR code of the sign-in link,
redeeming a code opens exactly that pupil's diary, and the register shows the issue and
the use."""
import pytest


@pytest.fixture
def school_class(region_tree, make_roster):
    a = region_tree["a"]
    return make_roster(a["school"], pupils=2, lessons=True, teacher_user=a["teacher"])


def test_the_class_teacher_invites_and_a_guardian_redeems_a_slip_into_the_childs_diary(
        app, region_tree, school_class, api, login, raw_sql):
    a = region_tree["a"]
    url = f"/api/v1/classes/{school_class['class_id']}/invitations"
    response = api(a["teacher"], "POST", url, json={"who": ["pupils", "guardians"]})
    assert response.status_code == 201, response.json
    slips = response.json
    assert sorted(s["kind"] for s in slips) == ["guardian", "guardian", "pupil", "pupil"]
    mother = next(s for s in slips if s["kind"] == "guardian" and s["pupil"].startswith("Ученик000"))
    assert mother["name"] == "Родитель000 Ольга" and "/login/code?" in mother["link"]
    # The account is made and linked to the guardian's record, with the guardian's role.
    linked = raw_sql("SELECT g.user_id, u.login FROM guardian g JOIN \"user\" u ON u.id = g.user_id WHERE g.id = :g",
                     g=mother["record_id"])
    assert [tuple(r) for r in linked] == [(linked[0].user_id, mother["login"])]
    roles = raw_sql("SELECT role, tenant_id FROM membership WHERE user_id = :u", u=linked[0].user_id)
    assert [tuple(r) for r in roles] == [("guardian", a["school"]["id"])]

    # The QR code's link opens the sign-in page with the login and the code filled in.
    browser = app.test_client()
    page = browser.get(mother["link"].split("localhost", 1)[-1]).get_data(as_text=True)
    assert f'value="{mother["login"]}"' in page and f'value="{mother["code"]}"' in page
    done = browser.post("/login/code", data={"login": mother["login"], "code": mother["code"], "password": "новый-пароль-1"})
    assert done.status_code == 302
    diary = browser.get("/diary", follow_redirects=True).get_data(as_text=True)
    assert "Ученик000 Иван" in diary and "Ученик001" not in diary
    # Used once: the same code again is refused, by field.
    again = app.test_client().post("/login/code", data={"login": mother["login"], "code": mother["code"],
                                                         "password": "другой-пароль-2"})
    assert again.status_code == 422 and "Код неверен" in again.get_data(as_text=True)

    # The register shows the four codes issued by the teacher, this one used.
    register = api(a["school_admin"], "GET", f"/api/v1/tenants/{a['school']['id']}/codes").json
    rows = {r["login"]: r for r in register["rows"]}
    assert rows[mother["login"]]["status"] == "used" and rows[mother["login"]]["issued_by"] == a["teacher"]["login"].title()
    assert sum(1 for r in register["rows"] if r["login"].startswith(f"s{a['school']['id']}-")) == 4

    # A second round invites only those who have never signed in; a reissue needs «everyone».
    second = api(a["teacher"], "POST", url, json={"who": ["guardians"]}).json
    assert [s["name"] for s in second] == ["Родитель001 Ольга"]
    assert [s["login"] for s in second] == [next(s["login"] for s in slips if s["name"] == "Родитель001 Ольга")]
    everyone = api(a["teacher"], "POST", url, json={"who": ["guardians"], "everyone": True}).json
    assert len(everyone) == 2


def test_slips_print_as_a_pdf_and_only_the_class_teacher_or_administration_may_invite(
        app, region_tree, school_class, login, make_user, api):
    a = region_tree["a"]
    page_url = f"/classes/{school_class['class_id']}/invitations"
    teacher = login(app.test_client(), a["teacher"])
    page = teacher.get(page_url).get_data(as_text=True)
    assert "Родитель000 Ольга" in page and "ещё нет учётной записи" in page
    pdf = teacher.post(page_url, data={"who": ["pupils"]})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "no-store" in pdf.headers["Cache-Control"]
    refused = teacher.post(page_url, data={})
    assert refused.status_code == 422 and "Выберите учеников, родителей или тех и других" in refused.get_data(as_text=True)
    other = make_user("teacher-other", "teacher", a["school"])
    assert login(app.test_client(), other).get(page_url).status_code == 403
    assert api(other, "POST", f"/api/v1/classes/{school_class['class_id']}/invitations",
               json={"who": ["pupils"]}).status_code == 403
    assert api(region_tree["b"]["school_admin"], "POST", f"/api/v1/classes/{school_class['class_id']}/invitations",
               json={"who": ["pupils"]}).status_code == 404
    bad = api(a["school_admin"], "POST", f"/api/v1/classes/{school_class['class_id']}/invitations",
              json={"who": ["teachers"]})
    assert bad.status_code == 422 and "who" in str(bad.json)


def test_a_teacher_may_grant_family_roles_only_through_a_class_they_look_after(app, region_tree):
    """The narrow right is bound to the granting member's own school and to family roles."""
    from core.accounts import service as accounts
    from core.accounts.models import Membership, User
    from core.errors import Refused
    from core.extensions import db
    from core.tenancy import unscoped

    a, b = region_tree["a"], region_tree["b"]
    with app.test_request_context(), unscoped("test: grants", platform=True):
        teacher = db.session.execute(db.select(Membership).where(Membership.user_id == a["teacher"]["id"])).scalar_one()
        person = accounts.create_user(login="family-x", password="пароль-для-теста", full_name="Семья Икс")
        with pytest.raises(Refused):
            accounts.grant(person, role="school_admin", by=teacher, tenant_id=a["school"]["id"],
                           tenant_path=a["school"]["path"], tenant_kind="school", family_of="класс 5а")
        with pytest.raises(Refused):
            accounts.grant(person, role="guardian", by=teacher, tenant_id=b["school"]["id"],
                           tenant_path=b["school"]["path"], tenant_kind="school", family_of="класс 5а")
        with pytest.raises(Refused):
            accounts.grant(person, role="guardian", by=teacher, tenant_id=a["school"]["id"],
                           tenant_path=a["school"]["path"], tenant_kind="school")
        granted = accounts.grant(person, role="guardian", by=teacher, tenant_id=a["school"]["id"],
                                 tenant_path=a["school"]["path"], tenant_kind="school", family_of="класс 5а")
        assert granted.role == "guardian" and isinstance(person, User)
        db.session.rollback()


def test_a_class_teacher_cannot_reissue_the_code_of_an_account_with_other_roles(
        app, region_tree, school_class, api, login, raw_sql):
    """A code sets the password: a guardian who is also the school's administrator keeps
    their account out of the class teacher's reach; the administration issues theirs."""
    a = region_tree["a"]
    raw_sql("UPDATE guardian SET user_id = :u WHERE id = :g", u=a["school_admin"]["id"], g=school_class["guardian_ids"][0])
    page = login(app.test_client(), a["teacher"]).get(f"/classes/{school_class['class_id']}/invitations")
    assert "администрация школы выдаёт код" in page.get_data(as_text=True)
    url = f"/api/v1/classes/{school_class['class_id']}/invitations"
    slips = api(a["teacher"], "POST", url, json={"who": ["guardians"], "everyone": True}).json
    assert [s["name"] for s in slips] == ["Родитель001 Ольга"]
    assert a["school_admin"]["login"] not in [s["login"] for s in slips]
    by_region = api(a["region_admin"], "POST", url, json={"who": ["guardians"], "everyone": True}).json
    assert a["school_admin"]["login"] in [s["login"] for s in by_region]


def test_guessing_a_slips_code_is_throttled_like_a_password(database_url, app, region_tree, school_class, api):
    """AC-3: wrong codes for a login lock it as wrong passwords do; the right code is then
    refused too until the lock ends, and the page says when to try again."""
    from core import create_app
    from tests.conftest import app_config

    slips = api(region_tree["a"]["teacher"], "POST", f"/api/v1/classes/{school_class['class_id']}/invitations",
                json={"who": ["pupils"]}).json
    slip = slips[0]
    limited = create_app(app_config(database_url, LOGIN_THROTTLE_ENABLED=True, LOGIN_FREE_FAILURES=3,
                                    LOGIN_LOCK_SECONDS=60)).test_client()
    codes = [limited.post("/login/code", data={"login": slip["login"], "code": f"AAAA-BBBB-CCC{n}",
                                                 "password": "новый-пароль-1"}).status_code for n in range(5)]
    assert codes == [422, 422, 422, 429, 429]
    right = limited.post("/login/code", data={"login": slip["login"], "code": slip["code"], "password": "новый-пароль-1"})
    page = right.get_data(as_text=True)
    assert right.status_code == 429 and "Слишком много неудачных попыток" in page and 'name="code"' in page
    assert 0 < int(right.headers["Retry-After"]) <= 60
