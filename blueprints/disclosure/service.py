"""The rules of the website checks (WD-1..WD-5). Views, API routes, jobs and the CLI call
these; the crawling itself is ``crawler.py``, the checklist and the score ``checks.py``.

A check runs over the active schools under a tenant. Each school's result is stored as it
completes (a ``SiteCheck`` with its ``Finding`` rows), so a run that stops half-way keeps
what it checked. A fault marked by hand as a false alarm (``Dismissal``) is respected by
every later run: it is shown with its reason and does not lower the score.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit
from core.accounts import service as accounts
from core.extensions import db
from core.orm import utcnow
from blueprints.disclosure.models import DisclosureRun, Dismissal, Finding, SiteCheck
from tenants import regulations
from tenants import service as tenants
from tenants.models import Tenant

KIND_LABELS = {
    "item": _l("Checklist items"),
    "link": _l("Links"),
    "outdated": _l("Outdated documents"),
    "microdata": _l("Microdata"),
    "site": _l("The site"),
}
STATUS_LABELS = {
    "found": _l("found"),
    "missing": _l("missing"),
    "ok": _l("works"),
    "broken": _l("broken"),
    "redirect_loop": _l("redirect loop"),
    "timeout": _l("no answer in time"),
    "error": _l("cannot be read"),
    "outdated": _l("no «утратил силу» mark"),
    "marked": _l("marked «утратил силу»"),
    "present": _l("marked up"),
    "too_large": _l("page too large"),
    "robots_disallowed": _l("closed by robots.txt"),
    "invalid_url": _l("invalid address"),
    "http_error": _l("the server answers with an error"),
    "no_website": _l("no website address"),
    "crashed": _l("the check failed"),
    "blocked_address": _l("the address is inside a closed network"),
    "deadline": _l("the site took too long to check"),
}
SCHEDULE_DAYS = {"weekly": 7, "monthly": 30}
FAULT_KINDS = ("item", "link", "outdated", "microdata", "site")


class DisclosureError(ValueError):
    """A refused operation. ``errors`` maps field names to messages; ``status`` 422 or 409."""

    def __init__(self, errors: dict, status: int = 422):
        super().__init__(errors)
        self.errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()}
        self.status = status


# Permissions (named once; pages, API and CLI use them) --------------------------------------

def can_read(tenant: Tenant) -> bool:
    """Admins of the tenant or above read its results (there is no inspector role yet)."""
    return accounts.administers(g.get("membership"), tenant.path)


def can_start(tenant: Tenant) -> bool:
    """Platform, region and municipality admins start checks in their subtree; a school
    admin checks the own school."""
    return accounts.administers(g.get("membership"), tenant.path)


def can_dismiss(school: Tenant) -> bool:
    """The admins above the school (the municipality and region that inspect it) mark a
    fault as a false alarm; the school itself does not clear its own faults."""
    membership = g.get("membership")
    return (school.kind == "school" and membership is not None and membership.tenant_id != school.id
            and accounts.administers(membership, school.path))


# Reading the tree --------------------------------------------------------------------------

def schools_under(tenant: Tenant) -> list[Tenant]:
    """The active schools of the tenant's subtree (the tenant itself if it is a school)."""
    return db.session.execute(select(Tenant).where(
        Tenant.kind == "school", Tenant.is_active.is_(True), Tenant.path.startswith(tenant.path, autoescape=True))
        .order_by(Tenant.name)).scalars().all()


def school_of(row) -> Tenant:
    """The school a result row belongs to, derived from the row (never from the URL)."""
    return tenants.load(row.tenant_id)


def settings_of(tenant: Tenant) -> dict:
    return tenants.effective(tenant).document["disclosure"]


def checklist_of(school: Tenant) -> list[dict]:
    """The school's effective checklist: the region's items, extended and adjusted by key
    along the path (``regulations.MERGED_BY_KEY``)."""
    return settings_of(school)["checklist"]


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
        raise tenants.Forbidden()
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


# Dismissals (false alarms) --------------------------------------------------------------------

def key_hash(key: str) -> str:
    return hashlib.sha256((key or "").encode("utf-8")).hexdigest()


def active_dismissals(school_ids) -> dict:
    """``{(school id, kind, key): Dismissal}`` of the dismissals in force."""
    if not school_ids:
        return {}
    rows = db.session.execute(select(Dismissal).where(Dismissal.tenant_id.in_(list(school_ids)),
                                                      Dismissal.withdrawn_at.is_(None))).scalars()
    return {(d.tenant_id, d.kind, d.key): d for d in rows}


def dismiss(finding: Finding, reason: str) -> Dismissal:
    """Mark a fault as a false alarm, checked by hand; the reason is required."""
    school = school_of(finding)
    if not can_dismiss(school):
        raise tenants.Forbidden()
    reason = (reason or "").strip()
    if not reason:
        raise DisclosureError({"reason": _("Give the reason why this is a false alarm.")})
    if len(reason) > 2000:
        raise DisclosureError({"reason": _("Keep the reason under 2000 characters.")})
    if finding.ok:
        raise DisclosureError({"finding_id": _("Only a fault can be marked as a false alarm.")}, status=409)
    row = db.session.execute(select(Dismissal).where(
        Dismissal.tenant_id == school.id, Dismissal.kind == finding.kind,
        Dismissal.key_hash == key_hash(finding.key))).scalar_one_or_none()
    if row is None:
        row = Dismissal(tenant_id=school.id, region_id=school.path_ids[0], kind=finding.kind, key=finding.key,
                        key_hash=key_hash(finding.key))
        db.session.add(row)
    row.reason, row.dismissed_by, row.dismissed_at = reason, audit.current_actor_id(), utcnow()
    row.withdrawn_by = row.withdrawn_at = None
    db.session.flush()
    audit.record(tenant_id=school.id, action="disclosure.dismiss", obj_type="disclosure_dismissal", obj_id=row.id,
                 after={"kind": row.kind, "key": row.key}, reason=reason)
    refresh_latest(school)
    return row


def withdraw(dismissal: Dismissal) -> Dismissal:
    school = school_of(dismissal)
    if not can_dismiss(school):
        raise tenants.Forbidden()
    if dismissal.withdrawn_at is None:
        dismissal.withdrawn_at, dismissal.withdrawn_by = utcnow(), audit.current_actor_id()
        db.session.flush()
        audit.record(tenant_id=school.id, action="disclosure.withdraw", obj_type="disclosure_dismissal",
                     obj_id=dismissal.id, before={"kind": dismissal.kind, "key": dismissal.key,
                                                  "reason": dismissal.reason})
        refresh_latest(school)
    return dismissal


def refresh_latest(school: Tenant):
    """The school's latest check counts the dismissals now in force (earlier checks stay as
    they were: the history shows what each run saw)."""
    check = latest_checks([school.id]).get(school.id)
    if check is None:
        return
    findings = db.session.execute(select(Finding).where(Finding.site_check_id == check.id)).scalars().all()
    figure(check, findings, active_dismissals([school.id]))


# Results ------------------------------------------------------------------------------------------

def latest_checks(school_ids) -> dict[int, SiteCheck]:
    """The newest check of each school: one query whatever the number of schools."""
    if not school_ids:
        return {}
    newest = (select(func.max(SiteCheck.id)).where(SiteCheck.tenant_id.in_(list(school_ids)))
              .group_by(SiteCheck.tenant_id).scalar_subquery())
    rows = db.session.execute(select(SiteCheck).where(SiteCheck.id.in_(newest))).scalars()
    return {row.tenant_id: row for row in rows}


@dataclass
class RatingRow:
    place: int | None
    school: Tenant
    check: SiteCheck | None


def rating(tenant: Tenant) -> list[RatingRow]:
    """WD-5: the schools under ``tenant`` by their latest disclosure score, best first
    (equal scores share a place; schools never checked come last). Two queries."""
    schools = schools_under(tenant)
    checks = latest_checks([s.id for s in schools])
    ordered = sorted(schools, key=lambda s: (s.id not in checks, -(checks[s.id].score if s.id in checks else 0),
                                             s.display_name))
    rows, place, last = [], 0, None
    for index, school in enumerate(ordered, start=1):
        check = checks.get(school.id)
        if check is not None and check.score != last:
            place, last = index, check.score
        rows.append(RatingRow(place if check is not None else None, school, check))
    return rows


def findings_of(check: SiteCheck) -> list[Finding]:
    return db.session.execute(select(Finding).where(Finding.site_check_id == check.id)
                              .order_by(Finding.kind, Finding.ok, Finding.id)).scalars().all()


@dataclass
class Shown:
    """A finding as a page shows it: with the dismissal in force, if any."""

    finding: Finding
    dismissal: Dismissal | None = None

    @property
    def is_fault(self):
        return not self.finding.ok and self.dismissal is None


def grouped(check: SiteCheck, findings: list[Finding], dismissals: dict) -> dict[str, list[Shown]]:
    """Findings by kind in the order of the page, faults first."""
    groups: dict[str, list[Shown]] = {kind: [] for kind in FAULT_KINDS}
    for f in findings:
        groups.setdefault(f.kind, []).append(Shown(f, dismissals.get((check.tenant_id, f.kind, f.key))
                                                    if not f.ok else None))
    for kind, items in groups.items():
        items.sort(key=lambda s: (not s.is_fault, s.finding.ok, s.finding.id))
    return groups


@dataclass
class HistoryRow:
    check: SiteCheck
    fixed: list = field(default_factory=list)  # (kind, key) faults of the previous check gone now
    new: list = field(default_factory=list)  # faults not in the previous check


def history(school: Tenant, limit=50, offset=0) -> list[HistoryRow]:
    """The school's checks, newest first, each with what was fixed since the check before
    it and what is new. Dismissed faults count as neither. Two queries."""
    checks = db.session.execute(select(SiteCheck).where(SiteCheck.tenant_id == school.id)
                                .order_by(SiteCheck.id.desc()).limit(limit + 1).offset(offset)).scalars().all()
    if not checks:
        return []
    faults: dict[int, set] = {c.id: set() for c in checks}
    dismissed = active_dismissals([school.id])
    for check_id, kind, key in db.session.execute(select(Finding.site_check_id, Finding.kind, Finding.key).where(
            Finding.site_check_id.in_(list(faults)), Finding.ok.is_(False))):
        if (school.id, kind, key) not in dismissed:
            faults[check_id].add((kind, key))
    rows = []
    for index, check in enumerate(checks[:limit]):
        # A check that could not read the site says nothing of what was fixed: it and the
        # check after it are compared with the last check that read the site.
        before = next((c for c in checks[index + 1:] if c.error is None), None)
        if before is None or check.error is not None:
            rows.append(HistoryRow(check))
        else:
            rows.append(HistoryRow(check, sorted(faults[before.id] - faults[check.id]),
                                   sorted(faults[check.id] - faults[before.id])))
    return rows


def history_count(school: Tenant) -> int:
    return db.session.execute(select(func.count()).select_from(SiteCheck)
                              .where(SiteCheck.tenant_id == school.id)).scalar_one()


def run_checks(run: DisclosureRun) -> list[SiteCheck]:
    return db.session.execute(select(SiteCheck).where(SiteCheck.run_id == run.id)
                              .order_by(SiteCheck.score.desc(), SiteCheck.id)).scalars().all()


def names_of(ids) -> dict[int, Tenant]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {t.id: t for t in db.session.execute(select(Tenant).where(Tenant.id.in_(ids))).scalars()}


def users_named(ids) -> dict[int, str]:
    """A dismissal names who made it; that person may hold a role above the reader's tenant,
    so core reads the names across the scope."""
    return accounts.full_names(ids, reason="disclosure: names of the people who dismissed findings")


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
    last_checked = dict(db.session.execute(select(SiteCheck.tenant_id, func.max(SiteCheck.checked_at))
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


# Demo --------------------------------------------------------------------------------------

def point_demo_schools(urls: dict[str, str]) -> int:
    """Point the demo schools named in ``urls`` (by short name) at the given sites."""
    changed = 0
    for school in db.session.execute(select(Tenant).where(Tenant.kind == "school",
                                                          Tenant.short_name.in_(list(urls)))).scalars():
        school.website_url = urls[school.short_name]
        changed += 1
    return changed

