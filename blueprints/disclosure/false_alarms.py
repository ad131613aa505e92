"""False alarms: a fault checked by hand is dismissed with a reason, or the dismissal
withdrawn; the school's latest check is scored again."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import NotAllowed, Refused
from core import audit
from core.extensions import db
from core.orm import utcnow
from blueprints.disclosure.check_runs import figure
from blueprints.disclosure.models import Dismissal, Finding, SiteCheck
from blueprints.disclosure.results import latest_checks
from blueprints.disclosure.service import active_dismissals, can_dismiss, is_unreadable, key_hash, school_of
from tenants.models import Tenant


def dismiss(finding: Finding, reason: str) -> Dismissal:
    """Mark a fault as a false alarm, checked by hand; the reason is required."""
    school = school_of(finding)
    if not can_dismiss(school):
        raise NotAllowed()
    reason = (reason or "").strip()
    if not reason:
        raise Refused({"reason": _("Give the reason why this is a false alarm.")})
    if len(reason) > 2000:
        raise Refused({"reason": _("Keep the reason under 2000 characters.")})
    if finding.ok:
        raise Refused({"finding_id": _("Only a fault can be marked as a false alarm.")}, status=409)
    if finding.kind == "site" and is_unreadable(db.session.execute(
            select(SiteCheck).where(SiteCheck.id == finding.site_check_id)).scalar_one_or_none()):
        # WD-5: a site that could not be read is outside the rating and checked again by
        # the next scheduled run; there is nothing to set aside.
        raise Refused({"finding_id": _("The site could not be read; it is checked again at the next scheduled run, "
                                       "so this cannot be marked as a false alarm.")}, status=409)
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
        raise NotAllowed()
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
