"""Benchmark: importing pupils with guardians from XLSX, against a raw-SQL baseline.

    .venv/bin/python bench/imports.py [--database URL] [--pupils 1000]

Builds an XLSX of N pupils (each with one or two guardians) for a school with classes
1-11, then times (1) the import's check of every row (the preview), (2) the check plus
the commit, as the page and the API run them, and (3) a baseline: the same pupils,
enrolments and guardians inserted with executemany and no validation. Prints seconds and
the ratio to the baseline."""
import argparse
import datetime as dt
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402
from sqlalchemy import text  # noqa: E402

from core import create_app  # noqa: E402
from core.tenancy import unscoped  # noqa: E402
from core.extensions import db  # noqa: E402


def workbook(count, start_year):
    from blueprints.roster.imports import PUPIL_COLUMNS

    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in PUPIL_COLUMNS])
    for n in range(count):
        grade = n % 11 + 1
        row = {"last_name": f"Фамилия{n:05d}", "first_name": "Анна", "middle_name": "Петровна",
               "birth_date": f"01.03.{start_year - grade - 6}", "file_number": f"ЛД-{n:05d}", "class_name": f"{grade}а",
               "g1_name": f"Родитель{n:05d} Ольга Ивановна", "g1_phone": "+7 912 345-67-89", "g1_relation": "мать",
               "g2_name": "Отец Пётр Иванович" if n % 2 else None, "g2_email": "father@example.ru" if n % 2 else None}
        sheet.append([row.get(c.key) for c in PUPIL_COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None)
    parser.add_argument("--pupils", type=int, default=1000)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{tmp.name}/bench.db"
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    from blueprints.roster import academic_years, imports, school_classes
    from tenants import service as tenants

    with app.test_request_context(), unscoped("bench: imports", platform=True):
        region = tenants.create_tenant(kind="region", name="Регион")
        school = tenants.create_tenant(kind="school", name="Школа", parent_id=region.id)
        other = tenants.create_tenant(kind="school", name="Школа для базы", parent_id=region.id)
        start = dt.date.today().year if dt.date.today().month >= 9 else dt.date.today().year - 1
        years = {}
        for tenant in (school, other):
            years[tenant.id] = academic_years.create_year(tenant, start)
            for grade in range(1, 12):
                school_classes.create_class(years[tenant.id], grade, "а")
        db.session.commit()
        data = workbook(args.pupils, start)

        began = time.perf_counter()
        parsed, _ = imports.run("pupils", school, years[school.id], "pupils.xlsx", data, commit=False)
        preview = time.perf_counter() - began
        assert not parsed.errors, parsed.errors[:3]

        began = time.perf_counter()
        parsed, summary = imports.run("pupils", school, years[school.id], "pupils.xlsx", data, commit=True)
        db.session.commit()
        full = time.perf_counter() - began
        assert summary["created"] == args.pupils

        # Baseline: the same rows inserted with no parsing or validation.
        classes = {c.grade: c.id for c in school_classes.classes_of(years[other.id])}
        rows = parsed.rows
        began = time.perf_counter()
        conn = db.session.connection()
        base = {"tenant_id": other.id, "region_id": region.id}
        conn.execute(text("INSERT INTO pupil (last_name, first_name, middle_name, birth_date, file_number, is_active, "
                          "tenant_id, region_id) VALUES (:l, :f, :m, :b, :n, true, :tenant_id, :region_id)"),
                     [{"l": r["last_name"], "f": r["first_name"], "m": r["middle_name"], "b": r["birth_date"],
                       "n": r["file_number"], **base} for r in rows])
        ids = dict(conn.execute(text("SELECT file_number, id FROM pupil WHERE tenant_id = :t"), {"t": other.id}).all())
        conn.execute(text("INSERT INTO enrolment (pupil_id, class_id, year_id, from_on, tenant_id, region_id) "
                          "VALUES (:p, :c, :y, :d, :tenant_id, :region_id)"),
                     [{"p": ids[r["file_number"]], "c": classes[int(r["class_name"][:-1])], "y": years[other.id].id,
                       "d": years[other.id].starts_on, **base} for r in rows])
        guardians = [(r, n) for r in rows for n in (1, 2) if r.get(f"g{n}_name")]
        conn.execute(text("INSERT INTO guardian (last_name, first_name, phone, email, tenant_id, region_id) "
                          "VALUES (:l, :f, :p, :e, :tenant_id, :region_id)"),
                     [{"l": r[f"g{n}_name"].split()[0], "f": r[f"g{n}_name"].split()[1], "p": r.get(f"g{n}_phone"),
                       "e": r.get(f"g{n}_email"), **base} for r, n in guardians])
        db.session.commit()
        baseline = time.perf_counter() - began

    print(f"database: {url.split(':')[0]}; {args.pupils} pupils, {len(guardians)} guardians, XLSX {len(data) // 1024} KB")
    print(f"{'what':<52}{'seconds':>9}{'x baseline':>12}")
    for name, value in (("raw SQL baseline (executemany, no checks)", baseline),
                        ("import: check every row (preview)", preview),
                        ("import: check and commit, one transaction", full)):
        print(f"{name:<52}{value:>9.2f}{value / baseline:>12.1f}")


if __name__ == "__main__":
    main()
