from flask import g
from flask_babel import gettext as _
from flask_smorest import abort
from sqlalchemy import func, select

from core.access import permission
from core.apispec import Blueprint
from core.extensions import db
from core.jobs import service
from core.jobs.models import Job
from core.jobs.schemas import JobListArgs, JobSchema

blp = Blueprint("jobs_api", __name__, description="Background jobs and their progress")




@blp.route("/jobs")
@permission(service.is_admin_of_jobs)
@blp.arguments(JobListArgs, location="query")
@blp.response(200, JobSchema(many=True))
@blp.paginate()
def list_jobs(args, pagination_parameters):
    """Jobs of the caller's tenants, newest first (admins)."""
    stmt = select(Job)
    if args.get("kind"):
        stmt = stmt.where(Job.kind == args["kind"])
    if args.get("status"):
        stmt = stmt.where(Job.status == args["status"])
    pagination_parameters.item_count = db.session.execute(
        select(func.count()).select_from(stmt.subquery())).scalar_one()
    page, size = pagination_parameters.page, pagination_parameters.page_size
    rows = db.session.execute(stmt.order_by(Job.id.desc()).limit(size).offset((page - 1) * size)).scalars()
    return rows.all()


@blp.route("/jobs/<int:job_id>")
@blp.response(200, JobSchema)
def get_job(job_id):
    """A job's status, progress (0-100), message and result link."""
    return g.loaded["job_id"]


@blp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@permission(service.is_admin_of_jobs)
@blp.response(202, JobSchema)
def retry(job_id):
    """Start a failed job again (admins)."""
    job = g.loaded["job_id"]
    if job.status != "failed":
        abort(409, message=_("Only a failed job can be retried."), current=JobSchema().dump(job))
    return service.retry_job(job)
