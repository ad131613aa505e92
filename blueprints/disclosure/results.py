"""What the website checks found: the latest check of each school, the rating (WD-5), a
check's findings grouped for a page, and a school's history."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from core.extensions import db
from blueprints.disclosure.models import DisclosureRun, Dismissal, Finding, SiteCheck
from blueprints.disclosure.service import (FAULT_KINDS, active_dismissals, failure_reason, is_unreadable,
                                           schools_under)
from tenants.models import Tenant


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
    reason: str | None = None  # why the site could not be read: such a row is outside the ranking

    @property
    def unreachable(self) -> bool:
        return is_unreadable(self.check)


def rating(tenant: Tenant) -> list[RatingRow]:
    """WD-5: the schools under ``tenant`` by their latest disclosure score, best first
    (equal scores share a place). A school whose site could not be read has no score to
    compare: it follows the ranked ones with no place and the reason; schools never checked
    come last. Two queries, and a third for the reasons when some site could not be read."""
    schools = schools_under(tenant)
    checks = latest_checks([s.id for s in schools])
    reasons = failure_reasons([c for c in checks.values() if is_unreadable(c)])

    def order(school):
        check = checks.get(school.id)
        group = 2 if check is None else (1 if is_unreadable(check) else 0)
        return group, -(check.score if group == 0 else 0), school.display_name

    rows, place, last = [], 0, None
    for index, school in enumerate(sorted(schools, key=order), start=1):
        check = checks.get(school.id)
        if check is None or is_unreadable(check):
            rows.append(RatingRow(None, school, check, reasons.get(check.id) if check else None))
            continue
        if check.score != last:
            place, last = index, check.score
        rows.append(RatingRow(place, school, check))
    return rows


def failure_reasons(checks) -> dict[int, str]:
    """``{check id: why the site could not be read}`` in words, from each check's site
    finding (one query)."""
    checks = [c for c in checks if c is not None and c.error]
    if not checks:
        return {}
    site = {}
    for finding in db.session.execute(select(Finding).where(
            Finding.site_check_id.in_([c.id for c in checks]), Finding.kind == "site", Finding.ok.is_(False))
            .order_by(Finding.id)).scalars():
        site.setdefault(finding.site_check_id, finding)
    return {c.id: failure_reason(c.error, site.get(c.id)) for c in checks}


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
    from core.accounts import service as accounts

    return accounts.full_names(ids, reason="disclosure: names of the people who dismissed findings")
