"""Input and output of the website-check API (API.md)."""
import marshmallow as ma

from core.apispec import UtcDateTime
from core.jobs.schemas import JobSchema


class DisclosureCheckStartSchema(ma.Schema):
    tenant_id = ma.fields.Integer(required=True, strict=True, metadata={
        "description": "The school, municipality or region whose schools' sites are checked"})


class DisclosureRunSchema(ma.Schema):
    id = ma.fields.Integer()
    tenant_id = ma.fields.Integer()
    job_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"description": "queued | running | finished | failed"})
    is_scheduled = ma.fields.Boolean()
    schools_total = ma.fields.Integer()
    schools_done = ma.fields.Integer()
    created_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)


class DisclosureCheckStartedSchema(ma.Schema):
    run = ma.fields.Nested(DisclosureRunSchema)
    job = ma.fields.Nested(JobSchema)


class DisclosureSiteCheckSchema(ma.Schema):
    id = ma.fields.Integer()
    school_id = ma.fields.Integer(attribute="tenant_id")
    run_id = ma.fields.Integer()
    url = ma.fields.String(allow_none=True)
    score = ma.fields.Float(metadata={"description": "0-100; false alarms set aside"})
    raw_score = ma.fields.Float(metadata={"description": "0-100 as the crawler found it"})
    required_total = ma.fields.Integer()
    required_found = ma.fields.Integer()
    broken_links = ma.fields.Integer()
    outdated_documents = ma.fields.Integer()
    microdata_missing = ma.fields.Integer()
    pages_fetched = ma.fields.Integer()
    links_checked = ma.fields.Integer()
    error = ma.fields.String(allow_none=True, metadata={"description": "why the site could not be checked"})
    checked_at = UtcDateTime()


class DisclosureDismissalSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    school_id = ma.fields.Integer(attribute="tenant_id", dump_only=True)
    kind = ma.fields.String(dump_only=True)
    key = ma.fields.String(dump_only=True)
    reason = ma.fields.String(dump_only=True)
    dismissed_by = ma.fields.Integer(dump_only=True, allow_none=True)
    dismissed_at = UtcDateTime(dump_only=True)
    withdrawn_at = UtcDateTime(dump_only=True, allow_none=True)


class DisclosureDismissSchema(ma.Schema):
    reason = ma.fields.String(required=True, metadata={"description": "Why the fault is a false alarm"})


class DisclosureFindingSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "item | link | outdated | microdata | site"})
    key = ma.fields.String(metadata={"description": "the same thing across runs"})
    status = ma.fields.String()
    ok = ma.fields.Boolean()
    url = ma.fields.String(allow_none=True)
    text = ma.fields.String(allow_none=True)
    page = ma.fields.String(allow_none=True)
    detail = ma.fields.Dict()
    dismissal = ma.fields.Nested(DisclosureDismissalSchema, allow_none=True)


class DisclosureSchoolFindingsSchema(ma.Schema):
    school_id = ma.fields.Integer()
    check = ma.fields.Nested(DisclosureSiteCheckSchema, allow_none=True)
    findings = ma.fields.List(ma.fields.Nested(DisclosureFindingSchema))


class DisclosureHistorySchema(ma.Schema):
    check = ma.fields.Nested(DisclosureSiteCheckSchema)
    fixed = ma.fields.List(ma.fields.List(ma.fields.String()), metadata={
        "description": "[kind, key] of the faults of the check before that are gone"})
    new = ma.fields.List(ma.fields.List(ma.fields.String()), metadata={
        "description": "[kind, key] of the faults the check before did not have"})


class DisclosureRatingArgs(ma.Schema):
    tenant_id = ma.fields.Integer(metadata={"description": "A municipality or region (the caller's own by default)"})


class DisclosureRatingRowSchema(ma.Schema):
    place = ma.fields.Integer(allow_none=True)
    school_id = ma.fields.Function(lambda r: r.school.id)
    school_name = ma.fields.Function(lambda r: r.school.name)
    website_url = ma.fields.Function(lambda r: r.school.website_url)
    check = ma.fields.Nested(DisclosureSiteCheckSchema, allow_none=True)
    unreachable = ma.fields.Boolean(metadata={
        "description": "the site could not be read: no place, checked again at the next scheduled run"})
    reason = ma.fields.String(allow_none=True, metadata={"description": "why, in the caller's language"})


class DisclosureRatingSchema(ma.Schema):
    tenant_id = ma.fields.Integer()
    rows = ma.fields.List(ma.fields.Nested(DisclosureRatingRowSchema))
