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


@pytest.mark.parametrize("reason", ["", "   ", None])
@pytest.mark.parametrize("platform", [False, True])
def test_unscoped_needs_a_reason(reason, platform):
    with pytest.raises(ValueError):
        with unscoped(reason, platform=platform):
            pass


def test_the_door_logs_its_reason_caller_request_and_user(app, region_tree, caplog):
    caplog.set_level(logging.DEBUG, logger="tabel.tenancy")
    tabel = logging.getLogger("tabel")
    tabel.propagate = True
    a = region_tree["a"]
    try:
        with app.test_request_context():
            from flask import g

            g.request_id = "req-42"
            with scoped(Scope(user_id=a["region_admin"]["id"], home_path=a["region"]["path"])):
                with unscoped("test: a routine read", routine=True):
                    pass
                with unscoped("test: act as the platform", platform=True):
                    pass
            db.session.remove()
    finally:
        tabel.propagate = False
    # (pytest may see a record twice here, through the root logger's handlers)
    records = {r.getMessage(): r for r in caplog.records if r.name == "tabel.tenancy"}
    routine, platform = records.values()
    assert routine.levelno == logging.DEBUG and platform.levelno == logging.INFO
    for record, reason in ((routine, "test: a routine read"), (platform, "test: act as the platform")):
        message = record.getMessage()
        assert reason in message and record.unscoped_reason == reason
        assert record.unscoped_caller == __name__ and __name__ in message
        assert "req-42" in message and str(a["region_admin"]["id"]) in message
    assert "as the platform" in platform.getMessage() and platform.unscoped_platform


def test_the_door_closes_behind_an_exception(app, region_tree):
    from flask import g

    from core.tenancy import current_scope

    a = region_tree["a"]
    school = Scope(home_path=a["school"]["path"])
    own = Membership(role="school_admin")
    with app.test_request_context(), scoped(school):
        g.membership = own
        with pytest.raises(RuntimeError, match="inside"):
            with unscoped("test: a read that fails"):
                assert len(db.session.execute(select(Tenant)).all()) == 6
                raise RuntimeError("inside")
        with pytest.raises(RuntimeError, match="inside"):
            with unscoped("test: platform work that fails", platform=True):
                assert current_scope().everything and g.membership.role == "platform_admin"
                raise RuntimeError("inside")
        assert current_scope() is school and g.membership is own
        seen = {t.id for t in db.session.execute(select(Tenant)).scalars()}
        assert seen == {a["school"]["id"], a["municipality"]["id"], a["region"]["id"]}  # scoped again
        db.session.remove()


def test_the_everything_scope_is_built_only_by_the_door(app):
    with pytest.raises(ScopeError):
        Scope(everything=True)
    with pytest.raises(ScopeError):
        Scope(user_id=1, everything=True)
    with app.app_context(), pytest.raises(RuntimeError):
        unscoped("test: not a request", platform=True).for_request()  # only a request holds it open


def test_no_module_but_tenancy_builds_the_everything_scope():
    """The rule cannot regress: core, tenants and the features reach across tenants only
    through ``core.tenancy.unscoped``, never by building the scope themselves."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    found = [str(path.relative_to(root)) for top in ("core", "tenants", "blueprints")
             for path in sorted((root / top).rglob("*.py"))
             if "everything=True" in path.read_text(encoding="utf-8").replace(" ", "")]
    assert found == ["core/tenancy.py"]
    assert not [str(path.relative_to(root)) for top in ("core", "tenants", "blueprints")
                for path in sorted((root / top).rglob("*.py")) if "as_platform(" in path.read_text(encoding="utf-8")]


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


def test_a_second_app_in_the_process_scopes_each_statement_once(app, region_tree, database_url, count_queries):
    """Every app made in a process shares the session class: the scoping hook is attached
    once, or each statement carries the scope's criteria once per app ever made (seen as a
    suite that slowed to a crawl on PostgreSQL)."""
    from core import create_app
    from tests.fixtures.app import app_config

    def criteria_in_a_scoped_read():
        with app.test_request_context(), scoped(Scope(home_path=region_tree["a"]["school"]["path"])):
            with count_queries() as counter:
                db.session.execute(select(Tenant)).all()
        return counter.statements[-1].count("LIKE")

    before = criteria_in_a_scoped_read()
    create_app(app_config(database_url))
    create_app(app_config(database_url))
    assert criteria_in_a_scoped_read() == before
