"""Benchmark: the missing-entries page of a big school, for its admin.

    .venv/bin/python bench/missing.py --database postgresql+psycopg://postgres@127.0.0.1:5432/tabel_missing_bench

Builds (once per database) one school of 33 classes (grades 1-11, letters а, б, в, 25
pupils each) with the generator the demo uses (blueprints/roster/generator.py) and its
current term's lessons; of the lessons held so far, six in ten are fully entered and one
in ten has its topic only, so that about as many lessons lack something as the issue saw.
Then, in-process (the test client: no network, one thread), it measures p50/p95 of:

1. the baseline, measured in the same run: the page as it was before the grouping (every
   lesson with something missing on one page: ``missing.missing`` and that page's template,
   kept below), and the ungrouped API answer (``/api/v1/schools/{id}/missing-entries``);
2. the grouped page (summary, one row per teacher, class and subject, 50 a page), its
   second page, and one group's lessons;

with the HTML size and the SQL statements of each. Target: under 100 KB and 300 ms."""
import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402

from core import clock, create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.tenancy import unscoped  # noqa: E402

PASSWORD = "bench-password-1"

# The page before the grouping (blueprints/journal/templates/journal/missing.html as it was):
# every lesson on one page, the baseline the new page is compared with.
UNGROUPED = """{% extends "base.html" %}
{% block content %}
<h1>{{ _("Missing entries") }}</h1>
<form method="get" class="grid">
  <label>{{ _("Teacher") }}<select name="teacher_id"><option value="">{{ _("all") }}</option>{% for t in teachers %}<option value="{{ t.id }}">{{ t.full_name }}</option>{% endfor %}</select></label>
  <label>{{ _("Class") }}<select name="class_id"><option value="">{{ _("all") }}</option>{% for c in classes %}<option value="{{ c.id }}">{{ c.name }}</option>{% endfor %}</select></label>
  <button type="submit" class="outline">{{ _("Show") }}</button>
</form>
<p>{{ _("Lessons with something missing: %(n)s.", n=items|length) }}</p>
<table class="data" id="missing"><thead><tr><th>{{ _("Date") }}</th><th>{{ _("Class") }}</th><th>{{ _("Subject") }}</th><th>{{ _("Teacher") }}</th><th>{{ _("Missing") }}</th></tr></thead>
<tbody>{% for i in items %}<tr><td><a href="{{ url_for('journal.lesson_page', lesson_id=i.lesson.id) }}">{{ i.lesson.held_on|ru_date }}, {{ i.lesson.period }}</a></td>
  <td>{{ i.class_name }}</td><td>{{ subjects.get(i.lesson.subject_id, '') }}</td><td>{{ names.get(i.lesson.teacher_id, '') }}</td>
  <td>{% for c in i.missing %}<span class="{% if c in i.overdue %}late{% endif %}">{{ {'topic': _('topic'), 'attendance': _('attendance'), 'homework': _('homework')}[c] }}</span>{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody></table>
{% endblock %}"""


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def prepare(app):
    """The school, made once per database; its id and its admin's login."""
    from blueprints.roster import generator
    from core.accounts import service as accounts
    from core.accounts.models import User
    from tenants import service as tenants
    from tenants.models import Tenant

    with app.test_request_context(), unscoped("bench: missing entries data", platform=True):
        school = db.session.execute(select(Tenant).where(Tenant.kind == "school", Tenant.name == "Большая школа")
                                    ).scalar_one_or_none()
        if school is None:
            started = time.perf_counter()
            region = tenants.create_tenant(kind="region", name="Регион", timezone="Asia/Yekaterinburg")
            municipality = tenants.create_tenant(kind="municipality", name="Округ", parent_id=region.id)
            school = tenants.create_tenant(kind="school", name="Большая школа", parent_id=municipality.id)
            counts = generator.populate_school(school, pupils_per_class=25, letters=("а", "б", "в"), seed=33)
            db.session.flush()
            # Of the lessons held so far: six in ten entered in full, one in ten with a topic only.
            db.session.execute(text(
                "INSERT INTO lesson_record (tenant_id, region_id, lesson_id, topic, homework, no_homework, "
                "attendance_at, topic_late, homework_late, attendance_late, version) "
                "SELECT l.tenant_id, l.region_id, l.id, 'Тема', CASE WHEN l.id % 10 < 6 THEN '№ 1' END, false, "
                "CASE WHEN l.id % 10 < 6 THEN l.held_on END, false, false, false, 1 "
                "FROM lesson l WHERE l.tenant_id = :s AND l.held_on <= :d AND l.id % 10 < 7"),
                {"s": school.id, "d": clock.today()})
            user = accounts.create_user(login="bench-admin", password=PASSWORD, full_name="Завуч Бенчмарк")
            from flask import g

            accounts.grant(user, role="school_admin", tenant_id=school.id, tenant_path=school.path,
                           tenant_kind="school", by=g.membership)
            db.session.commit()
            print(f"generated in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(f"{k}: {v}" for k, v in counts.items()), flush=True)
        return school.id


def measure(client, url, headers, engine, runs):
    """p50 and p95 (ms), the size (KB) and the statements of GET ``url``."""
    client.get(url, headers=headers)  # warm
    statements = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    response = client.get(url, headers=headers)
    event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, .5), percentile(times, .95), len(response.data) / 1024, len(statements)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None, help="a database URL (a temporary SQLite file if omitted)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{tmp.name}/bench.db"
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
                      "LOGIN_THROTTLE_ENABLED": False})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        engine = db.engine
    school_id = prepare(app)
    if url.startswith("postgresql"):
        with app.app_context():
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))

    # The page as it was, for the same school in the same run: a route of its own, here only.
    from flask import g, render_template_string

    from blueprints.journal import missing
    from blueprints.roster import academic_years, school_classes, teaching
    from blueprints.roster.models import Staff

    def ungrouped(school_id):
        school = g.loaded["school_id"]
        items = missing.missing(school)
        teachers = db.session.execute(select(Staff).where(Staff.tenant_id == school.id)
                                      .order_by(Staff.last_name)).scalars().all()
        year = academic_years.current_year(school)
        return render_template_string(UNGROUPED, items=items, teachers=teachers,
                                      classes=school_classes.classes_of(year) if year else [],
                                      subjects={s.id: s.name for s in teaching.subjects_for(school)},
                                      names={s.id: s.short_name for s in teachers})

    app.add_url_rule("/bench/schools/<int:school_id>/missing-ungrouped", "bench_missing_ungrouped", ungrouped)

    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"login": "bench-admin", "password": PASSWORD}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with app.test_request_context(), unscoped("bench: the school's size", platform=True):
        from blueprints.roster.models import Lesson, SchoolClass

        classes = db.session.execute(select(func.count()).select_from(SchoolClass)
                                     .where(SchoolClass.tenant_id == school_id)).scalar_one()
        group = db.session.execute(select(Lesson.teacher_id, Lesson.class_id, Lesson.subject_id)
                                   .where(Lesson.tenant_id == school_id).limit(1)).one()
    page = f"/schools/{school_id}/missing"
    cases = [
        ("baseline: the page before, every lesson on one page", f"/bench{page}-ungrouped"),
        ("baseline: the API, every lesson (JSON)", f"/api/v1/schools/{school_id}/missing-entries"),
        ("grouped page, page 1", page),
        ("grouped page, page 2", f"{page}?page=2"),
        ("one group's lessons", f"{page}?teacher_id={group[0]}&class_id={group[1]}&subject_id={group[2]}"),
    ]
    results = [(label, *measure(client, case, headers, engine, args.runs)) for label, case in cases]
    with app.test_request_context(), unscoped("bench: what is missing", platform=True):
        from tenants.models import Tenant

        school = db.session.get(Tenant, school_id)
        found = missing.overview(school)
    print(f"database: {url.split(':')[0]}; one school, {classes} classes; {found.lessons} lessons with something "
          f"missing in {found.count} groups (teacher, class, subject); {args.runs} loads each, in-process")
    print(f"{'what':<56}{'p50 ms':>9}{'p95 ms':>9}{'KB':>9}{'SQL':>6}{'x base':>8}")
    base = results[0][1]
    for label, p50, p95, kb, statements in results:
        print(f"{label:<56}{p50:>9.1f}{p95:>9.1f}{kb:>9.1f}{statements:>6}{p50 / base:>8.2f}")
    grouped = results[2]
    verdict = "met" if grouped[3] < 100 and grouped[1] < 300 else "NOT met"
    print(f"target (under 100 KB and 300 ms p50 for the grouped page): {verdict}")


if __name__ == "__main__":
    main()
