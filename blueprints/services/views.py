"""The e-services pages: public ones without sign-in (the region's catalogue, a school's
service page, the portal's deep link), and the catalogue's editing by the region's admins
and the responsible persons by the school's."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core.access import permission
from core.errors import Refused
from blueprints.services import catalogue
from tenants import service as tenants

bp = Blueprint("services", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/services")


# Public -------------------------------------------------------------------------------

@bp.route("/public/regions/<int:region>/services")
def region_catalogue(region):
    """The region's e-services (SV-1) and its schools' service pages: for everyone."""
    found = catalogue.public_catalogue(region)
    if found is None:
        abort(404)
    region_row, services, schools = found
    return render_template("services/catalogue.html", region=region_row, services=services, schools=schools)


@bp.route("/public/schools/<int:school>/services")
def school_services(school):
    """What WD-4 asks a school to disclose about its e-services: each service with how to
    get it here, the school's and the education office's responsible persons, the links to
    the service on the portal and to the journal system."""
    page = catalogue.public_school(school)
    if page is None:
        abort(404)
    return render_template("services/school.html", **page, focus=request.args.get("service"))


@bp.route("/services/<code>")
def deep_link(code):
    """The public services portal's link, ``/services/<code>?school=<id>``: the school's page
    of that service; once signed in, the diary's service lands in the diary."""
    school = request.args.get("school", type=int)
    page = catalogue.public_school(school) if school else None
    if page is None or code not in {s.code for s in page["services"]}:
        abort(404)
    if code == "diary" and current_user.is_authenticated:
        return redirect(url_for("home"))
    return redirect(url_for("services.school_services", school=school, service=code) + f"#{code}")


# Editing ------------------------------------------------------------------------------

def _is_region(tenant) -> bool:
    return tenant.kind == "region" and tenants.can_administer(tenant)


def _is_school(tenant) -> bool:
    return tenant.kind == "school" and tenants.can_administer(tenant)


@bp.route("/tenants/<int:tenant_id>/services", methods=["GET", "POST"])
@login_required
@permission(_is_region, "tenant_id")
def edit_catalogue(tenant_id):
    region = g.loaded["tenant_id"]
    errors, failed = {}, None
    if request.method == "POST":
        if request.form.get("action") == "preload":
            made = catalogue.preload(region)
            flash(_("Services added: %(n)s.", n=len(made)))
            return redirect(url_for("services.edit_catalogue", tenant_id=region.id))
        service = next((s for s in catalogue.services_of(region.id) if s.id == request.form.get("service_id", type=int)),
                       None)
        if service is None:
            abort(404)
        try:
            catalogue.update_service(service, {f: request.form.get(f, "") for f in catalogue.FIELDS},
                                     request.form.get("version", type=int))
        except Refused as refusal:
            errors, failed = refusal.errors, service.id  # the 422 answer rolls back
        else:
            flash(_("The service card is saved."))
            return redirect(url_for("services.edit_catalogue", tenant_id=region.id) + f"#service-{service.id}")
    return render_template("services/edit.html", region=region, services=catalogue.services_of(region.id),
                           errors=errors, failed=failed, form=request.form), 422 if errors else 200


@bp.route("/schools/<int:school_id>/services", methods=["GET", "POST"])
@login_required
@permission(_is_school, "school_id")
def edit_contacts(school_id):
    school = g.loaded["school_id"]
    region_id = school.path_ids[0]
    services = catalogue.services_of(region_id)
    errors, failed = {}, None
    if request.method == "POST":
        service = next((s for s in services if s.id == request.form.get("service_id", type=int)), None)
        if service is None:
            abort(404)
        try:
            catalogue.set_contact(school, service, {f: request.form.get(f, "") for f in catalogue.CONTACT_FIELDS})
        except Refused as refusal:
            errors, failed = refusal.errors, service.id  # the 422 answer rolls back
        else:
            flash(_("The responsible person is saved."))
            return redirect(url_for("services.edit_contacts", school_id=school.id) + f"#service-{service.id}")
    return render_template("services/contacts.html", school=school, services=services,
                           contacts=catalogue.contacts_of(school.id), errors=errors, failed=failed,
                           form=request.form), 422 if errors else 200


def _administers(tenant) -> bool:
    return tenants.can_administer(tenant)


@bp.route("/tenants/<int:tenant_id>/codes")
@login_required
@permission(_administers, "tenant_id")
def codes(tenant_id):
    """The register of issued sign-in codes (SV-3, AC-3): to whom, by whom, when, used or not."""
    from blueprints.services import issuance

    tenant = g.loaded["tenant_id"]
    report = issuance.register(tenant, search=request.args.get("q"), page=request.args.get("page", 1, type=int))
    return render_template("services/codes.html", tenant=tenant, report=report)


def nav(membership):
    if membership is None or membership.tenant_id is None:
        return []
    if membership.role == "region_admin":
        return [(_l("E-services"), url_for("services.edit_catalogue", tenant_id=membership.tenant_id))]
    if membership.role == "school_admin":
        return [(_l("E-services"), url_for("services.edit_contacts", school_id=membership.tenant_id))]
    return []


# Invitations for a class's families ----------------------------------------------------

def _looks_after(school_class) -> bool:
    from blueprints.services import invitations

    return invitations.may_invite(school_class)


@bp.route("/classes/<int:class_id>/invitations", methods=["GET", "POST"])
@login_required
@permission(_looks_after, "class_id")
def class_invitations(class_id):
    """AC-3: who of the class's pupils and guardians has never signed in, and slips with
    one-time codes for them (or for everyone: a reissue), printed as one PDF. The codes are
    shown once, on the slips; the register keeps who was issued one, by whom and when."""
    from urllib.parse import quote

    from flask import Response

    from blueprints.services import invitations

    school_class = g.loaded["class_id"]
    error = None
    if request.method == "POST":
        try:
            slips = invitations.issue(school_class, tuple(request.form.getlist("who")),
                                      everyone=request.form.get("everyone") == "1")
            if not slips:
                raise Refused.on("who", _("Everyone chosen has signed in already: tick «also those who have "
                                          "signed in» to issue new codes."))
            body = invitations.slips_pdf(school_class, slips)
        except Refused as refusal:
            from core.extensions import db

            db.session.rollback()
            error = refusal
        else:
            name = f"invitations-{school_class.name}.pdf"
            return Response(body, mimetype="application/pdf", headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"})
    people = invitations.people(school_class)
    school = _school_of(school_class)
    from core.accounts.service import CODE_DAYS

    return render_template("services/invitations.html", school_class=school_class, people=people, school=school,
                           error=error, valid_days=CODE_DAYS), 422 if error else 200


def _school_of(school_class):
    from blueprints.roster import service as roster

    return roster.school_of_row(school_class)
