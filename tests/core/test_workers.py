"""Real Celery workers in their own processes, on the embedded broker and on Redis."""
import datetime as dt
import os
import re
import signal
import time

import pytest

from tests.workers import Workers

REDIS_URL = os.environ.get("TABEL_TEST_REDIS", "redis://127.0.0.1:6379/15")


def redis_available():
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def _redis_or_skip():
    if not redis_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is required in CI and unreachable at {REDIS_URL}")
        pytest.skip("Redis unreachable")
    return REDIS_URL


@pytest.fixture(params=["embedded", "redis"])
def broker(request, tmp_path):
    if request.param == "redis":
        return _redis_or_skip()
    return f"sqla+sqlite:///{tmp_path}/broker.sqlite"


@pytest.fixture
def redis_broker():
    return _redis_or_skip()


@pytest.fixture
def workers(app, tmp_path):
    pool = {}

    def make(broker, step_seconds=0.0):
        pool["w"] = Workers(app, broker, tmp_path, step_seconds)
        return pool["w"]

    yield make
    if "w" in pool:
        pool["w"].stop()


def queue_job(app, tenant):
    """A job row for a worker to find (sent by the test's own Celery client, not eagerly)."""
    from core.tenancy import unscoped
    from core.extensions import db
    from core.jobs.models import Job

    with app.test_request_context(), unscoped("test: queue a job", platform=True):
        row = Job(tenant_id=tenant["id"], tenant_path=tenant["path"], kind="tenant_stats", status="queued")
        db.session.add(row)
        db.session.commit()
        return row.id


def wait_for(raw_sql, job_id, condition, workers, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = raw_sql("SELECT status, progress, attempts FROM job WHERE id = :id", id=job_id)[0]
        if condition(row):
            return row
        time.sleep(0.1)
    pytest.fail(f"job {job_id} stuck at {row}; worker logs:\n{workers.logs()}")


def test_a_worker_runs_a_queued_job_to_completion(app, region_tree, broker, workers, raw_sql):
    pool = workers(broker)
    pool.start("one")
    job_id = queue_job(app, region_tree["a"]["region"])
    pool.send(job_id)
    row = wait_for(raw_sql, job_id, lambda r: r.status in ("succeeded", "failed"), pool)
    assert (row.status, row.progress, row.attempts) == ("succeeded", 100, 1)
    counted = raw_sql("SELECT schools, accounts FROM tenant_stats WHERE tenant_id = :t", t=region_tree["a"]["region"]["id"])
    assert [tuple(r) for r in counted] == [(1, 4)]


def test_killing_a_worker_mid_job_finishes_the_job_once_on_another(app, region_tree, make_tenant, workers, raw_sql,
                                                                    redis_broker):
    """Redelivery after a worker dies is the production broker's promise (Redis)."""
    municipality = region_tree["a"]["municipality"]
    for n in range(10):
        make_tenant(f"Школа № {n + 20}", parent=municipality)
    pool = workers(redis_broker, step_seconds=0.3)
    first = pool.start("first")
    job_id = queue_job(app, region_tree["a"]["region"])
    pool.send(job_id)
    wait_for(raw_sql, job_id, lambda r: r.status == "running" and r.progress >= 20, pool)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    interrupted = raw_sql("SELECT progress FROM job WHERE id = :id", id=job_id)[0].progress
    assert interrupted < 100
    pool.start("second")
    row = wait_for(raw_sql, job_id, lambda r: r.status in ("succeeded", "failed"), pool, timeout=90)
    assert (row.status, row.attempts) == ("succeeded", 2)
    tenants = raw_sql("SELECT COUNT(*) AS n FROM tenant WHERE path LIKE :p", p=region_tree["a"]["region"]["path"] + "%")[0].n
    stats = raw_sql("SELECT tenant_id, schools FROM tenant_stats")
    assert len(stats) == tenants == 13, (len(stats), tenants)
    assert {r.tenant_id: r.schools for r in stats}[region_tree["a"]["region"]["id"]] == 11
    finished = raw_sql("SELECT COUNT(*) AS n FROM audit_entry WHERE action = 'job.succeeded' AND object_id = :id",
                       id=str(job_id))[0].n
    assert finished == 1


def _beat_sends(log_text, entry):
    """The instants at which a beat process logged sending ``entry``."""
    pattern = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/MainProcess\] "
                         r"Scheduler: Sending due task " + re.escape(entry) + r" ", re.M)
    return [dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f") for stamp in pattern.findall(log_text)]


def test_two_beat_processes_send_periodic_work_once(app, workers, raw_sql, redis_broker, tmp_path):
    """RedBeat's lock: with two schedulers running, each tick is sent by one of them.

    A second scheduler without the lock sends the same tick within milliseconds of the
    first; with it, the other process sends only after taking the lock over, a whole
    interval later at least. So the test waits for the ticks (however slow the machine)
    and then compares the two logs, instead of counting ticks in a fixed time."""
    import json

    pool = workers(redis_broker)
    pool.env["TABEL_CELERY_BEAT_SCHEDULE"] = json.dumps(
        {"test-tick": {"task": "tabel.enqueue_periodic", "schedule": 1.0, "args": ["audit_verify"]}})
    pool.env["TABEL_REDBEAT_KEY_PREFIX"] = f"redbeat-{pool.queue}"
    pool.env["TABEL_REDBEAT_LOCK_TIMEOUT"] = "5"
    pool.env["TABEL_CELERY_QUEUE"] = pool.queue
    pool.start("worker")
    pool.start_beat("beat-1")
    pool.start_beat("beat-2")
    succeeded = "SELECT COUNT(*) AS n FROM job WHERE kind = 'audit_verify' AND status = 'succeeded'"
    deadline = time.monotonic() + 120
    while raw_sql(succeeded)[0].n < 3:
        if time.monotonic() > deadline:
            pytest.fail(f"fewer than 3 ticks ran in 120 s\n{pool.logs()}")
        time.sleep(0.1)
    pool.stop()
    logs = pool.logs()
    sends = {name: _beat_sends((tmp_path / f"{name}.log").read_text(errors="replace"), "test-tick")
             for name in ("beat-1", "beat-2")}
    ticks = raw_sql("SELECT COUNT(*) AS n FROM job WHERE kind = 'audit_verify'")[0].n
    # every job came from a logged send (the last sends may find the worker stopped)
    assert 3 <= ticks <= len(sends["beat-1"]) + len(sends["beat-2"]), f"{ticks} jobs, {sends}\n{logs}"
    twice = [(one, two) for one in sends["beat-1"] for two in sends["beat-2"] if abs(one - two) < dt.timedelta(seconds=0.5)]
    assert not twice, f"both schedulers sent the same tick: {twice}\n{logs}"
