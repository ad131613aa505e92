"""The core's own job kinds and the periodic-work entry point."""
from flask_babel import lazy_gettext as _l

from core import audit_anchor
from core.jobs import job
from core.jobs.celery import celery_app
from core.i18n import N_


@job("audit_verify", label=_l("Audit log verification"), idempotent=True)
def verify_audit_chains(ctx):
    """RT-2: recompute every tenant's hash chain, compare it with the latest anchor of its
    head, reconcile the journal's rows with the log, and anchor the heads if the chains hold
    (security item 10); the result lists what was found."""
    ctx.progress(10, N_("Checking the audit chains"))
    ctx.set_result(audit_anchor.check().as_dict())


@job("audit_anchor", label=_l("Anchoring the audit chains"), idempotent=True)
def anchor_audit_chains(ctx):
    """Hourly: the head of every chain, signed, into object storage under retention, unless
    a chain went back on the previous anchor (security item 10)."""
    ctx.set_result(audit_anchor.anchor_heads())


@celery_app.task(name="tabel.enqueue_periodic")
def enqueue_periodic(kind):
    """Celery beat sends this; the job row makes the run visible on the jobs page."""
    from core.jobs import enqueue
    from core.tenancy import unscoped

    with unscoped(f"periodic work: queue {kind}", routine=True, platform=True):
        enqueue(kind, user_id=None)


def init_app(app):
    """Importing this module registers the kinds; nothing else to bind."""
