"""/api/v1/disclosure/...: start checks, the rating (WD-5), a school's findings and
history, false alarms."""
from flask import g
from flask_babel import gettext as _
from flask_smorest import abort

from core.access import permission
from core.errors import require
from core.apispec import Blueprint
from blueprints.disclosure import check_runs, false_alarms, results, service
from blueprints.disclosure.schemas import (DisclosureCheckStartedSchema, DisclosureCheckStartSchema,
                                           DisclosureDismissalSchema, DisclosureDismissSchema,
                                           DisclosureHistorySchema, DisclosureRatingArgs, DisclosureRatingSchema,
                                           DisclosureSchoolFindingsSchema)
from tenants import service as tenants

blp = Blueprint("disclosure_api", __name__, description="Website disclosure checks, rating and false alarms")



@blp.route("/disclosure/checks", methods=["POST"])
@blp.arguments(DisclosureCheckStartSchema)
@blp.response(202, DisclosureCheckStartedSchema)
def start_check(data):
    """Check the sites of the active schools under a tenant, as a job (202 with the job;
    a run already under way for the tenant is answered instead of a second one)."""
    tenant = tenants.load(data["tenant_id"])
    run = check_runs.start_check(tenant)
    return {"run": run, "job": check_runs.job_of(run)}


@blp.route("/disclosure/rating")
@blp.arguments(DisclosureRatingArgs, location="query")
@blp.response(200, DisclosureRatingSchema)
def rating(args):
    """The schools under a municipality or region by their latest disclosure score."""
    tenant_id = args.get("tenant_id") or (g.membership.tenant_id if g.membership else None)
    if tenant_id is None:
        abort(422, errors={"tenant_id": [_("Name a municipality or region.")]})
    tenant = tenants.load(tenant_id)
    require(service.can_read(tenant))
    return {"tenant_id": tenant.id, "rows": results.rating(tenant)}


@blp.route("/schools/<int:school_id>/disclosure")
@permission(service.can_read, "school_id")
@blp.response(200, DisclosureSchoolFindingsSchema)
def school_findings(school_id):
    """The school's latest check with every finding; dismissed ones carry their dismissal."""
    school = g.loaded["school_id"]
    check = results.latest_checks([school.id]).get(school.id)
    findings = results.findings_of(check) if check else []
    dismissals = service.active_dismissals([school.id])
    for finding in findings:
        finding.dismissal = None if finding.ok else dismissals.get((school.id, finding.kind, finding.key))
    return {"school_id": school.id, "check": check, "findings": findings}


@blp.route("/schools/<int:school_id>/disclosure/history")
@permission(service.can_read, "school_id")
@blp.response(200, DisclosureHistorySchema(many=True))
@blp.paginate()
def school_history(school_id, pagination_parameters):
    """The school's checks, newest first, with the faults fixed and new since the one before."""
    school = g.loaded["school_id"]
    pagination_parameters.item_count = results.history_count(school)
    size, number = pagination_parameters.page_size, pagination_parameters.page
    rows = results.history(school, limit=size, offset=(number - 1) * size)
    return [{"check": r.check, "fixed": [list(x) for x in r.fixed], "new": [list(x) for x in r.new]} for r in rows]


@blp.route("/schools/<int:school_id>/disclosure/dismissals")
@permission(service.can_read, "school_id")
@blp.response(200, DisclosureDismissalSchema(many=True))
def school_dismissals(school_id):
    """The false alarms in force at the school."""
    school = g.loaded["school_id"]
    return sorted(service.active_dismissals([school.id]).values(), key=lambda d: d.id)


@blp.route("/disclosure/findings/<int:finding_id>/dismissal", methods=["POST"])
@blp.arguments(DisclosureDismissSchema)
@blp.response(201, DisclosureDismissalSchema)
def dismiss(data, finding_id):
    """Mark a fault as a false alarm, checked by hand (a reason is required). Later runs
    show the same fault as dismissed and leave it out of the score."""
    row = false_alarms.dismiss(g.loaded["finding_id"], data.get("reason", ""))
    return row


@blp.route("/disclosure/dismissals/<int:dismissal_id>", methods=["DELETE"])
@blp.response(204)
def withdraw(dismissal_id):
    """Withdraw a false-alarm mark (the record of it is kept)."""
    false_alarms.withdraw(g.loaded["dismissal_id"])
    return "", 204
