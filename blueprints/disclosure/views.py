"""Pages of the website checks: the rating of a municipality or region (WD-5), a school's
findings and history, a run, starting a check and marking false alarms."""
import io

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from core import localtime
from core.access import loaded, permission
from core.errors import Refused, require
from core.accounts import service as accounts
from core.extensions import db
from blueprints.disclosure import check_runs, false_alarms, results, service
from blueprints.disclosure.models import SiteCheck
from tenants import service as tenants
from tenants.models import Tenant

bp = Blueprint("disclosure", __name__, template_folder="templates", url_prefix="/disclosure")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def _signed_in():
    return None


def _may_open() -> bool:
    """The ratings are read by the admins of a region, a municipality or a school."""
    membership = g.membership
    return membership is not None and membership.role in ("platform_admin", "region_admin", "municipality_admin",
                                                          "school_admin")


def _common():
    from core.jobs.service import message_of

    return {"kind_labels": service.KIND_LABELS, "status_labels": service.STATUS_LABELS, "message_of": message_of,
            "failure_labels": service.FAILURE_LABELS, "site_label": service.site_label,
            "is_unreadable": service.is_unreadable,
            # a finished check refreshes the page's results in place (see _run.html)
            "refresh_url": request.path if request.method == "GET" else None}


@bp.route("")
@permission(_may_open)
def index():
    """Where "Website checks" leads: the rating of the acting tenant, a school admin's own
    school, or for the platform the list of regions."""
    membership = g.membership
    if membership.tenant_id:
        return redirect(_tenant_url(tenants.load(membership.tenant_id)))
    regions = db.session.execute(select(Tenant).where(Tenant.kind == "region").order_by(Tenant.name)).scalars().all()
    return render_template("disclosure/index.html", regions=regions, **_common())


def _tenant_url(tenant):
    if tenant.kind == "school":
        return url_for("disclosure.school_page", school_id=tenant.id)
    return url_for("disclosure.rating_page", tenant_id=tenant.id)


@bp.route("/tenants/<int:tenant_id>")
@permission(service.can_read, "tenant_id")
def rating_page(tenant_id):
    tenant = g.loaded["tenant_id"]
    if tenant.kind == "school":
        return redirect(url_for("disclosure.school_page", school_id=tenant.id))
    run = check_runs.latest_run(tenant)
    return render_template("disclosure/rating.html", tenant=tenant, chain=tenants.chain_of(tenant),
                           rows=results.rating(tenant), run=run, job=check_runs.job_of(run),
                           can_start=service.can_start(tenant), **_common())


@bp.route("/tenants/<int:tenant_id>/checks", methods=["POST"])
def start_check(tenant_id):
    tenant = tenants.load(tenant_id)
    run = check_runs.start_check(tenant)
    if run.schools_total == 0:
        flash(_("There are no active schools to check here."), "error")
    else:
        flash(_("The check of %(n)s schools' websites has started.", n=run.schools_total))
    return redirect(_tenant_url(tenant) + "#run")


@bp.route("/tenants/<int:tenant_id>/rating.xlsx")
@permission(service.can_read, "tenant_id")
def rating_xlsx(tenant_id):
    tenant = g.loaded["tenant_id"]
    rows = results.rating(tenant)
    data = rating_workbook(tenant, rows)
    filename = f"disclosure-rating-{tenant.slug}.xlsx"
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={filename}"})


def rating_workbook(tenant, rows) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Rating")[:31]

    def append(values):
        # Names and addresses come from tenants' own input: a text starting with «=» is
        # stored as text, never as a formula that would run in the reader's spreadsheet.
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"

    append([tenant.name])
    sheet["A1"].font = Font(bold=True)
    # DL-5: the times in the reader's zone, named in the header (a cell holds no zone).
    zone = localtime.zone_name(tenant)
    headers = [_("Place"), _("School"), _("Website"), _("Score"), _("Score before false alarms"),
               _("Required items found"), _("Required items"), _("Dead links"), _("Outdated documents"),
               _("Microdata missing"), _("Checked (%(zone)s)", zone=localtime.zone_label(zone)), _("Problem")]
    append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        c = row.check
        scored = c if c is not None and not row.unreachable else None  # a site not read has no figures
        checked_at = localtime.in_zone(c.checked_at, tenant).replace(tzinfo=None) if c else None
        problem = None
        if row.unreachable:
            problem = _("Site unavailable: %(reason)s", reason=row.reason)
        elif c is not None and c.error:
            problem = service.site_label(c.error)
        append([row.place, row.school.name, (c.url if c else None) or row.school.website_url,
                scored.score if scored else None, scored.raw_score if scored else None,
                scored.required_found if scored else None, scored.required_total if scored else None,
                scored.broken_links if scored else None, scored.outdated_documents if scored else None,
                scored.microdata_missing if scored else None, checked_at, problem])
    for letter, width in zip("ABCDEFGHIJKL", (8, 40, 34, 8, 12, 12, 12, 10, 12, 12, 18, 30)):
        sheet.column_dimensions[letter].width = width
    for cell in sheet["K"][2:]:
        cell.number_format = "DD.MM.YYYY HH:MM"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@bp.route("/schools/<int:school_id>")
@permission(service.can_read, "school_id")
def school_page(school_id):
    school = g.loaded["school_id"]
    check = results.latest_checks([school.id]).get(school.id)
    return _school(school, check)


@bp.route("/checks/<int:check_id>")
def check_page(check_id):
    check = loaded("check_id", service.can_read, via=service.school_of)
    school = service.school_of(check)
    return _school(school, check)


def _school(school, check, errors=None, status=200):
    findings = results.findings_of(check) if check else []
    dismissals = service.active_dismissals([school.id])
    history = results.history(school, limit=20)
    latest = history[0].check if history else None
    people = results.users_named([d.dismissed_by for d in dismissals.values()])
    run = check_runs.latest_run(school)
    unreadable = service.is_unreadable(check)
    return render_template("disclosure/school.html", school=school, chain=tenants.chain_of(school), check=check,
                           unreadable=unreadable,
                           reasons=results.failure_reasons([h.check for h in history] + ([check] if check else [])),
                           is_latest=check is not None and latest is not None and check.id == latest.id,
                           groups=results.grouped(check, findings, dismissals) if check else {},
                           history=history, people=people, errors=errors or {},
                           titles={item["key"]: item["title"] for item in service.checklist_of(school)},
                           can_start=service.can_start(school), can_dismiss=service.can_dismiss(school),
                           run=run, job=check_runs.job_of(run), **_common()), status


@bp.route("/runs/<int:run_id>")
def run_page(run_id):
    run = g.loaded["run_id"]
    tenant = tenants.load(run.tenant_id)
    require(service.can_read(tenant))
    checks = results.run_checks(run)
    return render_template("disclosure/run.html", run=run, tenant=tenant, chain=tenants.chain_of(tenant),
                           checks=checks, schools=results.names_of([c.tenant_id for c in checks]),
                           reasons=results.failure_reasons(checks),
                           job=check_runs.job_of(run), **_common())


@bp.route("/findings/<int:finding_id>/dismissal", methods=["POST"])
def dismiss(finding_id):
    finding = g.loaded["finding_id"]
    school = service.school_of(finding)
    try:
        false_alarms.dismiss(finding, request.form.get("reason", ""))
    except Refused as error:
        db.session.rollback()
        check = db.session.execute(select(SiteCheck).where(
            SiteCheck.id == finding.site_check_id)).scalar_one()
        flash(_("Not saved: check the marked field."), "error")
        return _school(school, check, {"finding_id": finding.id, **error.errors}, error.status)
    flash(_("Marked as a false alarm; later checks will respect it."))
    return redirect(_back(finding, school))


@bp.route("/dismissals/<int:dismissal_id>/withdrawal", methods=["POST"])
def withdraw(dismissal_id):
    dismissal = g.loaded["dismissal_id"]
    school = service.school_of(dismissal)
    false_alarms.withdraw(dismissal)
    flash(_("The false-alarm mark is withdrawn."))
    return redirect(url_for("disclosure.school_page", school_id=school.id) + "#findings")


def _back(finding, school):
    latest = results.latest_checks([school.id]).get(school.id)
    if latest is not None and latest.id != finding.site_check_id:
        return url_for("disclosure.check_page", check_id=finding.site_check_id) + f"#finding-{finding.id}"
    return url_for("disclosure.school_page", school_id=school.id) + f"#finding-{finding.id}"


def nav(membership):
    if membership is not None and accounts.administers(membership, membership.tenant_path or "/"):
        return [(_l("Website checks"), url_for("disclosure.index"))]
    return []
