"""Registering, starting, running and retrying jobs."""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from core import audit
from core.extensions import db
from core.jobs.celery import celery_app, drop_broker_connections
from core.jobs.models import Job
from core.orm import utcnow
from core.i18n import N_
from core.tenancy import Scope, scoped, unscoped

log = logging.getLogger("tabel.jobs")

# The message users see when a job fails; the traceback is kept for admins.
FAILED_MESSAGE = N_("The job failed. An administrator can see the details on the jobs page.")

# A job's status as a person reads it (the codes are the API's and the filter's values).
STATUS_LABELS = {
    "queued": _l("Queued"),
    "running": _l("Running"),
    "retrying": _l("Retrying after a failure"),
    "succeeded": _l("Completed"),
    "failed": _l("Failed"),
}


@dataclass
class Kind:
    name: str
    fn: Callable
    label: object
    idempotent: bool
    max_retries: int


_KINDS: dict[str, Kind] = {}


def job(name, *, label, idempotent=False, max_retries=3):
    """Register a job kind. ``fn(ctx, **params)`` runs in the scope of the job's tenant.

    Idempotent kinds are retried with exponential backoff after an error, and are safe to
    run again when a worker dies mid-run (the message is redelivered)."""

    def register(fn):
        _KINDS[name] = Kind(name, fn, label, idempotent, max_retries)
        return fn

    return register


def registered() -> dict[str, Kind]:
    return dict(_KINDS)


class JobContext:
    """What a running job may do: report progress, keep a checkpoint, set its result.

    Progress and checkpoints are written on their own connection and committed at once, so
    pages see them while the job's own work is still in its transaction. On SQLite (one
    writer at a time) commit the job's writes before reporting progress."""

    def __init__(self, job_row: Job):
        self.job_id = job_row.id
        self.tenant_id = job_row.tenant_id
        self.params = dict(job_row.params or {})
        self.checkpoint = dict(job_row.checkpoint or {})
        self.attempt = job_row.attempts
        self.retry_base = job_row.retry_base or 0

    def _write(self, **values):
        table = Job.__table__
        with db.engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == self.job_id).values(**values))

    def progress(self, percent, message=None, **args):
        values = {"progress": max(0, min(int(percent), 100))}
        if message is not None:
            values.update(message=message, message_args=args or None)
        self._write(**values)

    def save_checkpoint(self, **state):
        self.checkpoint.update(state)
        self._write(checkpoint=self.checkpoint)

    def set_result(self, data=None, url=None):
        self._result = (data, url)


def enqueue(kind: str, *, tenant=None, params=None, user_id=None) -> Job:
    """Create the job row, commit it (with whatever the caller has pending: start jobs at the
    end of a unit of work), then send it to the workers. If the broker cannot be reached the
    row is marked failed, so that the page says so and an admin can retry."""
    if kind not in _KINDS:
        raise KeyError(f"unknown job kind {kind!r}")
    row = Job(kind=kind, tenant_id=tenant.id if tenant else None, tenant_path=tenant.path if tenant else None,
              params=params or {}, status="queued", progress=0, message=N_("Waiting for a worker"),
              created_by_id=user_id if user_id is not None else _current_user_id())
    db.session.add(row)
    db.session.commit()
    _send_or_fail(row)
    return row


def _send_or_fail(row: Job):
    """Send the job; a refusal is tried once more a moment later (the embedded broker
    refuses a message whose queue a starting worker is creating at the same instant),
    then recorded on the row."""
    try:
        send(row.id)
        return
    except Exception:  # noqa: BLE001 - a moment's refusal, or the broker is down
        log.warning("job %s: the broker refused it; trying once more", row.id, exc_info=True)
    drop_broker_connections()  # the refused connection may be left unusable (a failed transaction)
    time.sleep(0.2)
    try:
        send(row.id)
    except Exception:  # noqa: BLE001 - the broker is down or refuses: record it on the row
        log.exception("job %s could not be sent to the workers", row.id)
        table = Job.__table__
        with db.engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == row.id, table.c.status == "queued").values(
                status="failed", finished_at=utcnow(), error=traceback.format_exc(),
                message=N_("The job could not be queued. Try again later."), message_args=None))
        db.session.expire(row)


def send(job_id: int, countdown: int | None = None):
    """Queue the job for a worker; with CELERY_TASK_ALWAYS_EAGER (tests, debugging) run it
    here and now instead (decided by this app's config, not Celery's process-wide one)."""
    if current_app.config.get("CELERY_TASK_ALWAYS_EAGER"):
        run_job.apply(args=[job_id])
    else:
        run_job.apply_async(args=[job_id], countdown=countdown)


def _current_user_id():
    from core.audit import current_actor_id

    return current_actor_id()


def _scope_of(row: Job):
    """The block a job runs in: its tenant's scope as its starter, or for a job of the
    platform (no tenant) the platform's scope, through the door with the job as reason."""
    if row.tenant_path is None:
        return unscoped(f"jobs: run the platform job {row.kind} #{row.id}", platform=True)
    return scoped(Scope(user_id=row.created_by_id, home_path=row.tenant_path))


def _acting_membership(row: Job):
    """The starter's widest active role over the job's tenant: a job acts with the rights of
    whoever started it, never more (a school admin's staff import grants what they may
    grant), and with none once that role is gone. Jobs of the platform (no starter, or no
    tenant) act as the platform."""
    from core.accounts.models import Membership

    if row.created_by_id is None or row.tenant_path is None:
        return Membership(role="platform_admin") if row.tenant_path is None else None
    with unscoped("jobs: the starter's role over the job's tenant", routine=True):
        roles = db.session.execute(select(Membership).where(
            Membership.user_id == row.created_by_id, Membership.is_active.is_(True))).scalars().all()
    covering = [m for m in roles if m.role == "platform_admin"
                or (m.tenant_path and row.tenant_path.startswith(m.tenant_path))]
    return min(covering, key=lambda m: (m.rank, m.id)) if covering else None


def run(job_id: int, *, retry: Callable[[int], None] | None = None):
    """Run a job by id in a worker. Safe to call twice for one job: a finished job is not
    run again, and only one run can mark it succeeded."""
    with unscoped("jobs: load the job to run", routine=True):
        row = db.session.execute(select(Job).where(Job.id == job_id)).scalar_one_or_none()
    if row is None or row.is_finished:
        return
    kind = _KINDS.get(row.kind)
    table = Job.__table__
    with db.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == job_id).values(
            status="running", attempts=table.c.attempts + 1, started_at=row.started_at or utcnow(),
            message=N_("Running")))
    db.session.expire_all()
    with unscoped("jobs: reload the job", routine=True):
        row = db.session.execute(select(Job).where(Job.id == job_id)).scalar_one()
    ctx = JobContext(row)
    try:
        if kind is None:
            raise LookupError(f"no job kind {row.kind!r} in this worker")
        with _scope_of(row):
            g.membership = _acting_membership(row)
            kind.fn(ctx, **ctx.params)
            db.session.commit()
    except Exception:  # noqa: BLE001 - any failure is recorded on the job
        db.session.rollback()
        trace = traceback.format_exc()
        log.exception("job %s (%s) failed on attempt %s", job_id, row.kind, ctx.attempt)
        if kind is not None and kind.idempotent and retry is not None and ctx.attempt - ctx.retry_base <= kind.max_retries:
            delay = min(2 ** ctx.attempt, 300)
            ctx._write(status="retrying", error=trace, message=N_("Failed; retrying in %(seconds)s s"),
                       message_args={"seconds": delay})
            retry(delay)
            return
        ctx._write(status="failed", error=trace, finished_at=utcnow(), message=FAILED_MESSAGE, message_args=None)
        return
    data, url = getattr(ctx, "_result", (None, None))
    # Mark the job done and record it in one transaction. Only the run whose conditional
    # update wins records the completion: a redelivered duplicate does not.
    with unscoped("jobs: record the completion of a job", routine=True, platform=True):
        won = db.session.execute(table.update().where(table.c.id == job_id, table.c.status != "succeeded").values(
            status="succeeded", progress=100, finished_at=utcnow(), result=data, result_url=url,
            message=N_("Done"), message_args=None)).rowcount
        if won:
            audit.record(tenant_id=row.tenant_id, action="job.succeeded", obj_type="job", obj_id=job_id,
                         after={"kind": row.kind, "attempts": ctx.attempt}, actor_id=row.created_by_id)
        db.session.commit()


@celery_app.task(name="tabel.run_job", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_job(self, job_id):
    """The one Celery task: every kind runs through it (declared here, not in ``celery.py``,
    so the Celery side never imports the jobs)."""

    def retry(countdown):
        raise self.retry(countdown=countdown)

    run(job_id, retry=retry)


def retry_job(row: Job) -> Job:
    """Start a failed job again (an admin's decision)."""
    if row.status != "failed":
        raise ValueError("only failed jobs are retried")
    row.status, row.progress, row.error, row.finished_at = "queued", 0, None, None
    row.retry_base = row.attempts
    row.message, row.message_args = N_("Waiting for a worker"), None
    db.session.commit()
    _send_or_fail(row)
    return row


def message_of(row: Job) -> str:
    from flask_babel import gettext

    if not row.message:
        return ""
    return gettext(row.message, **(row.message_args or {}))


def status_label(status: str):
    return STATUS_LABELS.get(status, status)


def label_of(kind: str):
    registered_kind = _KINDS.get(kind)
    return registered_kind.label if registered_kind else kind


def may_see(row: Job) -> bool:
    """Admins see their tenants' jobs; anyone else only the jobs they started (results may
    be links that need no session)."""
    from flask_login import current_user

    return is_admin_of_jobs() or (current_user.is_authenticated and row.created_by_id == current_user.id)


def is_admin_of_jobs() -> bool:
    from core.accounts.service import ADMIN_ROLES

    membership = g.get("membership")
    return membership is not None and membership.role in ADMIN_ROLES
