"""E-services (SV-1..SV-4, WD-4, first part): the region's catalogue of services with the
portal's links, the responsible persons of the office and of each school, and the public
pages a school's website links to."""
from core import register_nav, register_url_loader
from core.errors import register_conflict_schema
from core.extensions import api as api_ext
from core.orm import get_or_404


def init_app(app):
    from blueprints.services import api, catalogue, models, views  # noqa: F401 (models: their tables)

    app.register_blueprint(views.bp)
    api_ext.register_blueprint(api.blp)
    register_url_loader(app, "service_id", lambda value: get_or_404(models.Service, value))
    register_url_loader(app, "application_id", lambda value: _managed(get_or_404(models.Application, value)))
    register_url_loader(app, "appeal_id", lambda value: _managed(get_or_404(models.Appeal, value)))
    from blueprints.services.schemas import ServiceSchema

    register_conflict_schema(app, models.Service, ServiceSchema)  # a 409 shows the card as it is now
    register_nav(app, views.nav)
    from core.signals import demo_loaded

    demo_loaded.connect(_demo_services, app)


def _managed(entry):
    """An entry of a register of a school the caller manages (404 out of the scope, 403 within it)."""
    from blueprints.roster import service as roster

    roster.require_manager(roster.school_of_row(entry))
    return entry


def _demo_services(app, logins):
    """The demo regions get the five services of SV-1 with the portal's links, and school
    No. 12 its responsible person for the diary."""
    from sqlalchemy import select

    from blueprints.services import catalogue
    from core.extensions import db
    from tenants.models import Tenant

    made = 0
    for region in db.session.execute(select(Tenant).where(Tenant.kind == "region")).scalars():
        made += len(catalogue.preload(region, portal="https://www.gosuslugi.ru/education"))
    school = db.session.execute(select(Tenant).where(Tenant.short_name == "МАОУ СОШ № 12")).scalar_one_or_none()
    if school is not None:
        diary = next((s for s in catalogue.services_of(school.path_ids[0]) if s.code == "diary"), None)
        if diary is not None and diary.id not in catalogue.contacts_of(school.id):
            catalogue.set_contact(school, diary, {"name": "Соколова Ирина Викторовна, заместитель директора",
                                                  "room": "каб. 204", "hours": "пн–пт 9:00–17:00",
                                                  "phone": "+7 815 255-12-12", "email": "school12@example.ru"})
    return f"{made} e-services in the regions' catalogues" if made else None
