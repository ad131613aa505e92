"""The e-services API's schemas (../shared/API.md)."""
import marshmallow as ma

from core.apispec import UtcDateTime
from core.i18n import between


class ServiceSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String(dump_only=True, metadata={"description": "The deep link's /services/<code>"})
    number = ma.fields.Integer(dump_only=True)
    name = ma.fields.String()
    regulation = ma.fields.String()
    acts = ma.fields.String(metadata={"description": "The acts that set the service, one a line"})
    procedure = ma.fields.String()
    portal_url = ma.fields.String(allow_none=True)
    office_name = ma.fields.String(allow_none=True)
    office_room = ma.fields.String(allow_none=True)
    office_hours = ma.fields.String(allow_none=True)
    office_phone = ma.fields.String(allow_none=True)
    office_email = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "Send it back on PATCH: 409 if the card changed meanwhile"})


class ServicePatchSchema(ServiceSchema):
    version = ma.fields.Integer(required=True, strict=False)


class ContactSchema(ma.Schema):
    service_id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(metadata={"description": "An empty name removes the responsible person"})
    room = ma.fields.String(allow_none=True)
    hours = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)


class CodeArgs(ma.Schema):
    q = ma.fields.String(metadata={"description": "A part of the person's name or login"})
    page = ma.fields.Integer(load_default=1, strict=False, validate=between(1, 100000))


class CodeRowSchema(ma.Schema):
    id = ma.fields.Integer()
    login = ma.fields.String()
    person = ma.fields.String()
    issued_at = UtcDateTime()
    issued_by = ma.fields.String(allow_none=True, metadata={"description": "null: issued by an import or the system"})
    expires_at = UtcDateTime()
    used_at = UtcDateTime(allow_none=True)
    status = ma.fields.String(metadata={"description": "open | used | expired"})
    status_label = ma.fields.String()


class CodeRegisterSchema(ma.Schema):
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    pages = ma.fields.Integer()
    search = ma.fields.String()
    rows = ma.fields.List(ma.fields.Nested(CodeRowSchema))


class InvitationArgs(ma.Schema):
    who = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(("pupils", "guardians"))), required=True,
                         validate=ma.validate.Length(min=1),
                         metadata={"description": "pupils, guardians or both"})
    everyone = ma.fields.Boolean(load_default=False,
                                 metadata={"description": "also those who have signed in (a reissue)"})


class SlipSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "pupil or guardian"})
    record_id = ma.fields.Integer(metadata={"description": "the pupil's or guardian's record"})
    name = ma.fields.String()
    pupil = ma.fields.String(metadata={"description": "the pupil of the class (a guardian's child)"})
    login = ma.fields.String()
    code = ma.fields.String(metadata={"description": "the one-time code, shown only in this answer"})
    link = ma.fields.String(metadata={"description": "the sign-in page with the login and the code filled in"})


class ApplicationArgs(ma.Schema):
    q = ma.fields.String(metadata={"description": "the number (7 or 7/2026) or a surname's beginning"})
    status = ma.fields.String(validate=ma.validate.OneOf(("pending", "provided", "refused")))
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))


class ApplicationInSchema(ma.Schema):
    guardian_id = ma.fields.Integer(required=True, strict=True)
    pupil_id = ma.fields.Integer(required=True, strict=True)
    filed_on = ma.fields.Date(required=True)
    channels = ma.fields.List(ma.fields.String(), required=True, metadata={"example": ["web", "email", "paper"]})
    email = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=40))
    notify_mode = ma.fields.String(validate=ma.validate.OneOf(["instant", "digest"]))
    digest_hour = ma.fields.Integer(strict=True, validate=between(0, 23))
    language = ma.fields.String(validate=ma.validate.OneOf(["ru", "en"]))


class ApplicationSchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String(metadata={"description": "number/year in the school's register"})
    filed_on = ma.fields.Date()
    guardian_id = ma.fields.Integer()
    guardian = ma.fields.String()
    pupil_id = ma.fields.Integer()
    pupil = ma.fields.String()
    channels = ma.fields.List(ma.fields.String())
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "pending, provided or refused"})
    status_label = ma.fields.String()
    decided_on = ma.fields.Date(allow_none=True)
    refusal_reason = ma.fields.String(allow_none=True)


class ApplicationRegisterSchema(ma.Schema):
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    pages = ma.fields.Integer()
    rows = ma.fields.List(ma.fields.Nested(ApplicationSchema))


class DecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(("provided", "refused")))
    reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))


class AppealArgs(ma.Schema):
    q = ma.fields.String(metadata={"description": "the number (3 or 3/2026), or part of the applicant's or responsible's name"})
    status = ma.fields.String(validate=ma.validate.OneOf(("open", "overdue", "answered")))
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))


class AppealInSchema(ma.Schema):
    kind = ma.fields.String(required=True, metadata={"description": "complaint, request or information"})
    received_on = ma.fields.Date(required=True)
    applicant = ma.fields.String(required=True)
    contact = ma.fields.String(allow_none=True)
    text = ma.fields.String(required=True)
    responsible = ma.fields.String(required=True)


class AppealSchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String(metadata={"description": "number/year in the school's register"})
    kind = ma.fields.String()
    kind_label = ma.fields.String()
    received_on = ma.fields.Date()
    due_on = ma.fields.Date(metadata={"description": "by the regulation (services.*_answer_days)"})
    applicant = ma.fields.String()
    contact = ma.fields.String(allow_none=True)
    text = ma.fields.String()
    responsible = ma.fields.String()
    answer = ma.fields.String(allow_none=True)
    answered_on = ma.fields.Date(allow_none=True)
    status = ma.fields.String(metadata={"description": "open, overdue or answered"})
    status_label = ma.fields.String()
    late = ma.fields.Boolean(metadata={"description": "answered after the due day"})


class AppealRegisterSchema(ma.Schema):
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    pages = ma.fields.Integer()
    rows = ma.fields.List(ma.fields.Nested(AppealSchema))


class AnswerSchema(ma.Schema):
    answer = ma.fields.String(required=True)
    answered_on = ma.fields.Date(required=True)
