"""Website checks (WD-1..WD-5): a run over a set of schools, one site check per school
per run with its findings, and the findings a person dismissed as false alarms.

Every row of a school's results carries the school (``tenant_id``) and its region
(``region_id``); a run belongs to the tenant it was started for (a school, a
municipality or a region).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.orm import utcnow
from core.tenancy import TenantOwned
from blueprints.roster.models import SchoolOwned

KINDS = ("item", "link", "outdated", "microdata", "site")
RUN_STATUSES = ("queued", "running", "finished", "failed")


class DisclosureRun(TenantOwned, db.Model):
    """One check of the schools under ``tenant_id`` (on demand or by the schedule)."""

    __tablename__ = "disclosure_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    is_scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    schools_total: Mapped[int] = mapped_column(Integer, default=0)
    schools_done: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SiteCheck(SchoolOwned, db.Model):
    """One school's site in one run. The figures are kept on the row, so a rating is one
    query whatever the number of findings; ``score`` and the counts leave out findings
    dismissed as false alarms (recomputed for the school's latest check when a dismissal
    is made or withdrawn), ``raw_score`` is the crawler's own."""

    __tablename__ = "disclosure_site_check"
    __table_args__ = (UniqueConstraint("run_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("disclosure_run.id"), index=True)
    url: Mapped[str | None] = mapped_column(String(500))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    raw_score: Mapped[float] = mapped_column(Float, default=0.0)
    required_total: Mapped[int] = mapped_column(Integer, default=0)
    required_found: Mapped[int] = mapped_column(Integer, default=0)
    broken_links: Mapped[int] = mapped_column(Integer, default=0)
    outdated_documents: Mapped[int] = mapped_column(Integer, default=0)
    microdata_missing: Mapped[int] = mapped_column(Integer, default=0)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    links_checked: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    # A code when the site could not be checked at all: no_website, invalid_url, timeout,
    # http_error, too_large, robots_disallowed, error, crashed.
    error: Mapped[str | None] = mapped_column(String(40))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Finding(SchoolOwned, db.Model):
    """What the crawler found: a checklist item found or missing, a link and its status,
    an outdated document, a microdata property, or why the site could not be read.
    ``(kind, key)`` names the same thing across runs."""

    __tablename__ = "disclosure_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_check_id: Mapped[int] = mapped_column(ForeignKey("disclosure_site_check.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(24))
    ok: Mapped[bool] = mapped_column(Boolean)
    url: Mapped[str | None] = mapped_column(String(2000))
    text: Mapped[str | None] = mapped_column(Text)
    page: Mapped[str | None] = mapped_column(String(2000))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    @property
    def is_required(self):
        return bool((self.detail or {}).get("required", False))


class Dismissal(SchoolOwned, db.Model):
    """A fault checked by hand and found to be a false alarm, with the reason. Later runs
    show the matching finding as dismissed and leave it out of the score. Withdrawing
    keeps the row (who and when) for the record; dismissing again reuses it."""

    __tablename__ = "disclosure_dismissal"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(1000))
    # Keys are URLs (up to 1000 characters): the unique constraint is on their SHA-256.
    key_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    dismissed_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    dismissed_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdrawn_at: Mapped[datetime | None]

    @property
    def is_active(self):
        return self.withdrawn_at is None
