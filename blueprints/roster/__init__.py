"""Roster: academic years and terms, classes, pupils, guardians, staff, subjects, teaching
assignments, the bell schedule and timetable, imports and the year rollover."""
from flask import abort
from flask_babel import lazy_gettext as _l

from core import register_nav, register_url_loader
from core.errors import as_http_error
from core.extensions import api as api_ext
from core.orm import get_or_404


def init_app(app):
    from blueprints.roster import api, models, service, views

    app.register_blueprint(views.bp)
    api_ext.register_blueprint(api.blp)
    app.register_error_handler(service.RosterError, lambda e: as_http_error(e.status, e.errors))
    register_url_loader(app, "school_id", _load_school)
    for name, model in (("year_id", models.AcademicYear), ("term_id", models.Term), ("class_id", models.SchoolClass),
                        ("pupil_id", models.Pupil), ("subject_id", models.Subject)):
        register_url_loader(app, name, lambda value, model=model: get_or_404(model, value))
    register_nav(app, _nav)


def _load_school(school_id):
    from tenants import service

    tenant = service.load(school_id)
    if tenant.kind != "school":
        abort(404)
    return tenant


def _nav(membership):
    from flask import url_for

    if membership is not None and membership.tenant_id and membership.role in ("school_admin", "teacher"):
        return [(_l("School"), url_for("roster.school_panel", school_id=membership.tenant_id))]
    return []
