"""/api/v1/schools/{school_id}/...: the school's structure; single objects at their own paths."""
from flask import current_app, g, request, url_for
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import func, or_, select

from core import tabular
from core.access import permission
from core.apispec import Blueprint, UploadSchema
from core.extensions import db
from blueprints.roster import academic_years, guardians, imports, schedule, school_classes, service, teaching
from blueprints.roster.models import (Assignment, Enrolment, Lesson, Pupil, Staff,
                                      TimetableEntry)
from blueprints.roster.schemas import (GuardianChannelsSchema, GuardianInformingSchema, GuardianListArgs,
                                       AssignmentSchema, BellScheduleSchema, ClassBatchSchema, ClassSchema, ImportArgs,
                                       HolidaySchema, LessonChangeSchema,
                                       ImportResultSchema, LessonListArgs, LessonSchema, PupilListArgs, PupilSchema,
                                       RolloverResultSchema, RolloverSchema, StaffSchema, SubjectSchema, TermDatesSchema, TermSchema, TimetableEntrySchema,
                                       YearCreateSchema, YearSchema)

blp = Blueprint("roster_api", __name__, description="School structure: years, classes, pupils, staff, timetable")




def school():
    return g.loaded["school_id"]



def year_of(tenant, year_id=None):
    if year_id is not None:
        year = service.year_of(tenant, year_id)
    else:
        year = academic_years.current_year(tenant)
    if year is None:
        abort(422, errors={"year_id": ["Create an academic year first."]})
    return year


def page(stmt, pagination_parameters):
    pagination_parameters.item_count = db.session.execute(
        select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    size, number = pagination_parameters.page_size, pagination_parameters.page
    return db.session.execute(stmt.limit(size).offset((number - 1) * size)).scalars().all()


@blp.route("/schools/<int:school_id>/years")
class Years(MethodView):
    @permission(service.can_read, "school_id")
    @blp.response(200, YearSchema(many=True))
    def get(self, school_id):
        return academic_years.years(school())

    @blp.arguments(YearCreateSchema)
    @blp.response(201, YearSchema)
    def post(self, data, school_id):
        """A year with its terms, from the calendar regulation in force on its first day."""
        year = academic_years.create_year(school(), data["start_year"])
        return year


@blp.route("/years/<int:year_id>/terms")
@permission(service.can_read, "year_id", via=service.school_of_row)
@blp.response(200, TermSchema(many=True))
def terms(year_id):
    year = g.loaded["year_id"]
    return academic_years.terms_of(year)


@blp.route("/terms/<int:term_id>", methods=["PATCH"])
@blp.arguments(TermDatesSchema)
@blp.response(200, TermSchema)
def update_term(data, term_id):
    term = academic_years.update_term(g.loaded["term_id"], data["starts_on"], data["ends_on"])
    return term


@blp.route("/terms/<int:term_id>/lessons", methods=["POST"])
@blp.response(201, TermSchema)
def generate_lessons(term_id):
    """Generate the term's dated lessons from the weekly timetable (existing ones are kept)."""
    term = g.loaded["term_id"]
    added = schedule.generate_lessons(term)
    return term, 201, {"X-Lessons-Added": str(added)}


@blp.route("/schools/<int:school_id>/classes")
class Classes(MethodView):
    @permission(service.can_read, "school_id")
    @blp.response(200, ClassSchema(many=True))
    def get(self, school_id):
        year = year_of(school(), request.args.get("year_id", type=int))
        return school_classes.classes_of(year)

    @blp.arguments(ClassSchema)
    @blp.response(201, ClassSchema)
    def post(self, data, school_id):
        year = year_of(school(), data["year_id"])
        row = school_classes.create_class(year, data["grade"], data["letter"], data.get("class_teacher_id"))
        return row


@blp.route("/classes/<int:class_id>/pupils")
@permission(service.can_read, "class_id", via=service.school_of_row)
@blp.response(200, PupilSchema(many=True))
def class_pupils(class_id):
    """The class list with each pupil's guardians: two queries whatever the class size."""
    school_class = g.loaded["class_id"]
    pupils = school_classes.class_roster(school_class)
    guardians = school_classes.guardians_by_pupil([p.id for p in pupils])
    for pupil in pupils:
        pupil.guardians = guardians.get(pupil.id, [])
    return pupils


@blp.route("/schools/<int:school_id>/pupils")
class Pupils(MethodView):
    @permission(service.can_read, "school_id")
    @blp.arguments(PupilListArgs, location="query")
    @blp.response(200, PupilSchema(many=True))
    @blp.paginate()
    def get(self, args, school_id, pagination_parameters):
        stmt = select(Pupil).where(Pupil.tenant_id == school().id).order_by(Pupil.last_name, Pupil.first_name)
        if args.get("class_id"):
            stmt = stmt.join(Enrolment, Enrolment.pupil_id == Pupil.id).where(Enrolment.class_id == args["class_id"])
        if args.get("q"):
            like = f"%{args['q'].strip().lower()}%"
            stmt = stmt.where(or_(func.lower(Pupil.last_name).like(like), Pupil.file_number.like(like)))
        pupils = page(stmt, pagination_parameters)
        guardians = school_classes.guardians_by_pupil([p.id for p in pupils])
        for pupil in pupils:
            pupil.guardians = guardians.get(pupil.id, [])
        return pupils


@blp.route("/pupils/<int:pupil_id>")
@permission(service.can_read, "pupil_id", via=service.school_of_row)
@blp.response(200, PupilSchema)
def get_pupil(pupil_id):
    pupil = g.loaded["pupil_id"]
    pupil.guardians = school_classes.guardians_by_pupil([pupil.id]).get(pupil.id, [])
    return pupil


@blp.route("/schools/<int:school_id>/staff")
class StaffList(MethodView):
    @permission(service.can_read, "school_id")
    @blp.response(200, StaffSchema(many=True))
    @blp.paginate()
    def get(self, school_id, pagination_parameters):
        return page(select(Staff).where(Staff.tenant_id == school().id).order_by(Staff.last_name), pagination_parameters)

    @permission(service.can_manage, "school_id")
    @blp.arguments(StaffSchema)
    @blp.response(201, StaffSchema)
    def post(self, data, school_id):
        row, created = teaching.upsert_staff(school(), **data)
        if not created:
            abort(409, errors={"login": ["A staff member with this login exists."]})
        return row


@blp.route("/schools/<int:school_id>/subjects")
class Subjects(MethodView):
    @permission(service.can_read, "school_id")
    @blp.response(200, SubjectSchema(many=True))
    def get(self, school_id):
        return teaching.subjects_for(school())

    @blp.arguments(SubjectSchema)
    @blp.response(201, SubjectSchema)
    def post(self, data, school_id):
        row = teaching.add_subject(school(), data["name"], data.get("short_name"))
        return row


@blp.route("/schools/<int:school_id>/assignments")
class Assignments(MethodView):
    @permission(service.can_read, "school_id")
    @blp.response(200, AssignmentSchema(many=True))
    def get(self, school_id):
        year = year_of(school(), request.args.get("year_id", type=int))
        return db.session.execute(select(Assignment).where(Assignment.year_id == year.id)).scalars().all()

    @permission(service.can_manage, "school_id")
    @blp.arguments(AssignmentSchema)
    @blp.response(201, AssignmentSchema)
    def post(self, data, school_id):
        school_class = service.class_of(school(), data["class_id"])
        year = service.year_of(school(), school_class.year_id)
        row = teaching.assign(year, school_class, service.subject_of(school(), data["subject_id"]),
                              service.staff_of(school(), data["teacher_id"]), data.get("subgroup", ""))
        return row


@blp.route("/schools/<int:school_id>/bell-schedule")
class BellSchedule(MethodView):
    @permission(service.can_read, "school_id")
    @blp.response(200, BellScheduleSchema)
    def get(self, school_id):
        return {"periods": schedule.bell_schedule(school())}

    @blp.arguments(BellScheduleSchema)
    @blp.response(200, BellScheduleSchema)
    def put(self, data, school_id):
        schedule.set_bell_schedule(school(), [(p["number"], p["starts_at"], p["ends_at"]) for p in data["periods"]])
        return {"periods": schedule.bell_schedule(school())}


@blp.route("/schools/<int:school_id>/timetable")
class Timetable(MethodView):
    @permission(service.can_read, "school_id")
    @blp.response(200, TimetableEntrySchema(many=True))
    def get(self, school_id):
        year = year_of(school(), request.args.get("year_id", type=int))
        return db.session.execute(select(TimetableEntry).where(TimetableEntry.year_id == year.id)
                                  .order_by(TimetableEntry.weekday, TimetableEntry.period)).scalars().all()

    @permission(service.can_manage, "school_id")
    @blp.arguments(TimetableEntrySchema)
    @blp.response(201, TimetableEntrySchema)
    def post(self, data, school_id):
        school_class = service.class_of(school(), data["class_id"])
        year = service.year_of(school(), school_class.year_id)
        row = schedule.add_timetable_entry(
            year, weekday=data["weekday"], period=data["period"], school_class=school_class,
            subject=service.subject_of(school(), data["subject_id"]), teacher=service.staff_of(school(), data["teacher_id"]),
            subgroup=data.get("subgroup", ""), room=data.get("room"))
        return row


@blp.route("/schools/<int:school_id>/lessons")
@permission(service.can_read, "school_id")
@blp.arguments(LessonListArgs, location="query")
@blp.response(200, LessonSchema(many=True))
@blp.paginate()
def lessons(args, school_id, pagination_parameters):
    stmt = select(Lesson).where(Lesson.tenant_id == school().id).order_by(Lesson.held_on, Lesson.period)
    for key, column in (("class_id", Lesson.class_id), ("term_id", Lesson.term_id), ("teacher_id", Lesson.teacher_id)):
        if args.get(key):
            stmt = stmt.where(column == args[key])
    if args.get("from_"):
        stmt = stmt.where(Lesson.held_on >= args["from_"])
    if args.get("to"):
        stmt = stmt.where(Lesson.held_on <= args["to"])
    return page(stmt, pagination_parameters)


@blp.route("/lessons/<int:lesson_id>", methods=["PATCH"])
@blp.arguments(LessonChangeSchema)
@blp.response(200, LessonSchema)
def change_lesson(data, lesson_id):
    """A one-off change: cancel, move, substitute a teacher, change the room."""
    lesson = g.loaded["lesson_id"]
    school_ = service.school_of_row(lesson)
    teacher = service.staff_of(school_, data["teacher_id"]) if data.get("teacher_id") else None
    schedule.change_lesson(lesson, is_cancelled=data.get("is_cancelled"), teacher=teacher, room=data.get("room"),
                           on=data.get("on"), period=data.get("period"), reason=data.get("reason"))
    return lesson


@blp.route("/schools/<int:school_id>/class-batches", methods=["POST"])
@blp.arguments(ClassBatchSchema)
@blp.response(201, ClassSchema(many=True))
def create_classes(data, school_id):
    """Create classes grade_from..grade_to for each letter (existing ones are kept)."""
    year = year_of(school(), data["year_id"])
    made = school_classes.create_classes(year, data["grade_from"], data["grade_to"], data["letters"])
    return made


@blp.route("/schools/<int:school_id>/imports/<kind>", methods=["POST"])
@permission(service.can_manage, "school_id")
@blp.arguments(ImportArgs, location="query")
@blp.arguments(UploadSchema, location="files")
@blp.response(200, ImportResultSchema)
@blp.alt_response(202, description="A long import (more than IMPORT_JOB_ROWS rows) runs as a job")
def run_import(args, files, school_id, kind):
    """Check (``commit=false``) or import a CSV/XLSX file sent as ``file`` (multipart).
    Nothing is written while any row is rejected: 422 with ``errors`` keyed
    ``rows.N.column``."""
    if kind not in imports.KINDS:
        abort(404)
    upload = files["file"]
    year = year_of(school(), args.get("year_id"))
    data = upload.read()
    big = args["commit"] and len(tabular.read_table(upload.filename, data)) - 1 > current_app.config["IMPORT_JOB_ROWS"]
    parsed, summary = imports.run(kind, school(), year, upload.filename, data, commit=args["commit"] and not big,
                                  issued_by_id=g.membership.user_id)
    if big and not parsed.errors:
        # A long import is committed by a worker: 202 with the job to follow.
        from flask import jsonify

        from core.jobs import enqueue
        from core.jobs.schemas import JobSchema
        from core.uploads import save_upload

        token = save_upload(school(), upload.filename, data)
        job = enqueue("roster_import", tenant=school(), params={"kind": kind, "year_id": year.id, "upload": token,
                                                               "issued_by_id": g.membership.user_id})
        return jsonify(JobSchema().dump(job)), 202, {"Location": url_for("jobs_api.get_job", job_id=job.id)}
    if parsed.errors and args["commit"]:
        abort(422, errors=parsed.errors_by_path(), message=str(len(parsed.rejected_rows)))
    return {"rows": len(parsed.rows), "rejected": len(parsed.rejected_rows),
            "errors": [e.as_dict() for e in parsed.errors], "committed": summary is not None, "summary": summary}


@blp.route("/years/<int:year_id>/holidays", methods=["POST"])
@blp.arguments(HolidaySchema)
@blp.response(201, HolidaySchema)
def add_holiday(data, year_id):
    """Holidays inside the year: no lessons are generated on them."""
    holiday = academic_years.add_holiday(g.loaded["year_id"], data["name"], data["starts_on"], data["ends_on"])
    return holiday


@blp.route("/schools/<int:school_id>/rollover", methods=["POST"])
@blp.arguments(RolloverSchema)
@blp.response(200, RolloverResultSchema)
def rollover(data, school_id):
    """Draft next year's classes, enrolments and assignments from the current year (MO-5)."""
    year = year_of(school())
    summary = academic_years.rollover(school(), year, data["final_grade"])
    return {"summary": summary}


@blp.route("/years/<int:year_id>/confirm", methods=["POST"])
@blp.response(200, YearSchema)
def confirm(year_id):
    year = academic_years.confirm_year(g.loaded["year_id"])
    return year


@blp.route("/classes/<int:class_id>")
@permission(service.can_read, "class_id", via=service.school_of_row)
@blp.response(200, ClassSchema)
def get_class(class_id):
    school_class = g.loaded["class_id"]
    return school_class


@blp.route("/subjects/<int:subject_id>")
@permission(service.can_read, "subject_id", via=service.school_of_row)
@blp.response(200, SubjectSchema)
def get_subject(subject_id):
    return g.loaded["subject_id"]




def _with_children(rows):
    children = guardians.children_of([r.id for r in rows])
    for row in rows:
        row.pupil_ids = [p.id for p in children.get(row.id, [])]
    return rows


@blp.route("/schools/<int:school_id>/guardians")
@permission(service.can_read, "school_id")
@blp.arguments(GuardianListArgs, location="query")
@blp.response(200, GuardianChannelsSchema(many=True))
@blp.paginate()
def school_guardians(args, school_id, pagination_parameters):
    """The school's guardians and how each chose to be informed (IN-1); ``channel=paper``:
    those due paper printouts (IN-2)."""
    stmt = guardians.list_statement(school(), channel=args.get("channel"), q=(args.get("q") or "").strip())
    return _with_children(page(stmt, pagination_parameters))


@blp.route("/guardians/<int:guardian_id>")
class GuardianInforming(MethodView):
    @permission(service.can_read, "guardian_id", via=service.school_of_row)
    @blp.response(200, GuardianChannelsSchema)
    def get(self, guardian_id):
        return _with_children([g.loaded["guardian_id"]])[0]

    @permission(service.can_manage, "guardian_id", via=service.school_of_row)
    @blp.arguments(GuardianInformingSchema)
    @blp.response(200, GuardianChannelsSchema)
    def patch(self, data, guardian_id):
        """IN-1: record the ways of informing from the guardian's written application."""
        guardian = guardians.set_informing(g.loaded["guardian_id"], data)
        return _with_children([guardian])[0]
