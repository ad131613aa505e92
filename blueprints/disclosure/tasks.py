"""The website checks as jobs: a run over schools, and the schedule that starts them."""
import threading

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.i18n import N_
from core.jobs import job
from core.orm import utcnow
from blueprints.disclosure import check_runs, service
from blueprints.disclosure.models import DisclosureRun, SiteCheck
from tenants.models import Tenant


@job("disclosure_check", label=_l("Website disclosure check"), idempotent=True)
def check_websites(ctx, run_id, school_ids=None):
    """Check the sites of the run's schools, a few at a time; each school's result is
    committed as soon as its batch is done, with the checkpoint, so a run redelivered
    after a crash goes on where it stopped (WD-1..WD-4). A run whose attempt fails says
    so until a retry picks it up again."""
    try:
        _check_websites(ctx, run_id, school_ids)
    except Exception:
        db.session.rollback()
        run = db.session.execute(select(DisclosureRun).where(DisclosureRun.id == run_id)).scalar_one_or_none()
        if run is not None:
            check_runs.finish_run(run, status="failed")
            db.session.commit()
        raise


def _check_websites(ctx, run_id, school_ids):
    run = db.session.execute(select(DisclosureRun).where(DisclosureRun.id == run_id)).scalar_one()
    tenant = db.session.execute(select(Tenant).where(Tenant.id == run.tenant_id)).scalar_one()
    schools = service.schools_under(tenant)
    if school_ids is not None:
        wanted = set(school_ids)
        schools = [s for s in schools if s.id in wanted]
    done = set(ctx.checkpoint.get("done", [])) | set(db.session.execute(
        select(SiteCheck.tenant_id).where(SiteCheck.run_id == run.id)).scalars())
    run.status, run.started_at, run.schools_total = "running", run.started_at or utcnow(), len(schools)
    run.schools_done = len(done & {s.id for s in schools})
    db.session.commit()
    total = max(len(schools), 1)
    ctx.progress(1, N_("%(done)s of %(total)s schools checked"), done=run.schools_done, total=len(schools))
    settings = check_runs.crawl_settings(tenant)
    batch_size = max(int(current_app.config.get("DISCLOSURE_BATCH", 4)), 1)
    todo = [s for s in schools if s.id not in done]
    lock = threading.Lock()
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        sites, reports = {}, {}
        for school in batch:
            if school.website_url:
                sites[school.id] = (school.website_url, check_runs.items_of(service.checklist_of(school)))
            else:
                reports[school.id] = check_runs.no_website_report()
        before = len(done)

        def progress(step, steps, before=before, size=len(batch)):
            # The crawler reports its own steps; spread them over this batch's schools.
            share = size * (step / steps if steps else 1)
            with lock:
                ctx.progress(min(int((before + share) * 100 / total), 99),
                             N_("%(done)s of %(total)s schools checked"), done=before, total=len(schools))

        if sites:
            reports.update(check_runs.crawl(sites, settings, progress))
        for school in batch:
            report = reports.get(school.id) or check_runs.crashed_report(school.website_url)
            check_runs.store_report(run, school, report)
            done.add(school.id)
        run.schools_done = len(done & {s.id for s in schools})
        db.session.commit()
        ctx.save_checkpoint(done=sorted(done))
        ctx.progress(min(len(done) * 100 // total, 99), N_("%(done)s of %(total)s schools checked"),
                     done=run.schools_done, total=len(schools))
    check_runs.finish_run(run)
    db.session.commit()
    ctx.set_result({"run_id": run.id, "schools": len(schools)}, url=_result_url(tenant))


@job("disclosure_schedule", label=_l("Scheduled website checks"), idempotent=True)
def start_scheduled_checks(ctx):
    """Start a check for every group of schools whose regulation's schedule is due."""
    ctx.progress(10, N_("Finding the schools due for a check"))
    runs = check_runs.start_due_checks()
    ctx.set_result({"runs": [r.id for r in runs], "schools": sum(r.schools_total for r in runs)})


def _result_url(tenant):
    from flask import url_for

    endpoint, args = (("disclosure.school_page", {"school_id": tenant.id}) if tenant.kind == "school"
                      else ("disclosure.rating_page", {"tenant_id": tenant.id}))
    try:
        return url_for(endpoint, **args)
    except RuntimeError:  # a worker has no request: build the path by hand
        return (f"/disclosure/schools/{tenant.id}" if tenant.kind == "school"
                else f"/disclosure/tenants/{tenant.id}")
