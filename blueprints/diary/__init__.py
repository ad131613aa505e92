"""The diary: what pupils and their guardians see of the journal (IN-3, IN-5, IN-6, DL-4),
as pages and as the mobile apps' API. It reads the roster and the journal; it writes its own
rows only: guardians' visits (IN-4), messages with teachers, and the notifications owed to
guardians (IN-1, ``notify.py``), recorded beside the journal's entries."""
from core import register_home, register_nav, register_url_loader
from core.extensions import api as api_ext


def init_app(app):
    from blueprints.diary import activity, api, message_api, messages, notify, paper, service, tasks, views  # noqa: F401 (tables, job kinds)

    app.register_blueprint(views.bp)
    api_ext.register_blueprint(api.blp)
    api_ext.register_blueprint(message_api.blp)
    # A child is one of the signed-in user's own (IN-3), found through their roles: 404 otherwise.
    register_url_loader(app, "child_id", service.load_child)
    # A thread of the user's child, of the teacher's own, or of the school its admin manages: 404 otherwise.
    register_url_loader(app, "thread_id", messages.load_thread)
    register_nav(app, views.nav)
    register_home(app, views.home_for, first=True)
    from core.signals import demo_loaded, journal_written

    demo_loaded.connect(_demo_diary, app)
    # IN-1: the journal's entries become notifications in the same transaction; the jobs
    # that send them start once the request has committed.
    journal_written.connect(notify.record, app)
    messages.posted.connect(_teacher_wrote)
    notify.install_session_events()
    app.after_request(notify.start_jobs)
    _schedule(app, tasks.SCHEDULE_ENTRY)


def _schedule(app, entry):
    schedule = dict(app.config.get("CELERY_BEAT_SCHEDULE") or {})
    schedule.setdefault("diary-notify-due", entry)
    app.config["CELERY_BEAT_SCHEDULE"] = schedule
    celery = app.extensions.get("celery")
    if celery is not None:
        celery.conf.beat_schedule = schedule


def _demo_diary(app, logins):
    from blueprints.diary import demo

    return demo.load()


def _teacher_wrote(author, thread, message):
    """A teacher's message reaches the pupil's guardians by their channels, as a grade does;
    a guardian's message waits in the teacher's unread list."""
    from flask import current_app
    from sqlalchemy import select

    from blueprints.diary import notify
    from blueprints.roster.models import Staff
    from core.extensions import db

    teacher = db.session.execute(select(Staff.user_id).where(Staff.id == thread.staff_id)).scalar_one_or_none()
    if teacher is not None and teacher == author.id:  # the thread's teacher wrote, not a guardian
        notify.record(current_app._get_current_object(), "message", [message])
