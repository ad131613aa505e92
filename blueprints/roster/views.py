"""The school admin panel: years and terms, classes, pupils, staff, subjects, bell
schedule, timetable, imports and the year rollover."""
import datetime as dt

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, or_, select

from core import clock, tabular
from core.access import permission
from core.errors import Refused, require
from core.extensions import db
from core.uploads import load_upload, save_upload
from blueprints.roster import academic_years, guardians as guardian_rules, imports, schedule, school_classes, service, teaching
from blueprints.roster.models import (CHANNELS, Assignment, Enrolment, Guardian, Lesson, Pupil, SchoolClass, Staff,
                                      TimetableEntry)
from tenants import service as tenants

bp = Blueprint("roster", __name__, template_folder="templates")
PAGE_SIZE = 50


@bp.before_request
@login_required
def _signed_in():
    return None



def _render(template, school, **context):
    return render_template(template, school=school, chain=tenants.chain_of(school), can_manage=service.can_manage(school),
                           **context)


def _fail(error: Refused):
    db.session.rollback()
    for field, messages in error.errors.items():
        flash(f"{field}: {' '.join(messages)}", "error")


@bp.route("/schools/<int:school_id>/panel")
@permission(service.can_read, "school_id")
def school_panel(school_id):
    school = g.loaded["school_id"]
    year = academic_years.current_year(school)
    terms = academic_years.terms_of(year) if year else []
    counts = dict(db.session.execute(select(Lesson.term_id, func.count()).where(Lesson.tenant_id == school.id)
                                     .group_by(Lesson.term_id)).all())
    classes = school_classes.classes_of(year) if year else []
    sizes = dict(db.session.execute(select(Enrolment.class_id, func.count()).where(
        Enrolment.tenant_id == school.id, Enrolment.to_on.is_(None)).group_by(Enrolment.class_id)).all())
    return _render("roster/panel.html", school, year=year, years=academic_years.years(school), terms=terms,
                   counts=counts, classes=classes, sizes=sizes, kinds=imports.TITLES)


@bp.route("/schools/<int:school_id>/years", methods=["POST"])
@permission(service.can_read, "school_id")
def create_year(school_id):
    school = g.loaded["school_id"]
    try:
        academic_years.create_year(school, request.form.get("start_year", type=int) or clock.today().year)
        flash(_("The academic year is created with its terms."))
    except Refused as error:
        _fail(error)
    return redirect(url_for("roster.school_panel", school_id=school.id))


@bp.route("/terms/<int:term_id>/generate", methods=["POST"])
def generate(term_id):
    term = g.loaded["term_id"]
    school = service.school_of_row(term)
    added = schedule.generate_lessons(term)
    flash(_("Lessons added: %(n)s.", n=added))
    return redirect(url_for("roster.school_panel", school_id=school.id))


@bp.route("/schools/<int:school_id>/classes", methods=["POST"])
@permission(service.can_manage, "school_id")
def create_class(school_id):
    school = g.loaded["school_id"]
    year = academic_years.current_year(school)
    try:
        if year is None:
            raise Refused({"year": _("Create an academic year first.")})
        school_classes.create_classes(year, request.form.get("grade_from", type=int),
                                      request.form.get("grade_to", type=int), request.form.get("letters", ""))
    except Refused as error:
        _fail(error)
    return redirect(url_for("roster.school_panel", school_id=school.id))


@bp.route("/classes/<int:class_id>/list")
@permission(service.can_read, "class_id", via=service.school_of_row)
def class_page(class_id):
    school_class = g.loaded["class_id"]
    school = service.school_of_row(school_class)
    pupils = school_classes.class_roster(school_class)
    guardians = school_classes.guardians_by_pupil([p.id for p in pupils])
    teacher = db.session.execute(select(Staff).where(Staff.id == school_class.class_teacher_id)).scalar_one_or_none()
    return _render("roster/class.html", school, school_class=school_class, pupils=pupils, guardians=guardians,
                   teacher=teacher)


@bp.route("/schools/<int:school_id>/pupils")
@permission(service.can_read, "school_id")
def pupils(school_id):
    school = g.loaded["school_id"]
    stmt = select(Pupil).where(Pupil.tenant_id == school.id).order_by(Pupil.last_name, Pupil.first_name)
    q = (request.args.get("q") or "").strip().lower()
    if q:
        stmt = stmt.where(or_(func.lower(Pupil.last_name).like(f"%{q}%"), func.lower(Pupil.file_number).like(f"%{q}%")))
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    class_names = dict(db.session.execute(
        select(Enrolment.pupil_id, SchoolClass.grade.concat(SchoolClass.letter)).join(
            SchoolClass, SchoolClass.id == Enrolment.class_id)
        .where(Enrolment.pupil_id.in_([p.id for p in rows]), Enrolment.to_on.is_(None))).all()) if rows else {}
    return _render("roster/pupils.html", school, pupils=rows, class_names=class_names,
                   guardians=school_classes.guardians_by_pupil([p.id for p in rows]),
                   pager={"page": page, "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), "total": total})


@bp.route("/schools/<int:school_id>/guardians")
@permission(service.can_read, "school_id")
def guardians(school_id):
    """The school's guardians with how each chose to be informed (IN-1); ``channel=paper``
    lists those due printouts (IN-2)."""
    school = g.loaded["school_id"]
    channel = request.args.get("channel") if request.args.get("channel") in CHANNELS else None
    stmt = guardian_rules.list_statement(school, channel=channel, q=(request.args.get("q") or "").strip())
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    return _render("roster/guardians.html", school, guardians=rows, channel=channel,
                   children=guardian_rules.children_of([r.id for r in rows]),
                   channel_labels=guardian_rules.CHANNEL_LABELS,
                   pager={"page": page, "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), "total": total})


def _guardian_page(guardian: Guardian, form=None, errors=None, status=200):
    school = service.school_of_row(guardian)
    values = dict(guardian_rules.informing(guardian))
    if form is not None:
        values.update(form)
    return _render("roster/guardian.html", school, guardian=guardian, values=values, errors=errors or {},
                   children=guardian_rules.children_of([guardian.id]).get(guardian.id, []),
                   channel_labels=guardian_rules.CHANNEL_LABELS, mode_labels=guardian_rules.MODE_LABELS,
                   language_labels=guardian_rules.LANGUAGE_LABELS), status


@bp.route("/guardians/<int:guardian_id>")
@permission(service.can_read, "guardian_id", via=service.school_of_row)
def guardian_page(guardian_id):
    return _guardian_page(g.loaded["guardian_id"])


@bp.route("/guardians/<int:guardian_id>/informing", methods=["POST"])
@permission(service.can_manage, "guardian_id", via=service.school_of_row)
def guardian_informing(guardian_id):
    """IN-1: the ways of informing from the guardian's written application."""
    guardian = g.loaded["guardian_id"]
    form = {"channels": request.form.getlist("channels"), "email": request.form.get("email", ""),
            "phone": request.form.get("phone", ""), "application_number": request.form.get("application_number", ""),
            "application_date": request.form.get("application_date", ""),
            "notify_mode": request.form.get("notify_mode", ""), "digest_hour": request.form.get("digest_hour", ""),
            "language": request.form.get("language", "")}
    try:
        guardian_rules.set_informing(guardian, form)
    except Refused as error:
        db.session.rollback()
        return _guardian_page(guardian, form=form, errors=error.errors, status=422)
    flash(_("The guardian's ways of informing are saved."))
    return redirect(url_for("roster.guardian_page", guardian_id=guardian.id))


@bp.route("/schools/<int:school_id>/staff")
@permission(service.can_read, "school_id")
def staff(school_id):
    school = g.loaded["school_id"]
    stmt = select(Staff).where(Staff.tenant_id == school.id).order_by(Staff.last_name, Staff.first_name)
    q = (request.args.get("q") or "").strip().lower()
    if q:
        stmt = stmt.where(or_(func.lower(Staff.last_name).like(f"%{q}%"), func.lower(Staff.login).like(f"%{q}%"),
                              func.lower(Staff.position).like(f"%{q}%")))
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    year = academic_years.current_year(school)
    assignments = db.session.execute(select(Assignment).where(Assignment.year_id == year.id)).scalars().all() if year else []
    classes = {c.id: c.name for c in school_classes.classes_of(year)} if year else {}
    subjects = teaching.subjects_for(school)
    everyone = dict(db.session.execute(select(Staff.id, Staff.last_name).where(Staff.tenant_id == school.id)).all())
    return _render("roster/staff.html", school, staff=rows, subjects=subjects, assignments=assignments,
                   class_names=classes, subject_names={s.id: s.name for s in subjects}, staff_names=everyone,
                   pager={"page": page, "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), "total": total})


@bp.route("/schools/<int:school_id>/subjects", methods=["POST"])
@permission(service.can_read, "school_id")
def add_subject(school_id):
    school = g.loaded["school_id"]
    try:
        teaching.add_subject(school, request.form.get("name", ""), request.form.get("short_name"))
    except Refused as error:
        _fail(error)
    return redirect(url_for("roster.staff", school_id=school.id))


@bp.route("/schools/<int:school_id>/bells", methods=["GET", "POST"])
@permission(service.can_read, "school_id")
def bells(school_id):
    school = g.loaded["school_id"]
    if request.method == "POST":
        require(service.can_manage(school))
        periods = []
        try:
            for number in range(1, 9):
                start, end = request.form.get(f"start{number}"), request.form.get(f"end{number}")
                if start and end:
                    periods.append((number, dt.time.fromisoformat(start), dt.time.fromisoformat(end)))
            schedule.set_bell_schedule(school, periods)
            flash(_("The bell schedule is saved."))
        except ValueError as error:
            if isinstance(error, Refused):
                _fail(error)
            else:
                flash(_("Times are written as 08:30."), "error")
        return redirect(url_for("roster.bells", school_id=school.id))
    return _render("roster/bells.html", school, periods={p.number: p for p in schedule.bell_schedule(school)})


@bp.route("/schools/<int:school_id>/timetable")
@permission(service.can_read, "school_id")
def timetable(school_id):
    school = g.loaded["school_id"]
    year = academic_years.current_year(school)
    classes = school_classes.classes_of(year) if year else []
    with_entries = set(db.session.execute(select(TimetableEntry.class_id).where(
        TimetableEntry.year_id == year.id).distinct()).scalars()) if year else set()
    default = next((c for c in classes if c.id in with_entries), classes[0] if classes else None)
    selected = next((c for c in classes if c.id == request.args.get("class_id", type=int)), default)
    grid, names = {}, {}
    if selected:
        entries = db.session.execute(select(TimetableEntry).where(TimetableEntry.class_id == selected.id)).scalars().all()
        for entry in entries:
            grid.setdefault((entry.weekday, entry.period), []).append(entry)
        names = {s.id: s.name for s in teaching.subjects_for(school)}
        names.update({("t", s.id): s.short_name for s in db.session.execute(
            select(Staff).where(Staff.tenant_id == school.id)).scalars()})
    return _render("roster/timetable.html", school, classes=classes, selected=selected, grid=grid, names=names,
                   weekdays=schedule.WEEKDAYS, periods=schedule.bell_schedule(school))


@bp.route("/schools/<int:school_id>/imports/<kind>/template.<fmt>")
@permission(service.can_read, "school_id")
def import_template(school_id, kind, fmt):
    if kind not in imports.KINDS or fmt not in ("xlsx", "csv"):
        abort(404)
    columns = imports.KINDS[kind]
    if fmt == "csv":
        return Response(tabular.template_csv(columns), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={kind}.csv"})
    return Response(tabular.template_xlsx(columns, str(imports.TITLES[kind])),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={kind}.xlsx"})


@bp.route("/schools/<int:school_id>/imports/<kind>", methods=["GET", "POST"])
@permission(service.can_manage, "school_id")
def import_page(school_id, kind):
    school = g.loaded["school_id"]
    if kind not in imports.KINDS:
        abort(404)
    year = academic_years.current_year(school)
    context = {"kind": kind, "title": imports.TITLES[kind], "parsed": None, "summary": None, "error": None,
               "summary_labels": imports.SUMMARY_LABELS,
               "upload": None, "year": year}
    status = 200
    if request.method == "POST":
        try:
            if year is None:
                raise tabular.file_refused(_("Create an academic year first."))
            if request.form.get("action") == "commit":
                token = request.form.get("upload", "")
                filename, data = load_upload(school, token)
                commit = True
                big = _big_import(kind, school, year, filename, data, token)
                if big is not None:
                    return redirect(url_for("jobs.show", job_id=big.id))
            else:
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    raise tabular.file_refused(_("Choose a file."))
                filename, data, commit = upload.filename, upload.read(), False
            parsed, summary = imports.run(kind, school, year, filename, data, commit=commit,
                                          issued_by_id=g.membership.user_id)
            context.update(parsed=parsed, summary=summary)
            if summary is None:
                db.session.rollback()  # a check only: nothing of it is kept
                if not parsed.errors:
                    context["upload"] = save_upload(school, filename, data)
                else:
                    status = 422
        except Refused as error:
            db.session.rollback()
            context["error"], status = [m for messages in error.errors.values() for m in messages] or [str(error)], 422
    return _render("roster/import.html", school, **context), status


def _big_import(kind, school, year, filename, data, token):
    """A long import goes to a worker (the page then shows its progress)."""
    from flask import current_app

    from core.jobs import enqueue

    rows = len(tabular.read_table(filename, data)) - 1
    if rows <= current_app.config["IMPORT_JOB_ROWS"]:
        return None
    return enqueue("roster_import", tenant=school, params={"kind": kind, "year_id": year.id, "upload": token,
                                                           "issued_by_id": g.membership.user_id})


@bp.route("/schools/<int:school_id>/rollover", methods=["POST"])
@permission(service.can_manage, "school_id")
def rollover(school_id):
    school = g.loaded["school_id"]
    year = academic_years.current_year(school)
    if year is None:
        abort(404)
    summary = academic_years.rollover(school, year, request.form.get("final_grade", 11, type=int))
    flash(_("Next year is drafted: %(classes)s classes, %(promoted)s pupils promoted, %(graduated)s graduated.",
            **summary))
    return redirect(url_for("roster.school_panel", school_id=school.id))


@bp.route("/years/<int:year_id>/confirm", methods=["POST"])
@permission(service.can_manage, "year_id", via=service.school_of_row)
def confirm_year(year_id):
    year = g.loaded["year_id"]
    school = service.school_of_row(year)
    academic_years.confirm_year(year)
    flash(_("The year %(name)s is confirmed.", name=year.name))
    return redirect(url_for("roster.school_panel", school_id=school.id))
