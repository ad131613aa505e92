"""Celery workers in their own processes, for the tests that need real ones."""
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parents[1]


class Workers:
    def __init__(self, app, broker, tmp_path, step_seconds):
        self.broker, self.queue = broker, f"tabel-test-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "TABEL_DATABASE_URL": app.config["DATABASE_URL"],
                    "TABEL_SECRET_KEY": app.config["SECRET_KEY"], "TABEL_CELERY_BROKER_URL": broker,
                    "TABEL_CELERY_QUEUE": self.queue, "TABEL_DEMO_JOB_STEP_SECONDS": str(step_seconds),
                    "TABEL_CELERY_VISIBILITY_TIMEOUT": "2", "TABEL_INSTANCE_PATH": str(tmp_path),
                    "TABEL_DISCLOSURE_ALLOWED_NETWORKS": '["127.0.0.0/8"]',  # the fake school sites

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
        self._wait_for_queue(process, name)
        return process

    def _wait_for_queue(self, process, name, seconds=60):
        """On the embedded broker, wait until the worker has made its queue's row: a message
        sent while both make it at once is refused (a unique-name race in kombu's table)."""
        import sqlite3
        import time

        if not self.broker.startswith("sqla+sqlite:///"):
            return
        path = self.broker[len("sqla+sqlite:///"):]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with sqlite3.connect(path, timeout=1) as db:
                    if db.execute("SELECT 1 FROM kombu_queue WHERE name = ?", (self.queue,)).fetchone():
                        return
            except sqlite3.OperationalError:
                pass  # the worker has not made its tables yet
            time.sleep(0.1)
        raise AssertionError(f"worker {name} did not declare its queue\n{self.logs()}")

    def start_beat(self, name):
        log = open(self.tmp_path / f"{name}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery", "beat", "--loglevel=INFO",
             f"--schedule={self.tmp_path / (name + '-schedule')}", "--max-interval=1"],
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
