"""The class journal: what was taught, who was absent, the grades, with due times from the
regulations and an audited history (first part: lesson records and their API)."""
from core.errors import as_http_error
from core.extensions import api as api_ext


def init_app(app):
    from blueprints.journal import api, context, models, reconcile, views  # noqa: F401 - models register their tables
    from core import audit

    app.register_blueprint(views.bp)
    api_ext.register_blueprint(api.blp)
    app.register_error_handler(context.JournalError, _journal_error)
    from core import register_nav

    register_nav(app, _nav)
    # Security item 10: `flask audit verify` compares the journal's rows with the audit log.
    audit.register_reconciler(app, reconcile.journal_rows)


def _nav(membership):
    from flask import url_for
    from flask_babel import lazy_gettext as _l

    items = []
    if membership is not None and membership.tenant_id and membership.role == "teacher":
        items.append((_l("My journal"), url_for("journal.my_journal", school_id=membership.tenant_id)))
    if membership is not None and membership.tenant_id and membership.role in ("school_admin", "teacher"):
        items.append((_l("Missing entries"), url_for("journal.missing_page", school_id=membership.tenant_id)))
    return items


def _journal_error(error):
    from blueprints.journal.models import FinalMark
    from blueprints.journal.schemas import FinalMarkSchema, GradeSchema, RecordSchema

    if error.status == 409:  # a version conflict: what is there now, null if nothing is
        from core.errors import handle_http_exception
        from werkzeug.exceptions import Conflict

        current = None
        if error.current is not None:
            schema = (FinalMarkSchema() if isinstance(error.current, FinalMark)
                      else GradeSchema() if hasattr(error.current, "work_type") else RecordSchema())
            current = schema.dump(error.current)
        exc = Conflict()
        exc.data = {"errors": error.errors, "current": current}
        return handle_http_exception(exc)
    return as_http_error(error.status, error.errors)
