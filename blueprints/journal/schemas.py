import marshmallow as ma

from core.apispec import UtcDateTime
from blueprints.journal.models import ATTENDANCE_STATUSES, COMMENT_MAX, HOMEWORK_MAX, REMARK_MAX, TOPIC_MAX


# Every write that can race names the version it was based on (API.md), and a missing
# version is refused, not read as "overwrite whatever is there". Strict: 1.5 or "1" is
# invalid, never truncated to a version the writer did not read.
def record_version():
    """The lesson record's version: the lesson view's ``version``, 0 before anything is
    written; never null."""
    return ma.fields.Integer(required=True, strict=True, metadata={
        "description": "The lesson's version you read (`version` of GET /lessons/{id}; 0 when nothing is "
                       "written yet); 409 with the current record if stale"})


def entry_version():
    """A grade's or mark's version; null says the writer saw none, so it may create one."""
    return ma.fields.Integer(required=True, allow_none=True, strict=True, metadata={
        "description": "The version you read; null if you saw none (a new entry). 409 with the current "
                       "entry if stale"})


class RecordSchema(ma.Schema):
    topic = ma.fields.String(allow_none=True)
    topic_at = UtcDateTime(allow_none=True)
    topic_late = ma.fields.Boolean()
    homework = ma.fields.String(allow_none=True)
    no_homework = ma.fields.Boolean()
    homework_at = UtcDateTime(allow_none=True)
    homework_late = ma.fields.Boolean()
    attendance_at = UtcDateTime(allow_none=True)
    attendance_late = ma.fields.Boolean()
    substitute_id = ma.fields.Integer(allow_none=True)
    version = ma.fields.Integer()


class AttendanceSchema(ma.Schema):
    pupil_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(ATTENDANCE_STATUSES))
    reason = ma.fields.String(load_default=None, allow_none=True)


class GradeSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    pupil_id = ma.fields.Integer(dump_only=True)
    work_type = ma.fields.String(required=True)
    value = ma.fields.String(required=True)
    comment = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=COMMENT_MAX))
    entered_at = UtcDateTime(dump_only=True)
    is_late = ma.fields.Boolean(dump_only=True)
    version = entry_version()
    reason = ma.fields.String(load_default=None, load_only=True)


class LessonViewSchema(ma.Schema):
    id = ma.fields.Function(lambda v: v["lesson"].id)
    on = ma.fields.Function(lambda v: v["lesson"].held_on.isoformat())
    period = ma.fields.Function(lambda v: v["lesson"].period)
    class_id = ma.fields.Function(lambda v: v["lesson"].class_id)
    subject_id = ma.fields.Function(lambda v: v["lesson"].subject_id)
    teacher_id = ma.fields.Function(lambda v: v["lesson"].teacher_id)
    is_cancelled = ma.fields.Function(lambda v: v["lesson"].is_cancelled)
    timezone = ma.fields.String()
    locked = ma.fields.Boolean()
    version = ma.fields.Integer(metadata={"description": "The version to send with topic, homework, attendance "
                                                         "and substitute writes (0: nothing written yet)"})
    record = ma.fields.Nested(RecordSchema, allow_none=True)
    attendance = ma.fields.List(ma.fields.Nested(AttendanceSchema))
    grades = ma.fields.List(ma.fields.Nested(GradeSchema))
    due = ma.fields.Function(lambda v: {k: (d.isoformat() if d else None) for k, d in v["due"].items()},
                             metadata={"description": "Due instants (UTC) per component and grade work type"})


class TopicSchema(ma.Schema):
    topic = ma.fields.String(required=True, validate=ma.validate.Length(max=TOPIC_MAX))
    version = record_version()
    reason = ma.fields.String(load_default=None)


class SubstituteSchema(ma.Schema):
    substitute_id = ma.fields.Integer(required=True, allow_none=True,
                                      metadata={"description": "the staff member who taught instead; null clears"})
    version = record_version()
    reason = ma.fields.String(load_default=None)


class HomeworkSchema(ma.Schema):
    homework = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=HOMEWORK_MAX))
    no_homework = ma.fields.Boolean(load_default=False)
    version = record_version()
    reason = ma.fields.String(load_default=None)


class AttendanceInSchema(ma.Schema):
    absences = ma.fields.List(ma.fields.Nested(AttendanceSchema), required=True,
                              metadata={"description": "Pupils not simply present; [] means all present"})
    version = record_version()
    reason = ma.fields.String(load_default=None)


class AbsenceSchema(ma.Schema):
    status = ma.fields.String(required=True, allow_none=True, validate=ma.validate.OneOf(ATTENDANCE_STATUSES))
    reason = ma.fields.String(load_default=None, allow_none=True)
    correction_reason = ma.fields.String(load_default=None)


class GradeDeleteArgs(ma.Schema):
    work_type = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "The grade's version you read (409 if stale)"})
    reason = ma.fields.String()


class MissingArgs(ma.Schema):
    teacher_id = ma.fields.Integer()
    class_id = ma.fields.Integer()
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()


class MissingSchema(ma.Schema):
    lesson_id = ma.fields.Function(lambda i: i["lesson"].id)
    on = ma.fields.Function(lambda i: i["lesson"].held_on.isoformat())
    period = ma.fields.Function(lambda i: i["lesson"].period)
    class_id = ma.fields.Function(lambda i: i["lesson"].class_id)
    class_name = ma.fields.String()
    subject_id = ma.fields.Function(lambda i: i["lesson"].subject_id)
    teacher_id = ma.fields.Function(lambda i: i["lesson"].teacher_id)
    missing = ma.fields.List(ma.fields.String(), metadata={"description": "topic | attendance | homework"})
    overdue = ma.fields.List(ma.fields.String(), metadata={"description": "the missing ones past their due time"})
    url = ma.fields.Function(lambda i: f"/lessons/{i['lesson'].id}")


class FinalMarkArgs(ma.Schema):
    subject_id = ma.fields.Integer(required=True)
    term_id = ma.fields.Integer(required=True)


class FinalMarkRowSchema(ma.Schema):
    pupil_id = ma.fields.Function(lambda r: r["pupil"].id)
    pupil = ma.fields.Function(lambda r: r["pupil"].full_name)
    grades = ma.fields.List(ma.fields.String())
    suggested = ma.fields.String(allow_none=True)
    is_forecast = ma.fields.Boolean(metadata={"description": "the term is still running (IN-6)"})
    below_norm = ma.fields.Boolean(metadata={"description": "fewer grades than grading.min_grades_per_period"})
    mark = ma.fields.Function(lambda r: r["mark"].value if r["mark"] else None)
    version = ma.fields.Function(lambda r: r["mark"].version if r["mark"] else None)


class FinalMarkInSchema(ma.Schema):
    subject_id = ma.fields.Integer(required=True)
    term_id = ma.fields.Integer(required=True)
    value = ma.fields.String(required=True)
    version = entry_version()
    reason = ma.fields.String(load_default=None)


class FinalMarkSchema(ma.Schema):
    id = ma.fields.Integer()
    pupil_id = ma.fields.Integer()
    subject_id = ma.fields.Integer()
    term_id = ma.fields.Integer()
    kind = ma.fields.String()
    value = ma.fields.String()
    entered_at = UtcDateTime()
    version = ma.fields.Integer()


class RemarkSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    pupil_id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(("remark", "praise", "note")))
    text = ma.fields.String(required=True, validate=ma.validate.Length(max=REMARK_MAX))
    entered_at = UtcDateTime(dump_only=True)


class HistoryArgs(ma.Schema):
    pupil_id = ma.fields.Integer()


class HistorySchema(ma.Schema):
    seq = ma.fields.Integer()
    at = UtcDateTime()
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    before = ma.fields.Raw(allow_none=True)
    after = ma.fields.Raw(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class GradeEntrySchema(ma.Schema):
    pupil_id = ma.fields.Integer(required=True)
    work_type = ma.fields.String(required=True)
    value = ma.fields.String(required=True)
    comment = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=COMMENT_MAX))
    version = entry_version()


class GradeColumnSchema(ma.Schema):
    grades = ma.fields.List(ma.fields.Nested(GradeEntrySchema), required=True)
    reason = ma.fields.String(load_default=None)


class YearMarkArgs(ma.Schema):
    subject_id = ma.fields.Integer(required=True)


class YearMarkRowSchema(ma.Schema):
    pupil_id = ma.fields.Function(lambda r: r["pupil"].id)
    pupil = ma.fields.Function(lambda r: r["pupil"].full_name)
    terms = ma.fields.List(ma.fields.String(), metadata={"description": "the term marks set this year"})
    suggested = ma.fields.String(allow_none=True, metadata={"description": "mean of the term marks"})
    year = ma.fields.Function(lambda r: r["year"].value if r["year"] else None)
    exam = ma.fields.Function(lambda r: r["exam"].value if r["exam"] else None)
    final = ma.fields.Function(lambda r: r["final"].value if r["final"] else None)
    versions = ma.fields.Function(lambda r: {k: (r[k].version if r[k] else None) for k in ("year", "exam", "final")},
                                  metadata={"description": "per kind, the version to send when changing it (null: none set)"})


class YearMarkInSchema(ma.Schema):
    subject_id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(("year", "exam", "final")))
    value = ma.fields.String(required=True)
    version = entry_version()
    reason = ma.fields.String(load_default=None)
