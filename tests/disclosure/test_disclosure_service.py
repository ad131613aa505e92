"""The rules of the website checks (WD-1..WD-5): results kept per run and school, the
score, false alarms respected by later runs, the history, the schedule, and hostile sites
turned into findings."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.errors import Refused
from core.extensions import db
from core.orm import utcnow
from blueprints.disclosure import check_runs, false_alarms, results, service
from blueprints.disclosure.models import DisclosureRun, Dismissal, Finding, SiteCheck
from tenants.models import Tenant
from tests.disclosure.helpers import fake_crawler, kirovsk, report  # noqa: F401 - a fixture


def tenant(row):
    return db.session.execute(select(Tenant).where(Tenant.id == row["id"])).scalar_one()


def run_with(monkeypatch, target, reports):
    fake_crawler(monkeypatch, reports)
    return check_runs.start_check(tenant(target), permission_checked=True)


def test_a_run_keeps_each_schools_findings_and_score(kirovsk, monkeypatch, as_platform):
    """WD-1, WD-2, WD-5: one SiteCheck per school with its findings and figures."""
    s2, s5, s10 = kirovsk["schools"]
    with as_platform():
        run = run_with(monkeypatch, kirovsk["municipality"], {
            "http://127.0.0.1:9/school2/": report(),
            "http://127.0.0.1:9/school5/": report(missing=["journal_link", "consent_form"],
                                                  broken=["http://127.0.0.1:9/dead.pdf"]),
            "http://127.0.0.1:9/school10/": report(missing=["service_regulation"], outdated=["http://x/old.pdf"],
                                                   microdata_missing=["email"]),
        })
        run = db.session.execute(select(DisclosureRun).where(DisclosureRun.id == run.id)).scalar_one()
        assert (run.status, run.schools_total, run.schools_done) == ("finished", 3, 3)
        assert run.job_id is not None
        checks = {c.tenant_id: c for c in results.run_checks(run)}
        assert checks[s2["id"]].score == 100.0
        assert (checks[s5["id"]].required_found, checks[s5["id"]].required_total) == (7, 8)
        assert checks[s5["id"]].broken_links == 1
        assert checks[s10["id"]].outdated_documents == 1 and checks[s10["id"]].microdata_missing == 1
        assert db.session.execute(select(func.count()).select_from(Finding).where(
            Finding.site_check_id == checks[s5["id"]].id)).scalar_one() > 20
        rating = results.rating(tenant(kirovsk["municipality"]))
        assert [r.school.id for r in rating] == [s2["id"], s5["id"], s10["id"]]
        assert [r.place for r in rating] == [1, 2, 3]


def test_a_school_without_a_website_gets_a_check_saying_so(kirovsk, make_tenant, monkeypatch, as_platform):
    bare = make_tenant("ООШ № 8", parent=kirovsk["municipality"])
    with as_platform():
        run = run_with(monkeypatch, kirovsk["municipality"], {})
        check = next(c for c in results.run_checks(run) if c.tenant_id == bare["id"])
        assert (check.error, check.score) == ("no_website", 0.0)


def test_a_false_alarm_stays_dismissed_in_later_runs_and_does_not_lower_the_score(kirovsk, monkeypatch, as_platform):
    """WD-1, WD-5: a fault checked by hand and dismissed with a reason."""
    school = kirovsk["schools"][2]
    url = "http://127.0.0.1:9/school10/"
    faulty = report(missing=["journal_link"])
    with as_platform():
        run_with(monkeypatch, school, {url: faulty})
        check = results.latest_checks([school["id"]])[school["id"]]
        assert check.score < 100
        finding = db.session.execute(select(Finding).where(Finding.site_check_id == check.id,
                                                           Finding.key == "journal_link")).scalar_one()
        with pytest.raises(Refused) as refused:
            false_alarms.dismiss(finding, "   ")
        assert "reason" in refused.value.errors
        dismissal = false_alarms.dismiss(finding, "Ссылка на журнал в меню, картинкой без текста")
        db.session.commit()
        check = results.latest_checks([school["id"]])[school["id"]]
        assert (check.score, check.raw_score < 100, check.required_found) == (100.0, True, check.required_total)

        run_with(monkeypatch, school, {url: faulty})  # the next run finds the same fault
        later = results.latest_checks([school["id"]])[school["id"]]
        assert later.id != check.id and later.score == 100.0 and later.raw_score < 100
        shown = results.grouped(later, results.findings_of(later), service.active_dismissals([school["id"]]))
        item = next(s for s in shown["item"] if s.finding.key == "journal_link")
        assert item.dismissal.id == dismissal.id and not item.is_fault

        false_alarms.withdraw(dismissal)
        db.session.commit()
        assert results.latest_checks([school["id"]])[school["id"]].score < 100
        assert db.session.execute(select(Dismissal)).scalar_one().withdrawn_at is not None
        false_alarms.dismiss(finding, "Снова: ссылка есть")  # dismissing again reuses the record
        assert db.session.execute(select(func.count()).select_from(Dismissal)).scalar_one() == 1


def test_only_a_fault_can_be_dismissed(kirovsk, monkeypatch, as_platform):
    school = kirovsk["schools"][0]
    with as_platform():
        run_with(monkeypatch, school, {})
        found = db.session.execute(select(Finding).where(Finding.ok.is_(True))).scalars().first()
        with pytest.raises(Refused):
            false_alarms.dismiss(found, "no")


def test_history_says_what_was_fixed_and_what_is_new(kirovsk, monkeypatch, as_platform):
    school = kirovsk["schools"][1]
    url = "http://127.0.0.1:9/school5/"
    with as_platform():
        run_with(monkeypatch, school, {url: report(missing=["journal_link", "gosuslugi_link"],
                                                    broken=["http://127.0.0.1:9/a.pdf"])})
        run_with(monkeypatch, school, {url: report(missing=["gosuslugi_link"], broken=["http://127.0.0.1:9/b.pdf"])})
        rows = results.history(tenant(school))
        assert len(rows) == 2
        assert rows[0].fixed == [("item", "journal_link"), ("link", "http://127.0.0.1:9/a.pdf")]
        assert rows[0].new == [("link", "http://127.0.0.1:9/b.pdf")]
        assert rows[1].fixed == [] and rows[1].new == []
        assert rows[0].check.score > rows[1].check.score


def test_a_second_start_while_a_run_is_under_way_returns_it(kirovsk, as_platform, monkeypatch):
    from core.jobs.models import Job

    with as_platform():
        monkeypatch.setattr("core.jobs.service.send", lambda job_id, countdown=None: None)  # nobody runs it
        first = check_runs.start_check(tenant(kirovsk["municipality"]), permission_checked=True)
        again = check_runs.start_check(tenant(kirovsk["municipality"]), permission_checked=True)
        assert again.id == first.id
        assert db.session.execute(select(func.count()).select_from(Job)).scalar_one() == 1


def test_a_run_stopped_half_way_goes_on_from_its_checkpoint(kirovsk, as_platform, monkeypatch, app):
    """Results are committed per school: a redelivered job does not check them again."""
    from core.jobs import service as jobs

    calls = fake_crawler(monkeypatch, {})
    monkeypatch.setitem(app.config, "DISCLOSURE_BATCH", 1)
    with as_platform():
        monkeypatch.setattr("core.jobs.service.send", lambda job_id, countdown=None: None)
        run = check_runs.start_check(tenant(kirovsk["municipality"]), permission_checked=True)
        first = service.schools_under(tenant(kirovsk["municipality"]))[0]
        check_runs.store_report(run, first, report(first.website_url))  # done before the "crash"
        db.session.commit()
        jobs.run(run.job_id)
        crawled = sorted(url for call in calls for (url, _items) in call.values())
        assert crawled == sorted(s.website_url for s in service.schools_under(tenant(kirovsk["municipality"]))
                                 if s.id != first.id)
        assert len(results.run_checks(run)) == 3


def test_a_crawler_crash_on_one_site_is_that_sites_finding(kirovsk, as_platform, monkeypatch):
    from blueprints.disclosure import crawler

    def run(sites, settings, progress=None):
        if any("school5" in url for url, _ in sites.values()):
            raise RuntimeError("boom")
        return {k: report(url) for k, (url, _) in sites.items()}

    monkeypatch.setattr(crawler, "run", run)
    with as_platform():
        run_row = check_runs.start_check(tenant(kirovsk["municipality"]), permission_checked=True)
        checks = {c.url: c for c in results.run_checks(run_row)}
        assert checks["http://127.0.0.1:9/school5/"].error == "crashed"
        assert checks["http://127.0.0.1:9/school2/"].score == 100.0


def test_a_run_whose_attempt_fails_is_shown_as_failed(kirovsk, as_platform, monkeypatch):
    """The database refusing a result fails the attempt: the run says «failed», not «running»."""
    fake_crawler(monkeypatch, {})

    def refuse(run, school, report_):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(check_runs, "store_report", refuse)
    with as_platform():
        monkeypatch.setattr("core.jobs.service.send", lambda job_id, countdown=None: None)
        run = check_runs.start_check(tenant(kirovsk["municipality"]), permission_checked=True)
        from core.jobs import service as jobs

        try:
            jobs.run(run.job_id)
        except RuntimeError:
            pass
        db.session.rollback()
        status = db.session.execute(select(DisclosureRun.status).where(DisclosureRun.id == run.id)).scalar_one()
        assert status == "failed"


@pytest.mark.parametrize("schedule,age_days,due", [("weekly", 8, True), ("weekly", 3, False), ("monthly", 20, False),
                                                    ("monthly", 31, True), ("off", 400, False)])
def test_the_schedule_starts_checks_that_are_due(kirovsk, as_platform, monkeypatch, schedule, age_days, due):
    """The regulation's disclosure.schedule, counted from each school's last check."""
    import datetime as dt

    from tenants import service as tenants

    fake_crawler(monkeypatch, {})
    with as_platform():
        tenants.add_version(tenant(kirovsk["region"]), effective_from=dt.date(2020, 1, 1), act="Приказ № 1",
                            values={"disclosure": {"schedule": schedule}})
        db.session.commit()
        run_with(monkeypatch, kirovsk["municipality"], {})
        for check in db.session.execute(select(SiteCheck)).scalars():
            check.checked_at = utcnow() - timedelta(days=age_days)
        db.session.commit()
        expected = {kirovsk["municipality"]["id"]: sorted(s["id"] for s in kirovsk["schools"])} if due else {}
        assert check_runs.due_schools() == expected
        runs = check_runs.start_due_checks()
        assert len(runs) == (1 if due else 0)


def test_the_schedule_job_is_periodic(app):
    assert app.config["CELERY_BEAT_SCHEDULE"]["disclosure-schedule"]["args"] == ["disclosure_schedule"]


def test_the_cli_runs_a_check_and_prints_the_rating(app, kirovsk, monkeypatch):
    fake_crawler(monkeypatch, {"http://127.0.0.1:9/school2/": report("http://127.0.0.1:9/school2/")})
    result = app.test_cli_runner().invoke(args=["disclosure", "check", str(kirovsk["municipality"]["id"]), "--wait"])
    assert result.exit_code == 0, result.output
    assert "3 schools" in result.output and "succeeded" in result.output
    assert result.output.splitlines()[1].split()[:2] == ["1", "100.0"]
    missing = app.test_cli_runner().invoke(args=["disclosure", "check", "999999"])
    assert missing.exit_code != 0 and "no tenant" in missing.output
    assert "sites" in app.cli.commands["demo"].commands


def test_the_demo_points_kirovsk_schools_at_the_local_sites(app, as_platform):
    from core.signals import demo_loaded
    from blueprints.disclosure import _demo_sites
    from tenants import demo

    assert _demo_sites in list(demo_loaded.receivers_for(app))
    with as_platform():
        demo.load()
        db.session.commit()
        assert _demo_sites(app, logins=[]) == "6 school websites served by `flask demo sites`"
        db.session.commit()
        urls = dict(db.session.execute(select(Tenant.short_name, Tenant.website_url).where(
            Tenant.kind == "school")).all())
        assert urls["СОШ № 10"] == "http://127.0.0.1:8105/" and urls["СОШ № 2"] == "http://127.0.0.1:8101/"
        assert urls["Хибинская гимназия"] == "http://127.0.0.1:8107/"  # nothing listens there: a site that is down
        assert urls["МАОУ СОШ № 12"] == "https://school12.perm.example"


def test_a_check_that_could_not_read_the_site_fixes_nothing_in_the_history(kirovsk, as_platform, monkeypatch):
    """The site was down once: that check lists nothing fixed, and the next check is
    compared with the last one that read the site (nothing «new» that was there before)."""
    school_row = kirovsk["schools"][2]
    with as_platform():
        school = tenant(school_row)
        url = school.website_url
        for answer in (report(url, missing=["gosuslugi_link"]), report(url, site_error="timeout"),
                       report(url, missing=["gosuslugi_link"])):
            fake_crawler(monkeypatch, {url: answer})
            check_runs.start_check(school, permission_checked=True)
        newest, down, first = results.history(school)
        assert down.check.error == "timeout" and (down.fixed, down.new) == ([], [])
        assert (newest.fixed, newest.new) == ([], [])
        assert first.check.error is None
