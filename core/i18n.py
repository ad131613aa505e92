"""Language and time zone of a request: the user's choice, then the tenant's, then the browser."""
from flask import current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user


def N_(message: str) -> str:
    """Mark a message for the catalog; it is stored as is and translated when shown."""
    return message


def select_locale():
    """The user's saved choice (or, signed out, the language switch), then, for API calls,
    the Accept-Language the client sends on purpose; then the language the tenant set;
    then what the browser prefers; then Russian."""
    from flask import has_request_context

    from core.apispec import is_api_request

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user_locale = _user_locale()
    if user_locale in languages:
        return user_locale
    if session.get("lang") in languages:
        return session["lang"]
    if is_api_request() and request.headers.get("Accept-Language"):
        match = request.accept_languages.best_match(languages)
        if match:
            return match
    tenant_locale = getattr(g, "tenant_locale", None)
    if tenant_locale in languages:
        return tenant_locale
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _user_locale():
    """The signed-in user's language. While the database is unusable (an error being
    answered in an outage, or after a rollback that failed) only a value loaded before
    counts: loading the user, or an attribute the rollback expired, would query."""
    if g.get("database_unusable"):
        return g.get("loaded_user_locale")
    return current_user.locale if current_user and current_user.is_authenticated else None


# Each language by its own name, as language switches show them.
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES.get(code or "", code or "")


def select_timezone():
    return g.get("tenant_timezone") or current_app.config["BABEL_DEFAULT_TIMEZONE"]


def translate_marshmallow():
    """marshmallow's built-in messages go through Babel, so API errors come in the caller's
    language. Lazy strings are formatted when the error is raised, inside the request."""
    from marshmallow import fields, validate

    fields.Field.default_error_messages.update({
        "required": _l("Missing data for required field."),
        "null": _l("Field may not be null."),
        "validator_failed": _l("Invalid value."),
    })
    per_field = {
        fields.String: {"invalid": _l("Not a valid string.")},
        fields.Integer: {"invalid": _l("Not a valid integer."), "too_large": _l("Number too large.")},
        fields.Number: {"invalid": _l("Not a valid number.")},
        fields.Boolean: {"invalid": _l("Not a valid boolean.")},
        fields.Date: {"invalid": _l("Not a valid date."), "format": _l("Not a valid date.")},
        fields.DateTime: {"invalid": _l("Not a valid datetime.")},
        fields.List: {"invalid": _l("Not a valid list.")},
        fields.Dict: {"invalid": _l("Not a valid mapping type.")},
        fields.Nested: {"type": _l("Invalid input type.")},
    }
    for field, messages in per_field.items():
        field.default_error_messages = {**field.default_error_messages, **messages}
    from marshmallow import Schema

    Schema._default_error_messages = {
        **getattr(Schema, "_default_error_messages", {}),
        "type": _l("Invalid input type."),
        "unknown": _l("Unknown field."),
    }
    validate.Length.message_min = _l("Shorter than minimum length {min}.")
    validate.Length.message_max = _l("Longer than maximum length {max}.")
    validate.Length.message_all = _l("Length must be between {min} and {max}.")
    validate.Length.message_equal = _l("Length must be {equal}.")
    validate.OneOf.default_message = _l("Must be one of: {choices}.")
    validate.Regexp.default_message = _l("String does not match expected pattern.")


def between(min=None, max=None):
    """``validate.Range`` with a translated message (Range words its own messages when the
    schema is defined, before any request has a language)."""
    from marshmallow import validate

    if min is not None and max is not None:
        message = _l("Must be between {min} and {max}.")
    elif min is not None:
        message = _l("Must be at least {min}.")
    else:
        message = _l("Must be at most {max}.")
    return validate.Range(min=min, max=max, error=message)


# Schemas copy the default messages when their fields are built, at import time, so the
# messages are replaced as soon as the core is imported, before any schema module.
translate_marshmallow()
