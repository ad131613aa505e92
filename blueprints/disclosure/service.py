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
    # what a site finding's key says when the start page could not be read
    "unreachable": _l("the site does not answer"),
    "tls": _l("the secure connection (TLS) failed"),
    "protocol": _l("the server's answer cannot be read"),
    "too_many_redirects": _l("too many redirects"),
    "crawler_error": _l("the check failed"),
}
FAULT_KINDS = ("item", "link", "outdated", "microdata", "site")

# Why a request failed (a finding's ``detail.error``, from ``transport.py``).
FAILURE_LABELS = {
    "refused": _l("connection refused"),
    "connect": _l("no connection to the server"),
    "dns": _l("the name is not found (DNS)"),
    "tls": _l("the secure connection (TLS) failed"),
    "timeout": _l("no answer in time"),
    "protocol": _l("the server's answer cannot be read"),
    "redirect_loop": _l("redirect loop"),
    "too_many_redirects": _l("too many redirects"),
    "invalid_url": _l("invalid address"),
    "blocked_address": _l("the address is inside a closed network"),
}

# A check's ``error`` when the site could not be read at all (a site that is down, refuses,
# or forbids the crawler): it has no score to rank (WD-5), so the rating lists it apart
# with the reason, its fault cannot be set aside as a false alarm, and the next scheduled
# run checks it again. A site read in part ("too_large", "deadline") is scored on what was
# read; a school with no website address ("no_website") ranks with 0.
UNREADABLE = frozenset({"timeout", "error", "http_error", "invalid_url", "blocked_address",
                        "robots_disallowed", "crashed"})


def is_unreadable(check) -> bool:
    return check is not None and check.error in UNREADABLE


def site_label(key: str) -> str:
    """A site finding's key as words («too_large:https://…» is a page past the size cap)."""
    key = key or ""
    if key.startswith("too_large:"):
        return f"{STATUS_LABELS['too_large']}: {key.removeprefix('too_large:')}"
    return str(STATUS_LABELS.get(key, key))


def failure_reason(error: str | None, finding=None) -> str:
    """Why a site could not be read, in words: connection refused, the name is not found,
    TLS, HTTP 503, no answer in time, closed by robots.txt..."""
    from flask_babel import gettext

    detail = (finding.detail or {}) if finding is not None else {}
    if error == "http_error" and detail.get("status_code"):
        return gettext("the server answers with an error: HTTP %(code)s", code=detail["status_code"])
    if detail.get("error") in FAILURE_LABELS:
        return str(FAILURE_LABELS[detail["error"]])
    if finding is not None and finding.key == "deadline":
        return gettext("no answer within %(seconds)s s", seconds=detail.get("seconds", "?"))
    if finding is not None and finding.key in STATUS_LABELS and error in ("error", None):
        return str(STATUS_LABELS[finding.key])
    return str(STATUS_LABELS.get(error, error or ""))



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
