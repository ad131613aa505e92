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
        return [(_l("E-services"), url_for("services.edit_contacts", school_id=membership.tenant_id)),
                (_l("Applications"), url_for("services.school_applications", school_id=membership.tenant_id)),
                (_l("Appeals"), url_for("services.school_appeals", school_id=membership.tenant_id))]
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


# The register of applications for the diary service -------------------------------------

def _reads_applications(school) -> bool:
    from blueprints.services import applications

    return school.kind == "school" and applications.may_read(school)


def _applies(school) -> bool:
    from blueprints.services import applications

    return school.kind == "school" and applications.may_apply(school)


def _choice_of(form) -> dict:
    return {"channels": form.getlist("channels"), "email": form.get("email", ""), "phone": form.get("phone", ""),
            "notify_mode": form.get("notify_mode") or "instant", "digest_hour": form.get("digest_hour") or None,
            "language": form.get("language") or "ru"}


def _date_field(form, field, message):
    import datetime as dt

    text = (form.get(field) or "").strip()
    try:
        return (dt.datetime.strptime(text, "%d.%m.%Y").date() if "." in text else dt.date.fromisoformat(text)) \
            if text else None
    except ValueError:
        raise Refused.on(field, message) from None


@bp.route("/schools/<int:school_id>/applications", methods=["GET", "POST"])
@login_required
@permission(_reads_applications, "school_id")
def school_applications(school_id):
    """SV-3: the school's register of applications for the diary service, and an entry made
    from a paper application."""
    from blueprints.services import applications

    school = g.loaded["school_id"]
    errors = {}
    if request.method == "POST":
        guardian_id, _sep, pupil_id = (request.form.get("applicant") or "").partition(":")
        try:
            if not (guardian_id.isdigit() and pupil_id.isdigit()):
                raise Refused.on("guardian_id", _("Applicant: choose the parent or guardian and the pupil."))
            entry = applications.file(school, guardian_id=int(guardian_id), pupil_id=int(pupil_id),
                                      choice=_choice_of(request.form),
                                      filed_on=_date_field(request.form, "filed_on",
                                                           _("Date: write a date, e.g. 01.09.2026.")))
        except Refused as refusal:
            errors = refusal.errors
        else:
            flash(_("Application %(number)s is in the register.", number=entry.label))
            return redirect(url_for("services.school_applications", school_id=school.id))
    report = applications.register(school, search=request.args.get("q"), status=request.args.get("status"),
                                   page=request.args.get("page", 1, type=int))
    return render_template("services/applications.html", school=school, report=report, errors=errors,
                           form=request.form, people=applications.guardians_with_children(school),
                           statuses=applications.STATUS_LABELS, channels=_channel_labels(),
                           today=tenants.local_today(school)), 422 if errors else 200


def _xlsx(body: bytes, name: str):
    """A register's workbook as a download."""
    from urllib.parse import quote

    from flask import Response

    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}.xlsx"})


def _channel_labels():
    from blueprints.roster.guardians import CHANNEL_LABELS

    return CHANNEL_LABELS


@bp.route("/schools/<int:school_id>/applications.xlsx")
@login_required
@permission(_reads_applications, "school_id")
def school_applications_xlsx(school_id):
    from blueprints.services import applications

    school = g.loaded["school_id"]
    report = applications.register(school, search=request.args.get("q"), status=request.args.get("status"),
                                   whole=True)
    return _xlsx(applications.xlsx(school, report), f"applications-{school.id}-{tenants.local_today(school).isoformat()}")


@bp.route("/applications/<int:application_id>/decision", methods=["POST"])
@login_required
def decide_application(application_id):
    from blueprints.services import applications

    entry = g.loaded["application_id"]
    try:
        applications.decide(entry, request.form.get("decision", ""), request.form.get("reason"))
    except Refused as refusal:
        from core.extensions import db

        db.session.rollback()
        flash(str(refusal), "error")
    else:
        flash(_("Application %(number)s: %(status)s.", number=entry.label,
                status=applications.STATUS_LABELS[entry.status]))
    return redirect(url_for("services.school_applications", school_id=entry.tenant_id))


@bp.route("/schools/<int:school_id>/apply", methods=["GET", "POST"])
@login_required
@permission(_applies, "school_id")
def apply(school_id):
    """A guardian's own application for the diary service (the portal's deep link lands
    here after sign-in): which child, and how to be informed."""
    from blueprints.services import applications

    school = g.loaded["school_id"]
    records = applications.own_guardian_records(school)
    errors = {}
    if request.method == "POST":
        pupil_id = request.form.get("pupil_id", type=int)
        record = next((r for r, kids in records if any(k.id == pupil_id for k in kids)), None)
        try:
            filed = applications.file(school, guardian_id=record.id if record else None, pupil_id=pupil_id,
                                      choice=_choice_of(request.form), filed_on=tenants.local_today(school))
        except Refused as refusal:
            errors = refusal.errors
        else:
            flash(_("Your application No. %(number)s of %(date)s is with the school. You will see the school's "
                    "decision here and in the diary.", number=filed.label, date=filed.filed_on.strftime("%d.%m.%Y")))
            return redirect(url_for("services.apply", school_id=school.id))
    mine = applications.own_applications(school, [r.id for r, _kids in records])
    return render_template("services/apply.html", school=school, records=records, errors=errors, mine=mine,
                           form=request.form, channels=_channel_labels()), 422 if errors else 200


# The register of appeals: complaints, requests, information requests --------------------

@bp.route("/schools/<int:school_id>/appeals", methods=["GET", "POST"])
@login_required
@permission(_reads_applications, "school_id")
def school_appeals(school_id):
    """SV-3: the school's complaints, requests and information requests, due by the
    regulation, overdue ones flagged; a new one recorded as it came in."""
    from blueprints.services import appeals

    school = g.loaded["school_id"]
    errors = {}
    if request.method == "POST":
        try:
            received = _date_field(request.form, "received_on", _("Received: write a date, e.g. 01.09.2026."))
            entry = appeals.record(school, request.form, received)
        except Refused as refusal:
            errors = refusal.errors
        else:
            flash(_("Appeal %(number)s is in the register, to be answered by %(date)s.", number=entry.label,
                    date=entry.due_on.strftime("%d.%m.%Y")))
            return redirect(url_for("services.school_appeals", school_id=school.id))
    report = appeals.register(school, search=request.args.get("q"), status=request.args.get("status"),
                              page=request.args.get("page", 1, type=int))
    return render_template("services/appeals.html", school=school, report=report, errors=errors, form=request.form,
                           kinds=appeals.KIND_LABELS, statuses=appeals.STATUS_LABELS,
                           today=tenants.local_today(school)), 422 if errors else 200


@bp.route("/schools/<int:school_id>/appeals.xlsx")
@login_required
@permission(_reads_applications, "school_id")
def school_appeals_xlsx(school_id):
    from blueprints.services import appeals

    school = g.loaded["school_id"]
    report = appeals.register(school, search=request.args.get("q"), status=request.args.get("status"), whole=True)
    return _xlsx(appeals.xlsx(school, report), f"appeals-{school.id}-{tenants.local_today(school).isoformat()}")


@bp.route("/appeals/<int:appeal_id>/answer", methods=["POST"])
@login_required
def answer_appeal(appeal_id):
    from blueprints.services import appeals

    entry = g.loaded["appeal_id"]
    try:
        appeals.answer(entry, request.form.get("answer"),
                       _date_field(request.form, "answered_on", _("Answered on: write a date, e.g. 01.09.2026.")))
    except Refused as refusal:
        from core.extensions import db

        db.session.rollback()
        flash(str(refusal), "error")
    else:
        flash(_("Appeal %(number)s is answered.", number=entry.label))
    return redirect(url_for("services.school_appeals", school_id=entry.tenant_id))
