"""The diary's API schemas (../shared/API.md): dates YYYY-MM-DD, times HH:MM in the
school's local time, every code with its words in the caller's language."""
import marshmallow as ma

from core.apispec import UtcDateTime
from core.i18n import between


class LocalTime(ma.fields.Field):
    """A lesson's local time of the school's day, as HH:MM."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value.strftime("%H:%M") if value is not None else None


class DiarySchoolSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    timezone = ma.fields.String()


class ChildSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The pupil's id: /api/v1/pupils/{id}/diary"})
    full_name = ma.fields.String()
    class_name = ma.fields.String(allow_none=True, metadata={"description": "The class today, e.g. 5а"})
    is_self = ma.fields.Boolean(metadata={"description": "The caller's own diary (a pupil)"})
    relation = ma.fields.String(allow_none=True, metadata={"description": "As the school recorded it: мать, отец, опекун"})
    school = ma.fields.Nested(DiarySchoolSchema)


class WeekArgs(ma.Schema):
    week = ma.fields.String(metadata={"description": "ISO week YYYY-Www; the school's current week if absent",
                                      "example": "2026-W47"})


class MarksArgs(ma.Schema):
    term_id = ma.fields.Integer(strict=False, validate=between(1, 2 ** 31 - 1),
                                metadata={"description": "The term; the one running if absent"})


class DiaryGradeSchema(ma.Schema):
    value = ma.fields.String()
    work_type = ma.fields.String(metadata={"description": "The regulation's code (GR-1)"})
    work_type_name = ma.fields.String(metadata={"description": "Its name in the caller's language"})
    comment = ma.fields.String(allow_none=True)


class DiaryRemarkSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "remark | praise | note"})
    kind_label = ma.fields.String()
    text = ma.fields.String()


class DiaryLessonSchema(ma.Schema):
    id = ma.fields.Integer()
    period = ma.fields.Integer()
    starts_at = LocalTime(metadata={"description": "HH:MM, the school's local time"})
    ends_at = LocalTime()
    subject = ma.fields.String()
    teacher = ma.fields.String(allow_none=True)
    room = ma.fields.String(allow_none=True)
    subgroup = ma.fields.String(allow_none=True)
    is_cancelled = ma.fields.Boolean()
    topic = ma.fields.String(allow_none=True)
    homework = ma.fields.String(allow_none=True)
    no_homework = ma.fields.Boolean()
    attendance = ma.fields.String(allow_none=True, metadata={
        "description": "present | absent | late | ill | excused; null before attendance is taken"})
    attendance_label = ma.fields.String(allow_none=True)
    grades = ma.fields.List(ma.fields.Nested(DiaryGradeSchema))
    remarks = ma.fields.List(ma.fields.Nested(DiaryRemarkSchema))


class DaySchema(ma.Schema):
    date = ma.fields.Date()
    lessons = ma.fields.List(ma.fields.Nested(DiaryLessonSchema))


class WeekSchema(ma.Schema):
    pupil_id = ma.fields.Integer()
    week = ma.fields.String()
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()
    previous = ma.fields.String()
    next = ma.fields.String()
    class_name = ma.fields.String()
    empty = ma.fields.String(allow_none=True, metadata={
        "description": "Why there is nothing to show: not_started, no_class, no_lessons, not_recorded"})
    empty_reason = ma.fields.String(allow_none=True)
    days = ma.fields.List(ma.fields.Nested(DaySchema))


class DiaryTermSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()


class DiaryTermGradeSchema(DiaryGradeSchema):
    on = ma.fields.Date(metadata={"description": "The lesson's date"})


class SubjectMarksSchema(ma.Schema):
    subject_id = ma.fields.Integer()
    subject = ma.fields.String()
    grades = ma.fields.List(ma.fields.Nested(DiaryTermGradeSchema))
    average = ma.fields.Decimal(as_string=True, allow_none=True)
    forecast = ma.fields.String(allow_none=True, metadata={
        "description": "IN-6: the period mark the regulation's rule gives so far, while the term runs"})
    mark = ma.fields.String(allow_none=True, metadata={"description": "The period mark, once visible (DL-4)"})


class YearMarksSchema(ma.Schema):
    subject_id = ma.fields.Integer()
    subject = ma.fields.String()
    year = ma.fields.String(allow_none=True)
    exam = ma.fields.String(allow_none=True)
    final = ma.fields.String(allow_none=True)


class MarksSchema(ma.Schema):
    pupil_id = ma.fields.Integer()
    class_name = ma.fields.String(allow_none=True)
    term = ma.fields.Nested(DiaryTermSchema, allow_none=True)
    terms = ma.fields.List(ma.fields.Nested(DiaryTermSchema))
    is_forecast = ma.fields.Boolean()
    empty = ma.fields.String(allow_none=True)
    subjects = ma.fields.List(ma.fields.Nested(SubjectMarksSchema))
    year_marks = ma.fields.List(ma.fields.Nested(YearMarksSchema))


class ActivityArgs(ma.Schema):
    term_id = ma.fields.Integer(strict=False, validate=between(1, 2 ** 31 - 1),
                                metadata={"description": "The term; the one running, else the last ended, if absent"})


class ActivityRowSchema(ma.Schema):
    pupil_id = ma.fields.Integer()
    pupil = ma.fields.String()
    guardian_id = ma.fields.Integer(allow_none=True)
    guardian = ma.fields.String(allow_none=True, metadata={"description": "null: the pupil has no guardian recorded"})
    days = ma.fields.Integer(metadata={"description": "Days the guardian read the child's diary in the term so far"})
    per_week = ma.fields.Float()
    status = ma.fields.String(metadata={"description": "ok | below (fewer checks a week than the regulation asks) | "
                                                       "no_account (cannot sign in) | none (no guardian recorded)"})
    status_label = ma.fields.String()


class ActivitySchema(ma.Schema):
    """How often each pupil's guardians read the diary in a term (IN-4)."""

    class_id = ma.fields.Integer()
    class_name = ma.fields.String()
    term_id = ma.fields.Integer()
    term = ma.fields.String()
    starts_on = ma.fields.Date()
    until = ma.fields.Date(metadata={"description": "The term's last day, or today while it runs"})
    ended = ma.fields.Boolean()
    weeks = ma.fields.Float()
    wanted_per_week = ma.fields.Integer(metadata={"description": "informing.parent_checks_per_week"})
    below = ma.fields.Integer(metadata={"description": "Guardians below the regulation or without access"})
    rows = ma.fields.List(ma.fields.Nested(ActivityRowSchema))


class TeacherSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The teacher's staff id: the teacher_id of a new message"})
    name = ma.fields.String()
    subjects = ma.fields.List(ma.fields.String())
    is_class_teacher = ma.fields.Boolean()


class ThreadRowSchema(ma.Schema):
    id = ma.fields.Integer()
    pupil_id = ma.fields.Integer()
    pupil = ma.fields.String()
    teacher_id = ma.fields.Integer()
    teacher = ma.fields.String()
    last_at = UtcDateTime()
    unread = ma.fields.Integer(metadata={"description": "Messages from the others the caller has not read"})
    last = ma.fields.String(metadata={"description": "The start of the last message"})


class MessageSchema(ma.Schema):
    id = ma.fields.Integer()
    author = ma.fields.String()
    mine = ma.fields.Boolean()
    text = ma.fields.String()
    sent_at = UtcDateTime()


class ThreadSchema(ma.Schema):
    id = ma.fields.Integer()
    pupil_id = ma.fields.Integer()
    pupil = ma.fields.String()
    teacher_id = ma.fields.Integer()
    teacher = ma.fields.String()
    may_write = ma.fields.Boolean(metadata={"description": "False for the school's administration: it only reads"})
    messages = ma.fields.List(ma.fields.Nested(MessageSchema))


class NewMessageSchema(ma.Schema):
    teacher_id = ma.fields.Integer(required=True, strict=False, validate=between(1, 2 ** 31 - 1))
    text = ma.fields.String(required=True)


class ReplySchema(ma.Schema):
    text = ma.fields.String(required=True)


class PaperRowSchema(ma.Schema):
    pupil_id = ma.fields.Integer()
    pupil = ma.fields.String()
    guardian_id = ma.fields.Integer()
    guardian = ma.fields.String()
    application = ma.fields.String(allow_none=True, metadata={"description": "The written application's number (IN-1)"})
    last_handed_on = ma.fields.Date(allow_none=True)
    since = ma.fields.Date(metadata={"description": "The first day a printout now would cover"})
    until = ma.fields.Date()
    due_on = ma.fields.Date()
    due = ma.fields.Boolean()
    overdue = ma.fields.Boolean()


class PaperSchema(ma.Schema):
    """The guardians of a class who chose paper printouts (IN-2) and when each is due."""

    class_id = ma.fields.Integer()
    class_name = ma.fields.String()
    today = ma.fields.Date()
    interval_days = ma.fields.Integer(metadata={"description": "informing.paper_interval_days"})
    rows = ma.fields.List(ma.fields.Nested(PaperRowSchema))


class HandoverSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    pupil_id = ma.fields.Integer(required=True, strict=False, validate=between(1, 2 ** 31 - 1))
    guardian_id = ma.fields.Integer(required=True, strict=False, validate=between(1, 2 ** 31 - 1))
    since = ma.fields.Date(required=True)
    until = ma.fields.Date(required=True)
    handed_on = ma.fields.Date(required=True)
