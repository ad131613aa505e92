import marshmallow as ma

from core.apispec import UtcDateTime
from core.tabular import ReportSchema

from tenants.models import KINDS


class TenantSchema(ma.Schema):
    """A tenant as API.md describes it; ``timezone`` and ``locale`` come back resolved."""

    id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    short_name = ma.fields.String(dump_only=True, allow_none=True)
    slug = ma.fields.String(dump_only=True)
    parent_id = ma.fields.Integer(dump_only=True, allow_none=True)
    path = ma.fields.String(dump_only=True)
    timezone = ma.fields.String(dump_only=True)
    locale = ma.fields.String(dump_only=True)
    timezone_set = ma.fields.String(dump_only=True, allow_none=True,
                                    metadata={"description": "Set on this tenant (null: inherited)"})
    locale_set = ma.fields.String(dump_only=True, allow_none=True)
    website_url = ma.fields.String(dump_only=True, allow_none=True)
    is_active = ma.fields.Boolean(dump_only=True)
    version = ma.fields.Integer(dump_only=True)


class TenantCreateSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    short_name = ma.fields.String(load_default=None, validate=ma.validate.Length(max=120))
    slug = ma.fields.String(load_default=None, validate=ma.validate.Length(max=80))
    parent_id = ma.fields.Integer(load_default=None)
    timezone = ma.fields.String(load_default=None)
    locale = ma.fields.String(load_default=None)
    website_url = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))
    reason = ma.fields.String(load_default=None)


class TenantUpdateSchema(ma.Schema):
    # Strict: 1.5 or "1" is refused, not truncated into a version the writer never read.
    version = ma.fields.Integer(required=True, strict=True,
                                metadata={"description": "The version you read (409 if stale)"})
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    short_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=120))
    timezone = ma.fields.String(allow_none=True)
    locale = ma.fields.String(allow_none=True)
    website_url = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    is_active = ma.fields.Boolean()
    reason = ma.fields.String(load_default=None)


class TenantListArgs(ma.Schema):
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    parent_id = ma.fields.Integer()
    q = ma.fields.String(metadata={"description": "Search in name, short name and slug"})


class ChildrenArgs(ma.Schema):
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    q = ma.fields.String()


class OnArgs(ma.Schema):
    on = ma.fields.Date(load_default=None, metadata={"description": "YYYY-MM-DD, today if omitted"})


class SourceSchema(ma.Schema):
    value = ma.fields.Raw()
    tenant_id = ma.fields.Integer(allow_none=True)
    tenant_name = ma.fields.String(allow_none=True)
    effective_from = ma.fields.String(allow_none=True)
    act = ma.fields.String(allow_none=True)
    locked_by = ma.fields.Integer(allow_none=True)


class EffectiveSchema(ma.Schema):
    on = ma.fields.Date()
    document = ma.fields.Dict()
    provenance = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(SourceSchema))


class RegulationVersionSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    tenant_id = ma.fields.Integer(dump_only=True)
    effective_from = ma.fields.Date(required=True)
    act = ma.fields.String(required=True, metadata={"description": "e.g. «Приказ № 189 от 05.06.2017»"})
    values = ma.fields.Dict(load_default=dict, metadata={"description": "A partial regulation document"})
    locked = ma.fields.List(ma.fields.String(), load_default=list)
    created_at = UtcDateTime(dump_only=True)


class MemberSchema(ma.Schema):
    membership_id = ma.fields.Integer(attribute="id", dump_only=True)
    user_id = ma.fields.Integer(dump_only=True)
    login = ma.fields.Function(lambda m: m.user.login, dump_only=True)
    full_name = ma.fields.Function(lambda m: m.user.full_name, dump_only=True)
    email = ma.fields.Function(lambda m: m.user.email, dump_only=True)
    role = ma.fields.String(dump_only=True)
    tenant_id = ma.fields.Integer(dump_only=True)


class MemberCreateSchema(ma.Schema):
    login = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    full_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    email = ma.fields.Email(load_default=None)
    password = ma.fields.String(required=True, load_only=True)
    role = ma.fields.String(required=True)


class StatsSchema(ma.Schema):
    tenant_id = ma.fields.Integer()
    municipalities = ma.fields.Integer()
    schools = ma.fields.Integer()
    accounts = ma.fields.Integer()
    computed_at = UtcDateTime()
    job_id = ma.fields.Integer(allow_none=True)


class OnboardingArgs(ma.Schema):
    commit = ma.fields.Boolean(load_default=False)


class OnboardingResultSchema(ReportSchema):
    report = ma.fields.Dict(allow_none=True)
