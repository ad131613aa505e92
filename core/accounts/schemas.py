import marshmallow as ma
from flask_babel import lazy_gettext as _l

from core.apispec import UtcDateTime


class TokenRequestSchema(ma.Schema):
    login = ma.fields.String(required=True)
    password = ma.fields.String(required=True, load_only=True)
    membership_id = ma.fields.Integer(load_default=None, metadata={
        "description": "The role to act in; the widest one when omitted."})
    otp = ma.fields.String(load_default=None, load_only=True, validate=ma.validate.Length(max=32), metadata={
        "description": "For an account with a second factor: the code of its authenticator app, "
                       "or one of its recovery codes."})


class TokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()


class SessionSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "Names the session; not its key."})
    kind = ma.fields.String(metadata={"description": "web (a browser) or token (an API token)"})
    created_at = UtcDateTime()
    last_seen_at = UtcDateTime()
    address = ma.fields.String(allow_none=True)
    user_agent = ma.fields.String(allow_none=True)
    is_current = ma.fields.Boolean()


class MembershipSchema(ma.Schema):
    id = ma.fields.Integer()
    tenant_id = ma.fields.Integer(allow_none=True)
    role = ma.fields.String()
    role_label = ma.fields.Function(lambda m: str(m.role_label))


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    login = ma.fields.String()
    full_name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    locale = ma.fields.String(allow_none=True)
    memberships = ma.fields.List(ma.fields.Nested(MembershipSchema))
    active_membership_id = ma.fields.Integer(allow_none=True)


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    login = ma.fields.String(dump_only=True)
    full_name = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True, allow_none=True)
    is_active = ma.fields.Boolean(dump_only=True)


class PasswordResetSchema(ma.Schema):
    password = ma.fields.String(required=True, load_only=True,
                                validate=ma.validate.Length(min=8, error=_l("At least 8 characters.")))
    reason = ma.fields.String(load_default=None)
