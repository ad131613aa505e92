"""A real check through the job (eager mode) against fake sites on loopback: findings
stored, the rating, and every hostile site turned into a finding, never a crash
(WD-1..WD-5)."""
import datetime as dt

from sqlalchemy import select

from core.extensions import db
from blueprints.disclosure import check_runs, results
from blueprints.disclosure.models import DisclosureRun, Finding
from core.jobs.models import Job
from tenants import service as tenants
from tenants.models import Tenant


def test_hostile_sites_are_findings_never_a_crash(app, make_tenant, sites_server, as_platform):
    region = make_tenant("Мурманская область")
    municipality = make_tenant("г. Кировск", parent=region)
    scenarios = {"good": "complete", "partial": "partial", "error500": "server_error", "silent": "hang",
                 "huge": "huge", "cp1251": "cp1251"}
    urls = {name: sites_server.url(scenario) for name, scenario in scenarios.items()}
    urls["invalid"] = "htp:/не адрес"
    urls["refused"] = sites_server.refused_url
    schools = {}
    with as_platform():
        for name, url in urls.items():
            school = tenants.create_tenant(kind="school", name=f"Школа {name}", parent_id=municipality["id"])
            school.website_url = url  # bypasses the form's check, as an old record or an import might
            schools[name] = school.id
        # a short timeout, so the silent site costs a second
        tenants.add_version(db.session.get(Tenant, region["id"]), effective_from=dt.date(2020, 1, 1),
                            act="Приказ № 1", values={"disclosure": {"timeout_seconds": 1, "max_pages": 10}})
        db.session.commit()
        target = db.session.execute(select(Tenant).where(Tenant.id == municipality["id"])).scalar_one()
        run = check_runs.start_check(target, permission_checked=True)
        job = db.session.execute(select(Job).where(Job.id == run.job_id)).scalar_one()
        assert job.status == "succeeded", job.error
        assert job.result["schools"] == len(urls)
        assert job.result_url.endswith(f"/disclosure/tenants/{municipality['id']}")
        run = db.session.execute(select(DisclosureRun).where(DisclosureRun.id == run.id)).scalar_one()
        assert (run.status, run.schools_done) == ("finished", len(urls))
        checks = {c.tenant_id: c for c in results.run_checks(run)}
        by_name = {name: checks[school_id] for name, school_id in schools.items()}

        assert by_name["good"].error is None and by_name["good"].score >= 90
        assert by_name["good"].required_found == by_name["good"].required_total == 8
        assert by_name["partial"].score < by_name["good"].score
        assert by_name["cp1251"].error is None and by_name["cp1251"].required_found == 8  # read as windows-1251
        found = db.session.execute(select(Finding).where(
            Finding.site_check_id == by_name["cp1251"].id, Finding.kind == "item", Finding.ok.is_(True))).scalars().first()
        assert any("а" <= ch <= "я" for ch in (found.text or "").lower())
        assert by_name["error500"].error == "http_error" and by_name["error500"].score == 0
        assert by_name["silent"].error == "timeout"
        assert by_name["invalid"].error == "invalid_url"
        assert by_name["refused"].error == "error"  # nothing listens: the site finding "unreachable"
        refused = db.session.execute(select(Finding).where(
            Finding.site_check_id == by_name["refused"].id)).scalars().all()
        assert [(f.kind, f.key, f.status, f.ok, f.detail["error"]) for f in refused] == [
            ("site", "unreachable", "error", False, "refused")]
        # the 50 MB page is read up to the cap, parsed, and reported as a truncated page
        huge = by_name["huge"]
        assert huge.error == "too_large"
        too_large = db.session.execute(select(Finding).where(
            Finding.site_check_id == huge.id, Finding.kind == "site")).scalars().all()
        assert [(f.key, f.status, f.ok, f.detail) for f in too_large] == [
            ("too_large", "too_large", False,
             {"bytes_read": 2_000_000, "limit": 2_000_000, "content_length": 50 * 1024 * 1024})]
        ranking = [row.school.id for row in results.rating(target)]
        assert ranking[0] in (schools["good"], schools["cp1251"])


def test_the_demo_sites_move_off_taken_ports_and_the_demo_schools_follow(app, as_platform, tmp_path, monkeypatch):
    """WD-1: with the demo's ports held by another program, `flask demo sites` listens on
    free ones and a check of a demo school still reads its site."""
    import socket

    from blueprints.disclosure import _demo_sites, cli, sites
    from tenants import demo

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    held = []
    for port in range(8101, 8108):
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
            held.append(sock)
        except OSError:
            sock.close()  # someone else holds it already: taken all the same
    try:
        server, urls = sites.start_demo(base_port=8101)
        try:
            assert all(not url.startswith(("http://127.0.0.1:810", "http://127.0.0.1:8107"))
                       for url in urls.values()), urls
            with as_platform():
                demo.load()
                db.session.commit()
                with app.app_context():
                    cli.publish_demo_sites(urls)
                school = db.session.execute(select(Tenant).where(Tenant.short_name == "СОШ № 2")).scalar_one()
                assert school.website_url == urls["СОШ № 2"]
                # a demo loaded again later reads where the sites listen
                assert _demo_sites(app, logins=[]) == "6 school websites served by `flask demo sites`"
                db.session.commit()
                run = check_runs.start_check(school, permission_checked=True)
                check = next(iter(results.run_checks(db.session.get(DisclosureRun, run.id))))
                assert check.url == urls["СОШ № 2"] and check.error is None and check.pages_fetched > 1
        finally:
            server.stop()
    finally:
        for sock in held:
            sock.close()


def test_a_failing_demo_sites_process_leaves_the_web_server_up(tmp_path):
    """`make run`: honcho stops every process when one exits; the sites line of the
    Procfile fails (here: no app to load) and the web server keeps answering."""
    import os
    import re
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    line = next(l for l in (root / "Procfile").read_text().splitlines() if l.startswith("sites:"))
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "Procfile").write_text(
        f"web: {sys.executable} -m http.server $WEB_PORT --bind 127.0.0.1\n{line}\n")
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "WEB_PORT": str(port), "FLASK_APP": "no_such_app_module", "PYTHONUNBUFFERED": "1"}
    log = open(tmp_path / "honcho.log", "wb")
    honcho = subprocess.Popen([str(Path(sys.executable).with_name("honcho")), "start", "-f", "Procfile"],
                              cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "go on without them" not in (tmp_path / "honcho.log").read_text(errors="replace"):
            assert honcho.poll() is None, (tmp_path / "honcho.log").read_text(errors="replace")
            assert time.monotonic() < deadline, (tmp_path / "honcho.log").read_text(errors="replace")
            time.sleep(0.1)
        while True:  # the web process may still be binding its port
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline and honcho.poll() is None
                time.sleep(0.1)
        assert honcho.poll() is None
        assert not re.search(r"sites\.1 *\| *.*(stopped|exited)", (tmp_path / "honcho.log").read_text())
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, __import__("signal").SIGTERM)
            honcho.wait(timeout=20)
