"""Make a synthetic municipality for benchmarks.

    .venv/bin/python bench/generate.py --database postgresql://postgres@127.0.0.1/bench --schools 10 --pupils 6000

Creates one region and one municipality with N schools (classes 1-11, pupils spread over
them with guardians, staff, subjects, a weekly timetable and the current term's lessons)
using the same generator as the demo (blueprints/roster/generator.py), then prints counts
and the time taken."""
import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import create_app  # noqa: E402
from core.tenancy import unscoped  # noqa: E402
from core.extensions import db  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None, help="a database URL (a temporary SQLite file if omitted)")
    parser.add_argument("--schools", type=int, default=10)
    parser.add_argument("--pupils", type=int, default=6000, help="pupils in the whole municipality")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{tmp.name}/bench.db"
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    from blueprints.roster import generator
    from tenants import service

    per_class = max(1, math.ceil(args.pupils / args.schools / 11))
    started = time.perf_counter()
    totals = {}
    with app.test_request_context(), unscoped("bench: generate", platform=True):
        region = service.create_tenant(kind="region", name="Синтетический регион", timezone="Asia/Yekaterinburg")
        municipality = service.create_tenant(kind="municipality", name="Синтетический округ", parent_id=region.id)
        for n in range(args.schools):
            school = service.create_tenant(kind="school", name=f"Школа № {n + 1}", parent_id=municipality.id)
            counts = generator.populate_school(school, pupils_per_class=per_class, seed=n)
            db.session.commit()
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
    elapsed = time.perf_counter() - started
    print(f"database: {url.split(':')[0]}; {args.schools} schools, {per_class} pupils a class")
    print(", ".join(f"{k}: {v}" for k, v in totals.items()))
    print(f"generated in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
