"""The region's catalogue of e-services (SV-1, SV-2) and each school's responsible persons
(WD-4): reading it (for the public pages too, which have no signed-in user), preloading the
five services of SV-1 into a region, and editing it.

The public pages read through :func:`public_catalogue` and :func:`public_school`, which open
the tenant door for one reason: the catalogue and a school's service page are what the
region and the school must disclose to everyone (WD-4); nothing else is read there."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import record
from core.errors import Refused
from core.extensions import db
from core.tenancy import unscoped
from blueprints.services.models import Service, ServiceContact
from tenants.models import Tenant

#: Распоряжение Правительства РФ от 19.12.2009 № 1993-р, as the Murmansk region lists it (seed 002).
FEDERAL_ACT = "Распоряжение Правительства Российской Федерации от 19.12.2009 № 1993-р «Об утверждении сводного " \
              "перечня первоочередных государственных и муниципальных услуг, предоставляемых в электронном виде»"
SV1 = [  # code, name (SV-1), how an applicant gets it
    ("info", "Предоставление информации об организации общедоступного и бесплатного дошкольного, начального общего, "
             "основного общего, среднего общего образования, а также дополнительного образования в "
             "общеобразовательных организациях",
     "Информация открыта всем: на странице школы в каталоге услуг и на её сайте. Устно и письменно — в школе, "
     "у ответственного за услугу, в часы приёма."),
    ("enrolment", "Зачисление в образовательную организацию",
     "Заявление подаёт родитель (законный представитель) через портал государственных услуг или в школе "
     "с паспортом и свидетельством о рождении ребёнка; решение сообщается в сроки регламента."),
    ("exams", "Предоставление информации о результатах сданных экзаменов, тестирования и иных вступительных "
              "испытаний, а также о зачислении в образовательную организацию",
     "Результаты видны в электронном дневнике ученика после их загрузки; по письменному запросу их выдаёт "
     "ответственный за услугу в школе."),
    ("diary", "Предоставление информации о текущей успеваемости учащегося, ведение электронного дневника и "
              "электронного журнала успеваемости",
     "Родитель (законный представитель) пишет в школе заявление о предоставлении услуги и выбирает способ "
     "информирования (электронный дневник, электронная почта, СМС или бумажная выписка); школа выдаёт код "
     "для входа. Вход — через Госуслуги (ЕСИА) или по выданному коду."),
    ("programmes", "Предоставление информации об образовательных программах и учебных планах, рабочих программах "
                   "учебных курсов, предметов, дисциплин (модулей), годовых календарных учебных графиках",
     "Программы, учебные планы и календарный учебный график размещаются на сайте школы в разделе «Сведения об "
     "образовательной организации»; по запросу их предоставляет ответственный за услугу в школе."),
]
FIELDS = ("name", "regulation", "acts", "procedure", "portal_url", "office_name", "office_room", "office_hours",
          "office_phone", "office_email")
CONTACT_FIELDS = ("name", "room", "hours", "phone", "email")
LIMITS = {"name": 500, "portal_url": 500, "office_name": 255, "office_room": 120, "office_hours": 255,
          "office_phone": 40, "office_email": 255, "room": 120, "hours": 255, "phone": 40, "email": 255}


def preload(region: Tenant, *, portal: str | None = None) -> list[Service]:
    """The five services of SV-1 for a region that has none of them yet (idempotent)."""
    have = {s.code for s in db.session.execute(select(Service).where(Service.tenant_id == region.id)).scalars()}
    made = []
    for number, (code, name, procedure) in enumerate(SV1, start=1):
        if code in have:
            continue
        service = Service(tenant_id=region.id, code=code, number=number, name=name, procedure=procedure,
                          regulation=f"Административный регламент предоставления услуги «{name}»",
                          acts=FEDERAL_ACT, portal_url=f"{portal.rstrip('/')}/{code}" if portal else None)
        db.session.add(service)
        made.append(service)
    db.session.flush()
    return made


def services_of(region_id: int) -> list[Service]:
    return db.session.execute(select(Service).where(Service.tenant_id == region_id)
                              .order_by(Service.number)).scalars().all()


def contacts_of(school_id: int) -> dict[int, ServiceContact]:
    return {c.service_id: c for c in db.session.execute(
        select(ServiceContact).where(ServiceContact.tenant_id == school_id)).scalars()}


def _clean(values: dict, fields, required=()) -> dict:
    out, errors = {}, {}
    for field in fields:
        if field not in values:
            continue
        value = (values.get(field) or "").strip() or None
        if value and field in LIMITS and len(value) > LIMITS[field]:
            errors[field] = _("At most %(n)s characters.", n=LIMITS[field])
        if value and field in ("portal_url",) and not value.startswith(("https://", "http://")):
            errors[field] = _("A web address starting with https://")
        if value and field in ("office_email", "email") and "@" not in value:
            errors[field] = _("An e-mail address, e.g. school10@example.ru")
        out[field] = value
    for field in required:
        if not out.get(field):
            errors[field] = _("This field is required.")
    if errors:
        raise Refused(errors)
    return out


def update_service(service: Service, values: dict, version: int | None) -> Service:
    """A region admin's edit of a service card (SV-2); audited in the region's chain."""
    if version is not None and version != service.version:
        raise Refused(status=409, current=service,
                      message=_("Someone changed this service meanwhile: reload it and edit again."))
    clean = _clean(values, FIELDS, required=[f for f in ("name", "regulation", "procedure") if f in values])
    before = {f: getattr(service, f) for f in clean}
    for field, value in clean.items():
        setattr(service, field, value if value is not None or field not in ("acts",) else "")
    db.session.flush()
    record(tenant_id=service.tenant_id, action="service.update", obj_type="service", obj_id=service.id,
           before=before, after={f: getattr(service, f) for f in clean})
    return service


def set_contact(school: Tenant, service: Service, values: dict) -> ServiceContact | None:
    """The school's responsible person for a service; an empty name removes it."""
    clean = _clean(values, CONTACT_FIELDS)
    contact = contacts_of(school.id).get(service.id)
    if not clean.get("name"):
        if contact is not None:
            db.session.delete(contact)
            record(tenant_id=school.id, action="service.contact_remove", obj_type="service", obj_id=service.id,
                   before={f: getattr(contact, f) for f in CONTACT_FIELDS})
        return None
    if contact is None:
        contact = ServiceContact(tenant_id=school.id, region_id=school.path_ids[0], service_id=service.id,
                                 name=clean["name"])
        db.session.add(contact)
    for field, value in clean.items():
        setattr(contact, field, value)
    db.session.flush()
    record(tenant_id=school.id, action="service.contact", obj_type="service", obj_id=service.id,
           after={f: getattr(contact, f) for f in CONTACT_FIELDS})
    return contact


# The public pages ------------------------------------------------------------------------

def public_catalogue(region_id: int) -> tuple[Tenant, list[Service], list[Tenant]] | None:
    """A region, its services and its schools (for the school list), for everyone (WD-4)."""
    with unscoped("public: the region's catalogue of e-services (WD-4)"):
        region = db.session.execute(select(Tenant).where(Tenant.id == region_id, Tenant.kind == "region",
                                                         Tenant.is_active.is_(True))).scalar_one_or_none()
        if region is None:
            return None
        schools = db.session.execute(select(Tenant).where(
            Tenant.path.startswith(region.path), Tenant.kind == "school", Tenant.is_active.is_(True))
            .order_by(Tenant.name)).scalars().all()
        return region, services_of(region.id), schools


def public_school(school_id: int) -> dict | None:
    """A school, its region's services and the school's responsible persons (WD-4)."""
    with unscoped("public: a school's e-services page (WD-4)"):
        school = db.session.execute(select(Tenant).where(Tenant.id == school_id, Tenant.kind == "school",
                                                         Tenant.is_active.is_(True))).scalar_one_or_none()
        if school is None:
            return None
        chain = db.session.execute(select(Tenant).where(Tenant.id.in_(school.path_ids))).scalars().all()
        region = next(t for t in chain if t.kind == "region")
        office = next((t for t in chain if t.kind == "municipality"), region)
        return {"school": school, "region": region, "office": office, "services": services_of(region.id),
                "contacts": contacts_of(school.id)}
