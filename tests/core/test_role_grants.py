"""Who may grant which role where: a role is granted only if it belongs to the tenant's kind
and the granting admin stands above it. Every (granting role x requested role x tenant kind)
pair is tried through the API and through the admin page's form."""
import itertools

import pytest
from sqlalchemy import func, select

from core.accounts.models import ROLES, Membership
from core.errors import Refused
from core.extensions import db
from core.tenancy import unscoped

LEVEL = {"platform_admin": 0, "region_admin": 1, "municipality_admin": 2, "school_admin": 3}
KIND_LEVEL = {"region": 1, "municipality": 2, "school": 3}
KIND_ROLES = {"region": {"region_admin"}, "municipality": {"municipality_admin"},
              "school": {"school_admin", "teacher", "guardian", "pupil"}}
GRANTERS = ("platform_admin", "region_admin", "municipality_admin", "school_admin", "teacher")


def expected(granter, kind, role):
    """The answer written out from the rule, independently of the code under test."""
    if granter not in LEVEL or LEVEL[granter] > KIND_LEVEL[kind]:
        return 403  # not an admin of this tenant at all
    if role not in KIND_ROLES[kind]:
        return 422  # the role is not held in a tenant of this kind (platform_admin never is)
    if LEVEL[granter] == KIND_LEVEL[kind] and role in LEVEL and LEVEL[role] <= LEVEL[granter]:
        return 403  # in their own tenant an admin grants only narrower roles
    return 201


CASES = list(itertools.product(GRANTERS, ("region", "municipality", "school"), ROLES))


def _platform_admins(app):
    with app.app_context(), unscoped("test: count platform admins"):
        return db.session.execute(select(func.count()).select_from(Membership)
                                  .where(Membership.role == "platform_admin")).scalar_one()


def _granter(region_tree, granter):
    return region_tree["platform_admin"] if granter == "platform_admin" else region_tree["a"][granter]


def test_the_rule_table_covers_every_outcome():
    outcomes = {expected(*case) for case in CASES}
    assert outcomes == {201, 403, 422}
    assert all(expected(g, k, "platform_admin") != 201 for g, k, _ in CASES)


def test_every_grant_through_the_api(app, client, token, region_tree):
    before = _platform_admins(app)
    headers = {g: token(_granter(region_tree, g)) for g in GRANTERS}
    wrong = []
    for n, (granter, kind, role) in enumerate(CASES):
        tenant = region_tree["a"][kind]
        response = client.post(f"/api/v1/tenants/{tenant['id']}/users", headers=headers[granter],
                               json={"login": f"new-api-{n}", "password": "long-enough-1",
                                     "full_name": "Новый Человек", "role": role})
        want = expected(granter, kind, role)
        if response.status_code != want:
            wrong.append((granter, kind, role, response.status_code, want))
        elif want == 201:
            assert response.json["role"] == role and response.json["tenant_id"] == tenant["id"]
        elif want in (403, 422) and granter in LEVEL and LEVEL[granter] <= KIND_LEVEL[kind]:
            assert response.mimetype == "application/problem+json"
            assert "role" in response.json["errors"]
    assert wrong == []
    assert _platform_admins(app) == before


def test_every_grant_through_the_form(app, client, login, region_tree):
    before = _platform_admins(app)
    browsers = {g: login(app.test_client(), _granter(region_tree, g)) for g in GRANTERS}
    wrong = []
    for n, (granter, kind, role) in enumerate(CASES):
        tenant = region_tree["a"][kind]
        response = browsers[granter].post(f"/tenants/{tenant['id']}/users", data={
            "login": f"new-form-{n}", "password": "long-enough-1", "full_name": "Новый Человек", "role": role})
        want = 302 if expected(granter, kind, role) == 201 else expected(granter, kind, role)
        if response.status_code != want:
            wrong.append((granter, kind, role, response.status_code, want))
    assert wrong == []
    assert _platform_admins(app) == before


@pytest.mark.parametrize("granter, kind, offered", [
    ("school_admin", "school", ["teacher", "guardian", "pupil"]),
    ("municipality_admin", "school", ["school_admin", "teacher", "guardian", "pupil"]),
    ("municipality_admin", "municipality", []),
    ("region_admin", "municipality", ["municipality_admin"]),
])
def test_the_form_offers_only_the_roles_one_may_grant(app, login, region_tree, granter, kind, offered):
    browser = login(app.test_client(), region_tree["a"][granter])
    page = browser.get(f"/tenants/{region_tree['a'][kind]['id']}/users").get_data(as_text=True)
    shown = [role for role in ROLES if f'<option value="{role}">' in page]
    assert shown == offered


def test_a_job_grants_with_its_starters_rights_only(app, region_tree, as_platform):
    """A background job acts as whoever started it: a school admin's job cannot make an admin."""
    from core.accounts import service as accounts
    from core.accounts.models import User
    from core.jobs.models import Job
    from core.jobs.service import _acting_membership

    school = region_tree["a"]["school"]
    with as_platform():
        job = Job(kind="test", tenant_id=school["id"], tenant_path=school["path"],
                  created_by_id=region_tree["a"]["school_admin"]["id"], params={})
        acting = _acting_membership(job)
        assert acting.role == "school_admin"
        person = accounts.create_user(login="via-job", password="long-enough-1", full_name="Через Задание")
        with pytest.raises(Refused) as refused:
            accounts.grant(person, role="school_admin", by=acting, tenant_id=school["id"],
                           tenant_path=school["path"], tenant_kind="school")
        assert refused.value.status == 403
        assert accounts.grant(person, role="teacher", by=acting, tenant_id=school["id"],
                              tenant_path=school["path"], tenant_kind="school").role == "teacher"
        stranger = Job(kind="test", tenant_id=school["id"], tenant_path=school["path"],
                       created_by_id=region_tree["b"]["school_admin"]["id"], params={})
        assert _acting_membership(stranger) is None
        assert db.session.execute(select(User).where(User.login == "via-job")).scalar_one()
