"""The Celery application, configured from the Flask config.

Production: a Redis broker (``CELERY_BROKER_URL=redis://...``), workers on as many machines
as needed, periodic work from celery beat with RedBeat's single-scheduler lock. Embedded
default: Celery's SQLAlchemy transport on a SQLite file under ``instance/``, no server.

Messages are acknowledged after the task ends (``acks_late``) and rejected back to the
queue when a worker dies, so a job interrupted by a crash runs again on another worker;
``core.jobs.service.run`` makes that second run resume rather than repeat.

This module is the Celery side only and imports nothing of the jobs: the one task that
runs them, ``tabel.run_job``, is declared in ``core/jobs/service.py`` beside ``run``, as
``core/tasks.py`` declares the periodic one.
"""
from celery import Celery, Task

_flask_app = None  # the app a worker process serves (set by init_app)


class FlaskTask(Task):
    """Runs in an application context, with a fresh session and no scope afterwards."""

    def __call__(self, *args, **kwargs):
        from flask import g, has_app_context

        from core.extensions import db
        from core.tenancy import current_scope, reset_scope, set_scope

        if has_app_context():
            # Eager mode (CELERY_TASK_ALWAYS_EAGER): the task runs inside the caller's
            # request; give the caller back its scope and role afterwards.
            scope, membership = current_scope(), g.get("membership")
            try:
                return self.run(*args, **kwargs)
            finally:
                set_scope(scope)
                g.membership = membership
        with _flask_app.app_context():
            g.membership = None
            try:
                return self.run(*args, **kwargs)
            finally:
                db.session.remove()
                reset_scope()


celery_app = Celery("tabel", task_cls=FlaskTask)


def drop_broker_connections():
    """Close the pooled broker connections: the next message opens a fresh one."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


def init_app(app):
    broker = app.config.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{app.instance_path}/broker.sqlite"
    if broker.startswith("sqla+sqlite:///"):
        import os

        os.makedirs(app.instance_path, exist_ok=True)
    transport = {}
    if broker.startswith(("redis://", "rediss://")):
        transport["visibility_timeout"] = int(app.config.get("CELERY_VISIBILITY_TIMEOUT", 3600))
    transport.update(app.config.get("CELERY_BROKER_TRANSPORT_OPTIONS") or {})
    celery_app.conf.update(
        broker_url=broker,
        result_backend=None,  # results live on the Job row
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=app.config.get("CELERY_QUEUE", "tabel"),
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        beat_schedule=app.config.get("CELERY_BEAT_SCHEDULE", {}),
    )
    redbeat_url = app.config.get("REDBEAT_REDIS_URL") or (broker if broker.startswith("redis") else None)
    if redbeat_url:
        # Production: any number of beat processes may run; RedBeat's lock in Redis lets
        # exactly one of them send the periodic work.
        celery_app.conf.update(
            beat_scheduler="redbeat.RedBeatScheduler",
            redbeat_redis_url=redbeat_url,
            redbeat_key_prefix=app.config.get("REDBEAT_KEY_PREFIX", "redbeat"),
            redbeat_lock_timeout=int(app.config.get("REDBEAT_LOCK_TIMEOUT", 60)),
        )

    # A second app in one process (tests) may name another broker: drop the old
    # connections so the next message goes where this app's config says.
    drop_broker_connections()
    global _flask_app
    _flask_app = app
    app.extensions["celery"] = celery_app
    return celery_app
