"""The JSON API's shared conventions (../shared/API.md): problem+json errors, pagination,
version checks. Every feature's ``api.py`` builds on these."""
import functools
import http

import marshmallow as ma
from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint as _SmorestBlueprint
from flask_smorest import abort as smorest_abort
from flask_smorest.fields import Upload
from flask_smorest.utils import prepare_response

API_PREFIX = "/api/v1"
PROBLEM = "application/problem+json"


class ProblemSchema(ma.Schema):
    """An error (RFC 9457), as every operation answers one."""

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String(required=True, metadata={"description": "The status in the caller's language"})
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(metadata={"description": "What went wrong, in the caller's language"})
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), metadata={
        "description": "Invalid fields by dotted path (``deadlines.grade.oral.days``, ``rows.17.birth_date``)"})
    current = ma.fields.Dict(allow_none=True, metadata={
        "description": "On a version conflict (409): the object as it is now; null when it no longer exists or never did"})
    request_id = ma.fields.String(metadata={"description": "On a server error: the id to quote to support"})


class UploadSchema(ma.Schema):
    """A spreadsheet sent as the multipart field ``file``."""

    # Made before core.i18n translates marshmallow's defaults, so it names its message itself.
    file = Upload(required=True, error_messages={"required": _l("Missing data for required field.")},
                  metadata={"description": "CSV or XLSX"})


#: The errors every operation may answer, and those only writes may.
_EVERY_OPERATION = (400, 401, 403, 404, 500, 503)
_WRITES = (409, 413, 422)


class Api(_SmorestApi):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """Errors are handled once for HTML and API in ``core.errors``."""

    def _register_responses(self):
        """Every error response is problem+json (flask-smorest's own are plain JSON)."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_pagination_header(self):
        """``X-Pagination`` is sent as a string holding a JSON object, and so declared."""
        self.spec.components.header("PAGINATION", {
            "description": "Pagination as a JSON object: total, total_pages, first_page, last_page, "
                           "page, previous_page, next_page",
            "schema": {"type": "string", "example": '{"total": 120, "total_pages": 3, "page": 1}'},
        }, lazy=True)


class Blueprint(_SmorestBlueprint):
    """An API blueprint whose routes live under ``/api/v1`` and, unless ``public``, answer
    401 to callers who are not signed in. Each operation documents the problem+json errors
    it may answer."""

    def __init__(self, name, import_name, *, public=False, **kwargs):
        kwargs.setdefault("url_prefix", API_PREFIX)
        super().__init__(name, import_name, **kwargs)
        if not public:
            self.before_request(_signed_in)
        self._prepare_doc_cbks.insert(self._prepare_doc_cbks.index(self._prepare_response_doc),
                                      self._prepare_problem_doc)

    def response(self, status_code, schema=None, **kwargs):
        """flask-smorest's ``response``, with the view's writes flushed before the answer is
        serialised: the answer shows ids and versions as stored (``core.transaction``
        commits them once the answer is made)."""
        serialise = super().response(status_code, schema, **kwargs)

        def decorator(func):
            @functools.wraps(func)
            def flushed(*args, **kwargs):
                from core.extensions import db

                result = func(*args, **kwargs)
                db.session.flush()
                return result

            return serialise(flushed)

        return decorator

    @staticmethod
    def _prepare_problem_doc(doc, doc_info, *, method, **kwargs):
        responses = doc_info.setdefault("response", {}).setdefault("responses", {})
        codes = _EVERY_OPERATION + (_WRITES if method in ("post", "put", "patch", "delete") else ())
        for code in codes:
            responses.setdefault(code, []).append(http.HTTPStatus(code).name)
        return doc


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
