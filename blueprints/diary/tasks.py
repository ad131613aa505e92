"""The jobs that send guardians' notifications (IN-1): at once after a journal entry, and
every quarter of an hour for the digests due and whatever was left behind."""
from flask_babel import lazy_gettext as _l

from core.jobs import job
from blueprints.diary import notify

# Celery beat: the digests go out within a quarter of an hour of each guardian's local hour.
SCHEDULE_ENTRY = {"task": "tabel.enqueue_periodic", "schedule": 900, "args": ["diary_notify_due"]}


@job("diary_notify", label=_l("Notifying parents"), idempotent=True, max_retries=5)
def send_notifications(ctx, ids):
    """The notifications of one journal write. What failed stays pending and the job is
    retried with backoff; what was sent is marked and never sent again."""
    counts = notify.send_due(ids=ids)
    ctx.set_result(counts)
    if counts["failed"]:
        raise notify.SendFailed(f"{counts['failed']} of {len(ids)} notifications could not be sent")


@job("diary_notify_due", label=_l("Parents' digests and pending notifications"), idempotent=True)
def send_due_notifications(ctx):
    """Every guardian's digest at their hour, and instant ones whose job never ran or
    failed: what fails now waits for the next run (up to NOTIFY_MAX_ATTEMPTS)."""
    ctx.set_result(notify.send_due())
