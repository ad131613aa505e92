"""The JSON API's shared conventions (../shared/API.md): problem+json errors, pagination,
version checks. Every feature's ``api.py`` builds on these."""
import marshmallow as ma
from flask import jsonify, request
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint as _SmorestBlueprint
from flask_smorest import abort as smorest_abort

API_PREFIX = "/api/v1"


class Api(_SmorestApi):
    def _register_error_handlers(self):
        """Errors are handled once for HTML and API in ``core.errors``."""


class Blueprint(_SmorestBlueprint):
    """An API blueprint whose routes live under ``/api/v1`` and, unless ``public``, answer
    401 to callers who are not signed in."""

    def __init__(self, name, import_name, *, public=False, **kwargs):
        kwargs.setdefault("url_prefix", API_PREFIX)
        super().__init__(name, import_name, **kwargs)
        if not public:
            self.before_request(_signed_in)


def _signed_in():
    from flask_login import current_user

    if not current_user.is_authenticated:
        smorest_abort(401)


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def flatten_errors(messages, prefix=""):
    """webargs/marshmallow nest messages by location and field; API.md wants dotted paths
    (``deadlines.grade.oral.days``, ``rows.17.birth_date``) to lists of messages."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, (dict, list)) and not _is_message_list(value):
                flat.update(flatten_errors(value, path))
            else:
                flat[path] = [str(m) for m in (value if isinstance(value, list) else [value])]
    elif isinstance(messages, list):
        flat[prefix or "_schema"] = [str(m) for m in messages]
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _is_message_list(value):
    return isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value)


def problem(status, title, detail=None, errors=None, headers=None, **extra):
    body = {"type": "about:blank", "title": str(title), "status": status}
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def abort_invalid(errors, message=None):
    """422 with ``errors`` keyed by dotted field path."""
    smorest_abort(422, errors=errors, message=message)


def abort_conflict(current, message=None):
    """409 carrying the current object, for a stale ``version`` (API.md)."""
    smorest_abort(409, message=message, current=current)


def check_version(obj, sent_version, dump):
    """Reject a write based on a stale copy of ``obj``, or on none (a missing version is
    no licence to overwrite)."""
    if sent_version != obj.version:
        from flask_babel import gettext as _

        abort_conflict(dump(obj), _("The object was changed by someone else. Reload it and try again."))


class UtcDateTime(ma.fields.DateTime):
    """Stored naive in UTC; sent as ISO 8601 with its offset (API.md)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            from datetime import timezone

            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)
