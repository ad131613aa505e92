"""Real Celery workers in their own processes, on the embedded broker and on Redis."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
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


class Workers:
    def __init__(self, app, broker, tmp_path, step_seconds):
        self.broker, self.queue = broker, f"tabel-test-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "TABEL_DATABASE_URL": app.config["DATABASE_URL"],
                    "TABEL_SECRET_KEY": app.config["SECRET_KEY"], "TABEL_CELERY_BROKER_URL": broker,
                    "TABEL_CELERY_QUEUE": self.queue, "TABEL_DEMO_JOB_STEP_SECONDS": str(step_seconds),
                    "TABEL_CELERY_VISIBILITY_TIMEOUT": "2", "TABEL_INSTANCE_PATH": str(tmp_path),

                    "TABEL_LOG_LEVEL": "WARNING"}
        if broker.startswith("redis"):
            # look for messages of dead workers every second, not every 100 s
            self.env["TABEL_CELERY_BROKER_TRANSPORT_OPTIONS"] = '{"unacked_restore_interval": 1, "unacked_restore_throttle": 1}'
        self.tmp_path = tmp_path
        self.processes = []

    def start(self, name):
        log = open(self.tmp_path / f"{name}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery", "worker", "--pool=solo", "-Q", self.queue,
             "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def send(self, job_id):
        client = Celery(broker=self.broker)
        client.conf.broker_transport_options = ({"visibility_timeout": 2} if self.broker.startswith("redis") else {})
        client.send_task("tabel.run_job", args=[job_id], queue=self.queue)
        client.close()

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

    def logs(self):
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in self.tmp_path.glob("*.log"))


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
    from core.accounts import service as accounts
    from core.extensions import db
    from core.jobs.models import Job

    with app.test_request_context(), accounts.as_platform("test: queue a job"):
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
