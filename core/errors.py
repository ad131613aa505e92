"""One error handler for the whole app: problem+json under /api/v1, HTML pages elsewhere.

Services refuse with the two exceptions defined here, and only these: ``Refused`` (the
input breaks a rule: 422, or a version conflict: 409) and ``NotAllowed`` (the caller sees the
object but may not do this: 403). Pages that show a form again catch ``Refused``; anything
not caught is answered by ``answer_refusal``."""
import logging

from flask import current_app, g, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable, default_exceptions

from core.apispec import flatten_errors, is_api_request, problem

log = logging.getLogger("tabel")

#: Seconds a client is told to wait (``Retry-After``) when the database is unreachable;
#: ``DATABASE_RETRY_AFTER`` overrides it.
RETRY_AFTER = 30


#: ``Refused.current`` when the refusal says nothing of what is there now (the answer has no
#: ``current``); None means "there is nothing now".
ABSENT = object()


class Refused(ValueError):
    """A change a rule refuses. ``errors`` maps field paths, as the client named them
    (``grades.0.value``, ``rows.17.birth_date``), to messages; ``status`` is 422, or 409 on a
    version conflict, where ``current`` is the object as it is now (None: there is none);
    ``message`` replaces the answer's general detail."""

    def __init__(self, errors=None, status=422, current=ABSENT, message=None):
        errors = dict(errors or {})
        super().__init__(errors or message)
        self.errors = {str(path): [str(m) for m in (found if isinstance(found, (list, tuple)) else [found])]
                       for path, found in errors.items()}
        self.status = status
        self.current = current
        self.message = message

    @classmethod
    def on(cls, field, message, status=422):
        """A refusal of one field's value."""
        return cls({field: message}, status=status)

    def __str__(self):
        """The first message, for a page that shows one line."""
        if self.message:
            return str(self.message)
        return next((m for messages in self.errors.values() for m in messages), "")


class NotAllowed(Exception):
    """The caller sees the object but may not do this: answered 403."""


def require(allowed: bool):
    """Refuse with 403 unless ``allowed``."""
    if not allowed:
        raise NotAllowed()


def register_conflict_schema(app, model, schema):
    """How a 409 shows ``Refused.current`` when it is a ``model`` row: ``schema`` dumps it."""
    app.extensions.setdefault("tabel.conflict_schemas", {})[model] = schema


def answer_refusal(error):
    """The one answer to a refusal: nothing of the transaction is kept, and the caller gets
    the status with each field's messages (and, on a conflict, what is there now)."""
    from core.extensions import db

    db.session.rollback()
    if isinstance(error, NotAllowed):
        return as_http_error(403)
    if error.status == 409:
        exc = default_exceptions[409]()
        exc.data = {"errors": error.errors}
        if error.current is not ABSENT:
            exc.data["current"] = _dump_current(error.current)
        if error.message:
            exc.data["message"] = error.message
        return handle_http_exception(exc)
    return as_http_error(error.status, error.errors, error.message)


def _dump_current(current):
    if current is None or isinstance(current, dict):
        return current
    schemas = current_app.extensions.get("tabel.conflict_schemas", {})
    for model in type(current).__mro__:
        if model in schemas:
            return schemas[model]().dump(current)
    raise TypeError(f"no conflict schema for {type(current).__name__}")


def _titles():
    return {
        400: _("Bad request"),
        401: _("Sign in required"),
        403: _("Access denied"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Request too large"),
        422: _("Invalid data"),
        429: _("Too many requests"),
        500: _("Internal error"),
        503: _("Service unavailable"),
    }


def _details():
    return {
        401: _("Sign in to continue."),
        403: _("You are not allowed to do this."),
        404: _("The page or object does not exist or is not available to you."),
        400: _("The request could not be understood."),
        405: _("This method is not allowed here."),
        409: _("Someone else changed this meanwhile: the current value is in the answer."),
        413: _("The file or the request is too large."),
        422: _("Some fields are invalid."),
        429: _("Too many attempts. Wait a minute and try again."),
        500: _("Something went wrong on our side. The error has been logged."),
        503: _("The service is unavailable for a moment. Try again shortly."),
    }


def handle_http_exception(error: HTTPException):
    code = error.code or 500
    title = _titles().get(code, error.name)
    data = getattr(error, "data", None) or {}
    detail = data.get("message") or _details().get(code) or error.description
    if is_api_request():
        errors = None
        if "errors" in data:
            errors = flatten_errors(data["errors"])
        elif "messages" in data:
            errors = flatten_errors(_strip_location(data["messages"]))
        extra = {k: data[k] for k in ("current",) if k in data}
        if code >= 500:
            extra["request_id"] = g.get("request_id")
        headers = {**_exception_headers(error), **(data.get("headers") or {})}
        if code == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="tabel"')
        return problem(code, title, detail, errors, headers, **extra)
    return render_template("core/error.html", code=code, title=title, detail=detail), code, _exception_headers(error)


def _exception_headers(error):
    """The headers the exception itself carries (``Allow`` on a 405, ``Retry-After`` on a
    503), without the content type of werkzeug's own HTML body."""
    return {key: value for key, value in error.get_headers() if key.lower() != "content-type"}


def _strip_location(messages):
    # webargs keys errors by location first ("json", "query"); API.md names fields only.
    if isinstance(messages, dict) and set(messages) <= {"json", "query", "form", "files", "view_args", "path", "headers"}:
        merged = {}
        for value in messages.values():
            if isinstance(value, dict):
                merged.update(value)
        return merged
    return messages


def as_http_error(status, errors=None, message=None):
    """Answer a refused operation as the HTTP error it is, with its field errors."""
    exc = default_exceptions[status]()
    exc.data = {}
    if errors:
        exc.data["errors"] = errors
    if message:
        exc.data["message"] = message
    return handle_http_exception(exc)


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database cannot be reached: a refused
    or dropped connection, not a bug in a statement."""
    from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (OperationalError, InterfaceError, DisconnectionError, ConnectionError)):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        error = error.__cause__ or error.__context__
    return False


def _release_session() -> bool:
    """Roll back what the failed request left in the session (a failed flush leaves it
    unusable until then). False when even that fails: the connection is gone."""
    from core.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the answer must not depend on the database
        log.warning("rollback after an error failed", exc_info=True)
        try:
            db.session.close()
        except Exception:  # noqa: BLE001
            pass
        return False
    return True


def _without_database():
    """From here on the answer reads nothing from the database: the locale comes from what
    was already loaded, the session or the browser, and the page shows no signed-in user,
    since loading one (or a membership the rollback expired) would query again."""
    from sqlalchemy import inspect

    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        g.loaded_user_locale = inspect(user).dict.get("locale")
    g.database_unusable = True
    g._login_user = current_app.login_manager.anonymous_user()
    g.membership = None
    g.memberships = []


def handle_unexpected(error: Exception):
    outage = is_database_outage(error)
    if not _release_session() or outage:
        _without_database()
    if outage:
        log.error("database unavailable: %s", error, exc_info=error)
        retry_after = current_app.config.get("DATABASE_RETRY_AFTER", RETRY_AFTER)
        answer = ServiceUnavailable(retry_after=retry_after)
    else:
        log.exception("unhandled error")
        answer = InternalServerError()
    try:
        return handle_http_exception(answer)
    except Exception:  # noqa: BLE001 - the last answer must not fail: untranslated, bare
        log.exception("the error handler failed")
        return problem(answer.code, answer.name, headers=_exception_headers(answer),
                       request_id=g.get("request_id"))


def handle_conflict(error):
    """Two writers raced (a duplicate key, a stale row version): the later one gets 409 and
    may reload and retry; nothing of its transaction was kept."""
    from core.extensions import db

    db.session.rollback()
    log.warning("write conflict: %s", error.__class__.__name__)
    return as_http_error(409, message=_("Someone else changed the same data at the same moment. Reload and try again."))


def init_app(app):
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_conflict)
    app.register_error_handler(StaleDataError, handle_conflict)
    app.register_error_handler(Refused, answer_refusal)
    app.register_error_handler(NotAllowed, answer_refusal)
    if not app.config.get("PROPAGATE_EXCEPTIONS"):
        app.register_error_handler(Exception, handle_unexpected)
