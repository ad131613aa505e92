"""The request's start kept per worker (core.accounts.kept): the signed-in account, its
roles and its home tenant's chain are read in one statement while they hold, and a change
to any of them is seen by the very next request."""
from sqlalchemy import select


def _revoke_all(app, user_id):
    from core.accounts.models import Membership
    from core.extensions import db
    from core.tenancy import unscoped

    with app.app_context(), unscoped("test: an admin revokes the roles", platform=True):
        for membership in db.session.execute(select(Membership).where(Membership.user_id == user_id)).scalars():
            membership.is_active = False
        db.session.commit()
        db.session.remove()


def test_a_kept_identity_costs_one_statement_and_a_revoked_role_is_gone_at_once(app, region_tree, token,
                                                                                count_queries):
    teacher = region_tree["a"]["teacher"]
    headers = token(teacher)
    http = app.test_client()
    assert http.get("/api/v1/me", headers=headers).json["memberships"]
    with count_queries() as counter:
        me = http.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and [m["role"] for m in me.json["memberships"]] == ["teacher"]
    assert len(counter.statements) == 1, counter.statements  # the account, its roles, its session, the keys
    assert "account_session" in counter.statements[0]
    _revoke_all(app, teacher["id"])
    assert http.get("/api/v1/me", headers=headers).json["memberships"] == []
    school = region_tree["a"]["school"]["id"]
    assert http.get(f"/api/v1/tenants/{school}", headers=headers).status_code == 404


def test_a_renamed_school_is_read_again(app, region_tree, login):
    """The kept chain follows the school's shared change key (a request changing the account
    it was given, merged from the kept copy, is test_i18n's language choice saved)."""
    admin = region_tree["a"]["school_admin"]
    school = region_tree["a"]["school"]
    http = login(app.test_client(), admin)
    first = http.get(f"/tenants/{school['id']}").get_data(as_text=True)
    assert school["name"] in first
    from core.extensions import db
    from core.tenancy import unscoped
    from tenants.models import Tenant

    with app.app_context(), unscoped("test: the municipality renames the school", platform=True):
        db.session.get(Tenant, school["id"]).name = "Школа переименованная"
        db.session.commit()
        db.session.remove()
    assert "Школа переименованная" in http.get(f"/tenants/{school['id']}").get_data(as_text=True)


def test_an_ended_session_leaves_nothing_kept_in_use(app, region_tree, token):
    """A token whose session ended is refused, and the identity kept for it serves nothing
    to that request (no copies of tenant rows reach a request that is not signed in)."""
    from flask import g

    teacher = region_tree["a"]["teacher"]
    headers = token(teacher)
    http = app.test_client()
    assert http.get("/api/v1/me", headers=headers).status_code == 200
    assert http.delete("/api/v1/auth/token", headers=headers).status_code == 204
    with app.test_request_context("/api/v1/me", headers=headers):
        from flask_login import current_user

        app.preprocess_request()
        assert not current_user.is_authenticated
        assert g.get("kept_identity") is None
