"""The journal page (pupils by lessons, keyboard-first) and the lesson page."""
import datetime as dt

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from core.access import permission
from core.errors import Refused
from core.extensions import db
from blueprints.journal import context, entries, grid, history, labels, lesson_form, marks, missing, permissions
from blueprints.journal.acting import request_actor
from blueprints.journal.models import ATTENDANCE_LABELS, ATTENDANCE_STATUSES
from blueprints.roster import academic_years, school_classes, service as roster, teaching
from blueprints.roster.models import Assignment, Staff, Subject
from tenants import service as tenants

bp = Blueprint("journal", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/journal")


@bp.before_request
@login_required
def _signed_in():
    return None


def _save(work, unsaved=()):
    """Run a form's writes as one transaction: say they are saved (the redirect commits
    them), or roll back and show each refused field; a write the user may not make is 403. A version conflict (someone saved
    meanwhile) saves nothing and says so: the page shown next has what is saved now, and
    ``unsaved`` (label, text) pairs give back what the user typed, so it is not lost."""
    try:
        work()
        db.session.flush()  # a write that cannot be stored fails here, before "Saved." is said
        flash(_("Saved."))
    except Refused as error:
        db.session.rollback()
        if error.status == 409:
            flash(_("Someone else saved a change here while you were editing. Nothing of yours was saved: "
                    "the page shows what is saved now; check it and enter your change again."), "error")
            for label, text in unsaved:
                if text:
                    flash(_("Not saved, %(what)s: %(text)s", what=label, text=text), "error")
            return
        for field, messages in error.errors.items():
            # A message about the whole form reads on its own; one about a row keeps its place.
            text = " ".join(messages) if isinstance(messages, (list, tuple)) else str(messages)
            flash(text if "." not in field else f"{field}: {text}", "error")


def _changed_marks(kinds):
    """The marks form's cells ``kind:pupil`` that differ from what the page showed
    (``was:kind:pupil``), each with the version the page showed: an unchanged cell is not
    re-stamped, and a mark changed meanwhile by someone else is a conflict."""
    for key, value in request.form.items():
        kind, _sep, pupil = key.partition(":")
        if kind in kinds and pupil.isdigit() and value and value != request.form.get(f"was:{key}", ""):
            yield kind, int(pupil), value, request.form.get(f"version:{key}", type=int)


def _class_subject_term(school_class, school):
    """The class's subjects and terms for the page's choice, and the chosen ones (the
    requested, else the first subject and the term running today)."""
    subjects, terms = grid.class_choices(school_class)
    subject, term = grid.choose(subjects, terms, request.values.get("subject_id", type=int),
                                request.values.get("term_id", type=int), tenants.local_today(school))
    return subjects, terms, subject, term


@bp.route("/classes/<int:class_id>/journal")
@permission(roster.can_read, "class_id", via=roster.school_of_row)
def class_journal(class_id):
    """Choose a subject and a term; the teacher's own subjects first."""
    school_class = g.loaded["class_id"]
    page = grid.grid_table(school_class, request.args.get("subject_id", type=int),
                           request.args.get("term_id", type=int),
                           url_for("journal.lesson_page", lesson_id=0)[:-1] + "{}", actor=request_actor())
    if page.subject is None or page.term is None:
        return render_template("journal/empty.html", school_class=school_class)
    absences = {status: {"mark": mark, "label": str(ATTENDANCE_LABELS[status])}
                for status, mark in grid.ABSENCE_MARKS.items()}
    return render_template("journal/grid.html", school_class=school_class, page=page, absences=absences,
                           absences_json=grid.attribute_json(absences),
                           type_names_json=grid.attribute_json(_named(page.work_types)))


def _named(work_types) -> dict[str, str]:
    """The work types' names in the reader's language (the platform's defaults; a name a
    region or school wrote stays as written)."""
    return labels.work_type_names({"work_types": list(work_types)})


@bp.route("/lessons/<int:lesson_id>", methods=["GET", "POST"])
def lesson_page(lesson_id):
    lesson = g.loaded["lesson_id"]
    actor = request_actor()
    if request.method == "POST" and request.form.get("action") == "remark":
        _save(lambda: entries.add_remark(lesson, request.form.get("pupil_id", type=int) or 0,
                                         request.form.get("kind", ""), request.form.get("text", ""), by=actor))
        return redirect(url_for("journal.lesson_page", lesson_id=lesson.id) + "#remarks")
    if request.method == "POST" and request.form.get("action") == "substitute":
        _save(lambda: entries.set_substitute(lesson, request.form.get("substitute_id", type=int), by=actor,
                                             version=request.form.get("version", type=int),
                                             reason=request.form.get("reason") or None))
        return redirect(url_for("journal.lesson_page", lesson_id=lesson.id))
    if request.method == "POST":
        form = request.form
        reason = form.get("reason") or None
        record = context.record_of(lesson)
        _save(lambda: lesson_form.save(lesson, form, by=actor, reason=reason),
              unsaved=lesson_form.unsaved(form, record))
        return redirect(url_for("journal.lesson_page", lesson_id=lesson.id))
    view = entries.lesson_view(lesson, actor=actor)
    subject = db.session.execute(select(Subject).where(Subject.id == lesson.subject_id)).scalar_one()
    ctx = view["context"]
    staff = db.session.execute(select(Staff).where(Staff.tenant_id == ctx.school.id, Staff.is_active.is_(True))
                               .order_by(Staff.last_name, Staff.first_name)).scalars().all()
    history_of = request.args.get("pupil_id", type=int)
    history_lines = history.describe(entries.history(lesson, history_of, actor=actor), ctx.school, ctx.grading)
    can_substitute = not view["locked"] and permissions.may_name_substitute(ctx, actor)
    work_codes = [w["code"] for w in ctx.grading["work_types"]]
    return render_template("journal/lesson.html", view=view, lesson=lesson, subject=subject,
                           school_class=ctx.school_class, statuses=ATTENDANCE_STATUSES, labels=ATTENDANCE_LABELS,
                           can_write=permissions.is_teacher_of(ctx, actor, view["record"]) and not view["locked"],
                           absent={a.pupil_id: a for a in view["attendance"]},
                           grades={(gr.pupil_id, gr.work_type): gr for gr in view["grades"]},
                           remarks=entries.remarks_of(lesson), staff=staff, names={s_.id: s_.full_name for s_ in staff},
                           pupil_names={p.id: p.full_name for p in view["pupils"]}, history_lines=history_lines,
                           can_substitute=can_substitute, history_of=history_of, term=ctx.term, school=ctx.school,
                           pupil_grades=lesson_form.grade_rows(view["pupils"], view["grades"], work_codes),
                           work_types=[{**w, "name": name} for w, name in zip(ctx.grading["work_types"],
                                                                              _named(ctx.grading["work_types"]).values())],
                           scale=ctx.grading["scale"],
                           graded=ctx.school_class.grade not in ctx.grading["ungraded_levels"],
                           shown_names=_pupil_names(view["pupils"]),
                           local=lambda at: at.replace(tzinfo=dt.timezone.utc).astimezone(ctx.zone))


def _pupil_names(pupils):
    """Each pupil's full name, with their birth date where two share a name (as the grid
    tells them apart)."""
    labels = grid.pupil_labels([(p.id, p.last_name, " ".join(filter(None, (p.first_name, p.middle_name))),
                                 p.birth_date) for p in pupils])
    return {p.id: f"{p.full_name} ({labels[p.id][1]})" if labels[p.id][1] else p.full_name for p in pupils}


@bp.route("/schools/<int:school_id>/missing")
@permission(roster.can_read, "school_id")
def missing_page(school_id):
    """What is missing or overdue: a summary, then one row per teacher, class and subject
    with its counts (most overdue first, 50 a page), each a link to the first lesson to fill
    and to the group's lessons; a chosen group lists its lessons, 50 a page."""
    school = g.loaded["school_id"]
    teacher_id = request.args.get("teacher_id", type=int)
    class_id = request.args.get("class_id", type=int)
    subject_id = request.args.get("subject_id", type=int)
    staff = permissions.acting_staff(school, request_actor())
    if teacher_id is None and class_id is None and subject_id is None and staff is not None:
        teacher_id = staff.id  # a teacher sees their own lessons first
    teachers = db.session.execute(select(Staff).where(Staff.tenant_id == school.id)
                                  .order_by(Staff.last_name, Staff.first_name)).scalars().all()
    names = {s_.id: s_.short_name for s_ in teachers}
    subjects = {s_.id: s_.name for s_ in teaching.subjects_for(school)}
    order = lambda g_: (-g_.overdue_lessons, -g_.lessons, names.get(g_.teacher_id, ""),  # noqa: E731
                        g_.class_name, subjects.get(g_.subject_id, ""))
    found = missing.overview(school, teacher_id=teacher_id, class_id=class_id, subject_id=subject_id,
                             page=request.args.get("page", 1, type=int), order=order)
    year = academic_years.current_year(school)
    classes = school_classes.classes_of(year) if year else []
    return render_template("journal/missing.html", school=school, found=found, teachers=teachers, classes=classes,
                           subjects=subjects, teacher_id=teacher_id, class_id=class_id, subject_id=subject_id,
                           names=names, components=missing.COMPONENTS)


@bp.route("/schools/<int:school_id>/my-journal")
@permission(roster.can_read, "school_id")
def my_journal(school_id):
    """A teacher's classes and subjects, each a link to its journal page."""
    from blueprints.roster.models import SchoolClass

    school = g.loaded["school_id"]
    staff = permissions.acting_staff(school, request_actor())
    year = academic_years.current_year(school)
    rows = []
    if staff is not None and year is not None:
        rows = db.session.execute(
            select(Assignment, SchoolClass, Subject).join(SchoolClass, SchoolClass.id == Assignment.class_id)
            .join(Subject, Subject.id == Assignment.subject_id)
            .where(Assignment.year_id == year.id, Assignment.teacher_id == staff.id)
            .order_by(SchoolClass.grade, SchoolClass.letter, Subject.name)).all()
    return render_template("journal/mine.html", school=school, rows=rows, staff=staff)


@bp.route("/classes/<int:class_id>/marks", methods=["GET", "POST"])
@permission(roster.can_read, "class_id", via=roster.school_of_row)
def marks_page(class_id):
    """Term marks of a class in a subject: each pupil's grades, the suggested mark (a
    forecast while the term runs, IN-6) and the mark set; the teacher sets marks here."""
    school_class = g.loaded["class_id"]
    school = roster.school_of_row(school_class)
    subjects, terms, subject, term = _class_subject_term(school_class, school)
    if subject is None or term is None:
        return render_template("journal/empty.html", school_class=school_class)
    if request.method == "POST":
        def write():
            for _kind, pupil, value, version in _changed_marks(("mark",)):
                marks.set_term_mark(school_class, subject.id, term, pupil, value, by=request_actor(),
                                    version=version, reason=request.form.get("reason") or None)

        _save(write)
        return redirect(url_for("journal.marks_page", class_id=school_class.id, subject_id=subject.id, term_id=term.id))
    rows = marks.term_marks(school_class, subject.id, term)
    scale = tenants.effective(school, term.ends_on).document["grading"]["scale"]
    return render_template("journal/marks.html", school_class=school_class, subject=subject, term=term,
                           subjects=subjects, terms=terms, rows=rows, scale=scale)


@bp.route("/classes/<int:class_id>/year-marks", methods=["GET", "POST"])
@permission(roster.can_read, "class_id", via=roster.school_of_row)
def year_marks_page(class_id):
    """The year's marks of a class in a subject: each pupil's term marks, the suggested year
    mark (their mean), and the year, exam and final marks, which the teacher sets here."""
    school_class = g.loaded["class_id"]
    school = roster.school_of_row(school_class)
    subjects, _terms, subject, _term = _class_subject_term(school_class, school)
    if subject is None:
        return render_template("journal/empty.html", school_class=school_class)
    if request.method == "POST":
        def write():
            for kind, pupil, value, version in _changed_marks(("year", "exam", "final")):
                marks.set_year_mark(school_class, subject.id, kind, pupil, value, by=request_actor(),
                                    version=version, reason=request.form.get("reason") or None)

        _save(write)
        return redirect(url_for("journal.year_marks_page", class_id=school_class.id, subject_id=subject.id))
    rows = marks.year_marks(school_class, subject.id)
    scale = tenants.effective(school).document["grading"]["scale"]
    return render_template("journal/year_marks.html", school_class=school_class, subject=subject,
                           subjects=subjects, rows=rows, scale=scale, kinds=(("year", _("Year mark")),
                                                                            ("exam", _("Exam mark")),
                                                                            ("final", _("Final mark"))))
