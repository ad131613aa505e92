"""Roster: academic years and terms, classes, pupils, guardians, staff, subjects, teaching
assignments, the bell schedule and timetable, imports and the year rollover."""
from flask import abort
from flask_babel import lazy_gettext as _l

from core import register_nav, register_url_loader
from core.extensions import api as api_ext
from core.orm import get_or_404


def init_app(app):
    from blueprints.roster import api, models, tasks, views  # noqa: F401 - tasks register job kinds

    app.register_blueprint(views.bp)
    api_ext.register_blueprint(api.blp)
    register_url_loader(app, "school_id", _load_school)
    for name, model in (("year_id", models.AcademicYear), ("term_id", models.Term), ("pupil_id", models.Pupil),
                        ("subject_id", models.Subject)):
        register_url_loader(app, name, lambda value, model=model: get_or_404(model, value))
    for name, model in (("class_id", models.SchoolClass), ("lesson_id", models.Lesson),
                        ("guardian_id", models.Guardian)):
        register_url_loader(app, name, lambda value, model=model: _load_with_school(model, value))
    register_nav(app, _nav)
    from blueprints.roster import academic_years

    # Terms and years as words on every page that shows them (the journal's too).
    app.add_template_filter(academic_years.term_name, "term_name")
    app.add_template_filter(academic_years.year_status, "year_status")
    from core.signals import demo_loaded

    demo_loaded.connect(_demo_schools, app)


def _load_with_school(model, ident):
    """A class or a lesson with its school in one statement (their pages need both): the
    school is kept for the request, as if loaded on its own."""
    from sqlalchemy import select

    from core.extensions import db
    from core.orm import valid_id
    from tenants import service
    from tenants.models import Tenant

    if not valid_id(ident):
        abort(404)
    row = db.session.execute(select(model, Tenant).join(Tenant, Tenant.id == model.tenant_id)
                             .where(model.id == ident)).first()
    if row is None:
        abort(404)
    service.remember(row[1])
    return row[0]


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


def _demo_schools(app, logins):
    """Every demo school gets classes 1-11 with about 25 pupils each, staff and a timetable;
    the demo teacher, parent and pupil of school No. 12 are linked to its records."""
    from sqlalchemy import select

    from core.accounts.models import User
    from core.extensions import db
    from blueprints.roster import generator, models
    from tenants.models import Tenant

    schools = db.session.execute(select(Tenant).where(Tenant.kind == "school").order_by(Tenant.id)).scalars().all()
    totals = {"schools": 0, "pupils": 0, "lessons": 0}
    for school in schools:
        counts = generator.populate_school(school, pupils_per_class=app.config.get("DEMO_PUPILS_PER_CLASS", 25))
        totals["schools"] += 1
        totals["pupils"] += counts["pupils"]
        totals["lessons"] += counts["lessons"]
    users = {u.login: u for u in db.session.execute(select(User).where(
        User.login.in_(["teacher12", "parent12", "pupil12"]))).scalars()}
    school12 = next((s for s in schools if s.short_name == "МАОУ СОШ № 12"), None)
    if school12 is not None and len(users) == 3:
        maths = db.session.execute(select(models.Subject).where(
            models.Subject.name == "Математика", models.Subject.tenant_id == school12.path_ids[0])).scalar_one()
        entry = db.session.execute(select(models.TimetableEntry).join(
            models.SchoolClass, models.SchoolClass.id == models.TimetableEntry.class_id).where(
            models.TimetableEntry.tenant_id == school12.id, models.TimetableEntry.subject_id == maths.id,
            models.SchoolClass.grade == 5)).scalars().first()
        teacher = db.session.execute(select(models.Staff).where(models.Staff.id == entry.teacher_id)).scalar_one()
        teacher.user_id, teacher.login = users["teacher12"].id, "teacher12"
        teacher.last_name, teacher.first_name, teacher.middle_name = "Морозова", "Анна", "Сергеевна"
        pupil = db.session.execute(select(models.Pupil).join(models.Enrolment, models.Enrolment.pupil_id == models.Pupil.id)
                                   .where(models.Enrolment.class_id == entry.class_id).order_by(models.Pupil.id)
                                   ).scalars().first()
        pupil.user_id, pupil.last_name, pupil.first_name = users["pupil12"].id, "Новикова", "Мария"
        guardian = db.session.execute(select(models.Guardian).join(
            models.GuardianLink, models.GuardianLink.guardian_id == models.Guardian.id).where(
            models.GuardianLink.pupil_id == pupil.id).order_by(models.Guardian.id)).scalars().first()
        guardian.user_id, guardian.last_name, guardian.first_name = users["parent12"].id, "Новиков", "Дмитрий"
    return f"{totals['schools']} schools with {totals['pupils']} pupils and {totals['lessons']} lessons"
