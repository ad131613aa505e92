"""The jobs page for admins and the progress fragment any page can embed."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from core.access import permission
from core.extensions import db
from core.jobs import service
from core.jobs.models import STATUSES, Job

bp = Blueprint("jobs", __name__)


@bp.before_request
@login_required
def _signed_in():
    return None


@bp.route("/jobs")
@permission(service.is_admin_of_jobs)
def index():
    stmt = select(Job).order_by(Job.id.desc()).limit(200)
    kind, status = request.args.get("kind"), request.args.get("status")
    if kind:
        stmt = stmt.where(Job.kind == kind)
    if status in STATUSES:
        stmt = stmt.where(Job.status == status)
    jobs = db.session.execute(stmt).scalars().all()
    return render_template("jobs/index.html", jobs=jobs, kinds=sorted(service.registered()), statuses=STATUSES,
                           kind=kind, status=status, label_of=service.label_of, message_of=service.message_of)


@bp.route("/jobs/<int:job_id>")
def show(job_id):
    job = g.loaded["job_id"]
    return render_template("jobs/show.html", job=job, label_of=service.label_of, message_of=service.message_of,
                           is_admin=service.is_admin_of_jobs())


@bp.route("/jobs/<int:job_id>/progress")
def progress(job_id):
    """The progress bar alone: htmx polls it until the job ends."""
    return render_template("jobs/_progress.html", job=g.loaded["job_id"], message_of=service.message_of)


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@permission(service.is_admin_of_jobs)
def retry(job_id):
    job = g.loaded["job_id"]
    if job.status == "failed":
        service.retry_job(job)
        flash(_("The job was started again."))
    return redirect(url_for("jobs.show", job_id=job.id))
