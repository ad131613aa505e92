"""Starting a website check, running it (the job's part), storing each school's result,
and the schedule.

A check runs over the active schools under a tenant. Each school's result is stored as it
completes (a ``SiteCheck`` with its ``Finding`` rows), so a run that stops half-way keeps
what it checked. A fault marked by hand as a false alarm (``Dismissal``) is respected by
every later run: it is shown with its reason and does not lower the score.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from core.errors import NotAllowed
from core import audit
from core.extensions import db
from core.orm import utcnow
from blueprints.disclosure.models import DisclosureRun, Finding, SiteCheck
from blueprints.disclosure.service import UNREADABLE, active_dismissals, can_start, schools_under, settings_of
from tenants import regulations
from tenants.models import Tenant

SCHEDULE_DAYS = {"weekly": 7, "monthly": 30}


# Starting a check ----------------------------------------------------------------------------

def active_run(tenant: Tenant) -> DisclosureRun | None:
    """The tenant's run whose job has not finished, if any."""
    from core.jobs.models import FINISHED, Job

    return db.session.execute(
        select(DisclosureRun).join(Job, Job.id == DisclosureRun.job_id)
        .where(DisclosureRun.tenant_id == tenant.id, Job.status.not_in(FINISHED))
        .order_by(DisclosureRun.id.desc()).limit(1)).scalar_one_or_none()


def latest_run(tenant: Tenant) -> DisclosureRun | None:
    return db.session.execute(select(DisclosureRun).where(DisclosureRun.tenant_id == tenant.id)
                              .order_by(DisclosureRun.id.desc()).limit(1)).scalar_one_or_none()


def start_check(tenant: Tenant, *, school_ids: list[int] | None = None, scheduled=False,
                permission_checked=False) -> DisclosureRun:
    """Start checking the sites of the schools under ``tenant`` (or the given ones) as a
    job. A run already under way for the tenant is returned instead of a second one."""
    from core.jobs import enqueue

    if not (permission_checked or can_start(tenant)):
        raise NotAllowed()
    running = active_run(tenant)
    if running is not None:
        return running
    schools = schools_under(tenant)
    if school_ids is not None:
        wanted = set(school_ids)
        schools = [s for s in schools if s.id in wanted]
    run = DisclosureRun(tenant_id=tenant.id, started_by=audit.current_actor_id(), is_scheduled=scheduled,
                        status="queued", schools_total=len(schools))
    db.session.add(run)
    db.session.flush()
    params = {"run_id": run.id}
    if school_ids is not None:
        params["school_ids"] = [s.id for s in schools]
    audit.record(tenant_id=tenant.id, action="disclosure.check", obj_type="disclosure_run", obj_id=run.id,
                 after={"schools": len(schools), "scheduled": scheduled})
    run_id = run.id
    # enqueue commits the run with the job; in eager mode the job has run when it returns.
    job = enqueue("disclosure_check", tenant=tenant, params=params)
    run = db.session.execute(select(DisclosureRun).where(DisclosureRun.id == run_id)).scalar_one()
    run.job_id = job.id
    db.session.commit()
    return run


def job_of(run: DisclosureRun | None):
    if run is None or run.job_id is None:
        return None
    from core.jobs.models import Job

    return db.session.execute(select(Job).where(Job.id == run.job_id)).scalar_one_or_none()


# Running a check (called by the job) ----------------------------------------------------------

def crawl_settings(tenant: Tenant):
    from blueprints.disclosure.settings import Settings

    section = settings_of(tenant)
    # Only addresses on the Internet are read, unless the deployment names other networks
    # (the demo's and the tests' sites on loopback): a website address must not reach
    # the servers inside the deployment's own network.
    return Settings.from_regulation({k: section[k] for k in (
        "max_depth", "max_pages", "timeout_seconds", "per_host_concurrency", "delay_seconds")},
        allowed_networks=tuple(current_app.config.get("DISCLOSURE_ALLOWED_NETWORKS") or ()))


def items_of(checklist: list[dict]):
    from blueprints.disclosure.checks import Item

    fields_ = ("key", "title", "required", "text_patterns", "url_patterns", "itemprops")
    return [Item.from_dict({k: item[k] for k in fields_ if k in item}) for item in checklist]


def crawl(sites: dict, settings, progress=None) -> dict:
    """Crawl a batch of sites; a crash of the crawler on one site becomes that site's
    finding instead of failing the batch (hostile input is a finding, never a crash)."""
    from blueprints.disclosure import crawler

    try:
        return crawler.run(sites, settings, progress=progress)
    except Exception:  # noqa: BLE001 - retried site by site below
        if len(sites) == 1:
            school_id, (url, _items) = next(iter(sites.items()))
            import logging

            logging.getLogger("tabel.disclosure").exception("the crawler failed on %s", url)
            return {school_id: crashed_report(url)}
    out = {}
    for school_id, site in sites.items():
        out.update(crawl({school_id: site}, settings))
    return out


def crashed_report(url):
    from blueprints.disclosure import checks

    finding = checks.Finding(kind="site", key="crashed", status="error", ok=False, url=url, text=None, page=None,
                             detail={"message": "the check of this site failed"})
    return checks.SiteReport(start_url=url, findings=[finding], pages_fetched=0, links_checked=0,
                             elapsed_ms=0, error="crashed")


def no_website_report():
    from blueprints.disclosure import checks

    finding = checks.Finding(kind="site", key="no_website", status="no_website", ok=False, url=None, text=None,
                             page=None, detail={})
    return checks.SiteReport(start_url=None, findings=[finding], pages_fetched=0, links_checked=0,
                             elapsed_ms=0, error="no_website")


def store_report(run: DisclosureRun, school: Tenant, report) -> SiteCheck:
    """Keep one school's result of a run (an upsert: a redelivered job replaces it)."""
    previous = db.session.execute(select(SiteCheck).where(SiteCheck.run_id == run.id,
                                                          SiteCheck.tenant_id == school.id)).scalar_one_or_none()
    if previous is not None:
        for row in db.session.execute(select(Finding).where(Finding.site_check_id == previous.id)).scalars():
            db.session.delete(row)
        db.session.delete(previous)
        db.session.flush()
    url = report.start_url or school.website_url
    check = SiteCheck(run_id=run.id, tenant_id=school.id, region_id=school.path_ids[0], url=_clip(url, 500),
                      pages_fetched=report.pages_fetched or 0, links_checked=report.links_checked or 0,
                      elapsed_ms=int(report.elapsed_ms or 0), error=_error_code(report), checked_at=utcnow())
    db.session.add(check)
    db.session.flush()
    rows = [Finding(site_check_id=check.id, tenant_id=school.id, region_id=check.region_id, kind=f.kind,
                    key=_clip(f.key, 1000) or "", status=_clip(f.status, 24), ok=bool(f.ok), url=_clip(f.url, 2000),
                    text=_clip(f.text, 4000), page=_clip(f.page, 2000), detail=_jsonable(f.detail or {}))
            for f in report.findings]
    db.session.add_all(rows)
    db.session.flush()
    figure(check, rows, active_dismissals([school.id]))
    return check


def _error_code(report):
    if report.error == "deadline":
        # The start page did not answer within the site's time: nothing was read, as with
        # a timeout (a site read in part keeps "deadline" and is scored on what was read).
        return "timeout"
    site = next((f for f in report.findings if f.kind == "site" and not f.ok), None)
    if site is not None:
        return _clip(site.status if site.status != "error" or site.key != "crashed" else "crashed", 40)
    return _clip(report.error, 40) if report.error else None


def _clip(value, size):
    if value is None:
        return None
    value = str(value)
    return value if len(value) <= size else value[:size]


def _jsonable(value):
    import json

    return json.loads(json.dumps(value, default=str))


def figure(check: SiteCheck, findings: list[Finding], dismissed: dict):
    """Score and counts of a site check, dismissed findings counting as fine."""
    from blueprints.disclosure import checks

    def fine(f):
        return f.ok or (check.tenant_id, f.kind, f.key) in dismissed

    def as_report(flip):
        return checks.SiteReport(start_url=check.url, findings=[checks.Finding(
            kind=f.kind, key=f.key, status=f.status, ok=(fine(f) if flip else f.ok), url=f.url, text=f.text,
            page=f.page, detail=dict(f.detail or {})) for f in findings], pages_fetched=check.pages_fetched,
            links_checked=check.links_checked, elapsed_ms=check.elapsed_ms, error=check.error)

    required = [f for f in findings if f.kind == "item" and f.is_required]
    check.required_total = len(required)
    check.required_found = sum(1 for f in required if fine(f))
    check.broken_links = sum(1 for f in findings if f.kind == "link" and not fine(f))
    check.outdated_documents = sum(1 for f in findings if f.kind == "outdated" and not fine(f))
    check.microdata_missing = sum(1 for f in findings if f.kind == "microdata" and not fine(f))
    if check.error == "no_website":
        check.raw_score = check.score = 0.0
    else:
        check.raw_score = round(float(checks.score(as_report(False))), 1)
        check.score = round(float(checks.score(as_report(True))), 1)


def finish_run(run: DisclosureRun, status="finished"):
    run.status, run.finished_at = status, utcnow()


# The schedule ------------------------------------------------------------------------------

def due_schools(now: datetime | None = None) -> dict[int, list[int]]:
    """Schools whose check is due by their regulation's ``disclosure.schedule``, grouped by
    the tenant above them: ``{parent id: [school ids]}``. Resolves every school's
    regulation in memory: three queries for the whole platform. Runs in the platform's
    scope (the periodic job)."""
    from tenants.models import RegulationVersion

    now = now or utcnow()
    today = now.date()
    tenants_by_id = {t.id: t for t in db.session.execute(select(Tenant)).scalars()}
    latest_versions: dict[int, object] = {}
    for row in db.session.execute(select(RegulationVersion).where(RegulationVersion.effective_from <= today)
                                  .order_by(RegulationVersion.tenant_id, RegulationVersion.effective_from)).scalars():
        latest_versions[row.tenant_id] = row
    # A check that could not read the site (down, refused, timed out) does not count: the
    # next scheduled run tries the school again, and scores it once the site is back.
    last_checked = dict(db.session.execute(
        select(SiteCheck.tenant_id, func.max(SiteCheck.checked_at))
        .where(or_(SiteCheck.error.is_(None), SiteCheck.error.not_in(sorted(UNREADABLE))))
        .group_by(SiteCheck.tenant_id)).all())
    due: dict[int, list[int]] = {}
    for school in sorted((t for t in tenants_by_id.values() if t.kind == "school"), key=lambda t: t.id):
        chain = [tenants_by_id[i] for i in school.path_ids if i in tenants_by_id]
        if not all(node.is_active for node in chain):
            continue
        schedule = regulations.resolve(chain, latest_versions, today).document["disclosure"]["schedule"]
        days = SCHEDULE_DAYS.get(schedule)
        last = last_checked.get(school.id)
        if days is None or (last is not None and now - last < timedelta(days=days)):
            continue
        due.setdefault(school.parent_id or school.id, []).append(school.id)
    return due


def start_due_checks(now: datetime | None = None) -> list[DisclosureRun]:
    runs = []
    for parent_id, school_ids in due_schools(now).items():
        parent = db.session.execute(select(Tenant).where(Tenant.id == parent_id)).scalar_one()
        runs.append(start_check(parent, school_ids=school_ids, scheduled=True, permission_checked=True))
    return runs
