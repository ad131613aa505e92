"""The tenant tree and the regulation versions each tenant sets."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, bindparam, or_
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import utcnow
from core.extensions import db
from core.tenancy import TenantOwned, TenantScoped, literal_home

KINDS = ("region", "municipality", "school")
# Which kinds of tenant may sit directly under which (None: the top of the tree).
PARENT_KINDS = {"region": (None,), "municipality": ("region",), "school": ("municipality", "region")}


class Tenant(TenantScoped, db.Model):
    """A region, municipality or school.

    ``path`` is the materialized path of ids (``/1/4/9/``): a subtree is one prefix query.
    Paths never change (tenants are not moved), and tenants are never deleted, only
    deactivated (``is_active``). ``timezone`` and ``locale`` are inherited when unset.
    """

    __tablename__ = "tenant"
    __table_args__ = (UniqueConstraint("parent_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str | None] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(8))
    website_url: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def __scope_criteria__(cls):
        # The home tenant's subtree, and its ancestors (read for inherited settings).
        return or_(cls.path.startswith(bindparam("scope_home"), autoescape=False),
                   literal_home().startswith(cls.path))

    @property
    def path_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    @property
    def display_name(self):
        return self.short_name or self.name


class RegulationVersion(TenantOwned, db.Model):
    """A tenant's overrides of the regulation document from ``effective_from`` on, set by a
    normative act. The newest version in force on a date replaces the tenant's earlier ones
    whole. ``locked`` lists key paths the tenants below may not override."""

    __tablename__ = "regulation_version"
    __table_args__ = (UniqueConstraint("tenant_id", "effective_from"),)
    __visible_below__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date)
    act: Mapped[str] = mapped_column(Text)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    locked: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class TenantStats(TenantOwned, db.Model):
    """Counts over a tenant's subtree, recomputed by the ``tenant_stats`` job."""

    __tablename__ = "tenant_stats"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipalities: Mapped[int] = mapped_column(Integer, default=0)
    schools: Mapped[int] = mapped_column(Integer, default=0)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"))
