"""/api/v1/lessons/{id}: the lesson's record, attendance and grades."""
from flask import g
from flask_smorest import abort

from core.access import permission
from core.apispec import Blueprint
from core.extensions import db
from blueprints.journal import entries, marks, missing
from blueprints.journal.acting import may_read_lesson, request_actor
from blueprints.roster import service as roster
from blueprints.journal.schemas import (AbsenceSchema, AttendanceInSchema, FinalMarkArgs, FinalMarkInSchema,
                                        GradeColumnSchema,
                                        FinalMarkRowSchema, FinalMarkSchema, GradeDeleteArgs, GradeSchema,
                                        HistoryArgs, HistorySchema, HomeworkSchema, LessonViewSchema, MissingArgs,
                                        MissingSchema, RecordSchema, RemarkSchema, SubstituteSchema, TopicSchema, YearMarkArgs,
                                        YearMarkInSchema, YearMarkRowSchema)

blp = Blueprint("journal_api", __name__, description="The class journal: lessons, attendance, grades")




def lesson():
    return g.loaded["lesson_id"]


@blp.route("/lessons/<int:lesson_id>", methods=["GET"])
@blp.response(200, LessonViewSchema)
def get_lesson(lesson_id):
    """The lesson with topic, homework, attendance, grades, lateness and due times."""
    return entries.lesson_view(lesson(), actor=request_actor())


@blp.route("/lessons/<int:lesson_id>/topic", methods=["PUT"])
@blp.arguments(TopicSchema)
@blp.response(200, RecordSchema)
def put_topic(data, lesson_id):
    """The topic; send the lesson's ``version`` you read (0 before anything is written)."""
    record = entries.set_topic(lesson(), data["topic"], by=request_actor(), version=data["version"],
                                reason=data["reason"])
    return record


@blp.route("/lessons/<int:lesson_id>/homework", methods=["PUT"])
@blp.arguments(HomeworkSchema)
@blp.response(200, RecordSchema)
def put_homework(data, lesson_id):
    record = entries.set_homework(lesson(), data["homework"], by=request_actor(), no_homework=data["no_homework"],
                                  version=data["version"], reason=data["reason"])
    return record


@blp.route("/lessons/<int:lesson_id>/attendance", methods=["PUT"])
@blp.arguments(AttendanceInSchema)
@blp.response(200, RecordSchema)
def put_attendance(data, lesson_id):
    record = entries.take_attendance(lesson(), data["absences"], by=request_actor(), version=data["version"],
                                     reason=data["reason"])
    return record


@blp.route("/lessons/<int:lesson_id>/grades/<int:pupil_id>", methods=["PUT"])
@blp.arguments(GradeSchema)
@blp.response(200, GradeSchema)
def put_grade(data, lesson_id, pupil_id):
    """Set one pupil's grade in one work-type column; send the ``version`` you read."""
    grade = entries.set_grade(lesson(), pupil_id, by=request_actor(), value=data["value"], work_type=data["work_type"],
                              comment=data["comment"], version=data["version"], reason=data["reason"])
    return grade


@blp.route("/lessons/<int:lesson_id>/grades/<int:pupil_id>", methods=["DELETE"])
@blp.arguments(GradeDeleteArgs, location="query")
@blp.response(204)
def delete_grade(args, lesson_id, pupil_id):
    entries.delete_grade(lesson(), pupil_id, args["work_type"], by=request_actor(), version=args["version"],
                         reason=args.get("reason"))


@blp.route("/lessons/<int:lesson_id>/attendance/<int:pupil_id>", methods=["PUT"])
@blp.arguments(AbsenceSchema)
@blp.response(200, RecordSchema)
def put_absence(data, lesson_id, pupil_id):
    """One pupil's mark (``status: null`` is present); attendance counts as taken."""
    record = entries.set_absence(lesson(), pupil_id, data["status"], by=request_actor(), reason=data.get("reason"),
                                 correction_reason=data.get("correction_reason"))
    return record


@blp.route("/schools/<int:school_id>/missing-entries")
@permission(roster.can_read, "school_id")
@blp.arguments(MissingArgs, location="query")
@blp.response(200, MissingSchema(many=True))
def missing_entries(args, school_id):
    """Lessons held so far with topic, attendance or homework not entered; filter by
    ``teacher_id`` or ``class_id``; ``overdue`` lists those past their due time."""
    school = g.loaded["school_id"]
    return missing.missing(school, teacher_id=args.get("teacher_id"), class_id=args.get("class_id"),
                           since=args.get("from_"), until=args.get("to"))


def _class_term(class_id, term_id):
    from sqlalchemy import select

    from blueprints.roster.models import Term

    school_class = g.loaded["class_id"]
    term = db.session.execute(select(Term).where(Term.id == term_id, Term.year_id == school_class.year_id)).scalar_one_or_none()
    if term is None:
        abort(422, errors={"term_id": ["No such term in this class's year."]})
    return school_class, term


@blp.route("/classes/<int:class_id>/final-marks")
@blp.arguments(FinalMarkArgs, location="query")
@blp.response(200, FinalMarkRowSchema(many=True))
def final_marks(args, class_id):
    """The term's grades per pupil, the suggested mark (a forecast while the term runs) and
    the mark set."""
    school_class, term = _class_term(class_id, args["term_id"])
    return marks.term_marks(school_class, args["subject_id"], term)


@blp.route("/classes/<int:class_id>/final-marks/<int:pupil_id>", methods=["PUT"])
@blp.arguments(FinalMarkInSchema)
@blp.response(200, FinalMarkSchema)
def put_final_mark(data, class_id, pupil_id):
    """A term mark; send the ``version`` you read (null when there was no mark): else 409
    with the current mark, as grades do."""
    school_class, term = _class_term(class_id, data["term_id"])
    mark = marks.set_term_mark(school_class, data["subject_id"], term, pupil_id, data["value"], by=request_actor(),
                               version=data["version"], reason=data["reason"])
    return mark


@blp.route("/lessons/<int:lesson_id>/remarks", methods=["POST"])
@blp.arguments(RemarkSchema)
@blp.response(201, RemarkSchema)
def post_remark(data, lesson_id):
    """A remark, praise or note to parents against a pupil (IN-5)."""
    remark = entries.add_remark(lesson(), data["pupil_id"], data["kind"], data["text"], by=request_actor())
    return remark


@blp.route("/lessons/<int:lesson_id>/remarks", methods=["GET"])
@permission(may_read_lesson, "lesson_id")
@blp.response(200, RemarkSchema(many=True))
def get_remarks(lesson_id):
    """The lesson's remarks to parents, newest first."""
    return entries.remarks_of(lesson())


@blp.route("/lessons/<int:lesson_id>/substitute", methods=["PUT"])
@blp.arguments(SubstituteSchema)
@blp.response(200, RecordSchema)
def put_substitute(data, lesson_id):
    """Who taught the lesson instead of the timetabled teacher (DL-1); the substitute may
    then write the lesson."""
    record = entries.set_substitute(lesson(), data["substitute_id"], by=request_actor(), version=data["version"],
                                    reason=data["reason"])
    return record


@blp.route("/lessons/<int:lesson_id>/history")
@blp.arguments(HistoryArgs, location="query")
@blp.response(200, HistorySchema(many=True))
def lesson_history(args, lesson_id):
    """Every change to the lesson's entries, from the school's audit chain."""
    return entries.history(lesson(), args.get("pupil_id"), actor=request_actor())


@blp.route("/lessons/<int:lesson_id>/grades", methods=["PUT"])
@blp.arguments(GradeColumnSchema)
@blp.response(200, GradeSchema(many=True))
def put_grade_column(data, lesson_id):
    """A column of grades in one transaction: all saved, or none (errors keyed grades.N.field)."""
    grades = entries.set_grades(lesson(), data["grades"], by=request_actor(), reason=data["reason"])
    return grades


@blp.route("/classes/<int:class_id>/year-marks")
@blp.arguments(YearMarkArgs, location="query")
@blp.response(200, YearMarkRowSchema(many=True))
def year_marks(args, class_id):
    """Per pupil: this year's term marks, the suggested year mark, and the year, exam and
    final marks set."""
    return marks.year_marks(g.loaded["class_id"], args["subject_id"])


@blp.route("/classes/<int:class_id>/year-marks/<int:pupil_id>", methods=["PUT"])
@blp.arguments(YearMarkInSchema)
@blp.response(200, FinalMarkSchema)
def put_year_mark(data, class_id, pupil_id):
    """A year, exam or final mark; send the ``version`` you read (``versions`` of the
    list; null when there was no mark): else 409 with the current mark."""
    mark = marks.set_year_mark(g.loaded["class_id"], data["subject_id"], data["kind"], pupil_id, data["value"],
                               by=request_actor(), version=data["version"], reason=data["reason"])
    return mark
