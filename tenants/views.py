"""Tenant admin panels: the tree, a tenant's page, its regulations, accounts and audit log."""
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select

from core.accounts import service as accounts
from core.accounts.models import ROLE_LABELS, Membership, User
from core.audit import AuditEntry
from core.access import permission
from core.errors import Refused, require
from core.orm import get_or_404
from core.extensions import db
from tenants import regulation_form, regulation_words, service
from tenants.models import Tenant

bp = Blueprint("tenants", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/tenants")
PAGE_SIZE = 25


@bp.before_request
@login_required
def _signed_in():
    return None


def _page(stmt):
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return rows, {"page": page, "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), "total": total}


@bp.route("/tenants")
def index():
    if not accounts.is_platform_admin(g.membership):
        if g.membership and g.membership.tenant_id:
            return redirect(url_for("tenants.show", tenant_id=g.membership.tenant_id))
        abort(404)
    rows, pager = _page(service.children_query(None, q=request.args.get("q")))
    return render_template("tenants/index.html", tenants=rows, pager=pager,
                           can_create=service.can_create_child(None, "region"), errors={}, form={})


@bp.route("/tenants", methods=["POST"])
def create_region():
    return _create_child(None)


@bp.route("/tenants/<int:tenant_id>")
def show(tenant_id):
    tenant = service.load(tenant_id)
    chain = service.chain_of(tenant)
    rows, pager = _page(service.children_query(tenant, q=request.args.get("q")))
    return render_template("tenants/show.html", tenant=tenant, chain=chain, children=rows, pager=pager,
                           resolved=service.inherited(tenant, chain), kinds=service.creatable_kinds(tenant),
                           can_admin=service.can_administer(tenant), errors={}, form={},
                           **_statistics_context(tenant))


def _statistics_context(tenant):
    from core.jobs.service import message_of

    return {"stats": service.statistics(tenant), "stats_job": service.latest_statistics_job(tenant),
            "message_of": message_of}


@bp.route("/tenants/<int:tenant_id>/statistics")
def statistics_fragment(tenant_id):
    """The statistics section alone: the card fetches it when its recount ends."""
    tenant = service.load(tenant_id)
    return render_template("tenants/_statistics.html", tenant=tenant, can_admin=service.can_administer(tenant),
                           **_statistics_context(tenant))


@bp.route("/tenants/<int:tenant_id>/statistics", methods=["POST"])
def start_statistics(tenant_id):
    tenant = service.load(tenant_id)
    service.start_statistics(tenant)
    return redirect(url_for("tenants.show", tenant_id=tenant.id) + "#statistics")


@bp.route("/tenants/<int:tenant_id>/children", methods=["POST"])
def create_child(tenant_id):
    return _create_child(service.load(tenant_id))


def _create_child(parent):
    form = request.form
    try:
        child = service.create_tenant(
            kind=form.get("kind", ""), name=form.get("name", ""), parent_id=parent.id if parent else None,
            short_name=form.get("short_name") or None, timezone=form.get("timezone") or None,
            locale=form.get("locale") or None, website_url=form.get("website_url") or None)
    except Refused as error:
        db.session.rollback()
        flash(_("The tenant was not created: check the fields marked below."), "error")
        if parent is None:
            rows, pager = _page(service.children_query(None))
            return render_template("tenants/index.html", tenants=rows, pager=pager, can_create=True,
                                   errors=error.errors, form=form), error.status
        chain = service.chain_of(parent)
        rows, pager = _page(service.children_query(parent))
        return render_template("tenants/show.html", tenant=parent, chain=chain, children=rows, pager=pager,
                               resolved=service.inherited(parent, chain), kinds=service.creatable_kinds(parent),
                               can_admin=service.can_administer(parent), errors=error.errors,
                               form=form, **_statistics_context(parent)), error.status
    flash(_("Created: %(name)s.", name=child.name))
    return redirect(url_for("tenants.show", tenant_id=child.id))


@bp.route("/tenants/<int:tenant_id>/edit", methods=["POST"])
def edit(tenant_id):
    tenant = service.load(tenant_id)
    form = request.form
    changes = {k: form.get(k, "") for k in ("name", "short_name", "timezone", "locale", "website_url")}
    if "is_active" in form:
        changes["is_active"] = form.get("is_active") == "1"
    try:
        service.update_tenant(tenant, changes)
    except Refused as error:
        db.session.rollback()
        for field, messages in error.errors.items():
            flash(f"{field}: {' '.join(messages)}", "error")
        return redirect(url_for("tenants.show", tenant_id=tenant.id))
    flash(_("Saved."))
    return redirect(url_for("tenants.show", tenant_id=tenant.id))


# Regulations -----------------------------------------------------------------------------
# The page is a form per section (tenants/regulation_form.py); a new version is shown as the
# changes it makes and saved only once confirmed. The JSON view is the experts' way in.

def _regulation_state(tenant, on):
    chain = service.chain_of(tenant)
    versions = service.versions_of(tenant)
    current = next((v for v in versions if v.effective_from <= on), None)
    return chain, versions, current


def _regulation_page(tenant, on, errors=None, form=None, status=200):
    chain, versions, current = _regulation_state(tenant, on)
    effective = service.effective(tenant, on)
    blocks = regulation_form.blocks(tenant, chain, effective, service.effective_above(tenant, on), current,
                                    form=form, errors=errors)
    prefix_locks = form.getlist("lock_prefix") if form is not None else regulation_form.own_prefix_locks(current)
    return render_template("tenants/regulations.html", tenant=tenant, chain=chain, on=on, blocks=blocks,
                           versions=versions, current=current, prefix_locks=prefix_locks,
                           can_admin=service.can_administer(tenant), errors=errors or {}, form=form,
                           summary=regulation_form.error_summary(errors or {}), months=_months(),
                           version_rows=regulation_form.version_rows, lock_words=regulation_form.lock_words,
                           flat=_flat), status


def _regulation_json_page(tenant, on, errors=None, form=None, status=200):
    chain, versions, current = _regulation_state(tenant, on)
    effective = service.effective(tenant, on)
    own = {"values": current.values if current else {}, "locked": current.locked if current else []}
    return render_template("tenants/regulations_json.html", tenant=tenant, chain=chain, on=on,
                           document=regulation_words.as_json(effective.document),
                           provenance=regulation_words.as_json({p: s.as_dict() for p, s in effective.provenance.items()}),
                           own=regulation_words.as_json(own), versions=versions, as_json=regulation_words.as_json,
                           can_admin=service.can_administer(tenant), errors=errors or {}, form=form,
                           summary=regulation_form.error_summary(errors or {})), status


def _months():
    from flask_babel import format_date

    return [(str(m), format_date(date(2000, m, 1), "LLLL")) for m in range(1, 13)]


def _flat(value):
    return "; ".join(value) if isinstance(value, list) else value


@bp.route("/tenants/<int:tenant_id>/regulations")
def regulations_page(tenant_id):
    tenant = service.load(tenant_id)
    on = _parse_date(request.args.get("on")) or service.local_today(tenant)
    return _regulation_page(tenant, on)


@bp.route("/tenants/<int:tenant_id>/regulations/json")
def regulations_json(tenant_id):
    tenant = service.load(tenant_id)
    on = _parse_date(request.args.get("on")) or service.local_today(tenant)
    return _regulation_json_page(tenant, on)


@bp.route("/tenants/<int:tenant_id>/regulations", methods=["POST"])
@permission(service.can_administer, "tenant_id")
def add_version(tenant_id):
    """The form (or the JSON view, ``mode=json``) posts here: ``action=preview`` (the
    default) shows what the version changes, ``confirm`` saves it, ``edit`` goes back to
    the form with what was typed. Nothing is written before ``confirm``."""
    tenant = service.load(tenant_id)
    form = request.form
    mode = "json" if form.get("mode") == "json" else "form"
    action = form.get("action", "preview")
    shown_on = _parse_date(form.get("on")) or service.local_today(tenant)
    again = _regulation_json_page if mode == "json" else _regulation_page
    if action == "edit":
        return again(tenant, shown_on, {}, form)
    errors = {}
    effective_from = _parse_date(form.get("effective_from"))
    if effective_from is None:
        errors["effective_from"] = [_("Enter the date the act takes effect (DD.MM.YYYY or YYYY-MM-DD).")]
    if mode == "json":
        values, locked, more = regulation_form.read_json(form.get("document"))
    else:
        shown_version = next((v for v in service.versions_of(tenant) if v.effective_from <= shown_on), None)
        values, locked, more = regulation_form.read(form, service.effective(tenant, shown_on), shown_version)
    errors.update(more)
    status = 422
    if not errors:
        version = {"effective_from": effective_from, "act": form.get("act", ""), "values": values, "locked": locked}
        try:
            if action == "confirm":
                service.add_version(tenant, **version)
            else:
                proposal = service.propose_version(tenant, **version)
        except Refused as error:
            db.session.rollback()
            errors, status = error.errors, error.status
        else:
            if action == "confirm":
                flash(_("The new version of the regulation is saved."))
                return redirect(url_for("tenants.regulations_page", tenant_id=tenant.id,
                                        on=effective_from.isoformat()))
            chain = service.chain_of(tenant)
            return render_template(
                "tenants/regulations_preview.html", tenant=tenant, chain=chain, proposal=proposal,
                changes=regulation_form.changes(tenant, chain, proposal), mode=mode, on=shown_on,
                replay=[(k, v) for k, vs in form.lists() for v in vs if k not in ("csrf_token", "action")],
                lock_words=regulation_form.lock_words, flat=_flat)
    flash(_("The version was not saved: check the fields marked below."), "error")
    return again(tenant, shown_on, errors, form, status)


def _parse_date(raw):
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            from datetime import datetime

            return datetime.strptime(raw.strip(), fmt).date()
        except ValueError:
            continue
    return None


# Accounts --------------------------------------------------------------------------------



@bp.route("/tenants/<int:tenant_id>/users")
@permission(service.can_administer, "tenant_id")
def users(tenant_id, errors=None, form=None, status=200):
    tenant = service.load(tenant_id)
    stmt = (select(Membership).join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == tenant.id).order_by(User.full_name))
    q = request.args.get("q")
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(func.lower(User.full_name).like(like) | User.login.like(like))
    rows, pager = _page(stmt)
    people = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_({m.user_id for m in rows}))).scalars()} if rows else {}
    return render_template("tenants/users.html", tenant=tenant, chain=service.chain_of(tenant),
                           memberships=rows, people=people, pager=pager,
                           roles=[(r, ROLE_LABELS[r]) for r in accounts.grantable_roles(g.membership, tenant.kind, tenant.path)],
                           errors=errors or {}, form=form or {}), status


@bp.route("/tenants/<int:tenant_id>/users", methods=["POST"])
@permission(service.can_administer, "tenant_id")
def create_user(tenant_id):
    tenant = service.load(tenant_id)
    form = request.form
    try:
        user = accounts.create_user(login=form.get("login", ""), password=form.get("password", ""),
                                    full_name=form.get("full_name", ""), email=form.get("email") or None)
        accounts.grant(user, role=form.get("role", ""), tenant_id=tenant.id, tenant_path=tenant.path,
                       tenant_kind=tenant.kind, by=g.membership, reason="account created by an admin")
    except Refused as error:
        db.session.rollback()
        return users(tenant_id, errors=error.errors, form=form, status=error.status)
    flash(_("Account %(login)s created.", login=user.login))
    return redirect(url_for("tenants.users", tenant_id=tenant.id))


@bp.route("/tenants/<int:tenant_id>/users/<int:user_id>/password", methods=["POST"])
@permission(service.can_administer, "tenant_id")
def reset_password(tenant_id, user_id):
    tenant = service.load(tenant_id)
    user = get_or_404(User, user_id)
    require(accounts.may_manage_user(g.membership, user))
    try:
        accounts.reset_password(user, request.form.get("password", ""), reason=request.form.get("reason"))
    except Refused as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("tenants.users", tenant_id=tenant.id))
    flash(_("The password of %(login)s has been reset.", login=user.login))
    return redirect(url_for("tenants.users", tenant_id=tenant.id))


@bp.route("/tenants/<int:tenant_id>/audit")
@permission(service.can_administer, "tenant_id")
def audit_log(tenant_id):
    tenant = service.load(tenant_id)
    stmt = select(AuditEntry).where(AuditEntry.tenant_id == tenant.id).order_by(AuditEntry.seq.desc())
    rows, pager = _page(stmt)
    actors = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_({e.actor_id for e in rows if e.actor_id}))).scalars()} if rows else {}
    import json

    from tenants.audit_words import action_label

    # The recorded values as written, «Десятичные дроби» rather than \u0414\u0435…
    as_written = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)  # noqa: E731
    return render_template("tenants/audit.html", tenant=tenant, chain=service.chain_of(tenant), entries=rows,
                           actors=actors, pager=pager, action_label=action_label, as_written=as_written)


# Onboarding --------------------------------------------------------------------------------

@bp.route("/tenants/<int:tenant_id>/onboarding/template.xlsx")
def onboarding_template(tenant_id):
    from flask import Response

    from core import tabular
    from tenants import onboarding

    service.load(tenant_id)
    return Response(tabular.template_xlsx(onboarding.COLUMNS, str(onboarding.TITLE)),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=onboarding.xlsx"})


@bp.route("/tenants/<int:tenant_id>/onboarding", methods=["GET", "POST"])
@permission(service.can_onboard, "tenant_id")
def onboarding_page(tenant_id):
    from core.uploads import load_upload, save_upload
    from tenants import onboarding

    region = service.load(tenant_id)
    context = {"tenant": region, "chain": service.chain_of(region), "parsed": None, "report": None, "error": None,
               "upload": None}
    if request.method == "POST":
        try:
            if request.form.get("action") == "commit":
                filename, data = load_upload(region, request.form.get("upload", ""))
                parsed, report = onboarding.commit(region, filename, data, issued_by_id=g.membership.user_id)
                if report is None:
                    db.session.rollback()
                    context["parsed"] = parsed
                    return render_template("tenants/onboarding.html", **context), 422
                context["report"] = report
            else:
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    context["error"] = _("Choose a file.")
                    return render_template("tenants/onboarding.html", **context), 422
                data = upload.read()
                context["parsed"] = onboarding.preview(region, upload.filename, data)
                if not context["parsed"].errors:
                    context["upload"] = save_upload(region, upload.filename, data)
        except Refused as error:
            db.session.rollback()
            context["error"] = str(error)
            return render_template("tenants/onboarding.html", **context), 422
    return render_template("tenants/onboarding.html", **context)
