"""What every part of a school's roster shares: the error, who may read and manage it, and
loading one of its rows by id."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import Refused
from core.extensions import db
from tenants import service as tenants
from tenants.models import Tenant
from blueprints.roster.models import AcademicYear, SchoolClass, Staff, Subject



def school_of(tenant: Tenant) -> Tenant:
    if tenant.kind != "school":
        raise Refused({"tenant_id": _("This is not a school.")})
    return tenant


def region_id_of(school: Tenant) -> int:
    return school.path_ids[0]


def can_manage(school: Tenant) -> bool:
    return tenants.can_administer(school)


def require_manager(school: Tenant):
    tenants.require(can_manage(school))


STAFF_ROLES = {"platform_admin", "region_admin", "municipality_admin", "school_admin", "teacher"}


def can_read(school: Tenant) -> bool:
    """Staff read the school's lists; pupils and guardians see only their own data (IN-3),
    through the diary."""
    membership = g.get("membership")
    return membership is not None and membership.role in STAFF_ROLES


def school_of_row(row) -> Tenant:
    return tenants.load(row.tenant_id)


def _one(model, school: Tenant, row_id: int, field: str):
    from core.orm import valid_id

    if not valid_id(row_id):
        raise Refused({field: _("No such record in this school.")})
    row = db.session.execute(select(model).where(model.id == row_id, model.tenant_id == school.id)).scalar_one_or_none()
    if row is None:
        raise Refused({field: _("No such record in this school.")})
    return row


def year_of(school: Tenant, year_id: int) -> AcademicYear:
    return _one(AcademicYear, school, year_id, "year_id")


def class_of(school: Tenant, class_id: int) -> SchoolClass:
    return _one(SchoolClass, school, class_id, "class_id")


def subject_of(school: Tenant, subject_id: int) -> Subject:
    row = db.session.execute(select(Subject).where(Subject.id == subject_id,
                                                   Subject.tenant_id.in_(school.path_ids))).scalar_one_or_none()
    if row is None:
        raise Refused({"subject_id": _("No such subject for this school.")})
    return row


def staff_of(school: Tenant, staff_id: int) -> Staff:
    return _one(Staff, school, staff_id, "teacher_id")


def owner_columns(school: Tenant) -> dict:
    """The tenant columns of a row the school owns."""
    return {"tenant_id": school.id, "region_id": region_id_of(school)}
