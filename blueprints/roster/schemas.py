import marshmallow as ma

from core.i18n import between
from core.tabular import ReportSchema


class YearSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True)
    starts_on = ma.fields.Date(dump_only=True)
    ends_on = ma.fields.Date(dump_only=True)
    status = ma.fields.String(dump_only=True)


class YearCreateSchema(ma.Schema):
    start_year = ma.fields.Integer(required=True, validate=between(2000, 2100),
                                   metadata={"description": "2026 for the year 2026/2027"})


class TermSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    year_id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    number = ma.fields.Integer(dump_only=True)
    level_from = ma.fields.Integer(dump_only=True)
    level_to = ma.fields.Integer(dump_only=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)


class TermDatesSchema(ma.Schema):
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)


class ClassSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    year_id = ma.fields.Integer(required=True)
    name = ma.fields.String(dump_only=True)
    grade = ma.fields.Integer(required=True, validate=between(1, 11))
    letter = ma.fields.String(required=True)
    class_teacher_id = ma.fields.Integer(load_default=None, allow_none=True)
    is_draft = ma.fields.Boolean(dump_only=True)


class GuardianSchema(ma.Schema):
    id = ma.fields.Integer()
    full_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)


class PupilSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    last_name = ma.fields.String(required=True)
    first_name = ma.fields.String(required=True)
    middle_name = ma.fields.String(load_default=None, allow_none=True)
    full_name = ma.fields.String(dump_only=True)
    birth_date = ma.fields.Date(required=True)
    file_number = ma.fields.String(required=True)
    guardians = ma.fields.List(ma.fields.Nested(GuardianSchema), dump_only=True)


class PupilListArgs(ma.Schema):
    class_id = ma.fields.Integer()
    q = ma.fields.String()


class StaffSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    last_name = ma.fields.String(required=True)
    first_name = ma.fields.String(required=True)
    middle_name = ma.fields.String(load_default=None, allow_none=True)
    full_name = ma.fields.String(dump_only=True)
    position = ma.fields.String(required=True)
    login = ma.fields.String(required=True)
    email = ma.fields.Email(load_default=None, allow_none=True)
    user_id = ma.fields.Integer(dump_only=True, allow_none=True)


class SubjectSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    tenant_id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True)
    short_name = ma.fields.String(load_default=None, allow_none=True)


class AssignmentSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    year_id = ma.fields.Integer(dump_only=True)
    class_id = ma.fields.Integer(required=True)
    subject_id = ma.fields.Integer(required=True)
    teacher_id = ma.fields.Integer(required=True)
    subgroup = ma.fields.String(load_default="")
    is_draft = ma.fields.Boolean(dump_only=True)


class BellPeriodSchema(ma.Schema):
    number = ma.fields.Integer(required=True, validate=between(0, 12))
    starts_at = ma.fields.Time(required=True)
    ends_at = ma.fields.Time(required=True)


class BellScheduleSchema(ma.Schema):
    periods = ma.fields.List(ma.fields.Nested(BellPeriodSchema), required=True)


class TimetableEntrySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    weekday = ma.fields.Integer(required=True, validate=between(1, 6))
    period = ma.fields.Integer(required=True)
    class_id = ma.fields.Integer(required=True)
    subject_id = ma.fields.Integer(required=True)
    teacher_id = ma.fields.Integer(required=True)
    subgroup = ma.fields.String(load_default="")
    room = ma.fields.String(load_default=None, allow_none=True)


class LessonSchema(ma.Schema):
    id = ma.fields.Integer()
    term_id = ma.fields.Integer()
    class_id = ma.fields.Integer()
    subject_id = ma.fields.Integer()
    teacher_id = ma.fields.Integer()
    on = ma.fields.Date(attribute="held_on")
    period = ma.fields.Integer()
    starts_at = ma.fields.Time()
    ends_at = ma.fields.Time()
    room = ma.fields.String(allow_none=True)
    subgroup = ma.fields.String()
    is_cancelled = ma.fields.Boolean()


class LessonListArgs(ma.Schema):
    class_id = ma.fields.Integer()
    term_id = ma.fields.Integer()
    teacher_id = ma.fields.Integer()
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()


class ImportArgs(ma.Schema):
    commit = ma.fields.Boolean(load_default=False, metadata={"description": "false: only check the file"})
    year_id = ma.fields.Integer(load_default=None)


class ImportResultSchema(ReportSchema):
    summary = ma.fields.Dict(allow_none=True)


class RolloverSchema(ma.Schema):
    final_grade = ma.fields.Integer(load_default=11, validate=between(4, 11),
                                    metadata={"description": "The grade that graduates (9 for a basic school)"})


class RolloverResultSchema(ma.Schema):
    summary = ma.fields.Dict()


class LessonChangeSchema(ma.Schema):
    is_cancelled = ma.fields.Boolean()
    teacher_id = ma.fields.Integer(metadata={"description": "a substitute teacher"})
    room = ma.fields.String(allow_none=True)
    on = ma.fields.Date()
    period = ma.fields.Integer()
    reason = ma.fields.String(load_default=None)


class ClassBatchSchema(ma.Schema):
    year_id = ma.fields.Integer(required=True)
    grade_from = ma.fields.Integer(load_default=1)
    grade_to = ma.fields.Integer(load_default=11)
    letters = ma.fields.String(required=True, metadata={"example": "а, б"})


class HolidaySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)


CHANNEL_CODES = ("web", "email", "sms", "paper")  # IN-1 (models.CHANNELS)


class GuardianChannelsSchema(ma.Schema):
    """A guardian with the ways of informing they chose in their written application (IN-1)."""

    id = ma.fields.Integer(dump_only=True)
    last_name = ma.fields.String(dump_only=True)
    first_name = ma.fields.String(dump_only=True)
    middle_name = ma.fields.String(dump_only=True, allow_none=True)
    channels = ma.fields.List(ma.fields.String(), dump_only=True,
                              metadata={"description": "web, email, sms, paper", "example": ["web", "email"]})
    email = ma.fields.String(dump_only=True, allow_none=True)
    phone = ma.fields.String(dump_only=True, allow_none=True)
    application_number = ma.fields.String(dump_only=True, allow_none=True)
    application_date = ma.fields.Date(dump_only=True, allow_none=True)
    notify_mode = ma.fields.String(dump_only=True, metadata={"description": "instant or digest"})
    digest_hour = ma.fields.Integer(dump_only=True, metadata={"description": "the digest's hour, school's local time"})
    language = ma.fields.String(dump_only=True)
    pupil_ids = ma.fields.List(ma.fields.Integer(), dump_only=True)


class GuardianInformingSchema(ma.Schema):
    """IN-1: the choice from the guardian's application; fields left out keep their values,
    and the whole choice is checked (e-mail chosen needs an address, SMS a mobile number,
    the application its number and date)."""

    channels = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(CHANNEL_CODES)),
                              metadata={"example": ["web", "email"]})
    email = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=40))
    application_number = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=40))
    application_date = ma.fields.Date(allow_none=True)
    notify_mode = ma.fields.String(validate=ma.validate.OneOf(["instant", "digest"]))
    digest_hour = ma.fields.Integer(strict=True, validate=between(0, 23))
    language = ma.fields.String(validate=ma.validate.OneOf(["ru", "en"]))


class GuardianListArgs(ma.Schema):
    channel = ma.fields.String(validate=ma.validate.OneOf(CHANNEL_CODES),
                               metadata={"description": "only those who chose it (paper: the printouts' list)"})
    q = ma.fields.String(metadata={"description": "surname's beginning or the application's number"})
