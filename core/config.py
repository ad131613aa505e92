"""Configuration in layers: defaults here, then ``instance/config.py``, then ``TABEL_*``
environment variables, then the mapping given to ``create_app`` (tests).

Nothing is read at import time; ``load_config`` runs inside the factory.
"""
import json
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    SECRET_KEY = None  # required outside debug/testing; see validate()
    DATABASE_URL = None  # None: SQLite file under the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    MODULES = ["tenants", "blueprints.roster", "blueprints.journal", "blueprints.services", "blueprints.disclosure",
               "blueprints.diary"]  # feature packages, each with init_app(app)
    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "Europe/Moscow"
    LANGUAGES = ["ru", "en"]
    API_TITLE = "Tabel API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = None  # no CDN: the docs page is served from core/static
    API_TOKEN_MAX_AGE = 8 * 3600
    API_PAGE_SIZE_MAX = 200
    # Sign-in throttling (core/accounts/throttle.py), shared by every worker: Redis when
    # LOGIN_THROTTLE_URL names it (production), else a table in the database.
    LOGIN_THROTTLE_ENABLED = True
    LOGIN_THROTTLE_URL = None
    LOGIN_FREE_FAILURES = 5  # wrong passwords before an account is locked
    LOGIN_LOCK_SECONDS = 60  # the first lock; each further failure doubles it
    LOGIN_LOCK_MAX_SECONDS = 3600
    LOGIN_ADDRESS_FAILURES = 100  # per client address and window: a school shares one address
    LOGIN_ADDRESS_WINDOW = 600
    # Networks of the reverse proxies whose X-Forwarded-For is believed (e.g. ["127.0.0.1/32"]).
    TRUSTED_PROXIES = []
    # Sessions end server-side (AC-2): on sign-out, after this long idle, and this long after
    # sign-in whatever happens; the cookie is sent over HTTPS only unless a deployment says so.
    SESSION_IDLE_TIMEOUT = 30 * 60
    SESSION_MAX_AGE = 12 * 3600
    SESSION_TOUCH_SECONDS = 60  # how often a session's last activity is written
    SESSION_COOKIE_SECURE = True
    # The second factor of administrators (security item 9, core/accounts/second_factor.py).
    # Platform admins need one when this is set (production should set it); the admins of a
    # tenant when its regulation's security.admin_second_factor says so.
    PLATFORM_ADMIN_SECOND_FACTOR = False
    SECOND_FACTOR_KEY = None  # seals the authenticator secrets; SECRET_KEY if unset
    SECOND_FACTOR_ISSUER = "Tabel"  # the name the authenticator app shows
    SECOND_FACTOR_PENDING_SECONDS = 300  # between the password and the second step
    WTF_CSRF_CHECK_DEFAULT = False  # checked in core.auth for cookie-authenticated writes
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    DEMO_PASSWORD = "demo12345"
    # The key of the audit log's hash chain; keep it outside the database (SECRET_KEY if unset).
    AUDIT_KEY = None
    # Anchors of the chains' heads (core/audit_anchor.py): kept this long under Object Lock, in
    # the default store unless these storage settings name another (a bucket in another account).
    AUDIT_ANCHOR_RETENTION_DAYS = 400
    AUDIT_ANCHOR_STORAGE = None
    # Object storage (core/storage.py): local files under the instance folder by default.
    STORAGE = {"backend": "local", "root": "storage"}
    STORAGE_REGIONS = {}  # region id -> its own storage settings (PD-3)
    # Jobs (core/jobs): None means Celery's SQLAlchemy transport on instance/broker.sqlite.
    CELERY_BROKER_URL = None
    CELERY_QUEUE = "tabel"
    CELERY_VISIBILITY_TIMEOUT = 3600  # seconds before an unacknowledged job is redelivered
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_BEAT_SCHEDULE = {
        # RT-2: recompute every audit chain each night.
        "audit-verify": {"task": "tabel.enqueue_periodic", "schedule": 24 * 3600, "args": ["audit_verify"]},
        # Security item 10: the heads of the chains, anchored every hour.
        "audit-anchor": {"task": "tabel.enqueue_periodic", "schedule": 3600, "args": ["audit_anchor"]},
    }
    # Notifications to guardians (IN-1, blueprints/diary/notify.py). E-mail over SMTP when
    # MAIL_SERVER is set; without one each message is written to instance/mailbox/ (the
    # development mailbox). MAIL_USE_TLS is STARTTLS, MAIL_USE_SSL SMTP over TLS.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_FROM = "Табель <noreply@tabel.local>"
    MAIL_TIMEOUT = 10
    # SMS: "file" appends each message to instance/sms.log (development); "http" posts JSON
    # {"to", "text", "sender", "id"} to SMS_HTTP_URL with "Authorization: Bearer SMS_HTTP_TOKEN".
    SMS_PROVIDER = "file"
    SMS_HTTP_URL = None
    SMS_HTTP_TOKEN = None
    SMS_SENDER = "Tabel"
    SMS_TIMEOUT = 10
    # The address links in messages start with; a notification is given up after this many
    # attempts, and a send that never reported back is tried again after this many seconds.
    PUBLIC_URL = "http://127.0.0.1:8000"
    NOTIFY_MAX_ATTEMPTS = 8
    NOTIFY_CLAIM_SECONDS = 600
    # Journal pages' tables each web worker keeps (about 40 KB each; 0 turns keeping off).
    JOURNAL_GRID_CACHE_SIZE = 512
    # Diary answers (a week's, a term's JSON) kept per worker by their ETag; 0 keeps none.
    DIARY_KEPT_ANSWERS = 512
    # Request size (core/inputs.py): a whole request, file uploads included; a body that
    # carries no file (JSON, plain forms); one non-file form field; JSON nesting; a schema's
    # string field that declares no length of its own.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    MAX_BODY_BYTES = 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    JSON_MAX_DEPTH = 32
    INPUT_STRING_MAX = 10000
    IMPORT_JOB_ROWS = 2000  # imports with more rows are committed by a background job
    DEMO_JOB_STEP_SECONDS = 0.0  # the demo statistics job pauses per tenant so progress is visible


def _coerce(raw: str):
    """Environment values are strings; JSON-looking ones (lists, numbers, booleans) are parsed."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_config(app, overrides=None):
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for key, raw in os.environ.items():
        if key.startswith("TABEL_"):
            app.config[key[len("TABEL_"):]] = _coerce(raw)
    if os.environ.get("DATABASE_URL") and "DATABASE_URL" not in {
        k[len("TABEL_"):] for k in os.environ if k.startswith("TABEL_")
    }:
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if overrides:
        app.config.update(overrides)
    url = app.config.get("DATABASE_URL") or "sqlite:///" + str(Path(app.instance_path) / "tabel.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(url)


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver; accept the common spellings of the URL.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def validate(app):
    """Fail at start-up, not at the first request, when the configuration cannot work."""
    if not app.config.get("SECRET_KEY"):
        if app.debug or app.testing or app.config.get("DEMO"):
            app.config["SECRET_KEY"] = "insecure-development-key"
        else:
            raise RuntimeError("SECRET_KEY is not set (TABEL_SECRET_KEY or instance/config.py)")
    unknown = [m for m in app.config["MODULES"] if not isinstance(m, str)]
    if unknown:
        raise RuntimeError(f"MODULES must be package names, got {unknown!r}")
    if app.config["BABEL_DEFAULT_LOCALE"] not in app.config["LANGUAGES"]:
        raise RuntimeError("BABEL_DEFAULT_LOCALE must be one of LANGUAGES")
