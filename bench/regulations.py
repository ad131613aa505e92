"""Benchmark: resolving a school's effective regulation, and the tenant API, against a
raw-SQL baseline measured in the same run.

    .venv/bin/python bench/regulations.py [--database postgresql://postgres@127.0.0.1/bench] [--schools 300]

Builds one region with municipalities and schools, a regulation version at every level,
then times (1) ``service.effective`` for random schools, (2) the two raw SQL statements
that fetch the same rows with no ORM, scoping or merging, and (3) GET
/api/v1/tenants/{id}/regulations through the test client. Prints medians and p95 in
milliseconds and the ratio to the baseline.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from flask import g

from core import create_app  # noqa: E402
from core.accounts import service as accounts  # noqa: E402
from core.tenancy import unscoped  # noqa: E402
from core.extensions import db  # noqa: E402


def build(app, schools, municipalities):
    from tenants import service

    with app.test_request_context(), unscoped("bench: build the tree", platform=True):
        region = service.create_tenant(kind="region", name="Регион", timezone="Asia/Tomsk")
        service.add_version(region, effective_from=date(2020, 9, 1), act="Приказ региона",
                            values={"deadlines": {"grade": {"written": {"days": 3}}}},
                            locked=["retention"])
        ids = []
        for m in range(municipalities):
            muni = service.create_tenant(kind="municipality", name=f"Город {m}", parent_id=region.id)
            service.add_version(muni, effective_from=date(2021, 9, 1), act=f"Приказ {m}",
                                values={"informing": {"paper_interval_days": 10}})
            for s in range(schools // municipalities):
                school = service.create_tenant(kind="school", name=f"Школа {m}-{s}", parent_id=muni.id)
                service.add_version(school, effective_from=date(2022, 9, 1), act=f"Приказ школы {s}",
                                    values={"deadlines": {"grade": {"written": {"days": 2}}}})
                ids.append(school.id)
        db.session.commit()
        admin = accounts.create_user(login="bench", password="bench-password", full_name="Bench")
        accounts.grant(admin, role="region_admin", tenant_id=region.id, tenant_path=region.path,
                       tenant_kind="region", by=g.membership)
        db.session.commit()
    return ids


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--municipalities", type=int, default=10)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{tmp.name}/bench.db"
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "LOGIN_THROTTLE_ENABLED": False,
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    schools = build(app, args.schools, args.municipalities)
    rng = random.Random(1)

    from tenants import service
    from tenants.models import Tenant

    with app.test_request_context(), unscoped("bench", platform=True):
        tenants = {t.id: t for t in db.session.query(Tenant).filter(Tenant.id.in_(schools))}
        on = date(2024, 10, 1)
        orm = timed(lambda: service.effective(tenants[rng.choice(schools)], on), args.runs)

        def raw():
            tenant = tenants[rng.choice(schools)]
            ids = tenant.path_ids
            db.session.execute(text("SELECT id, name, path FROM tenant WHERE id IN ({})".format(
                ",".join(map(str, ids))))).all()
            db.session.execute(text(
                "SELECT tenant_id, effective_from, act, \"values\", locked FROM regulation_version "
                "WHERE tenant_id IN ({}) AND effective_from <= :on ORDER BY tenant_id, effective_from".format(
                    ",".join(map(str, ids)))), {"on": on}).all()

        baseline = timed(raw, args.runs)

    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"login": "bench", "password": "bench-password"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    http = timed(lambda: client.get(f"/api/v1/tenants/{rng.choice(schools)}/regulations?on=2024-10-01",
                                    headers=headers), args.runs)

    print(f"database: {url.split(':')[0]}, "
          f"{len(schools)} schools in {args.municipalities} municipalities, {args.runs} runs each")
    print(f"{'what':<48}{'median ms':>10}{'p95 ms':>10}{'x baseline':>12}")
    for name, (median, p95) in (("raw SQL baseline (chain + versions)", baseline),
                                ("service.effective (scoped ORM + merge)", orm),
                                ("GET /api/v1/tenants/{id}/regulations", http)):
        print(f"{name:<48}{median:>10.3f}{p95:>10.3f}{median / baseline[0]:>12.1f}")


if __name__ == "__main__":
    main()
