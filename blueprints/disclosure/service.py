"""What the website checks (WD-1..WD-5) share: labels, the error, who may read, start and
dismiss, the schools and settings under a tenant, and the dismissals in force.

The rest is split by concern: ``check_runs.py`` (starting and running checks, the
schedule), ``false_alarms.py`` (dismissing faults), ``results.py`` (the rating, findings and
history); the crawling itself is ``crawler.py``, the checklist and the score ``checks.py``.
"""
from __future__ import annotations

import hashlib

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.accounts import service as accounts
from core.extensions import db
from blueprints.disclosure.models import Dismissal
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
FAULT_KINDS = ("item", "link", "outdated", "microdata", "site")



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
    along the path (the list is merged by key: the section's ``merged_by_key`` in
    ``regulations.py``)."""
    return settings_of(school)["checklist"]


# Dismissals in force (false alarms, see ``false_alarms.py``) ------------------------------

def key_hash(key: str) -> str:
    return hashlib.sha256((key or "").encode("utf-8")).hexdigest()


def active_dismissals(school_ids) -> dict:
    """``{(school id, kind, key): Dismissal}`` of the dismissals in force."""
    if not school_ids:
        return {}
    rows = db.session.execute(select(Dismissal).where(Dismissal.tenant_id.in_(list(school_ids)),
                                                      Dismissal.withdrawn_at.is_(None))).scalars()
    return {(d.tenant_id, d.kind, d.key): d for d in rows}


# Demo --------------------------------------------------------------------------------------

def point_demo_schools(urls: dict[str, str]) -> int:
    """Point the demo schools named in ``urls`` (by short name) at the given sites."""
    changed = 0
    for school in db.session.execute(select(Tenant).where(Tenant.kind == "school",
                                                          Tenant.short_name.in_(list(urls)))).scalars():
        school.website_url = urls[school.short_name]
        changed += 1
    return changed
