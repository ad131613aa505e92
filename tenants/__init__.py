"""The tenant tree (region > municipality > school), regulations and their inheritance,
tenant admin panels and the demo tenants."""
from flask import g, url_for
from flask_babel import lazy_gettext as _l

from core import localtime, register_home, register_nav, register_url_loader
from core.accounts import second_factor
from core.accounts.service import scope_established
from core.extensions import api as api_ext


def init_app(app):
    from tenants import api as tenants_api
    from tenants import cli, models, regulations, sections, service, tasks, views  # noqa: F401 - models and tasks register themselves

    # The platform's own sections of the regulation; features register theirs in their init_app.
    for section in sections.PLATFORM_SECTIONS:
        regulations.register_section(app, section)
    app.register_blueprint(views.bp)
    api_ext.register_blueprint(tenants_api.blp)
    cli.init_app(app)
    service.install_session_events()
    app.jinja_env.globals["kind_label"] = service.kind_label
    scope_established.connect(_resolve_home_settings, app)
    register_url_loader(app, "tenant_id", service.load)
    app.context_processor(lambda: {"tenant_names": _membership_tenant_names})
    register_home(app, _home)
    register_nav(app, _nav)
    # Security item 9: the regulation says which tenants' admins need a second factor.
    second_factor.register_policy(app, service.admin_second_factor_required)
    # DL-5: a platform admin reads a job's or a check's time in the zone of its tenant.
    localtime.register_zone_resolver(app, service.zones_of)


def _resolve_home_settings(app, membership):
    """The acting tenant's time zone and language for this request (DL-5). A role in a
    deactivated tenant (or under one) gives no access: the request goes on without it."""
    from tenants import service

    if membership is None or membership.tenant_id is None:
        return
    chain = service.chain_for_path(membership.tenant_path)
    if not chain or chain[-1].id != membership.tenant_id:
        return
    tenant = chain[-1]
    g.home_tenant = tenant
    if not all(node.is_active for node in chain):
        from core.tenancy import Scope, set_scope

        g.membership = None
        set_scope(Scope(user_id=membership.user_id))
        return
    g.tenant_timezone = service.inherited(tenant, chain)["timezone"]
    # Only a language some tenant chose outranks the browser's; the platform default does not.
    g.tenant_locale = next((t.locale for t in reversed(chain) if t.locale), None)


def _home(membership):
    if membership is None:
        return None
    if membership.tenant_id is None:
        return url_for("tenants.index")
    return url_for("tenants.show", tenant_id=membership.tenant_id)


def _nav(membership):
    if membership is None:
        return []
    items = []
    if membership.tenant_id is None:
        items.append((_l("Regions"), url_for("tenants.index")))
    else:
        items.append((_l("My organisation"), url_for("tenants.show", tenant_id=membership.tenant_id)))
    return items


def _membership_tenant_names():
    """Names of the tenants of the signed-in user's own roles (the account page lists them,
    whichever role is acting); called by the template that needs them, not on every page."""
    memberships = g.get("memberships") or []
    ids = {m.tenant_id for m in memberships if m.tenant_id}
    if not ids:
        return {}
    from sqlalchemy import select

    from core.extensions import db
    from core.tenancy import unscoped
    from tenants.models import Tenant

    with unscoped("account page: names of the user's own tenants", routine=True):
        rows = db.session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(ids))).all()
    return dict(rows)
