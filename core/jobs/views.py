"""The jobs page for admins and the progress fragment any page can embed."""
import json

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from core import localtime
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
    localtime.prefetch(job.tenant_id for job in jobs)  # DL-5: each job's time in its tenant's zone
    return render_template("jobs/index.html", jobs=jobs, kinds=sorted(service.registered()), statuses=STATUSES,
                           kind=kind, status=status, **_labels())


def _labels():
    return {"label_of": service.label_of, "message_of": service.message_of, "status_label": service.status_label}


@bp.route("/jobs/<int:job_id>")
def show(job_id):
    job = g.loaded["job_id"]
    return render_template("jobs/show.html", job=job, is_admin=service.is_admin_of_jobs(), **_labels())


@bp.route("/jobs/<int:job_id>/progress")
def progress(job_id):
    """The progress bar alone: htmx polls it until the job ends. The answer that finds it
    ended raises «job-finished» on the bar (it bubbles to the section around it), so a
    page that shows the job's result fetches that part again without a reload."""
    job = g.loaded["job_id"]
    response = make_response(render_template("jobs/_progress.html", job=job, message_of=service.message_of))
    if job.is_finished:
        response.headers["HX-Trigger"] = json.dumps({"job-finished": {"job": job.id, "status": job.status}})
    return response


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@permission(service.is_admin_of_jobs)
def retry(job_id):
    job = g.loaded["job_id"]
    if job.status == "failed":
        service.retry_job(job)
        flash(_("The job was started again."))
    return redirect(url_for("jobs.show", job_id=job.id))
