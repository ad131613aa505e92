"""Scoping fails closed (ARCHITECTURE.md, Tenancy; STYLE.md 3)."""
import logging

import pytest
from sqlalchemy import select

from core.accounts.models import Membership, User
from core.extensions import db
from core.tenancy import Scope, ScopeError, scoped, unscoped
from tenants.models import RegulationVersion, Tenant


def names(rows):
    return sorted(t.name for t in rows)


def test_tenant_data_without_a_scope_raises(app, region_tree):
    with app.app_context():
        with pytest.raises(ScopeError):
            db.session.execute(select(Tenant)).all()
        with pytest.raises(ScopeError):
            db.session.execute(select(Membership)).all()
        db.session.remove()


def test_scope_shows_the_subtree_and_its_ancestors_only(app, region_tree):
    a, b = region_tree["a"], region_tree["b"]
    with app.app_context():
        with scoped(Scope(home_path=a["municipality"]["path"])):
            seen = names(db.session.execute(select(Tenant)).scalars())
        assert seen == sorted([a["region"]["name"], a["municipality"]["name"], a["school"]["name"]])
        assert b["school"]["name"] not in seen
        db.session.remove()


def test_switching_scope_never_reuses_the_previous_tenant(app, region_tree):
    """The criteria are cached statements; their tenant must come from the current scope."""
    a, b = region_tree["a"], region_tree["b"]
    with app.app_context():
        for _ in range(3):
            for side, other in ((a, b), (b, a)):
                with scoped(Scope(home_path=side["school"]["path"])):
                    found = db.session.execute(
                        select(Tenant).where(Tenant.id == other["school"]["id"])).scalar_one_or_none()
                    own = db.session.execute(
                        select(Tenant).where(Tenant.id == side["school"]["id"])).scalar_one_or_none()
                assert found is None
                assert own is not None and own.id == side["school"]["id"]
                db.session.expunge_all()
        db.session.remove()


def test_users_are_visible_through_their_memberships_only(app, region_tree):
    a, b = region_tree["a"], region_tree["b"]
    with app.app_context():
        with scoped(Scope(user_id=a["region_admin"]["id"], home_path=a["region"]["path"])):
            logins = {u.login for u in db.session.execute(select(User)).scalars()}
        assert {"region-a", "muni-a", "school-a", "teacher-a"} <= logins
        assert not logins & {"region-b", "muni-b", "school-b", "teacher-b", "root"}
        db.session.remove()


def test_regulations_are_visible_below_their_owner_not_sideways(app, region_tree, as_platform):
    from datetime import date

    from tenants import service

    a, b = region_tree["a"], region_tree["b"]
    with as_platform():
        for side in (a, b):
            region = db.session.get(Tenant, side["region"]["id"])
            service.add_version(region, effective_from=date(2020, 9, 1), act="Приказ",
                                values={"retention": {"journal_years": 6}})
        db.session.commit()
    with app.app_context():
        with scoped(Scope(home_path=a["school"]["path"])):
            owners = {v.tenant_id for v in db.session.execute(select(RegulationVersion)).scalars()}
        assert owners == {a["region"]["id"]}
        db.session.remove()


def test_unscoped_reads_everything_and_is_logged(app, region_tree, caplog):
    caplog.set_level(logging.INFO, logger="tabel.tenancy")
    tabel = logging.getLogger("tabel")
    tabel.propagate = True
    try:
        with app.app_context():
            with unscoped("test: count every tenant"):
                count = len(db.session.execute(select(Tenant)).all())
            db.session.remove()
    finally:
        tabel.propagate = False
    assert count == 6
    assert "unscoped access: test: count every tenant" in caplog.text


def test_unscoped_needs_a_reason():
    with pytest.raises(ValueError):
        with unscoped(""):
            pass


def test_orm_update_is_scoped_too(app, region_tree):
    from sqlalchemy import update

    a, b = region_tree["a"], region_tree["b"]
    with app.app_context():
        with scoped(Scope(home_path=a["region"]["path"])):
            db.session.execute(update(Tenant).values(short_name="renamed"))
            db.session.commit()
        with unscoped("test: read back"):
            renamed = {t.id for t in db.session.execute(select(Tenant).where(Tenant.short_name == "renamed")).scalars()}
        db.session.remove()
    assert b["school"]["id"] not in renamed
    assert a["school"]["id"] in renamed


def test_scope_is_reset_between_requests(app, region_tree, client, login):
    """A request after a signed-in one, without the cookie, sees no tenant data."""
    login(client, region_tree["a"]["region_admin"])
    assert client.get(f"/api/v1/tenants/{region_tree['a']['school']['id']}").status_code == 200
    anonymous = app.test_client()
    assert anonymous.get(f"/api/v1/tenants/{region_tree['a']['school']['id']}").status_code == 401


def test_core_statements_on_tenant_tables_are_refused_outside_unscoped(app, region_tree):
    """A Core select gets no loader criteria, so it must not run in a tenant's scope."""
    a = region_tree["a"]
    with app.app_context():
        with pytest.raises(ScopeError):
            db.session.execute(select(Tenant.__table__)).all()
        with scoped(Scope(home_path=a["school"]["path"])), pytest.raises(ScopeError):
            db.session.execute(select(Tenant.__table__.c.name)).all()
        with unscoped("test: a Core read on purpose"):
            assert len(db.session.execute(select(Tenant.__table__)).all()) == 6
        db.session.remove()


def test_absurd_ids_are_404_in_urls_and_422_in_bodies_never_500(client, token, region_tree):
    headers = token(region_tree["a"]["region_admin"])
    assert client.get("/api/v1/tenants/99999999999999999999/regulations", headers=headers).status_code == 404
    response = client.post("/api/v1/tenants", headers=headers,
                           json={"kind": "school", "name": "x", "parent_id": 99999999999999999999})
    assert response.status_code == 422 and "parent_id" in response.json["errors"]
