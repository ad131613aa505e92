"""Benchmark: the journal page and grade writes, served by gunicorn (2 workers) on PostgreSQL.

    .venv/bin/python bench/journal.py --database postgresql://postgres@127.0.0.1:5432/tabel_journal_bench

Builds (once) a municipality of 10 schools with about 6,000 pupils (classes 1-11, letters
а and б, 27 pupils a class) and a full year of lessons, grades and absences; the measured class has 30
pupils; its maths lessons of a term held so far get fresh grades on every run (grades wait
for the lesson's day, DL-2), then it measures:

1. a raw-SQL baseline: the three statements that fetch the page's data (lessons, pupils,
   grades) with psycopg, no ORM, no scoping, no rendering;
2. GET of the journal page of one class, subject and term: p50/p95 latency and requests
   per second with 8 client threads, SQL statements per page (counted in-process), HTML size;
   kept per worker (the usual case), and built on every load (the first load after a write
   in its school), served with the kept tables turned off;
3. saving a column of grades (PUT /api/v1/lessons/{id}/grades, audited): p50/p95;
4. sustained single-grade writes from 8 threads for 10 s: writes per second and errors;
5. where ``wrk`` is installed (Debian's package), the page and single-grade writes again
   with it (bench/wrk_*.lua): a load generator in C leaves the two cores to the server.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402

from flask import g

from core import create_app  # noqa: E402
from core.accounts import service as accounts  # noqa: E402
from core.tenancy import unscoped  # noqa: E402
from core.extensions import db  # noqa: E402

SECRET = "bench-secret"
PASSWORD = "bench-password-1"


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def prepare(app):
    """The data set, made once per database, and the ids the benchmark uses."""
    from blueprints.roster import academic_years, generator, schedule, school_classes
    from blueprints.roster.models import Lesson, SchoolClass, Staff, Subject
    from core.accounts.models import User
    from tenants import service as tenants
    from tenants.models import Tenant

    with app.test_request_context(), unscoped("bench: journal data", platform=True):
        if not db.session.execute(select(func.count()).select_from(Tenant)).scalar_one():
            region = tenants.create_tenant(kind="region", name="Регион", timezone="Asia/Yekaterinburg")
            municipality = tenants.create_tenant(kind="municipality", name="Округ", parent_id=region.id)
            for n in range(10):
                school = tenants.create_tenant(kind="school", name=f"Школа № {n + 1}", parent_id=municipality.id)
                generator.populate_school(school, pupils_per_class=27, letters=("а", "б"), seed=n)
                # a full year, not only this term
                for term in academic_years.terms_of(academic_years.current_year(school)):
                    schedule.generate_lessons(term)
                db.session.commit()
                print(f"  school {n + 1}/10 generated", flush=True)
            fill_year()
        school = db.session.execute(select(Tenant).where(Tenant.kind == "school").order_by(Tenant.id)).scalars().first()
        school_class = db.session.execute(select(SchoolClass).where(
            SchoolClass.tenant_id == school.id, SchoolClass.grade == 7, SchoolClass.letter == "а")).scalar_one()
        maths = db.session.execute(select(Subject).where(Subject.name == "Математика",
                                                         Subject.tenant_id == school.path_ids[0])).scalar_one()
        lesson = db.session.execute(select(Lesson).where(Lesson.class_id == school_class.id,
                                                         Lesson.subject_id == maths.id)).scalars().first()
        term_id = lesson.term_id
        teacher = db.session.execute(select(Staff).where(Staff.id == lesson.teacher_id)).scalar_one()
        user = db.session.execute(select(User).where(User.login == "bench-teacher")).scalar_one_or_none()
        if user is None:
            user = accounts.create_user(login="bench-teacher", password=PASSWORD, full_name=teacher.full_name)
            accounts.grant(user, role="teacher", tenant_id=school.id, tenant_path=school.path, tenant_kind="school",
                           by=g.membership)
            teacher.user_id = user.id
        # The lessons held so far: grades wait for the lesson's day (DL-2).
        lessons = db.session.execute(select(Lesson.id).where(
            Lesson.class_id == school_class.id, Lesson.subject_id == maths.id, Lesson.term_id == term_id,
            Lesson.held_on <= tenants.local_today(school))).scalars().all()
        pupils = [p.id for p in school_classes.class_roster(school_class)]
        if len(pupils) < 30:  # the page the issue measures: 30 pupils by about 50 lessons
            import datetime as dt

            from blueprints.roster.models import AcademicYear, Pupil

            year = db.session.get(AcademicYear, school_class.year_id)
            for n in range(len(pupils), 30):
                pupil = Pupil(last_name=f"Добавленный{n}", first_name="Иван", birth_date=dt.date(2013, 5, 1),
                              file_number=f"bench-{n}", tenant_id=school.id, region_id=school.path_ids[0])
                db.session.add(pupil)
                db.session.flush()
                school_classes.enrol(pupil, school_class, year.starts_on)
            pupils = [p.id for p in school_classes.class_roster(school_class)]
        db.session.commit()
    return {"school_id": school.id, "class_id": school_class.id, "subject_id": maths.id, "term_id": term_id,
            "lessons": lessons, "pupils": pupils}


def fill_year():
    """Grades and absences over the whole year of every school: about a third of the cells
    get a grade and one in twenty pupils is absent, so the tables are the size a year makes."""
    for sql in (
        "INSERT INTO grade (tenant_id, region_id, lesson_id, pupil_id, work_type, value, entered_at, is_late, version) "
        "SELECT l.tenant_id, l.region_id, l.id, e.pupil_id, 'У', (2 + floor(random() * 4))::int::text, now(), false, 1 "
        "FROM lesson l JOIN enrolment e ON e.class_id = l.class_id AND e.to_on IS NULL WHERE random() < 0.33",
        "INSERT INTO attendance (tenant_id, region_id, lesson_id, pupil_id, status) "
        "SELECT l.tenant_id, l.region_id, l.id, e.pupil_id, 'absent' "
        "FROM lesson l JOIN enrolment e ON e.class_id = l.class_id AND e.to_on IS NULL WHERE random() < 0.05",
    ):
        db.session.execute(text(sql))
    db.session.commit()


def serve(url, port, threads, **settings):
    env = {**os.environ, "TABEL_DATABASE_URL": url, "TABEL_SECRET_KEY": SECRET, "TABEL_LOG_LEVEL": "WARNING",
           "TABEL_SESSION_COOKIE_SECURE": "false", "TABEL_LOGIN_THROTTLE_ENABLED": "false",
           **{f"TABEL_{key}": str(value) for key, value in settings.items()}}
    process = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "--threads", str(threads),
                                "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return answering(process, port)


def answering(process, port):
    """``process`` once its ``/healthz`` on ``port`` answers 200 (killed, with its error, if not)."""
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(process.stderr.read().decode()[-2000:])


def call(conn, method, path, token, body=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def load(port, token, fn, threads, seconds=None, count=None):
    """Run ``fn(conn, token)`` from several threads; return latencies (ms) and statuses."""
    latencies, statuses, lock = [], [], threading.Lock()
    stop = time.perf_counter() + (seconds or 3600)
    per_thread = (count // threads) if count else None

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        done = 0
        while time.perf_counter() < stop and (per_thread is None or done < per_thread):
            started = time.perf_counter()
            status = fn(conn, token)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses.append(status)
            done += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, statuses, time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/tabel_journal_bench")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (2 workers)")
    args = parser.parse_args()
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": args.database, "LOG_LEVEL": "WARNING",
                      "LOGIN_THROTTLE_ENABLED": False})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    ids = prepare(app)
    rng = random.Random(7)
    page = f"/classes/{ids['class_id']}/journal?subject_id={ids['subject_id']}&term_id={ids['term_id']}"

    # Every run starts from the same page: the grades of earlier runs are removed, then
    # about half the cells get one, so the page shows real data.
    import psycopg

    with psycopg.connect(args.database.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute("DELETE FROM grade WHERE lesson_id = ANY(%s)", (ids["lessons"],))
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"login": "bench-teacher", "password": PASSWORD}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for lesson in ids["lessons"]:
        entries = [{"pupil_id": p, "value": rng.choice("2345"), "work_type": "У", "version": None}
                   for p in ids["pupils"] if rng.random() < 0.5]
        client.put(f"/api/v1/lessons/{lesson}/grades", headers=headers, json={"grades": entries})

    with psycopg.connect(args.database.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("ANALYZE")  # fresh data: plans as a running database (autovacuum) would have them

    # In-process: statements per page (once warm: a worker resolves each regulation once) and its size.
    client.get(page, headers=headers)
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    response = client.get(page, headers=headers)
    app.config["JOURNAL_GRID_CACHE_SIZE"] = 0  # and a page built anew
    built_statements = []
    built_listener = lambda *a: built_statements.append(a[2])  # noqa: E731
    event.remove(engine, "before_cursor_execute", listener)
    event.listen(engine, "before_cursor_execute", built_listener)
    client.get(page, headers=headers)
    event.remove(engine, "before_cursor_execute", built_listener)
    app.config["JOURNAL_GRID_CACHE_SIZE"] = 512
    html_kb = len(response.data) / 1024
    assert response.status_code == 200, response.status_code

    # Baseline: the page's data straight from PostgreSQL with psycopg.

    raw = []
    with psycopg.connect(args.database.replace("postgresql+psycopg", "postgresql")) as conn:
        for _ in range(300):
            started = time.perf_counter()
            lessons = conn.execute("SELECT id, held_on, period FROM lesson WHERE class_id = %s AND subject_id = %s "
                                   "AND term_id = %s AND NOT is_cancelled ORDER BY held_on, period",
                                   (ids["class_id"], ids["subject_id"], ids["term_id"])).fetchall()
            conn.execute("SELECT p.id, p.last_name, p.first_name FROM pupil p JOIN enrolment e ON e.pupil_id = p.id "
                         "WHERE e.class_id = %s AND e.to_on IS NULL ORDER BY p.last_name", (ids["class_id"],)).fetchall()
            conn.execute("SELECT lesson_id, pupil_id, value, work_type, is_late FROM grade WHERE lesson_id = ANY(%s)",
                         ([l[0] for l in lessons],)).fetchall()
            raw.append((time.perf_counter() - started) * 1000)

    # The page built on every load, as after each write in its school (the kept tables off);
    # first, while the page holds the same grades as for the kept one below.
    server = serve(args.database, args.port, args.threads, JOURNAL_GRID_CACHE_SIZE=0)
    try:
        load(args.port, token, lambda c, t: call(c, "GET", page, t)[0], threads=4, count=100)  # warm up
        built_lat, built_status, built_time = load(args.port, token, lambda c, t: call(c, "GET", page, t)[0],
                                                   threads=8, count=args.requests // 2)
        built_quiet, _s, _t = load(args.port, token, lambda c, t: call(c, "GET", page, t)[0], threads=2,
                                   count=args.requests // 4)
    finally:
        server.terminate()
        server.wait(timeout=10)

    server = serve(args.database, args.port, args.threads)
    try:
        load(args.port, token, lambda c, t: call(c, "GET", page, t)[0], threads=4, count=200)  # warm up
        page_lat, page_status, page_time = load(args.port, token, lambda c, t: call(c, "GET", page, t)[0],
                                                threads=8, count=args.requests)
        # Latency without queueing: one client per worker.
        quiet_lat, _quiet_status, _quiet_time = load(args.port, token, lambda c, t: call(c, "GET", page, t)[0],
                                                     threads=2, count=args.requests // 4)
        column_lat, column_versions = [], {}
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        for lesson in ids["lessons"]:  # what the teacher's page shows before a column is typed
            status, payload = call(conn, "GET", f"/api/v1/lessons/{lesson}", token)
            for grade in json.loads(payload)["grades"]:
                if grade["work_type"] == "КР":
                    column_versions[(lesson, grade["pupil_id"])] = grade["version"]
        for n in range(100):
            lesson = ids["lessons"][n % len(ids["lessons"])]
            body = {"grades": [{"pupil_id": p, "value": rng.choice("345"), "work_type": "КР",
                                "version": column_versions.get((lesson, p))} for p in ids["pupils"]]}
            started = time.perf_counter()
            status, payload = call(conn, "PUT", f"/api/v1/lessons/{lesson}/grades", token, body)
            column_lat.append((time.perf_counter() - started) * 1000)
            assert status == 200, payload[:300]
            for grade in json.loads(payload):
                column_versions[(lesson, grade["pupil_id"])] = grade["version"]

        versions, versions_lock = {}, threading.Lock()
        for lesson in ids["lessons"]:
            status, payload = call(conn, "GET", f"/api/v1/lessons/{lesson}", token)
            for grade in json.loads(payload)["grades"]:
                if grade["work_type"] == "ПР":
                    versions[(lesson, grade["pupil_id"])] = grade["version"]

        def write_one(c, t):
            # Like a teacher's grid: a cell written before is updated with the version read.
            lesson, pupil = rng.choice(ids["lessons"]), rng.choice(ids["pupils"])
            with versions_lock:
                version = versions.get((lesson, pupil))
            status, payload = call(c, "PUT", f"/api/v1/lessons/{lesson}/grades/{pupil}", t,
                                   {"value": rng.choice("2345"), "work_type": "ПР", "version": version})
            if status == 200:
                with versions_lock:
                    versions[(lesson, pupil)] = json.loads(payload)["version"]
            return status

        write_lat, write_status, write_time = load(args.port, token, write_one, threads=8, seconds=10)

        # The same with wrk, a load generator in C: the Python client above spends much of
        # the two cores itself. New cells (work type ДЗ), then the same cells again with
        # the versions their answers gave.
        wrk_lines = []
        if shutil.which("wrk"):
            env = {**os.environ, "WRK_TOKEN": token, "WRK_LESSONS": ",".join(map(str, ids["lessons"])),
                   "WRK_PUPILS": ",".join(map(str, ids["pupils"])), "WRK_THREADS": "8", "WRK_WORK_TYPE": "ДЗ"}
            base = f"http://127.0.0.1:{args.port}"
            for label, command in (
                    ("journal page, 8 connections", ["-t2", "-c8", "-d10s", "-s", "bench/wrk_page.lua", base + page]),
                    ("journal page, 2 connections", ["-t2", "-c2", "-d10s", "-s", "bench/wrk_page.lua", base + page]),
                    ("single-grade writes, 8 connections", ["-t8", "-c8", "-d10s", "-s", "bench/wrk_grades.lua", base]),
                    ("grade columns, 8 connections", ["-t8", "-c8", "-d10s", "-s", "bench/wrk_columns.lua", base])):
                if "columns" in label:  # the columns start from empty cells of the same work type
                    time.sleep(2)  # the writes wrk left in flight finish first
                    with psycopg.connect(args.database.replace("postgresql+psycopg", "postgresql")) as pg:
                        pg.execute("DELETE FROM grade WHERE work_type = 'ДЗ' AND lesson_id = ANY(%s)", (ids["lessons"],))
                done = subprocess.run(["wrk", *command], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
                wrk_lines.append(f"{label:<36}" + done.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=10)


    ok_pages = sum(1 for s in page_status if s == 200)
    ok_writes = sum(1 for s in write_status if s == 200)
    print(f"data: {len(ids['pupils'])} pupils x {len(ids['lessons'])} lessons on the page; PostgreSQL; "
          f"gunicorn 2 workers x {args.threads} threads")
    print(f"{'what':<56}{'p50 ms':>9}{'p95 ms':>9}{'x baseline':>12}")
    print(f"{'raw SQL baseline: the page data (psycopg, 3 statements)':<56}{percentile(raw, .5):>9.2f}{percentile(raw, .95):>9.2f}{1:>12.1f}")
    print(f"{'GET journal page (8 client threads)':<56}{percentile(page_lat, .5):>9.2f}{percentile(page_lat, .95):>9.2f}"
          f"{percentile(page_lat, .5) / percentile(raw, .5):>12.1f}")
    print(f"{'GET journal page (2 client threads, no queueing)':<56}{percentile(quiet_lat, .5):>9.2f}"
          f"{percentile(quiet_lat, .95):>9.2f}{percentile(quiet_lat, .5) / percentile(raw, .5):>12.1f}")
    print(f"{'GET journal page built each time (8 client threads)':<56}{percentile(built_lat, .5):>9.2f}"
          f"{percentile(built_lat, .95):>9.2f}{percentile(built_lat, .5) / percentile(raw, .5):>12.1f}")
    print(f"{'GET journal page built each time (2 client threads)':<56}{percentile(built_quiet, .5):>9.2f}"
          f"{percentile(built_quiet, .95):>9.2f}{percentile(built_quiet, .5) / percentile(raw, .5):>12.1f}")
    print(f"{'PUT a column of ' + str(len(ids['pupils'])) + ' grades (audited)':<56}{percentile(column_lat, .5):>9.2f}"
          f"{percentile(column_lat, .95):>9.2f}")
    print(f"{'PUT one grade (8 threads, 10 s)':<56}{percentile(write_lat, .5):>9.2f}{percentile(write_lat, .95):>9.2f}")
    print(f"journal page: {ok_pages / page_time:.0f} requests/s ({ok_pages}/{len(page_status)} ok), "
          f"{len(statements)} SQL statements, {html_kb:.1f} KB of HTML; built each time: "
          f"{sum(1 for s_ in built_status if s_ == 200) / built_time:.0f} requests/s, {len(built_statements)} statements")
    print(f"single-grade writes: {ok_writes / write_time:.0f} per second sustained ({ok_writes}/{len(write_status)} ok)")
    print("\n".join(wrk_lines) if wrk_lines else "wrk: not installed (apt-get install wrk), its figures are left out")


if __name__ == "__main__":
    main()
