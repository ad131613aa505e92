"""The e-services catalogue (SV-1, SV-2): a region's services, and the people responsible
for each at the education office (on the service) and at each school (``ServiceContact``)."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.tenancy import TenantOwned
from blueprints.roster.models import SchoolOwned


class Service(TenantOwned, db.Model):
    """One of a region's e-services. Owned by the region, read by every tenant below it."""

    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    __visible_below__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))  # the deep link's /services/<code>
    number: Mapped[int] = mapped_column(Integer)  # SV-1's order
    name: Mapped[str] = mapped_column(String(500))
    regulation: Mapped[str] = mapped_column(Text)  # the administrative regulation of the service
    acts: Mapped[str] = mapped_column(Text, default="")  # the acts that set it, one a line
    procedure: Mapped[str] = mapped_column(Text)  # how an applicant gets it
    portal_url: Mapped[str | None] = mapped_column(String(500))  # the service on the public services portal
    office_name: Mapped[str | None] = mapped_column(String(255))  # the responsible person at the office
    office_room: Mapped[str | None] = mapped_column(String(120))
    office_hours: Mapped[str | None] = mapped_column(String(255))
    office_phone: Mapped[str | None] = mapped_column(String(40))
    office_email: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class ServiceContact(SchoolOwned, db.Model):
    """The school's responsible person for one service (SV-2, WD-4)."""

    __tablename__ = "service_contact"
    __table_args__ = (UniqueConstraint("tenant_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    room: Mapped[str | None] = mapped_column(String(120))
    hours: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(255))
