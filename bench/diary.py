"""Benchmark: a guardian's diary week, served by gunicorn (2 workers) on PostgreSQL, beside a
raw-SQL baseline returning the same JSON (bench/diary_baseline.py, also gunicorn with 2
workers), measured with wrk while a teacher of the same school saves grades.

    .venv/bin/python bench/diary.py [--database postgresql://postgres@127.0.0.1:5432/tabel_journal_bench]

Uses bench/journal.py's data set (a municipality of 10 schools with a full year of lessons,
grades and absences; built on first use, several minutes) and adds a guardian of a pupil of
its measured class. Prints:

1. the statements of one week (JSON and page), counted in-process, and whether the app's
   week and the baseline's hold the same lessons, topics, homework, grades and attendance;
2. for the baseline, the week's JSON and the week's page: requests per second, p50 and p95
   with 2 and with 8 connections (wrk), the ratio to the baseline, and the multiple of the
   peer's rate (RosarioSIS 11.8's student grades page: 87-92 requests/s on such a machine);
3. the teacher's grade writes made meanwhile (one every 0.25 s) and their failures.
Needs Debian's wrk.
"""
import argparse
import datetime as dt
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import g  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402

from bench.journal import PASSWORD, SECRET, answering, call, prepare, serve  # noqa: E402
from core import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.tenancy import unscoped  # noqa: E402

PEER_RATE = 90  # RosarioSIS 11.8, a student's grades: 87-92 requests/s
WRK_LINE = re.compile(r"(\d+) requests in ([\d.]+) s, (\d+) not 2xx; p50 ([\d.]+) ms, p95 ([\d.]+) ms, (\d+) requests/s")


def ensure_guardian(app, ids) -> int:
    """``bench-parent``, the guardian of the measured class's first pupil; the pupil's id."""
    from blueprints.roster.models import Guardian, GuardianLink, Pupil
    from core.accounts import service as accounts
    from core.accounts.models import User
    from tenants.models import Tenant

    pupil_id = ids["pupils"][0]
    with app.test_request_context(), unscoped("bench: the diary's guardian", platform=True):
        user = db.session.execute(select(User).where(User.login == "bench-parent")).scalar_one_or_none()
        if user is None:
            school = db.session.get(Tenant, ids["school_id"])
            pupil = db.session.get(Pupil, pupil_id)
            user = accounts.create_user(login="bench-parent", password=PASSWORD, full_name="Родитель Бенч")
            accounts.grant(user, role="guardian", tenant_id=school.id, tenant_path=school.path, tenant_kind="school",
                           by=g.membership)
            guardian = Guardian(last_name="Родитель", first_name="Бенч", user_id=user.id, tenant_id=school.id,
                                region_id=pupil.region_id)
            db.session.add(guardian)
            db.session.flush()
            db.session.add(GuardianLink(pupil_id=pupil_id, guardian_id=guardian.id, relation="мать",
                                        tenant_id=school.id, region_id=pupil.region_id))
        db.session.commit()
    return pupil_id


def measured_week(app, ids) -> dt.date:
    """The Monday of the class's last week with lessons up to today."""
    with app.app_context():
        last = db.session.execute(text("SELECT max(held_on) FROM lesson WHERE class_id = :c AND held_on <= current_date"),
                                  {"c": ids["class_id"]}).scalar_one()
    return last - dt.timedelta(days=last.weekday())


def same_data(ours: dict, baseline: dict) -> bool:
    def key(week):
        return [(str(day["date"]), [(l["id"], l["topic"], l["homework"], l["attendance"],
                                     [(x["value"], x["work_type"]) for x in l["grades"]]) for l in day["lessons"]])
                for day in week["days"]]
    return key(ours) == key(baseline)


def start_baseline(database, port):
    env = {**os.environ, "BASELINE_DATABASE": database.replace("postgresql+psycopg", "postgresql")}
    process = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                                "--access-logfile", "/dev/null", "bench.diary_baseline:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return answering(process, port)


def wrk(url, connections, token=None, seconds=10):
    env = {**os.environ, "WRK_TOKEN": token or ""}
    done = subprocess.run(["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s",
                           "-s", "bench/wrk_get.lua", url], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    match = WRK_LINE.search(done.stdout)
    if not match:
        raise RuntimeError(done.stdout + done.stderr)
    requests, _secs, failed, p50, p95, rate = match.groups()
    return {"requests": int(requests), "failed": int(failed), "p50": float(p50), "p95": float(p95), "rate": int(rate)}


class Teacher(threading.Thread):
    """Saves a grade every 0.25 s in the measured class, as a teacher marking a lesson does."""

    def __init__(self, port, token, lessons, pupils):
        super().__init__(daemon=True)
        self.port, self.token, self.lessons, self.pupils = port, token, lessons, pupils
        self.stop, self.saved, self.failed = threading.Event(), 0, 0

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        versions, n = {}, 0
        while not self.stop.wait(0.25):
            lesson, pupil = self.lessons[n % len(self.lessons)], self.pupils[1 + n % (len(self.pupils) - 1)]
            body = {"value": "2345"[n % 4], "work_type": "ПР", "version": versions.get((lesson, pupil))}
            status, payload = call(conn, "PUT", f"/api/v1/lessons/{lesson}/grades/{pupil}", self.token, body)
            if status == 409:  # a grade of an earlier run: write over it with its version
                body["version"] = (json.loads(payload).get("current") or {}).get("version")
                status, payload = call(conn, "PUT", f"/api/v1/lessons/{lesson}/grades/{pupil}", self.token, body)
            if status == 200:
                versions[(lesson, pupil)] = json.loads(payload)["version"]
            self.saved += status == 200
            self.failed += status != 200
            n += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/tabel_journal_bench")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    database = args.database if "+" in args.database else args.database.replace("postgresql://", "postgresql+psycopg://")
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": database, "LOG_LEVEL": "WARNING",
                      "LOGIN_THROTTLE_ENABLED": False})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    ids = prepare(app)
    child = ensure_guardian(app, ids)
    monday = measured_week(app, ids)
    iso = monday.isocalendar()
    week = f"{iso[0]}-W{iso[1]:02d}"
    json_url, page_url = f"/api/v1/pupils/{child}/diary?week={week}", f"/diary/{child}?week={week}"
    client = app.test_client()
    parent = client.post("/api/v1/auth/token", json={"login": "bench-parent", "password": PASSWORD}).json["access_token"]
    teacher = client.post("/api/v1/auth/token", json={"login": "bench-teacher", "password": PASSWORD}).json["access_token"]
    headers = {"Authorization": f"Bearer {parent}"}

    # In-process: the statements of a week and the data, against the baseline's.
    statements = {}
    with app.app_context():
        engine = db.engine
    for label, url in (("json", json_url), ("page", page_url)):
        client.get(url, headers=headers)  # warm: regulations resolved once per worker
        seen = []
        listener = lambda *a: seen.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        response = client.get(url, headers=headers)
        event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200, (url, response.status_code)
        statements[label] = (len(seen), len(response.data))
    ours = client.get(json_url, headers=headers).json
    os.environ["BASELINE_DATABASE"] = args.database.replace("postgresql+psycopg", "postgresql")
    from bench import diary_baseline

    theirs = diary_baseline.week(child, monday)
    lessons = sum(len(day["lessons"]) for day in ours["days"])
    grades = sum(len(l["grades"]) for day in ours["days"] for l in day["lessons"])
    print(f"week {week} of pupil {child}: {lessons} lessons, {grades} grades; "
          f"statements: JSON {statements['json'][0]} ({statements['json'][1] / 1024:.1f} KB), "
          f"page {statements['page'][0]} ({statements['page'][1] / 1024:.1f} KB); "
          f"same data as the baseline: {'yes' if same_data(ours, theirs) else 'NO'}")

    # The teacher's own lessons (maths) of the measured week, held by today.
    today, maths = dt.date.today(), set(ids["lessons"])
    week_lessons = [l["id"] for day in ours["days"] for l in day["lessons"]
                    if l["id"] in maths and dt.date.fromisoformat(str(day["date"])) <= today] or ids["lessons"][:5]
    base_port, app_port = args.port, args.port + 1
    baseline = start_baseline(args.database, base_port)
    server = serve(database, app_port, 1)
    rows = []
    writer = Teacher(app_port, teacher, week_lessons, ids["pupils"])
    try:
        base = f"http://127.0.0.1:{base_port}/week?pupil={child}&monday={monday.isoformat()}"
        ours_json, ours_page = f"http://127.0.0.1:{app_port}{json_url}", f"http://127.0.0.1:{app_port}{page_url}"
        for url, token in ((base, None), (ours_json, parent), (ours_page, parent)):
            wrk(url, 2, token, seconds=2)  # warm up
        writer.start()
        for connections in (2, 8):
            measured = {"baseline (raw SQL)": wrk(base, connections, seconds=args.seconds),
                        "week JSON": wrk(ours_json, connections, parent, seconds=args.seconds),
                        "week page": wrk(ours_page, connections, parent, seconds=args.seconds)}
            reference = measured["baseline (raw SQL)"]["rate"]
            for label, figures in measured.items():
                rows.append((connections, label, figures, figures["rate"] / reference))
    finally:
        writer.stop.set()
        writer.join(timeout=5)
        for process in (server, baseline):
            process.terminate()
            process.wait(timeout=10)

    print(f"\n{'conn':>4} {'':<20} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'not 2xx':>7} {'/ baseline':>10} {'× peer':>7}")
    for connections, label, f, ratio in rows:
        print(f"{connections:>4} {label:<20} {f['rate']:>7} {f['p50']:>7.2f} {f['p95']:>7.2f} {f['failed']:>7} "
              f"{ratio:>10.2f} {f['rate'] / PEER_RATE:>7.1f}")
    print(f"\nmeanwhile the teacher saved {writer.saved} grades ({writer.failed} failed)")


if __name__ == "__main__":
    main()
