"""The class journal: what was taught, who was absent, the grades, with due times from the
regulations and an audited history (first part: lesson records and their API)."""
from core.errors import register_conflict_schema
from core.extensions import api as api_ext


def init_app(app):
    from blueprints.journal import api, models, reconcile, schemas, views
    from core import audit

    app.register_blueprint(views.bp)
    api_ext.register_blueprint(api.blp)
    # A version conflict (409) answers with the entry as it is now.
    register_conflict_schema(app, models.FinalMark, schemas.FinalMarkSchema)
    register_conflict_schema(app, models.Grade, schemas.GradeSchema)
    register_conflict_schema(app, models.LessonRecord, schemas.RecordSchema)
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
