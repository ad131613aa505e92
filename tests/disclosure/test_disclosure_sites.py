"""A real check through the job (eager mode) against fake sites on loopback: findings
stored, the rating, and every hostile site turned into a finding, never a crash
(WD-1..WD-5)."""
import datetime as dt

from sqlalchemy import select

from core.extensions import db
from blueprints.disclosure import service
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
        run = service.start_check(target, permission_checked=True)
        job = db.session.execute(select(Job).where(Job.id == run.job_id)).scalar_one()
        assert job.status == "succeeded", job.error
        assert job.result["schools"] == len(urls)
        assert job.result_url.endswith(f"/disclosure/tenants/{municipality['id']}")
        run = db.session.execute(select(DisclosureRun).where(DisclosureRun.id == run.id)).scalar_one()
        assert (run.status, run.schools_done) == ("finished", len(urls))
        checks = {c.tenant_id: c for c in service.run_checks(run)}
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
            ("site", "unreachable", "error", False, "connect")]
        # the 50 MB page is read up to the cap, parsed, and reported as a truncated page
        huge = by_name["huge"]
        assert huge.error == "too_large"
        too_large = db.session.execute(select(Finding).where(
            Finding.site_check_id == huge.id, Finding.kind == "site")).scalars().all()
        assert [(f.key, f.status, f.ok, f.detail) for f in too_large] == [
            ("too_large", "too_large", False,
             {"bytes_read": 2_000_000, "limit": 2_000_000, "content_length": 50 * 1024 * 1024})]
        ranking = [row.school.id for row in service.rating(target)]
        assert ranking[0] in (schools["good"], schools["cp1251"])
