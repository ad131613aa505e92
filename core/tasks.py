"""The core's own job kinds and the periodic-work entry point."""
from flask_babel import lazy_gettext as _l

from core import audit
from core.jobs import job
from core.jobs.celery import celery_app
from core.i18n import N_


@job("audit_verify", label=_l("Audit log verification"), idempotent=True)
def verify_audit_chains(ctx):
    """RT-2: recompute every tenant's hash chain; the result lists the breaks found."""
    ctx.progress(10, N_("Checking the audit chains"))
    checked, breaks = audit.verify()
    ctx.set_result({"checked": checked, "breaks": [b.__dict__ for b in breaks]})


@celery_app.task(name="tabel.enqueue_periodic")
def enqueue_periodic(kind):
    """Celery beat sends this; the job row makes the run visible on the jobs page."""
    from core.jobs import enqueue
    from core.tenancy import Scope, scoped

    with scoped(Scope(everything=True)):
        enqueue(kind, user_id=None)


def init_app(app):
    """Importing this module registers the kinds; nothing else to bind."""
