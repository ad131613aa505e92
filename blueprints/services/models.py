"""The e-services catalogue (SV-1, SV-2): a region's services, and the people responsible
for each at the education office (on the service) and at each school (``ServiceContact``)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import utcnow

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


class Application(SchoolOwned, db.Model):
    """An application for the diary service (SV-3), an entry of the school's register:
    numbered per school and year, the applicant guardian and the pupil, the ways of being
    informed they chose (IN-1), and the school's decision. Provided, the choice is written
    to the guardian's record, which the diary reads."""

    __tablename__ = "service_application"
    __table_args__ = (UniqueConstraint("tenant_id", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    filed_on: Mapped[date] = mapped_column(Date)
    service_code: Mapped[str] = mapped_column(String(40), default="diary")
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    choice: Mapped[dict] = mapped_column(JSON, default=dict)  # channels, email, phone, notify_mode, digest_hour, language
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | provided | refused
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    filed_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        """The entry's number as the register writes it: 7/2026."""
        return f"{self.number}/{self.year}"


class Appeal(SchoolOwned, db.Model):
    """A complaint, a request or an information request (SV-3), an entry of the school's
    register of appeals: numbered per school and year, due by the regulation
    (``services.complaint_answer_days``, ``services.request_answer_days``), with the person
    responsible for the answer, and the answer once given."""

    __tablename__ = "service_appeal"
    __table_args__ = (UniqueConstraint("tenant_id", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))  # complaint | request | information
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    applicant: Mapped[str] = mapped_column(String(255))
    contact: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    responsible: Mapped[str] = mapped_column(String(255))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        return f"{self.number}/{self.year}"
