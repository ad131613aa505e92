"""The platform core. ``create_app`` is the only way to get an application."""
import importlib
import logging
import uuid

from flask import current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from core import config as config_module
from core import assets, errors, headers, i18n, inputs, tenancy, transaction
from core.extensions import api, babel, csrf, db, login_manager, migrate

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def create_app(config=None, instance_path=None):
    """``instance_path`` (or ``TABEL_INSTANCE_PATH``) holds config.py, the SQLite file and
    local storage; ``instance/`` at the project root by default."""
    import os

    instance_path = instance_path or os.environ.get("TABEL_INSTANCE_PATH") or str(
        config_module.PROJECT_ROOT / "instance")
    app = transaction.App(__name__, instance_path=instance_path, instance_relative_config=True,
                          static_folder="static", template_folder="templates")
    # 1. configuration: defaults, instance file, environment, then the caller's mapping
    config_module.load_config(app, config)
    config_module.validate(app)
    _configure_logging(app)
    # 2. data: the session, its tenant scoping hook, migrations
    db.init_app(app)
    tenancy.install()
    from core import audit, changes

    audit.install()
    changes.install()
    _unicode_lower_on_sqlite()
    migrate.init_app(app, db, directory=str(config_module.PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    # 3. request handling: language, sessions, CSRF, errors
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone,
                   default_translation_directories=str(config_module.PROJECT_ROOT / "core" / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    csrf.init_app(app)
    errors.init_app(app)
    headers.init_app(app)  # CSP and the other security headers on every answer
    inputs.init_app(app)  # size and content limits of every request, before any route
    # 4. the API (every module adds its blueprints to it) and core's own routes
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", None)
    api.init_app(app, spec_kwargs={
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"bearer": []}, {"session": []}]})
    _register_core(app)
    # 5. feature packages named in MODULES, lower layers first as listed
    for name in app.config["MODULES"]:
        importlib.import_module(name).init_app(app)
    app.extensions["tabel.modules"] = list(app.config["MODULES"])
    # 6. static files, every blueprint's included: hashed URLs, long caching, gzip
    assets.init_app(app)
    return app


def _unicode_lower_on_sqlite():
    """SQLite's lower() folds ASCII only; Russian names are searched case-insensitively, so
    SQLite connections get Python's lower() (PostgreSQL's already folds Cyrillic)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if getattr(_unicode_lower_on_sqlite, "installed", False):
        return

    @event.listens_for(Engine, "connect")
    def _register(dbapi_connection, _record):
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            dbapi_connection.create_function("lower", 1, lambda v: v.lower() if isinstance(v, str) else v,
                                             deterministic=True)

    _unicode_lower_on_sqlite.installed = True


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:
            record.request_id = "-"
        return True


def _configure_logging(app):
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(_RequestIdFilter())
    logger = logging.getLogger("tabel")
    if not any(isinstance(f, _RequestIdFilter) for h in logger.handlers for f in h.filters):
        logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logger.propagate = False


def _register_core(app):
    from core.accounts import api as accounts_api
    from core.accounts import service as accounts
    from core.accounts import views as accounts_views
    from core import cli, docs, localtime, storage, tasks
    from core.jobs import api as jobs_api
    from core.jobs import celery as jobs_celery
    from core.jobs import cli as jobs_cli
    from core.jobs import views as jobs_views

    app.register_blueprint(accounts_views.bp)
    api.register_blueprint(accounts_api.blp)
    app.register_blueprint(jobs_views.bp)
    api.register_blueprint(jobs_api.blp)
    jobs_celery.init_app(app)
    storage.init_app(app)
    docs.init_app(app)
    cli.init_app(app)
    jobs_cli.init_app(app)
    tasks.init_app(app)
    localtime.init_app(app)

    @login_manager.user_loader
    def _load_user(user_key):
        if accounts.bearer_token():
            return None  # an explicit token wins over a session cookie
        user_id, _, version = user_key.partition(".")
        try:
            return accounts.load_user(int(user_id), int(version) if version else None, session.get("sid"), "web")
        except ValueError:
            return None

    @login_manager.request_loader
    def _load_user_from_token(req):
        token = accounts.bearer_token()
        if not token:
            return None
        user, membership_id = accounts.user_from_token(token)
        g.token_membership_id = membership_id
        return user

    @app.before_request
    def _start_request():
        tenancy.reset_scope()
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        if assets.is_static_endpoint(request.endpoint) or request.endpoint in ("healthz", "readyz"):
            return None
        bearer = accounts.bearer_token() is not None
        if (request.method not in SAFE_METHODS and app.config.get("WTF_CSRF_ENABLED", True)
                and _needs_csrf(bearer)):
            csrf.protect()
        user = current_user._get_current_object() if current_user.is_authenticated else None
        wanted = g.get("token_membership_id") if bearer else session.get("membership_id")
        accounts.establish(user, wanted)
        _load_url_objects(user)
        return None

    def _load_url_objects(user):
        """Load, then check, then process (STYLE.md 4): every object named in the URL is
        loaded through the tenant scope before the body is parsed, so an out-of-scope id
        answers 404 whatever the request carries."""
        loaders = app.extensions.get("tabel.url_loaders", {})
        g.loaded = {}
        if not user:
            return
        for name, value in (request.view_args or {}).items():
            if name in loaders:
                g.loaded[name] = loaders[name](value)

    register_url_loader(app, "user_id", _load_visible_user)
    register_url_loader(app, "job_id", _load_visible_job)
    register_nav(app, _jobs_nav)

    @app.after_request
    def _finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        return response

    @app.teardown_request
    def _end_request(exc):
        tenancy.reset_scope()

    @app.route("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.route("/readyz")
    def readyz():
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means not ready
            current_app.logger.exception("readiness check failed")
            return jsonify(status="unavailable", database="down"), 503
        return jsonify(status="ok", database="up")

    @app.route("/")
    def home():
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login"))
        for provider in app.extensions.get("tabel.home", []):
            target = provider(g.membership)
            if target:
                return redirect(target)
        return redirect(url_for("accounts.account"))

    app.add_template_global(i18n.language_name, "language_name")

    @app.template_filter("ru_date")
    def _ru_date(value):
        """Dates as people in Russia write them: 05.10.2026."""
        return value.strftime("%d.%m.%Y") if value else ""

    @app.context_processor
    def _template_globals():
        from flask_babel import get_locale

        return {"membership": g.get("membership"), "memberships": g.get("memberships", []),
                "url_rules": app.view_functions,
                "current_locale": str(get_locale()),
                "nav_items": [item for provider in app.extensions.get("tabel.nav", [])
                              for item in provider(g.get("membership"))]}


def _needs_csrf(bearer):
    """Cookie-authenticated writes need the CSRF token (forms send a field, htmx a header).
    A Bearer token is not sent by browsers on their own; an API call with no session has
    no ambient authority to abuse."""
    from core.apispec import is_api_request

    if bearer:
        return False
    if is_api_request():
        return "_user_id" in session
    return True


def register_url_loader(app, name, loader):
    """``loader(value)`` returns the object for URL parameter ``name`` or aborts with 404."""
    app.extensions.setdefault("tabel.url_loaders", {})[name] = loader


def _load_visible_user(user_id):
    from core.accounts.models import User
    from core.orm import get_or_404

    return get_or_404(User, user_id)


def _load_visible_job(job_id):
    from core.errors import require
    from core.jobs.models import Job
    from core.jobs.service import may_see
    from core.orm import get_or_404

    job = get_or_404(Job, job_id)
    require(may_see(job))
    return job


def _jobs_nav(membership):
    from flask_babel import lazy_gettext as _l

    from core.accounts.models import ADMIN_ROLES

    if membership is not None and membership.role in ADMIN_ROLES:
        return [(_l("Jobs"), url_for("jobs.index"))]
    return []


def register_home(app, provider, *, first=False):
    """A feature says where a membership lands after sign-in (first answer wins). ``first``:
    asked before the features registered earlier, for a landing more specific than theirs
    (a pupil's diary rather than the school's card)."""
    homes = app.extensions.setdefault("tabel.home", [])
    if first:
        homes.insert(0, provider)
    else:
        homes.append(provider)


def register_nav(app, provider):
    """A feature adds (label, url) items to the main navigation for a membership."""
    app.extensions.setdefault("tabel.nav", []).append(provider)
