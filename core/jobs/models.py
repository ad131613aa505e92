from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import utcnow
from core.extensions import db
from core.tenancy import TenantScoped, subtree_ids

STATUSES = ("queued", "running", "retrying", "succeeded", "failed")
FINISHED = ("succeeded", "failed")


class Job(TenantScoped, db.Model):
    """One run of a background job. Jobs of a tenant are visible in its subtree; jobs of
    the platform (no tenant) to platform admins only."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    tenant_path: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    # The message is stored untranslated (a msgid and its arguments) and translated when read.
    message: Mapped[str | None] = mapped_column(Text)
    message_args: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    result_url: Mapped[str | None] = mapped_column(String(1000))
    checkpoint: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)  # the traceback, for admins
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts made before the last manual retry: each (re)start gets the full retry budget.
    retry_base: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @classmethod
    def __scope_criteria__(cls):
        return cls.tenant_id.in_(subtree_ids())

    @property
    def is_finished(self):
        return self.status in FINISHED
